/**
 * OTLP/HTTP trace requests (JSON and binary protobuf) into collected spans, and the
 * response bodies a collector answers with (OTLP specification, "OTLP/HTTP" section).
 *
 * Both encodings are first brought to one shape, the proto3 JSON mapping with lowerCamelCase
 * keys (protobufjs' `toObject` yields the same keys), then walked once. The walk never
 * throws on odd input: a span it cannot use is counted as rejected and named in the
 * `partial_success.error_message`, as the spec asks of a receiver.
 */
import protobuf from 'protobufjs/light.js'
import type { Attributes, AttributeValue } from '../src/span-record.js'
import { OTLP_TRACE_DESCRIPTOR } from './otlp-descriptor.js'
import type { CollectedEvent, CollectedLink, CollectedSpan, CollectedSpanKind } from './types.js'

/** What one export request held. */
export interface OtlpDecodeResult {
  readonly spans: CollectedSpan[]
  /** Spans that were present but unusable (bad ids, no start time). */
  readonly rejected: number
  /** Why the first rejected span was rejected. */
  readonly error?: string
}

type Obj = Record<string, unknown>

// The proto3 JSON shapes walked below; every field is `unknown` until checked.
interface AnyValueJson {
  readonly stringValue?: unknown
  readonly boolValue?: unknown
  readonly intValue?: unknown
  readonly doubleValue?: unknown
  readonly arrayValue?: unknown
  readonly kvlistValue?: unknown
  readonly bytesValue?: unknown
}
interface KeyValueJson {
  readonly key?: unknown
  readonly value?: unknown
}
interface ValuesJson {
  readonly values?: unknown
}
interface AttributedJson {
  readonly attributes?: unknown
}
interface EventJson extends AttributedJson {
  readonly name?: unknown
  readonly timeUnixNano?: unknown
}
interface LinkJson extends AttributedJson {
  readonly traceId?: unknown
  readonly spanId?: unknown
}
interface StatusJson {
  readonly code?: unknown
  readonly message?: unknown
}
interface SpanJson extends LinkJson {
  readonly parentSpanId?: unknown
  readonly name?: unknown
  readonly kind?: unknown
  readonly startTimeUnixNano?: unknown
  readonly endTimeUnixNano?: unknown
  readonly events?: unknown
  readonly links?: unknown
  readonly status?: unknown
}
interface ScopeSpansJson {
  readonly scope?: unknown
  readonly spans?: unknown
}
interface ResourceSpansJson {
  readonly resource?: unknown
  readonly scopeSpans?: unknown
}
interface RequestJson {
  readonly resourceSpans?: unknown
}

const root = protobuf.Root.fromJSON(OTLP_TRACE_DESCRIPTOR)
const RequestType = root.lookupType('ExportTraceServiceRequest')
const ResponseType = root.lookupType('ExportTraceServiceResponse')
const RpcStatusType = root.lookupType('RpcStatus')
// Longs as decimal strings: exact whether or not protobufjs found the `long` package.
const TO_OBJECT: protobuf.IConversionOptions = { longs: String, enums: Number, defaults: false }

const HEX_ID = /^[0-9a-fA-F]+$/
const ALL_ZERO = /^0+$/
const DIGITS = /^\d{1,20}$/
const UNKNOWN_SERVICE = 'unknown_service'

// OTLP SpanKind: 0 UNSPECIFIED, 1 INTERNAL, 2 SERVER, 3 CLIENT, 4 PRODUCER, 5 CONSUMER.
const KINDS: readonly CollectedSpanKind[] = [
  'internal',
  'internal',
  'server',
  'client',
  'producer',
  'consumer',
]
const KIND_NAMES: Readonly<Record<string, CollectedSpanKind>> = {
  SPAN_KIND_UNSPECIFIED: 'internal',
  SPAN_KIND_INTERNAL: 'internal',
  SPAN_KIND_SERVER: 'server',
  SPAN_KIND_CLIENT: 'client',
  SPAN_KIND_PRODUCER: 'producer',
  SPAN_KIND_CONSUMER: 'consumer',
}

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

/** `v` as the JSON object shape `T` (fields still unchecked), or undefined. */
function obj<T>(v: unknown): T | undefined {
  return isObj(v) ? (v as T) : undefined
}

function list(v: unknown): readonly unknown[] {
  return Array.isArray(v) ? v : []
}

function hexOfBytes(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex')
}

/**
 * An id as lowercase hex of `bytes` bytes, or undefined. Protobuf gives bytes; OTLP/JSON
 * gives hex (the spec's deviation from proto3 JSON), but some old senders used base64.
 */
function idOf(v: unknown, bytes: number): string | undefined {
  let hex: string | undefined
  if (v instanceof Uint8Array) hex = v.byteLength === bytes ? hexOfBytes(v) : undefined
  else if (typeof v === 'string') {
    if (v.length === bytes * 2 && HEX_ID.test(v)) hex = v.toLowerCase()
    else if (v.length === Math.ceil(bytes / 3) * 4) {
      const b = Buffer.from(v, 'base64')
      if (b.byteLength === bytes && b.toString('base64') === v) hex = b.toString('hex')
    }
  }
  return hex === undefined || ALL_ZERO.test(hex) ? undefined : hex
}

