/**
 * Envelopes: trace context for transports that carry no metadata.
 *
 * Cloudflare Queues have no message headers or attributes, and Workers RPC (service
 * bindings, Durable Object stubs) has no headers at all, so the context rides inside the
 * payload, in two small documented shapes that any language can read and write:
 *
 * - Message envelope (a queue message body, a Workflow payload):
 *   `{ "__tracehop": 1, "ctx": { "traceparent": "00-…-01", "tracestate"?: "…",
 *   "baggage"?: "…", "langsmith-trace"?: "…" }, "body": <the user's body> }`
 * - Call marker (appended as the last argument of an RPC call, stripped by the callee
 *   before the user's method sees its arguments): `{ "__tracehop": "ctx", "ctx": { … } }`
 *
 * `ctx` is the record `span.headers()` returns: lowercase header names to string values,
 * read back with the same propagation formats as HTTP headers. Both shapes survive JSON
 * and structured clone (the `v8` content type), and nothing in them is a class instance.
 *
 * A value is one of ours only if its shape is exact: a plain object with exactly those
 * own keys (`__tracehop`, `ctx`, `body`; `__tracehop`, `ctx`), and a `ctx` of 1 to 6
 * string values under the header names tracehop writes (`traceparent`, `tracestate`,
 * `baggage`, `langsmith-trace`, `x-amzn-trace-id`, `tracehop-websocket`), each at most
 * 64 KiB. Anything else, even with the marker, is the user's own value and is handed over
 * exactly as it arrived (the same value, not a copy); with the marker it is also counted
 * as an invalid `envelope`. A well-formed envelope's context is then believed only as far
 * as the consumer's `propagation.ingress` says: the shape proves nothing about who sent it.
 */
import type { Span } from './span.js'

/** The property that marks an envelope or a call marker. */
export const ENVELOPE_KEY = '__tracehop'
/** `__tracehop` value of a message envelope (the format's version). */
export const ENVELOPE_VERSION = 1
/** `__tracehop` value of an RPC call marker. */
export const CALL_MARKER = 'ctx'

/** The names a context record may hold: what `span.headers()` writes, and the WebSocket mode. */
export const CONTEXT_NAMES: readonly string[] = [
  'traceparent',
  'tracestate',
  'baggage',
  'langsmith-trace',
  'x-amzn-trace-id',
  'tracehop-websocket',
]
const CTX_KEYS: ReadonlySet<string> = new Set(CONTEXT_NAMES)
// Above any value tracehop writes (a `langsmith-trace` is at most 64 KiB); checked before
// anything reads the value, so a bigger one costs nothing.
const MAX_CTX_VALUE_LENGTH = 65_536 + 256

/** A message body wrapped with the context of the span that produced it. */
export interface Envelope<Body = unknown> {
  readonly __tracehop: typeof ENVELOPE_VERSION
  readonly ctx: Readonly<Record<string, string>>
  readonly body: Body
}

/** The trailing argument of a traced RPC call. */
export interface CallMarker {
  readonly __tracehop: typeof CALL_MARKER
  readonly ctx: Readonly<Record<string, string>>
}

/** What {@link unwrapEnvelope} found. */
export interface Unwrapped {
  /** The user's own body: the envelope's `body`, or the value itself when it is not an envelope. */
  readonly body: unknown
  /** The context headers, when the value was a well-formed envelope. */
  readonly carrier?: Record<string, string>
  /**
   * False when the value carried the envelope marker (`__tracehop: 1`) but not the exact
   * shape: the caller counts it (`countInvalid('envelope')`), starts a fresh trace, and
   * hands the value over untouched (`body` is the value itself). True for a well-formed
   * envelope and for a value that is no envelope at all (it passes through).
   */
  readonly valid: boolean
}

const NOT_ENVELOPE_VALID = true

/**
 * Wraps `body` with the context of `span` (its outgoing headers in every configured
 * format). Baggage is included: queues and RPC are ours by construction.
 *
 * @example
 * const producer = span.startChild('send jobs', { kind: SpanKind.PRODUCER })
 * await env.JOBS.send(wrapEnvelope(producer, { doc: 42 }))
 * producer.end()
 */
export function wrapEnvelope<Body>(span: Span, body: Body): Envelope<Body> {
  return { __tracehop: ENVELOPE_VERSION, ctx: span.headers(), body }
}

/**
 * Reads a message body that may be an envelope. Never throws: a value that is no envelope
 * comes back as `{ body: value, valid: true }`; a value with the marker but not the exact
 * shape as `{ body: value, valid: false }`: the same value, never unwrapped.
 *
 * @example
 * const { body, carrier, valid } = unwrapEnvelope(message.body)
 * if (!valid) tracer.statsRecorder.countInvalid('envelope')
 * const scope = tracer.start(carrier, { name: 'process jobs', kind: SpanKind.CONSUMER })
 */
export function unwrapEnvelope(value: unknown): Unwrapped {
  if (value === null || typeof value !== 'object') return { body: value, valid: NOT_ENVELOPE_VALID }
  let body: unknown
  let carrier: Record<string, string> | undefined
  try {
    // An own data property only: a getter or an inherited `__tracehop` is not ours.
    const marker = Object.getOwnPropertyDescriptor(value, ENVELOPE_KEY)
    if (marker === undefined || marker.value !== ENVELOPE_VERSION)
      return { body: value, valid: NOT_ENVELOPE_VALID }
    if (!hasExactKeys(value, ENVELOPE_KEYS)) return { body: value, valid: false }
    body = Object.getOwnPropertyDescriptor(value, 'body')?.value
    carrier = readEnvelopeContext(Object.getOwnPropertyDescriptor(value, 'ctx')?.value)
  } catch {
    // A hostile object (a Proxy whose traps throw): not ours.
    return { body: value, valid: false }
  }
  return carrier === undefined ? { body: value, valid: false } : { body, carrier, valid: true }
}

