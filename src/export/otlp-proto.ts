/**
 * OTLP/HTTP binary protobuf encoding of an `ExportTraceServiceRequest`: a writer for just
 * the messages OTLP traces use, so an edge bundle does not carry protobufjs (~20 KB gzip).
 *
 * Field numbers are those of opentelemetry-proto `trace/v1/trace.proto`,
 * `common/v1/common.proto`, `resource/v1/resource.proto`. A nested message's length is not
 * known before it is written, so one byte is reserved for it and the body is shifted in the
 * rare case (>= 128 bytes) that the length varint needs more.
 */
import type { Attributes, AttributeValue, ExportBatch, SpanRecord } from '../span-record.js'
import { spanFlags } from './otlp-json.js'
import { writeNanos } from './otlp-time.js'

// Scratch buffer, reused: encoding is synchronous, so calls never interleave.
let buf = /* @__PURE__ */ new Uint8Array(16384)
let view = /* @__PURE__ */ new DataView(buf.buffer)
let pos = 0
const utf8Encoder = /* @__PURE__ */ new TextEncoder()

function ensure(n: number): void {
  if (pos + n <= buf.length) return
  let size = buf.length * 2
  while (size < pos + n) size *= 2
  const next = new Uint8Array(size)
  next.set(buf.subarray(0, pos))
  buf = next
  view = new DataView(buf.buffer)
}

/** An unsigned varint below 2^32 (tags, lengths, counts, enums). */
function varint(n: number): void {
  ensure(5)
  while (n > 127) {
    buf[pos++] = (n & 127) | 128
    n >>>= 7
  }
  buf[pos++] = n
}

/** `int64` varint of a safe integer: negatives take ten bytes (two's complement). */
function varint64(n: number): void {
  if (n >= 0 && n < 4294967296) {
    varint(n)
    return
  }
  let hi = Math.floor(n / 4294967296)
  let lo = n - hi * 4294967296
  hi >>>= 0
  ensure(10)
  while (hi !== 0 || lo > 127) {
    buf[pos++] = (lo & 127) | 128
    lo = ((lo >>> 7) | (hi << 25)) >>> 0
    hi >>>= 7
  }
  buf[pos++] = lo
}

/** Starts a length-delimited field; returns where its (reserved) length byte is. */
function begin(tag: number): number {
  varint(tag)
  ensure(1)
  return pos++
}

function end(at: number): void {
  const len = pos - at - 1
  if (len < 128) {
    buf[at] = len
    return
  }
  const extra = len < 16384 ? 1 : len < 2097152 ? 2 : len < 268435456 ? 3 : 4
  ensure(extra)
  buf.copyWithin(at + 1 + extra, at + 1, pos)
  pos += extra
  let n = len
  while (n > 127) {
    buf[at++] = (n & 127) | 128
    n >>>= 7
  }
  buf[at] = n
}

/** A string field, written even when empty (callers skip proto3 defaults themselves). */
function string(tag: number, s: string): void {
  const at = begin(tag)
  const n = s.length
  ensure(n * 3)
  // Keys, names and ids are ASCII: copy them byte by byte; anything else goes through
  // encodeInto, which also turns lone surrogates into U+FFFD.
  const start = pos
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i)
    if (c > 0x7f) {
      pos = start + utf8Encoder.encodeInto(s, buf.subarray(start)).written
      break
    }
    buf[pos++] = c
  }
  end(at)
}

function nibble(c: number): number {
  return (c >= 97 ? c - 87 : c >= 65 ? c - 55 : c - 48) & 15
}

/** A `bytes` id field from its lowercase hex form. */
function hexId(tag: number, hex: string | undefined): void {
  if (!hex) return
  const n = hex.length >>> 1
  varint(tag)
  varint(n)
  ensure(n)
  for (let i = 0; i < n; i++)
    buf[pos++] = (nibble(hex.charCodeAt(2 * i)) << 4) | nibble(hex.charCodeAt(2 * i + 1))
}

function fixed32(tag: number, n: number): void {
  varint(tag)
  ensure(4)
  view.setUint32(pos, n >>> 0, true)
  pos += 4
}