/** Absent or empty (an unset `bytes` field) means "no parent". */
function isEmptyId(v: unknown): boolean {
  return v === undefined || v === null || v === '' || (v instanceof Uint8Array && v.byteLength === 0)
}

/**
 * `fixed64` nanoseconds (decimal string or number) as fractional ms since the epoch.
 * Split before converting: the nanoseconds exceed 2^53, the ms and the sub-ms part do not.
 */
function nanosToMs(v: unknown): number | undefined {
  if (typeof v === 'number') return Number.isFinite(v) && v > 0 ? v / 1e6 : undefined
  if (typeof v !== 'string' || !DIGITS.test(v)) return undefined
  const ms = v.length <= 6 ? Number(v) / 1e6 : Number(v.slice(0, -6)) + Number(v.slice(-6)) / 1e6
  return ms > 0 ? ms : undefined
}

/** An OTLP `AnyValue` as a plain JS value (kvlists become objects). */
function anyValue(value: unknown): unknown {
  const v = obj<AnyValueJson>(value)
  if (v === undefined) return undefined
  if (v.stringValue !== undefined) return String(v.stringValue)
  if (v.boolValue !== undefined) return v.boolValue === true || v.boolValue === 'true'
  if (v.intValue !== undefined) {
    const n = Number(v.intValue)
    // Beyond 2^53 the decimal text is the only exact form.
    return Number.isSafeInteger(n) ? n : String(v.intValue)
  }
  if (v.doubleValue !== undefined) return Number(v.doubleValue)
  if (v.arrayValue !== undefined) return list(obj<ValuesJson>(v.arrayValue)?.values).map(anyValue)
  if (v.kvlistValue !== undefined) {
    const out: Obj = {}
    for (const item of list(obj<ValuesJson>(v.kvlistValue)?.values)) {
      const kv = obj<KeyValueJson>(item)
      if (kv && typeof kv.key === 'string') out[kv.key] = anyValue(kv.value)
    }
    return out
  }
  const bytes = v.bytesValue
  if (bytes instanceof Uint8Array) return Buffer.from(bytes).toString('base64')
  if (typeof bytes === 'string') return bytes
  return undefined
}

/**
 * A plain value as an attribute value: primitives and homogeneous primitive arrays as they
 * are, anything else (objects, mixed arrays) as its JSON text so it can still be shown.
 *
 * @example
 * toAttributeValue({ q: 1 }) // '{"q":1}'
 */
export function toAttributeValue(v: unknown): AttributeValue | undefined {
  if (v === undefined || v === null) return undefined
  const t = typeof v
  if (t === 'string' || t === 'boolean') return v as string | boolean
  if (t === 'number') return v as number
  if (Array.isArray(v)) {
    if (v.length === 0) return [] as string[]
    const first = typeof v[0]
    if (
      (first === 'string' || first === 'number' || first === 'boolean') &&
      v.every((x) => typeof x === first)
    )
      return v as string[]
  }
  try {
    return JSON.stringify(v) ?? undefined
  } catch {
    return String(v)
  }
}

function attributesOf(kvs: unknown): Attributes {
  const out: Attributes = {}
  for (const item of list(kvs)) {
    const kv = obj<KeyValueJson>(item)
    if (kv === undefined || typeof kv.key !== 'string') continue
    const value = toAttributeValue(anyValue(kv.value))
    if (value !== undefined) out[kv.key] = value
  }
  return out
}

function kindOf(v: unknown): CollectedSpanKind {
  if (typeof v === 'number') return KINDS[v] ?? 'internal'
  if (typeof v === 'string') return KIND_NAMES[v] ?? 'internal'
  return 'internal'
}

function statusOf(value: unknown): CollectedSpan['status'] {
  const v = obj<StatusJson>(value)
  if (v === undefined) return { code: 'unset' }
  const c = v.code
  const code =
    c === 2 || c === 'STATUS_CODE_ERROR' ? 'error' : c === 1 || c === 'STATUS_CODE_OK' ? 'ok' : 'unset'
  return typeof v.message === 'string' && v.message !== '' ? { code, message: v.message } : { code }
}

function eventsOf(v: unknown): CollectedEvent[] {
  const out: CollectedEvent[] = []
  for (const item of list(v)) {
    const e = obj<EventJson>(item)
    if (e === undefined) continue
    out.push({
      name: typeof e.name === 'string' ? e.name : '',
      time: nanosToMs(e.timeUnixNano) ?? 0,
      attributes: attributesOf(e.attributes),
    })
  }
  return out
}

function linksOf(v: unknown): CollectedLink[] {
  const out: CollectedLink[] = []
  for (const item of list(v)) {
    const l = obj<LinkJson>(item)
    if (l === undefined) continue
    const traceId = idOf(l.traceId, 16)
    const spanId = idOf(l.spanId, 8)
    if (traceId && spanId) out.push({ traceId, spanId, attributes: attributesOf(l.attributes) })
  }
  return out
}

