// OTLP encoders checked against the reference implementation: @opentelemetry/otlp-transformer's
// serializers on equivalent ReadableSpans, and its protobufjs code generated from the official
// opentelemetry-proto definitions to decode what we write.
import { createRequire } from 'node:module'
import { JsonTraceSerializer, ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { encodeOtlpJson } from '../../src/export/otlp-json.js'
import { encodeOtlpProto } from '../../src/export/otlp-proto.js'
import { nanosString, writeNanos } from '../../src/export/otlp-time.js'
import type { Attributes, AttributeValue, SpanRecord } from '../../src/span-record.js'
import { toReadableSpans } from '../support/readable-span.js'
import { type Built, batchOf, childSpan, realisticTrace, rootSpan } from './helpers.js'

// The generated module is CommonJS with `__esModule` set and no default export.
const root = createRequire(import.meta.url)('@opentelemetry/otlp-transformer/build/src/generated/root.js')
const Request = root.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest

function decodeProto(bytes: Uint8Array): unknown {
  return Request.toObject(Request.decode(bytes), {
    longs: String,
    bytes: String,
    defaults: true,
    arrays: true,
  })
}

/**
 * The one deliberate difference: a link does not record whether its context was remote,
 * so we send only its W3C flags, while the SDK always sets HAS_IS_REMOTE (0x100) on links.
 */
function maskLinkFlags(request: any): any {
  for (const rs of request.resourceSpans ?? [])
    for (const ss of rs.scopeSpans ?? [])
      for (const s of ss.spans ?? []) for (const l of s.links ?? []) l.flags = Number(l.flags ?? 0) & 0xff
  return request
}

const RESOURCE: Attributes = {
  'service.name': 'orchestrator',
  'service.version': '1.4.2',
  'cloud.provider': 'cloudflare',
  'telemetry.sdk.language': 'webjs',
  'process.runtime.pid': 42,
  'feature.flags': ['a', 'b'],
}

function reference(built: readonly Built[], attrs?: Attributes) {
  const batch = batchOf(
    built.map((b) => b.record),
    attrs,
  )
  const spans = toReadableSpans(built, batch)
  return {
    batch,
    json: maskLinkFlags(JSON.parse(new TextDecoder().decode(JsonTraceSerializer.serializeRequest(spans)!))),
    proto: maskLinkFlags(decodeProto(ProtobufTraceSerializer.serializeRequest(spans)!)),
  }
}

// Attribute values the two encoders must agree on: safe integers (ours sends larger
// integers as doubles), finite doubles, strings with any code points, homogeneous arrays.
const scalar = fc.oneof(
  fc.string({ unit: 'grapheme', maxLength: 20 }),
  fc.string({ unit: 'binary', maxLength: 8 }),
  fc.integer({ min: -(2 ** 53) + 1, max: 2 ** 53 - 1 }),
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }).filter((d) => !Number.isInteger(d)),
  fc.boolean(),
)
const attrValue: fc.Arbitrary<AttributeValue> = fc.oneof(
  scalar,
  fc.array(fc.string({ maxLength: 6 }), { maxLength: 4 }),
  fc.array(fc.integer(), { maxLength: 4 }),
  fc.array(fc.boolean(), { maxLength: 3 }),
)
const attributes = fc.dictionary(fc.string({ minLength: 1, maxLength: 12 }), attrValue, { maxKeys: 6 })

const spanSpec = fc.record({
  name: fc.string({ unit: 'grapheme', maxLength: 30 }),
  kind: fc.constantFrom(0, 1, 2, 3, 4) as fc.Arbitrary<SpanRecord['kind']>,
  attributes,
  durationUs: fc.integer({ min: 0, max: 10 ** 9 }),
  status: fc.oneof(
    fc.constant({ code: 0 as const }),
    fc.constant({ code: 1 as const }),
    fc.record({ code: fc.constant(2 as const), message: fc.string({ maxLength: 20 }) }),
  ),
  flags: fc.constantFrom(0, 1, 2, 3),
  remoteParent: fc.boolean(),
  dropped: fc.tuple(fc.nat(1000), fc.nat(1000), fc.nat(1000)),
  events: fc.array(
    fc.record({
      name: fc.string({ maxLength: 10 }),
      offset: fc.nat(10 ** 9),
      attributes: fc.option(attributes, { nil: undefined }),
    }),
    { maxLength: 3 },
  ),
  traceState: fc.option(fc.constantFrom('ot=th:8', 'a=1,b=2'), { nil: undefined }),
})

