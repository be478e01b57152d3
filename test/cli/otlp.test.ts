// The collector's OTLP/HTTP receiver, fed by the OpenTelemetry SDK's own serializers (the
// reference producer) over real HTTP, in JSON and protobuf, plain and gzipped.
import { gzipSync } from 'node:zlib'
import { JsonTraceSerializer, ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer'
import fc from 'fast-check'
import protobuf from 'protobufjs/light.js'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { type Collector, MAX_BODY_BYTES, startCollector } from '../../cli/collector.js'
import { decodeOtlpJson, decodeOtlpProtobuf } from '../../cli/otlp-decode.js'
import { OTLP_TRACE_DESCRIPTOR } from '../../cli/otlp-descriptor.js'
import type { CollectedSpan } from '../../cli/types.js'
import { post, T0, threeServiceTrace } from './helpers.js'

const root = protobuf.Root.fromJSON(OTLP_TRACE_DESCRIPTOR)
const ResponseType = root.lookupType('ExportTraceServiceResponse')
const StatusType = root.lookupType('RpcStatus')

let collector: Collector
beforeAll(async () => {
  collector = await startCollector({ port: 0, quietMs: 60_000 })
})
afterAll(() => collector.close())
beforeEach(() => collector.clear())

const JSON_HEADERS = { 'content-type': 'application/json' }
const PROTO_HEADERS = { 'content-type': 'application/x-protobuf' }

/** What every encoding must yield for the SDK's three-service trace. */
function expectThreeServiceTrace(
  spans: readonly CollectedSpan[],
  t: ReturnType<typeof threeServiceTrace>,
): void {
  const byName = new Map(spans.map((s) => [s.name, s]))
  expect(spans).toHaveLength(4)
  const rootSpan = byName.get('POST /chat')!
  expect(rootSpan).toMatchObject({
    traceId: t.traceId,
    spanId: t.ids.root,
    service: 'gateway',
    kind: 'server',
    startTime: T0,
    endTime: T0 + 1240,
    source: 'otlp',
    scope: 'tracehop-test',
    status: { code: 'unset' },
    attributes: { 'http.request.method': 'POST', 'http.response.status_code': 200 },
    resource: { 'service.name': 'gateway', 'deployment.environment': 'dev' },
  })
  expect(rootSpan.parentSpanId).toBeUndefined()
  const agent = byName.get('agent.run')!
  expect(agent).toMatchObject({
    spanId: t.ids.agent,
    parentSpanId: t.ids.root,
    service: 'orchestrator',
    kind: 'server',
    attributes: {
      'gen_ai.agent.name': 'planner',
      'app.ratio': 0.25,
      'app.retries': 3,
      'app.cached': false,
      'app.tags': ['a', 'b'],
    },
    links: [{ traceId: 'ab'.repeat(16), spanId: 'cd'.repeat(8), attributes: {} }],
  })
  expect(agent.events).toHaveLength(1)
  expect(agent.events[0]!.name).toBe('plan.ready')
  expect(agent.events[0]!.time).toBeCloseTo(T0 + 30.5, 3)
  expect(agent.events[0]!.attributes).toEqual({ 'plan.steps': 2 })
  expect(byName.get('llm.chat')).toMatchObject({
    parentSpanId: t.ids.agent,
    kind: 'client',
    service: 'orchestrator',
  })
  expect(byName.get('search')).toMatchObject({
    parentSpanId: t.ids.agent,
    service: 'retrieval',
    status: { code: 'error', message: 'index timeout' },
    startTime: T0 + 700,
    endTime: T0 + 1000,
  })
}

describe('OTLP/HTTP JSON', () => {
  it('turns the SDK JsonTraceSerializer body into collected spans and answers 200 {}', async () => {
    const t = threeServiceTrace()
    const res = await post(
      `${collector.url}/v1/traces`,
      JsonTraceSerializer.serializeRequest(t.spans)!,
      JSON_HEADERS,
    )
    expect(res.status).toBe(200)
    expect(res.type).toBe('application/json')
    expect(JSON.parse(res.body.toString())).toEqual({})
    expectThreeServiceTrace(collector.spans(), t)
    const trace = collector.trace(t.traceId)!
    expect(trace).toMatchObject({
      name: 'POST /chat',
      services: ['gateway', 'orchestrator', 'retrieval'],
      duration: 1240,
      errors: 1,
      orphans: 0,
      finished: false,
    })
  })

  it('accepts gzip Content-Encoding', async () => {
    const t = threeServiceTrace()
    const body = gzipSync(JsonTraceSerializer.serializeRequest(t.spans)!)
    const res = await post(`${collector.url}/v1/traces`, body, {
      ...JSON_HEADERS,
      'content-encoding': 'gzip',
    })
    expect(res.status).toBe(200)
    expectThreeServiceTrace(collector.spans(), t)
  })

  it('keeps nanosecond times to the microsecond', async () => {
    const body = {
      resourceSpans: [
        {
          scopeSpans: [
            {
              spans: [
                {
                  traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
                  spanId: '00f067aa0ba902b7',
                  name: 'x',
                  startTimeUnixNano: '1700000000123456789',
                  endTimeUnixNano: 1700000000124000000,
                },
              ],
            },
          ],
        },
      ],
    }
    await post(`${collector.url}/v1/traces`, JSON.stringify(body), JSON_HEADERS)
    const [span] = collector.spans()
    expect(span!.startTime).toBeCloseTo(1700000000123.4568, 3)
    expect(span!.endTime).toBe(1700000000124)
    expect(span!.service).toBe('unknown_service')
  })

  it('accepts an empty request ({}) with 200', async () => {
    const res = await post(`${collector.url}/v1/traces`, '{}', JSON_HEADERS)
    expect(res.status).toBe(200)
    expect(collector.spans()).toHaveLength(0)
  })

  it('answers 400 with a google.rpc.Status JSON body for garbage', async () => {
    const res = await post(`${collector.url}/v1/traces`, 'not json {', JSON_HEADERS)
    expect(res.status).toBe(400)
    expect(JSON.parse(res.body.toString())).toMatchObject({
      code: 3,
      message: expect.stringContaining('OTLP'),
    })
  })

  it('rejects spans with bad ids through partialSuccess, keeps the rest', async () => {
    const span = (traceId: string, spanId: string, parentSpanId?: string): object => ({
      traceId,
      spanId,
      ...(parentSpanId !== undefined ? { parentSpanId } : {}),
      name: 's',
      startTimeUnixNano: '1700000000000000000',
      endTimeUnixNano: '1700000000001000000',
    })
    const body = {
      resourceSpans: [
        {
          scopeSpans: [
            {
              spans: [
                span('4bf92f3577b34da6a3ce929d0e0e4736', '00f067aa0ba902b7'),
                span('00000000000000000000000000000000', '00f067aa0ba902b8'),
                span('4bf92f3577b34da6a3ce929d0e0e4736', 'xyz'),
                span('4bf92f3577b34da6a3ce929d0e0e4736', '00f067aa0ba902b9', '12'),
              ],
            },
          ],
        },
      ],
    }
    const res = await post(`${collector.url}/v1/traces`, JSON.stringify(body), JSON_HEADERS)
    expect(res.status).toBe(200)
    expect(JSON.parse(res.body.toString())).toEqual({
      partialSuccess: { rejectedSpans: '3', errorMessage: 'traceId must be 16 bytes, not all zero' },
    })
    expect(collector.spans().map((s) => s.spanId)).toEqual(['00f067aa0ba902b7'])
  })

  it('refuses a body over 10 MB with 413', async () => {
    const res = await post(`${collector.url}/v1/traces`, 'x'.repeat(MAX_BODY_BYTES + 1), JSON_HEADERS)
    expect(res.status).toBe(413)
  })

  it('answers 415 for another content type and 405 for GET', async () => {
    expect((await post(`${collector.url}/v1/traces`, '{}', { 'content-type': 'text/plain' })).status).toBe(
      415,
    )
    expect((await fetch(`${collector.url}/v1/traces`)).status).toBe(405)
  })

  it('answers 415 for an unknown content encoding', async () => {
    const res = await post(`${collector.url}/v1/traces`, '{}', {
      ...JSON_HEADERS,
      'content-encoding': 'snappy',
    })
    expect(res.status).toBe(415)
  })

  it("also listens on LangSmith's OTLP path /otel/v1/traces", async () => {
    const t = threeServiceTrace()
    const res = await post(
      `${collector.url}/otel/v1/traces`,
      JsonTraceSerializer.serializeRequest(t.spans)!,
      JSON_HEADERS,
    )
    expect(res.status).toBe(200)
    expect(collector.spans()).toHaveLength(4)
  })

  it('answers CORS preflights so browser OTLP exporters can post', async () => {
    const res = await fetch(`${collector.url}/v1/traces`, {
      method: 'OPTIONS',
      headers: { origin: 'http://localhost:5173', 'access-control-request-headers': 'content-type' },
    })
    expect(res.status).toBe(204)
    expect(res.headers.get('access-control-allow-origin')).toBe('http://localhost:5173') // a loopback page; others: origins.test.ts
    expect(res.headers.get('access-control-allow-headers')).toBe('content-type')
  })
})

describe('OTLP/HTTP protobuf', () => {
  it('turns the SDK ProtobufTraceSerializer body into collected spans and answers an empty response', async () => {
    const t = threeServiceTrace()
    const res = await post(
      `${collector.url}/v1/traces`,
      ProtobufTraceSerializer.serializeRequest(t.spans)!,
      PROTO_HEADERS,
    )
    expect(res.status).toBe(200)
    expect(res.type).toBe('application/x-protobuf')
    expect(res.body.byteLength).toBe(0) // an ExportTraceServiceResponse with no fields
    expectThreeServiceTrace(collector.spans(), t)
  })

  it('accepts gzip Content-Encoding', async () => {
    const t = threeServiceTrace()
    const body = gzipSync(ProtobufTraceSerializer.serializeRequest(t.spans)!)
    const res = await post(`${collector.url}/v1/traces`, body, {
      ...PROTO_HEADERS,
      'content-encoding': 'gzip',
    })
    expect(res.status).toBe(200)
    expectThreeServiceTrace(collector.spans(), t)
  })

  it('answers 400 with a protobuf google.rpc.Status for garbage', async () => {
    const res = await post(
      `${collector.url}/v1/traces`,
      new Uint8Array([0x0a, 0xff, 0xff, 0xff]),
      PROTO_HEADERS,
    )
    expect(res.status).toBe(400)
    expect(res.type).toBe('application/x-protobuf')
    const status = StatusType.toObject(StatusType.decode(res.body)) as { code: number; message: string }
    expect(status.code).toBe(3)
    expect(status.message).toContain('protobuf')
  })

  it('reports rejected spans in a protobuf partial_success', async () => {
    const bad = ProtobufTraceSerializer.serializeRequest(threeServiceTrace().spans.slice(0, 1))!
    // Overwrite the root span's 16-byte trace id with zeros: field 1 (0x0a), length 16 (0x10).
    const bytes = Buffer.from(bad)
    const traceIdAt = bytes.indexOf(Buffer.from([0x0a, 0x10])) + 2
    bytes.fill(0, traceIdAt, traceIdAt + 16)
    const res = await post(`${collector.url}/v1/traces`, bytes, PROTO_HEADERS)
    expect(res.status).toBe(200)
    const response = ResponseType.toObject(ResponseType.decode(res.body), { longs: Number }) as {
      partialSuccess?: { rejectedSpans: number; errorMessage: string }
    }
    expect(response.partialSuccess).toEqual({
      rejectedSpans: 1,
      errorMessage: 'traceId must be 16 bytes, not all zero',
    })
  })

  it('decodes to the same spans as the JSON encoding of the same SDK spans', () => {
    const t = threeServiceTrace()
    const fromProto = decodeOtlpProtobuf(ProtobufTraceSerializer.serializeRequest(t.spans)!)!
    const fromJson = decodeOtlpJson(new TextDecoder().decode(JsonTraceSerializer.serializeRequest(t.spans)!))!
    expect(fromProto.rejected).toBe(0)
    expect(fromProto.spans).toEqual(fromJson.spans)
  })
})

describe('decoders never throw', () => {
  it('decodeOtlpJson returns a result or undefined for any text', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string(),
          fc.json(),
          fc.jsonValue().map((v) => JSON.stringify({ resourceSpans: v })),
        ),
        (s) => {
          const r = decodeOtlpJson(s)
          expect(r === undefined || Array.isArray(r.spans)).toBe(true)
        },
      ),
      { numRuns: 500 },
    )
  })

  it('decodeOtlpJson survives any shape nested inside a span', () => {
    fc.assert(
      fc.property(
        fc.dictionary(
          fc.constantFrom(
            'traceId',
            'spanId',
            'parentSpanId',
            'name',
            'kind',
            'startTimeUnixNano',
            'endTimeUnixNano',
            'attributes',
            'events',
            'links',
            'status',
          ),
          fc.jsonValue(),
        ),
        (span) => {
          const r = decodeOtlpJson(JSON.stringify({ resourceSpans: [{ scopeSpans: [{ spans: [span] }] }] }))
          expect(r).toBeDefined()
          expect(r!.spans.length + r!.rejected).toBe(1)
        },
      ),
      { numRuns: 500 },
    )
  })

  it('decodeOtlpProtobuf returns a result or undefined for any bytes', () => {
    const valid = ProtobufTraceSerializer.serializeRequest(threeServiceTrace().spans)!
    fc.assert(
      fc.property(
        fc.oneof(
          fc.uint8Array({ maxLength: 300 }),
          // Valid bytes with a few flipped: mostly still parseable, sometimes not.
          fc
            .array(fc.tuple(fc.nat(valid.length - 1), fc.integer({ min: 0, max: 255 })), { maxLength: 4 })
            .map((flips) => {
              const b = Uint8Array.from(valid)
              for (const [i, v] of flips) b[i] = v
              return b
            }),
        ),
        (bytes) => {
          const r = decodeOtlpProtobuf(bytes)
          expect(r === undefined || Array.isArray(r.spans)).toBe(true)
        },
      ),
      { numRuns: 500 },
    )
  })
})