function time(tag: number, ms: number): void {
  varint(tag)
  ensure(8)
  writeNanos(view, pos, ms)
  pos += 8
}

/** common.proto AnyValue: a oneof, so even default values are written. */
function anyValue(v: AttributeValue | string | number | boolean): void {
  switch (typeof v) {
    case 'string':
      string(0x0a, v)
      return
    case 'boolean':
      varint(0x10)
      varint(v ? 1 : 0)
      return
    case 'number':
      if (Number.isSafeInteger(v)) {
        varint(0x18)
        varint64(v)
        return
      }
      varint(0x21)
      ensure(8)
      view.setFloat64(pos, v, true)
      pos += 8
      return
  }
  if (!Array.isArray(v)) return
  const arr = begin(0x2a)
  for (let i = 0; i < v.length; i++) {
    const at = begin(0x0a)
    anyValue(v[i])
    end(at)
  }
  end(arr)
}

/** Repeated KeyValue under `tag`. */
function keyValues(tag: number, attrs: Attributes | undefined): void {
  for (const k in attrs) {
    const v = attrs[k]
    if (v === undefined) continue
    const kv = begin(tag)
    string(0x0a, k)
    const at = begin(0x12)
    anyValue(v)
    end(at)
    end(kv)
  }
}

function uint32(tag: number, n: number): void {
  if (n > 0) {
    varint(tag)
    varint(n)
  }
}

function span(s: SpanRecord): void {
  hexId(0x0a, s.traceId)
  hexId(0x12, s.spanId)
  if (s.traceState) string(0x1a, s.traceState)
  hexId(0x22, s.parentSpanId)
  if (s.name) string(0x2a, s.name)
  varint(0x30)
  varint(s.kind + 1)
  time(0x39, s.startTime)
  time(0x41, s.endTime)
  keyValues(0x4a, s.attributes)
  uint32(0x50, s.droppedAttributes)
  for (const e of s.events) {
    const at = begin(0x5a)
    time(0x09, e.time)
    if (e.name) string(0x12, e.name)
    keyValues(0x1a, e.attributes)
    end(at)
  }
  uint32(0x60, s.droppedEvents)
  for (const l of s.links) {
    const at = begin(0x6a)
    hexId(0x0a, l.traceId)
    hexId(0x12, l.spanId)
    if (l.traceState) string(0x1a, l.traceState)
    keyValues(0x22, l.attributes)
    // A link does not say whether its context was remote: only the W3C flags are known.
    fixed32(0x35, (l.flags ?? 0) & 0xff)
    end(at)
  }
  uint32(0x70, s.droppedLinks)
  const st = begin(0x7a)
  if (s.status.message) string(0x12, s.status.message)
  uint32(0x18, s.status.code)
  end(st)
  // Field 16, wire type I32: tag 133 as a two-byte varint.
  fixed32(133, spanFlags(s))
}

/**
 * Encodes a batch as an OTLP/HTTP protobuf request body (`Content-Type: application/x-protobuf`).
 *
 * @example
 * const body = encodeOtlpProto({ resource: { attributes: { 'service.name': 'api' } }, scopeName: 'tracehop', scopeVersion: '0.1.0', spans })
 * await fetch('http://127.0.0.1:4318/v1/traces', { method: 'POST', headers: { 'content-type': 'application/x-protobuf' }, body })
 */
export function encodeOtlpProto(batch: ExportBatch): Uint8Array {
  pos = 0
  if (batch.spans.length === 0) return new Uint8Array(0)
  const rs = begin(0x0a) // ExportTraceServiceRequest.resource_spans
  const res = begin(0x0a) // ResourceSpans.resource
  keyValues(0x0a, batch.resource.attributes)
  end(res)
  const ss = begin(0x12) // ResourceSpans.scope_spans
  const scope = begin(0x0a) // ScopeSpans.scope
  if (batch.scopeName) string(0x0a, batch.scopeName)
  if (batch.scopeVersion) string(0x12, batch.scopeVersion)
  end(scope)
  for (const s of batch.spans) {
    const at = begin(0x12) // ScopeSpans.spans
    span(s)
    end(at)
  }
  end(ss)
  end(rs)
  return buf.slice(0, pos)
}