function fromSpec(s: any, startUs: number, parent?: Built): Built {
  const spec = {
    name: s.name,
    kind: s.kind,
    attributes: s.attributes,
    durationUs: s.durationUs,
    status: s.status,
    flags: s.flags,
    remoteParent: s.remoteParent,
    dropped: s.dropped,
    traceState: s.traceState,
    startUs,
    events: s.events.map((e: any) => ({ name: e.name, us: startUs + e.offset, attributes: e.attributes })),
    links: parent
      ? [
          {
            traceId: parent.record.traceId,
            spanId: parent.record.spanId,
            flags: s.flags,
            attributes: s.attributes,
          },
        ]
      : [],
  }
  return parent ? childSpan(parent, spec) : rootSpan(spec)
}

describe('OTLP JSON encoding', () => {
  it('matches JsonTraceSerializer on a realistic 100-span batch', () => {
    const built = realisticTrace(100)
    const ref = reference(built, RESOURCE)
    expect(maskLinkFlags(JSON.parse(encodeOtlpJson(ref.batch)))).toEqual(ref.json)
  })

  it('matches JsonTraceSerializer for any spans, attributes, events, links and times', () => {
    fc.assert(
      fc.property(
        spanSpec,
        fc.array(spanSpec, { maxLength: 4 }),
        fc.integer({ min: 0, max: 4_300_000_000_000_000 }),
        (r, children, startUs) => {
          const rootBuilt = fromSpec(r, startUs)
          const built = [rootBuilt, ...children.map((c) => fromSpec(c, startUs + 5, rootBuilt))]
          const ref = reference(built)
          expect(maskLinkFlags(JSON.parse(encodeOtlpJson(ref.batch)))).toEqual(ref.json)
        },
      ),
      { numRuns: 300 },
    )
  })

  it('writes trace and span ids as lowercase hex strings, not base64 (OTLP/JSON)', () => {
    const b = rootSpan()
    const out = JSON.parse(encodeOtlpJson(batchOf([b.record])))
    const span = out.resourceSpans[0].scopeSpans[0].spans[0]
    expect(span.traceId).toBe(b.record.traceId)
    expect(span.spanId).toBe(b.record.spanId)
    expect(span.parentSpanId).toBeUndefined()
  })

  it('writes kind as our kind + 1 and the parent-is-remote bits in flags', () => {
    const parent = rootSpan()
    const c = childSpan(parent, { kind: 1, remoteParent: true, flags: 1 })
    const span = JSON.parse(encodeOtlpJson(batchOf([c.record]))).resourceSpans[0].scopeSpans[0].spans[0]
    expect(span.kind).toBe(2)
    expect(span.flags).toBe(0x301)
    expect(span.parentSpanId).toBe(parent.record.spanId)
  })

  it('spells non-finite doubles as ProtoJSON strings and keeps unsafe integers as doubles', () => {
    const b = rootSpan({ attributes: { nan: Number.NaN, inf: Number.POSITIVE_INFINITY, big: 2 ** 60 } })
    const attrs = JSON.parse(encodeOtlpJson(batchOf([b.record]))).resourceSpans[0].scopeSpans[0].spans[0]
      .attributes
    expect(attrs).toEqual([
      { key: 'nan', value: { doubleValue: 'NaN' } },
      { key: 'inf', value: { doubleValue: 'Infinity' } },
      { key: 'big', value: { doubleValue: 2 ** 60 } },
    ])
  })

  it('encodes an empty batch as an empty request', () => {
    expect(JSON.parse(encodeOtlpJson(batchOf([])))).toEqual({ resourceSpans: [] })
  })
})

