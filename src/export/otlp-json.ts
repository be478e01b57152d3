/**
 * OTLP/HTTP JSON encoding of an `ExportTraceServiceRequest` (opentelemetry-proto
 * `collector/trace/v1/trace_service.proto`), written straight to a string.
 *
 * OTLP spec, "JSON Protobuf Encoding": trace and span ids are hex strings (not base64),
 * enums are integers, field names are lowerCamelCase. 64-bit times are decimal strings;
 * `intValue` is written as a JSON number (accepted by every ProtoJSON parser, and what the
 * OpenTelemetry JS SDK sends), so only safe integers are encoded as `intValue`.
 */
import type { Attributes, AttributeValue, ExportBatch, SpanRecord } from '../span-record.js'
import { nanosString } from './otlp-time.js'

/** trace.proto `SpanFlags`: bit 8 says whether bit 9 (parent is remote) is known. */
export const SPAN_FLAGS_HAS_IS_REMOTE = 0x100
export const SPAN_FLAGS_IS_REMOTE = 0x200

/**
 * A JSON string literal. Most keys, names and ids need no escaping, and skipping
 * JSON.stringify for them halves the encoder's time; anything else goes through it
 * (control characters, quotes, backslashes, and surrogates, which it escapes when lone).
 */
function q(s: string): string {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i)
    if (c < 0x20 || c === 0x22 || c === 0x5c || (c >= 0xd800 && c <= 0xdfff)) return JSON.stringify(s)
  }
  return `"${s}"`
}

/**
 * `Span.flags`: the W3C trace flags plus whether the parent was remote (bit 9, known: bit 8).
 *
 * @example
 * spanFlags(record) // 0x301 for a sampled span whose parent came from another service
 */
export function spanFlags(span: SpanRecord): number {
  return (
    (span.flags & 0xff) |
    SPAN_FLAGS_HAS_IS_REMOTE |
    (span.remoteParent && span.parentSpanId ? SPAN_FLAGS_IS_REMOTE : 0)
  )
}

function anyValue(v: AttributeValue | string | number | boolean): string {
  switch (typeof v) {
    case 'string':
      return `{"stringValue":${q(v)}}`
    case 'number':
      if (Number.isSafeInteger(v)) return `{"intValue":${v}}`
      // ProtoJSON spells non-finite doubles as strings.
      return `{"doubleValue":${Number.isFinite(v) ? v : `"${v}"`}}`
    case 'boolean':
      return `{"boolValue":${v}}`
  }
  if (!Array.isArray(v)) return '{}'
  let s = '{"arrayValue":{"values":['
  for (let i = 0; i < v.length; i++) s += (i === 0 ? '' : ',') + anyValue(v[i])
  return `${s}]}}`
}

function keyValues(attrs: Attributes | undefined): string {
  let s = '['
  for (const k in attrs) {
    const v = attrs[k]
    if (v === undefined) continue
    s += `${s.length === 1 ? '' : ','}{"key":${q(k)},"value":${anyValue(v)}}`
  }
  return `${s}]`
}

function spanJson(s: SpanRecord): string {
  let o = `{"traceId":${q(s.traceId)},"spanId":${q(s.spanId)}`
  if (s.parentSpanId) o += `,"parentSpanId":${q(s.parentSpanId)}`
  if (s.traceState) o += `,"traceState":${q(s.traceState)}`
  // trace.proto SpanKind is the API's kind + 1 (0 is UNSPECIFIED).
  o += `,"name":${q(s.name)},"kind":${s.kind + 1},"startTimeUnixNano":"${nanosString(s.startTime)}","endTimeUnixNano":"${nanosString(s.endTime)}","attributes":${keyValues(s.attributes)},"droppedAttributesCount":${s.droppedAttributes},"events":[`
  for (let i = 0; i < s.events.length; i++) {
    const e = s.events[i]!
    o += `${i === 0 ? '' : ','}{"timeUnixNano":"${nanosString(e.time)}","name":${q(e.name)},"attributes":${keyValues(e.attributes)},"droppedAttributesCount":0}`
  }
  o += `],"droppedEventsCount":${s.droppedEvents},"status":{"code":${s.status.code}`
  if (s.status.message !== undefined) o += `,"message":${q(s.status.message)}`
  o += '},"links":['
  for (let i = 0; i < s.links.length; i++) {
    const l = s.links[i]!
    o += `${i === 0 ? '' : ','}{"traceId":${q(l.traceId)},"spanId":${q(l.spanId)}`
    if (l.traceState) o += `,"traceState":${q(l.traceState)}`
    // A link does not say whether its context was remote: only the W3C flags are known.
    o += `,"attributes":${keyValues(l.attributes)},"droppedAttributesCount":0,"flags":${(l.flags ?? 0) & 0xff}}`
  }
  return `${o}],"droppedLinksCount":${s.droppedLinks},"flags":${spanFlags(s)}}`
}

/**
 * Encodes a batch as an OTLP/HTTP JSON request body (`Content-Type: application/json`).
 *
 * @example
 * const body = encodeOtlpJson({ resource: { attributes: { 'service.name': 'api' } }, scopeName: 'tracehop', scopeVersion: '0.1.0', spans })
 * await fetch('http://127.0.0.1:4318/v1/traces', { method: 'POST', headers: { 'content-type': 'application/json' }, body })
 */
export function encodeOtlpJson(batch: ExportBatch): string {
  const spans = batch.spans
  if (spans.length === 0) return '{"resourceSpans":[]}'
  let o = `{"resourceSpans":[{"resource":{"attributes":${keyValues(batch.resource.attributes)},"droppedAttributesCount":0},"scopeSpans":[{"scope":{"name":${q(batch.scopeName)}`
  if (batch.scopeVersion) o += `,"version":${q(batch.scopeVersion)}`
  o += '},"spans":['
  for (let i = 0; i < spans.length; i++) o += (i === 0 ? '' : ',') + spanJson(spans[i]!)
  return `${o}]}]}]}`
}