/** Walks an `ExportTraceServiceRequest` in its JSON shape. */
function collect(request: RequestJson): OtlpDecodeResult {
  const spans: CollectedSpan[] = []
  let rejected = 0
  let error: string | undefined
  const reject = (why: string): void => {
    rejected++
    error ??= why
  }
  for (const rsItem of list(request.resourceSpans)) {
    const rs = obj<ResourceSpansJson>(rsItem)
    if (rs === undefined) continue
    const resource = attributesOf(obj<AttributedJson>(rs.resource)?.attributes)
    const serviceName = resource['service.name']
    const service = typeof serviceName === 'string' && serviceName !== '' ? serviceName : UNKNOWN_SERVICE
    for (const ssItem of list(rs.scopeSpans)) {
      const ss = obj<ScopeSpansJson>(ssItem)
      if (ss === undefined) continue
      const scopeName = obj<{ readonly name?: unknown }>(ss.scope)?.name
      const scope = typeof scopeName === 'string' ? scopeName : ''
      for (const item of list(ss.spans)) {
        const s = obj<SpanJson>(item)
        if (s === undefined) {
          reject('a span is not an object')
          continue
        }
        const traceId = idOf(s.traceId, 16)
        const spanId = idOf(s.spanId, 8)
        if (!traceId) {
          reject('traceId must be 16 bytes, not all zero')
          continue
        }
        if (!spanId) {
          reject('spanId must be 8 bytes, not all zero')
          continue
        }
        let parentSpanId: string | undefined
        if (!isEmptyId(s.parentSpanId)) {
          parentSpanId = idOf(s.parentSpanId, 8)
          if (!parentSpanId) {
            reject('parentSpanId must be empty or 8 bytes')
            continue
          }
        }
        const startTime = nanosToMs(s.startTimeUnixNano)
        if (startTime === undefined) {
          reject('startTimeUnixNano is missing')
          continue
        }
        const end = nanosToMs(s.endTimeUnixNano)
        spans.push({
          traceId,
          spanId,
          ...(parentSpanId !== undefined ? { parentSpanId } : {}),
          name: typeof s.name === 'string' ? s.name : '',
          service,
          kind: kindOf(s.kind),
          startTime,
          endTime: end !== undefined && end >= startTime ? end : startTime,
          attributes: attributesOf(s.attributes),
          events: eventsOf(s.events),
          links: linksOf(s.links),
          status: statusOf(s.status),
          resource,
          ...(scope !== '' ? { scope } : {}),
          source: 'otlp',
        })
      }
    }
  }
  return error === undefined ? { spans, rejected } : { spans, rejected, error }
}

/**
 * Decodes an OTLP/HTTP JSON `ExportTraceServiceRequest`; undefined when the body is not a
 * JSON object.
 *
 * @example
 * const r = decodeOtlpJson('{"resourceSpans":[]}') // { spans: [], rejected: 0 }
 */
export function decodeOtlpJson(text: string): OtlpDecodeResult | undefined {
  let body: unknown
  try {
    body = JSON.parse(text)
  } catch {
    return undefined
  }
  return isObj(body) ? collect(body) : undefined
}

/**
 * Decodes an OTLP/HTTP binary protobuf `ExportTraceServiceRequest`; undefined when the
 * bytes are not one.
 *
 * @example
 * const r = decodeOtlpProtobuf(ProtobufTraceSerializer.serializeRequest(spans)!)
 */
export function decodeOtlpProtobuf(bytes: Uint8Array): OtlpDecodeResult | undefined {
  let body: Obj
  try {
    body = RequestType.toObject(RequestType.decode(bytes), TO_OBJECT)
  } catch {
    return undefined
  }
  return collect(body)
}

/**
 * The success body: an empty `ExportTraceServiceResponse`, or one with `partial_success`
 * when spans were rejected (OTLP/HTTP "Partial Success").
 *
 * @example
 * otlpResponse('json', 0, undefined) // '{}'
 */
export function otlpResponse(
  encoding: 'json' | 'protobuf',
  rejected: number,
  error: string | undefined,
): string | Uint8Array {
  const partial = rejected > 0 ? { rejectedSpans: rejected, errorMessage: error ?? '' } : undefined
  if (encoding === 'json')
    return partial
      ? JSON.stringify({ partialSuccess: { ...partial, rejectedSpans: String(rejected) } })
      : '{}'
  return ResponseType.encode(ResponseType.fromObject(partial ? { partialSuccess: partial } : {})).finish()
}

/**
 * The error body: a `google.rpc.Status` (OTLP/HTTP "Failures"), `code` 3 = INVALID_ARGUMENT.
 *
 * @example
 * otlpStatus('json', 3, 'body is not an ExportTraceServiceRequest')
 */
export function otlpStatus(
  encoding: 'json' | 'protobuf',
  code: number,
  message: string,
): string | Uint8Array {
  if (encoding === 'json') return JSON.stringify({ code, message })
  return RpcStatusType.encode(RpcStatusType.fromObject({ code, message })).finish()
}