describe('OTLP protobuf encoding', () => {
  it('decodes with the official OTLP proto definitions to what ProtobufTraceSerializer sends (100 spans)', () => {
    const built = realisticTrace(100)
    const ref = reference(built, RESOURCE)
    expect(maskLinkFlags(decodeProto(encodeOtlpProto(ref.batch)))).toEqual(ref.proto)
  })

  it('decodes to what ProtobufTraceSerializer sends, for any spans', () => {
    fc.assert(
      fc.property(
        spanSpec,
        fc.array(spanSpec, { maxLength: 4 }),
        fc.integer({ min: 0, max: 4_300_000_000_000_000 }),
        (r, children, startUs) => {
          const rootBuilt = fromSpec(r, startUs)
          const built = [rootBuilt, ...children.map((c) => fromSpec(c, startUs + 5, rootBuilt))]
          const ref = reference(built)
          expect(maskLinkFlags(decodeProto(encodeOtlpProto(ref.batch)))).toEqual(ref.proto)
        },
      ),
      { numRuns: 300 },
    )
  })

  it('is no larger than the reference encoding (proto3 defaults are left out)', () => {
    const built = realisticTrace(100)
    const batch = batchOf(built.map((b) => b.record))
    const theirs = ProtobufTraceSerializer.serializeRequest(toReadableSpans(built, batch))!
    expect(encodeOtlpProto(batch).length).toBeLessThanOrEqual(theirs.length)
  })

  it('shifts a nested message whose length needs a multi-byte varint (strings of 100 KB and more)', () => {
    const big = 'é'.repeat(70_000) + '𝄞'.repeat(10_000)
    const b = rootSpan({ attributes: { 'gen_ai.prompt': big, small: 'x' } })
    const ref = reference([b], { 'service.name': 'svc' })
    const ours = encodeOtlpProto(ref.batch)
    expect(ours.length).toBeGreaterThan(180_000)
    expect(maskLinkFlags(decodeProto(ours))).toEqual(ref.proto)
  })

  it('writes lone surrogates as U+FFFD, as TextEncoder does', () => {
    const b = rootSpan({ attributes: { s: 'a\ud800b\udc00c', long: `${'x'.repeat(70)}\ud800` } })
    const decoded: any = decodeProto(encodeOtlpProto(batchOf([b.record])))
    const attrs = decoded.resourceSpans[0].scopeSpans[0].spans[0].attributes
    expect(attrs[0].value.stringValue).toBe('a\ufffdb\ufffdc')
    expect(attrs[1].value.stringValue).toBe(`${'x'.repeat(70)}\ufffd`)
  })

  it('writes negative integers as ten-byte int64 varints', () => {
    const b = rootSpan({ attributes: { neg: -1, min: -(2 ** 53) + 1 } })
    const attrs: any = (decodeProto(encodeOtlpProto(batchOf([b.record]))) as any).resourceSpans[0]
      .scopeSpans[0].spans[0].attributes
    expect(attrs.map((a: any) => a.value.intValue)).toEqual(['-1', String(-(2 ** 53) + 1)])
  })

  it('encodes an empty batch as zero bytes (an empty ExportTraceServiceRequest)', () => {
    expect(encodeOtlpProto(batchOf([])).length).toBe(0)
  })

  it('never throws on malformed records (bad ids, NaN times, odd values)', () => {
    fc.assert(
      fc.property(
        fc.string(),
        fc.string(),
        fc.double(),
        fc.double(),
        fc.anything(),
        (traceId, spanId, start, end, value) => {
          const b = rootSpan()
          const record = {
            ...b.record,
            traceId,
            spanId,
            startTime: start,
            endTime: end,
            attributes: { v: value as AttributeValue },
          }
          const batch = batchOf([record])
          expect(() => encodeOtlpProto(batch)).not.toThrow()
          expect(() => JSON.parse(encodeOtlpJson(batch))).not.toThrow()
        },
      ),
    )
  })
})

describe('OTLP times', () => {
  // A double holds whole µs of a ms timestamp exactly until 2^42 ms (year 2109).
  it('round-trips whole microseconds to exact nanoseconds, as a string and as fixed64', () => {
    const view = new DataView(new ArrayBuffer(8))
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 42 * 1000 }), (us) => {
        const expected = BigInt(us) * 1000n
        expect(nanosString(us / 1000)).toBe(expected.toString())
        writeNanos(view, 0, us / 1000)
        expect(view.getBigUint64(0, true)).toBe(expected)
      }),
      { numRuns: 2000 },
    )
  })

  it('turns NaN, negative and out-of-range times into 0 instead of garbage', () => {
    for (const bad of [Number.NaN, -5, Number.POSITIVE_INFINITY, 1e300]) expect(nanosString(bad)).toBe('0')
  })
})
