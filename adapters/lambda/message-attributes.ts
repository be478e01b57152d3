/**
 * Fitting trace context into SQS/SNS message attributes without ever failing a send.
 *
 * - At most 10 message attributes per message (SQS `SendMessage`; SNS->SQS raw delivery
 *   carries them over, so SNS is held to the same bound). The user's own attributes come
 *   first; ours fill what is left, most important first (`traceparent`, then
 *   `langsmith-trace`, `tracestate`, `baggage`), and whatever does not fit is skipped and
 *   counted. An attribute the user already set (any casing) is never overwritten.
 * - The message size (body, plus every attribute's name, type and value) must stay within
 *   the limit the message already respected: 256 KiB, or 1 MiB for a larger message (SQS
 *   queues can allow up to 1 MiB). If ours would cross it, none is added.
 */
import type { Tracer } from '../../src/index.js'

/** SQS/SNS: message attributes per message. */
export const MAX_MESSAGE_ATTRIBUTES = 10
/** The classic SQS/SNS message size limit, and the largest SQS allows. */
export const MESSAGE_SIZE_LIMIT = 256 * 1024
export const LARGE_MESSAGE_SIZE_LIMIT = 1024 * 1024

/** Header names in the order they are kept when not all fit. */
const PRIORITY = ['traceparent', 'langsmith-trace', 'tracestate', 'baggage', 'x-amzn-trace-id'] as const

const encoder = new TextEncoder()

/**
 * UTF-8 length of `s` without allocating (surrogate pairs count 4).
 *
 * @example
 * utf8Length('héllo') // 6
 */
export function utf8Length(s: string): number {
  let n = 0
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i)
    if (c < 0x80) n += 1
    else if (c < 0x800) n += 2
    else if (c >= 0xd800 && c <= 0xdbff) {
      n += 4
      i++
    } else n += 3
  }
  return n
}

/** A message attribute in the SDK's input shape (SQS `MessageAttributeValue`, SNS alike). */
export interface MessageAttributeValue {
  readonly DataType: string
  readonly StringValue?: string
  readonly BinaryValue?: Uint8Array
}

/** Size AWS counts for one attribute: name, data type and value. */
function attributeSize(name: string, value: unknown): number {
  let n = utf8Length(name)
  if (value !== null && typeof value === 'object') {
    const v = value as { DataType?: unknown; StringValue?: unknown; BinaryValue?: unknown }
    if (typeof v.DataType === 'string') n += utf8Length(v.DataType)
    if (typeof v.StringValue === 'string') n += utf8Length(v.StringValue)
    const bin = v.BinaryValue as { byteLength?: unknown } | undefined
    if (bin !== undefined && typeof bin?.byteLength === 'number') n += bin.byteLength
  }
  return n
}

/** What {@link addContextAttributes} did. */
export interface Fitted {
  /** The attributes to send (a new object when anything was added; else the user's own). */
  readonly attributes: Record<string, unknown> | undefined
  readonly added: number
  readonly skipped: number
  /** Bytes the message grew by. */
  readonly grew: number
}

/**
 * Adds the context headers in `headers` to a message's attributes within the count and
 * size limits. `countedSize` is what already counts against the size limit: the message
 * (body and attributes, see {@link messageSize}), or for a batch the whole request so far.
 * `exclude` names a header that travels elsewhere (SQS: X-Ray as `AWSTraceHeader`).
 * Never throws; never mutates `existing`.
 *
 * @example
 * addContextAttributes(input.MessageAttributes, span.headers(), messageSize(input.MessageBody, input.MessageAttributes))
 */
export function addContextAttributes(
  existing: unknown,
  headers: Readonly<Record<string, string>>,
  countedSize: number,
  exclude?: string,
): Fitted {
  const own =
    existing !== null && typeof existing === 'object' && !Array.isArray(existing)
      ? (existing as Record<string, unknown>)
      : undefined
  let count = 0
  let taken: Set<string> | undefined
  if (own !== undefined) {
    for (const key in own) {
      count++
      ;(taken ??= new Set()).add(key.toLowerCase())
    }
  }
  const chosen: [string, string][] = []
  let wanted = 0
  let growth = 0
  for (const name of PRIORITY) {
    if (name === exclude) continue
    const value = headers[name]
    if (value === undefined || taken?.has(name)) continue
    wanted++
    if (count + chosen.length >= MAX_MESSAGE_ATTRIBUTES) continue
    chosen.push([name, value])
    growth += utf8Length(name) + STRING_TYPE_LENGTH + utf8Length(value)
  }
  if (chosen.length === 0 || countedSize + growth > sizeLimitFor(countedSize)) {
    return { attributes: own, added: 0, skipped: wanted, grew: 0 }
  }
  const out: Record<string, unknown> = { ...own }
  for (const [name, value] of chosen) out[name] = { DataType: 'String', StringValue: value }
  return { attributes: out, added: chosen.length, skipped: wanted - chosen.length, grew: growth }
}

const STRING_TYPE_LENGTH = 6 // 'String'

/**
 * The limit a message (or batch) of `size` bytes already respects: 256 KiB, or 1 MiB above it.
 *
 * @example
 * sizeLimitFor(300 * 1024) // 1 MiB
 */
export function sizeLimitFor(size: number): number {
  return size <= MESSAGE_SIZE_LIMIT ? MESSAGE_SIZE_LIMIT : LARGE_MESSAGE_SIZE_LIMIT
}

/**
 * The size a message counts against its limit: body plus attributes.
 *
 * @example
 * messageSize('hi', { a: { DataType: 'String', StringValue: 'b' } }) // 2 + 1 + 6 + 1
 */
export function messageSize(body: unknown, attributes: unknown): number {
  let n = typeof body === 'string' ? utf8Length(body) : 0
  if (attributes !== null && typeof attributes === 'object') {
    for (const key in attributes as Record<string, unknown>)
      n += attributeSize(key, (attributes as Record<string, unknown>)[key])
  }
  return n
}

/**
 * Counts context headers that were left out of a message. Pending a core `LimitHit` for
 * it, the count appears in `tracer.stats().limits['message-attributes']`.
 *
 * @example
 * countSkipped(span.scope.tracer, fitted.skipped)
 */
export function countSkipped(tracer: Tracer, skipped: number): void {
  if (skipped > 0) tracer.statsRecorder.countLimit('message-attributes', skipped)
}

/**
 * Base64 of the UTF-8 bytes of `s` (`btoa` alone takes Latin-1 only).
 *
 * @example
 * base64Utf8('{"custom":{}}') // 'eyJjdXN0b20iOnt9fQ=='
 */
export function base64Utf8(s: string): string {
  const bytes = encoder.encode(s)
  let binary = ''
  for (let i = 0; i < bytes.length; i++) binary += String.fromCharCode(bytes[i]!)
  return btoa(binary)
}

const decoder = new TextDecoder()

/**
 * The UTF-8 text of a base64 string, or undefined when it is not base64.
 *
 * @example
 * fromBase64Utf8('eyJjdXN0b20iOnt9fQ==') // '{"custom":{}}'
 */
export function fromBase64Utf8(s: string): string | undefined {
  try {
    const binary = atob(s)
    const bytes = new Uint8Array(binary.length)
    for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i)
    return decoder.decode(bytes)
  } catch {
    return undefined
  }
}