/**
 * The `ctx` of an envelope or call marker tracehop wrote: a context record, or an empty plain
 * object when the producing span propagated nothing (a late span, `propagation.write: []`):
 * the envelope is still ours, and its body still the user's.
 */
function readEnvelopeContext(ctx: unknown): Record<string, string> | undefined {
  if (ctx !== null && typeof ctx === 'object' && !Array.isArray(ctx) && Object.keys(ctx).length === 0) {
    const proto = Object.getPrototypeOf(ctx)
    if (proto === Object.prototype || proto === null) return {}
  }
  return readContext(ctx)
}

const ENVELOPE_KEYS: readonly string[] = [ENVELOPE_KEY, 'ctx', 'body']
const MARKER_KEYS: readonly string[] = [ENVELOPE_KEY, 'ctx']

/**
 * Whether `value` is a plain object (prototype `Object.prototype` or null: what JSON and
 * structured clone produce) whose own enumerable keys are exactly `keys`, all data
 * properties. `Object.keys`, not `Reflect.ownKeys`: symbols and non-enumerable keys never
 * survive JSON or structured clone, and listing a large object's keys is several times
 * cheaper this way. Can throw on a Proxy: callers catch.
 */
function hasExactKeys(value: object, keys: readonly string[]): boolean {
  const proto = Object.getPrototypeOf(value)
  if (proto !== Object.prototype && proto !== null) return false
  const own = Object.keys(value)
  if (own.length !== keys.length) return false
  for (const key of keys) {
    const d = Object.getOwnPropertyDescriptor(value, key)
    if (d === undefined || !('value' in d)) return false
  }
  return true
}

/**
 * The marker a traced RPC call appends as its last argument.
 *
 * @example
 * const rpc = span.startChild('users/get', { kind: SpanKind.CLIENT })
 * await env.USERS.get(id, callMarker(rpc))
 */
export function callMarker(span: Span): CallMarker {
  return { __tracehop: CALL_MARKER, ctx: span.headers() }
}

/** What {@link takeCallMarker} found in an argument list. */
export interface TakenMarker {
  /** The context headers of the caller, when the marker was well-formed. */
  readonly carrier?: Record<string, string>
  /** Whether the last argument was a call marker (and was removed). */
  readonly found: boolean
  /**
   * False when the last argument carried the marker (`__tracehop: 'ctx'`) but not the exact
   * shape: it is left in `args` (the caller's own value) and counted as `envelope`.
   */
  readonly valid: boolean
}

const NO_MARKER: TakenMarker = { found: false, valid: true }

/**
 * Removes a trailing call marker from `args` in place (so the user's method sees exactly
 * the arguments the caller passed) and returns the caller's context. Never throws.
 *
 * @example
 * const { carrier } = takeCallMarker(args)
 * const scope = tracer.start(carrier, { name: 'Users/get' })
 * return original.apply(this, args)
 */
export function takeCallMarker(args: unknown[]): TakenMarker {
  const n = args.length
  if (n === 0) return NO_MARKER
  const last = args[n - 1]
  if (last === null || typeof last !== 'object') return NO_MARKER
  let carrier: Record<string, string> | undefined
  try {
    const marker = Object.getOwnPropertyDescriptor(last, ENVELOPE_KEY)
    if (marker === undefined || marker.value !== CALL_MARKER) return NO_MARKER
    if (hasExactKeys(last, MARKER_KEYS))
      carrier = readEnvelopeContext(Object.getOwnPropertyDescriptor(last, 'ctx')?.value)
  } catch {
    carrier = undefined
  }
  // Not exactly a marker: it is the caller's own argument, left where it is.
  if (carrier === undefined) return INVALID_MARKER
  args.length = n - 1
  return { carrier, found: true, valid: true }
}

const INVALID_MARKER: TakenMarker = { found: false, valid: false }

/**
 * A context record: a plain object of 1 to 6 string values under the names tracehop writes
 * (read case-insensitively, as header names are), each at most 64 KiB. Sizes are checked
 * before anything is parsed. Can throw on a Proxy: callers catch.
 *
 * @example
 * readContext({ traceparent: '00-…-01' }) // { traceparent: '00-…-01' }
 * readContext({ traceparent: '00-…-01', user: 'x' }) // undefined
 */
export function readContext(ctx: unknown): Record<string, string> | undefined {
  if (ctx === null || typeof ctx !== 'object' || Array.isArray(ctx)) return undefined
  const proto = Object.getPrototypeOf(ctx)
  if (proto !== Object.prototype && proto !== null) return undefined
  const keys = Object.keys(ctx)
  if (keys.length === 0 || keys.length > CTX_KEYS.size) return undefined
  const out: Record<string, string> = {}
  for (const key of keys) {
    const name = key.toLowerCase()
    if (!CTX_KEYS.has(name) || Object.hasOwn(out, name)) return undefined
    const v = Object.getOwnPropertyDescriptor(ctx, key)?.value
    if (typeof v !== 'string' || v.length > MAX_CTX_VALUE_LENGTH) return undefined
    out[name] = v
  }
  return out
}
