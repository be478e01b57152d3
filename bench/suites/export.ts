/**
 * Export encoding: one 100-span batch (a server span, HTTP client and LLM children with
 * realistic attributes, a few events, links and error statuses) as OTLP JSON and protobuf,
 * ours against @opentelemetry/otlp-transformer's serializers. Both sides get their input
 * prepared once, outside the timed loop: SpanRecords for us, ReadableSpans for them.
 */
import { JsonTraceSerializer, ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer'
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base'
import { encodeOtlpJson } from '../../src/export/otlp-json.js'
import { encodeOtlpProto } from '../../src/export/otlp-proto.js'
import { newRunIdentity, randomSpanId, randomTraceId } from '../../src/ids.js'
import type { Attributes, ExportBatch, SpanRecord } from '../../src/span-record.js'
import { type TimedRecord, toReadableSpans } from '../../test/support/readable-span.js'
import { compare, consume, note } from '../harness.js'

const T0_US = 1_764_100_000_000_123

function attributesFor(i: number): Attributes {
  if (i === 0) {
    return {
      'http.request.method': 'POST',
      'url.path': '/v1/chat',
      'http.response.status_code': 200,
      'server.address': 'api.example.com',
      'user_agent.original': 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36',
    }
  }
  if (i % 3 === 0) {
    return {
      'gen_ai.operation.name': 'chat',
      'gen_ai.request.model': 'gpt-4o',
      'gen_ai.usage.input_tokens': 812 + i,
      'gen_ai.usage.output_tokens': 120,
      'gen_ai.request.temperature': 0.2,
      'gen_ai.response.finish_reasons': ['stop'],
    }
  }
  return {
    'http.request.method': 'GET',
    'url.full': `https://retrieval.internal/q?id=${i}`,
    'http.response.status_code': 200,
    'server.port': 443,
    'retrieval.cached': i % 2 === 0,
  }
}

interface Prepared {
  readonly batch: ExportBatch
  readonly readable: ReadableSpan[]
}

function prepare(count: number): Prepared {
  const traceId = randomTraceId()
  const rootSpanId = randomSpanId()
  const resourceAttrs = {
    'service.name': 'orchestrator',
    'service.version': '1.4.2',
    'cloud.provider': 'cloudflare',
  }
  const scope = { name: 'tracehop', version: '0.1.0' }
  const spans: SpanRecord[] = []
  const timed: TimedRecord[] = []
  for (let i = 0; i < count; i++) {
    const startUs = T0_US + i * 10
    const endUs = startUs + 1_000 + i * 37
    const spanId = i === 0 ? rootSpanId : randomSpanId()
    const attributes = attributesFor(i)
    const eventsUs = i % 4 === 0 && i > 0 ? [startUs + 5, startUs + 9] : []
    const events = eventsUs.map((us, k) => ({
      name: k === 0 ? 'retry' : 'first-byte',
      time: us / 1000,
      ...(k === 0 ? { attributes: { 'http.request.resend_count': 1 } } : {}),
    }))
    const links = i % 25 === 0 && i > 0 ? [{ traceId, spanId: randomSpanId(), flags: 1 }] : []
    const status =
      i % 10 === 0 && i > 0 ? { code: 2 as const, message: 'upstream 503' } : { code: 1 as const }
    const { runId } = newRunIdentity(startUs / 1000)
    spans.push({
      traceId,
      spanId,
      ...(i > 0 ? { parentSpanId: rootSpanId } : {}),
      name: i === 0 ? 'POST /v1/chat' : i % 3 === 0 ? 'chat gpt-4o' : `fetch ${i}`,
      kind: i === 0 ? 1 : 2,
      startTime: startUs / 1000,
      endTime: endUs / 1000,
      attributes,
      events,
      links,
      status,
      traceState: 'ot=th:f;rv:0a1b2c3d4e5f60,vendor=x',
      flags: 1,
      droppedAttributes: 0,
      droppedEvents: 0,
      droppedLinks: 0,
      runId,
      runTraceId: runId,
      dottedOrder: '',
      remoteParent: false,
    })
    timed.push({ record: spans[i]!, startUs, endUs, eventsUs })
  }
  const batch: ExportBatch = {
    resource: { attributes: resourceAttrs },
    scopeName: scope.name,
    scopeVersion: scope.version,
    spans,
  }
  return { batch, readable: toReadableSpans(timed, batch) }
}

export async function run(): Promise<void> {
  const { batch, readable } = prepare(100)
  // Both measured to the bytes on the wire: our JSON string is a rope until something
  // flattens it, and fetch would UTF-8 encode it anyway, so that is timed too.
  const utf8 = new TextEncoder()
  compare({
    name: 'OTLP JSON encode, 100-span batch',
    ours: { label: 'tracehop encodeOtlpJson (+ UTF-8)', fn: () => utf8.encode(encodeOtlpJson(batch)) },
    theirs: [
      {
        label: '@opentelemetry/otlp-transformer JsonTraceSerializer',
        fn: () => JsonTraceSerializer.serializeRequest(readable),
      },
    ],
  })
  compare({
    name: 'OTLP protobuf encode, 100-span batch',
    ours: { label: 'tracehop encodeOtlpProto', fn: () => encodeOtlpProto(batch) },
    theirs: [
      {
        label: '@opentelemetry/otlp-transformer ProtobufTraceSerializer',
        fn: () => ProtobufTraceSerializer.serializeRequest(readable),
      },
    ],
  })
  const json = new TextEncoder().encode(encodeOtlpJson(batch)).length
  const proto = encodeOtlpProto(batch).length
  const theirsJson = JsonTraceSerializer.serializeRequest(readable)?.length ?? 0
  const theirsProto = ProtobufTraceSerializer.serializeRequest(readable)?.length ?? 0
  consume(proto)
  // What `otlp({ compression: 'gzip' })` sends: the same CompressionStream path.
  const gzipJson = await gzipLength(encodeOtlpJson(batch))
  const gzipProto = await gzipLength(encodeOtlpProto(batch))
  note('OTLP body size, 100-span batch (bytes)', [
    `JSON      tracehop ${json}   otlp-transformer ${theirsJson}   tracehop gzip ${gzipJson}`,
    `protobuf  tracehop ${proto}   otlp-transformer ${theirsProto}   tracehop gzip ${gzipProto}`,
  ])
}

async function gzipLength(body: string | Uint8Array): Promise<number> {
  const stream = new Blob([body as BlobPart]).stream().pipeThrough(new CompressionStream('gzip'))
  return (await new Response(stream).arrayBuffer()).byteLength
}
