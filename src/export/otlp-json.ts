/**
 * OTLP/HTTP JSON encoding of an `ExportTraceServiceRequest` (opentelemetry-proto
 * `collector/trace/v1/trace_service.proto`): a plain object tree for `JSON.stringify`.
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

type Json = Record<string, unknown>

function anyValue(v: AttributeValue | string | number | boolean): Json {
  switch (typeof v) {
    case 'string':
      return { stringValue: v }
    case 'number':
      // ProtoJSON spells non-finite doubles as strings.
      return Number.isSafeInteger(v) ? { intValue: v } : { doubleValue: Number.isFinite(v) ? v : String(v) }
    case 'boolean':
      return { boolValue: v }
  }
  return Array.isArray(v) ? { arrayValue: { values: v.map(anyValue) } } : {}
}

function keyValues(attrs: Attributes | undefined): Json[] {
  const out: Json[] = []
  for (const key in attrs) {
    const v = attrs[key]
    if (v !== undefined) out.push({ key, value: anyValue(v) })
  }
  return out
}

// `undefined` members are left out by JSON.stringify: the optional fields.
function spanJson(s: SpanRecord): Json {
  return {
    traceId: s.traceId,
    spanId: s.spanId,
    parentSpanId: s.parentSpanId || undefined,
    traceState: s.traceState || undefined,
    name: s.name,
    // trace.proto SpanKind is the API's kind + 1 (0 is UNSPECIFIED).
    kind: s.kind + 1,
    startTimeUnixNano: nanosString(s.startTime),
    endTimeUnixNano: nanosString(s.endTime),
    attributes: keyValues(s.attributes),
    droppedAttributesCount: s.droppedAttributes,
    events: s.events.map((e) => ({
      timeUnixNano: nanosString(e.time),
      name: e.name,
      attributes: keyValues(e.attributes),
      droppedAttributesCount: 0,
    })),
    droppedEventsCount: s.droppedEvents,
    status: { code: s.status.code, message: s.status.message },
    links: s.links.map((l) => ({
      traceId: l.traceId,
      spanId: l.spanId,
      traceState: l.traceState || undefined,
      attributes: keyValues(l.attributes),
      droppedAttributesCount: 0,
      // A link does not say whether its context was remote: only the W3C flags are known.
      flags: (l.flags ?? 0) & 0xff,
    })),
    droppedLinksCount: s.droppedLinks,
    flags: spanFlags(s),
  }
}

/**
 * Encodes a batch as an OTLP/HTTP JSON request body (`Content-Type: application/json`).
 * `JSON.stringify` escapes what needs it (lone surrogates included).
 *
 * @example
 * const body = encodeOtlpJson({ resource: { attributes: { 'service.name': 'api' } }, scopeName: 'tracehop', scopeVersion: '0.1.0', spans })
 * await fetch('http://127.0.0.1:4318/v1/traces', { method: 'POST', headers: { 'content-type': 'application/json' }, body })
 */
export function encodeOtlpJson(batch: ExportBatch): string {
  const spans = batch.spans
  return JSON.stringify({
    resourceSpans:
      spans.length === 0
        ? []
        : [
            {
              resource: { attributes: keyValues(batch.resource.attributes), droppedAttributesCount: 0 },
              scopeSpans: [
                {
                  scope: { name: batch.scopeName, version: batch.scopeVersion || undefined },
                  spans: spans.map(spanJson),
                },
              ],
            },
          ],
  })
}
