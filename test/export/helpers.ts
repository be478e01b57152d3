// Shared by the exporter tests: SpanRecord builders that keep each time as exact µs, for
// test/support/readable-span.ts to build the OpenTelemetry SDK's view of the same spans.
import { hexToUuid, newRunIdentity, randomSpanId, uuidv7Hex } from '../../src/ids.js'
import type { Attributes, ExportBatch, SpanRecord } from '../../src/span-record.js'
import type { Recorded } from '../support/http-receiver.js'
import type { TimedRecord } from '../support/readable-span.js'

/** `YYYYMMDDTHHMMSSffffffZ<uuid>` for a time given in whole µs. */
export function dottedSegment(us: number, runId: string): string {
  const iso = new Date(Math.floor(us / 1000)).toISOString() // 2024-05-31T10:01:00.540Z
  const digits = iso.slice(0, 19).replace(/[-:]/g, '')
  return `${digits}${String(us % 1_000_000).padStart(6, '0')}Z${runId}`
}

export interface SpanSpec {
  readonly name?: string
  /** Whole µs since the epoch (ms = us / 1000 in the record). */
  readonly startUs?: number
  readonly durationUs?: number
  readonly attributes?: Attributes
  readonly kind?: SpanRecord['kind']
  readonly status?: SpanRecord['status']
  readonly events?: { name: string; us: number; attributes?: Attributes }[]
  readonly links?: SpanRecord['links']
  readonly traceState?: string
  readonly flags?: number
  readonly remoteParent?: boolean
  readonly dropped?: [number, number, number]
  readonly langsmithProject?: string
  readonly langsmithTags?: readonly string[]
  readonly langsmithMetadata?: Readonly<Record<string, unknown>>
}

export type Built = TimedRecord

const BASE_US = 1_764_100_000_000_123

/** A root span that starts a trace: its run id is the trace id (as the core mints it). */
export function rootSpan(spec: SpanSpec = {}): Built {
  const startUs = spec.startUs ?? BASE_US
  const traceHex = uuidv7Hex(startUs / 1000)
  const runId = hexToUuid(traceHex)
  return build(spec, startUs, {
    traceId: traceHex,
    spanId: traceHex.slice(16),
    runId,
    runTraceId: runId,
    dottedOrder: dottedSegment(startUs, runId),
  })
}

/** A child of `parent` (same trace), starting `afterUs` after it. */
export function childSpan(parent: Built, spec: SpanSpec = {}, afterUs = 1_000): Built {
  const startUs = spec.startUs ?? parent.startUs + afterUs
  const id = newRunIdentity(startUs / 1000)
  return build(spec, startUs, {
    traceId: parent.record.traceId,
    spanId: id.spanId,
    parentSpanId: parent.record.spanId,
    runId: id.runId,
    runTraceId: parent.record.runTraceId,
    parentRunId: parent.record.runId,
    dottedOrder: `${parent.record.dottedOrder}.${dottedSegment(startUs, id.runId)}`,
  })
}

function build(
  spec: SpanSpec,
  startUs: number,
  identity: Pick<SpanRecord, 'traceId' | 'spanId' | 'runId' | 'runTraceId' | 'dottedOrder'> &
    Partial<Pick<SpanRecord, 'parentSpanId' | 'parentRunId'>>,
): Built {
  const endUs = startUs + (spec.durationUs ?? 12_345)
  const events = spec.events ?? []
  const record: SpanRecord = {
    ...identity,
    name: spec.name ?? 'span',
    kind: spec.kind ?? 0,
    startTime: startUs / 1000,
    endTime: endUs / 1000,
    attributes: spec.attributes ?? {},
    events: events.map((e) => ({
      name: e.name,
      time: e.us / 1000,
      ...(e.attributes ? { attributes: e.attributes } : {}),
    })),
    links: spec.links ?? [],
    status: spec.status ?? { code: 0 },
    ...(spec.traceState ? { traceState: spec.traceState } : {}),
    flags: spec.flags ?? 1,
    droppedAttributes: spec.dropped?.[0] ?? 0,
    droppedEvents: spec.dropped?.[1] ?? 0,
    droppedLinks: spec.dropped?.[2] ?? 0,
    remoteParent: spec.remoteParent ?? false,
    ...(spec.langsmithProject ? { langsmithProject: spec.langsmithProject } : {}),
    ...(spec.langsmithTags ? { langsmithTags: spec.langsmithTags } : {}),
    ...(spec.langsmithMetadata ? { langsmithMetadata: spec.langsmithMetadata } : {}),
  }
  return { record, startUs, endUs, eventsUs: events.map((e) => e.us) }
}

export function batchOf(
  spans: readonly SpanRecord[],
  attributes: Attributes = { 'service.name': 'svc' },
): ExportBatch {
  return { resource: { attributes }, scopeName: 'tracehop', scopeVersion: '0.1.0', spans }
}

/** A realistic server span with a few events, as the bench and tests use. */
export function realisticTrace(count: number, startUs = BASE_US): Built[] {
  const root = rootSpan({
    name: 'POST /v1/chat',
    kind: 1,
    startUs,
    durationUs: 250_000,
    attributes: {
      'http.request.method': 'POST',
      'url.path': '/v1/chat',
      'http.response.status_code': 200,
      'server.address': 'api.example.com',
      'user_agent.original': 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36',
    },
    traceState: 'ot=th:f;rv:0a1b2c3d4e5f60,vendor=x',
  })
  const out = [root]
  for (let i = 1; i < count; i++) {
    const llm = i % 3 === 0
    out.push(
      childSpan(
        root,
        {
          name: llm ? 'chat gpt-4o' : `fetch ${i}`,
          kind: 2,
          durationUs: 1_000 + i * 37,
          attributes: llm
            ? {
                'gen_ai.operation.name': 'chat',
                'gen_ai.request.model': 'gpt-4o',
                'gen_ai.usage.input_tokens': 812 + i,
                'gen_ai.usage.output_tokens': 120,
                'gen_ai.request.temperature': 0.2,
                'gen_ai.response.finish_reasons': ['stop'],
              }
            : {
                'http.request.method': 'GET',
                'url.full': `https://retrieval.internal/q?id=${i}`,
                'http.response.status_code': 200,
                'server.port': 443,
                'retrieval.cached': i % 2 === 0,
              },
          events:
            i % 4 === 0
              ? [
                  { name: 'retry', us: startUs + i * 10 + 5, attributes: { 'http.request.resend_count': 1 } },
                  { name: 'first-byte', us: startUs + i * 10 + 9 },
                ]
              : [],
          status: i % 10 === 0 ? { code: 2, message: 'upstream 503' } : { code: 1 },
          links: i % 25 === 0 ? [{ traceId: root.record.traceId, spanId: randomSpanId(), flags: 1 }] : [],
        },
        i * 10,
      ),
    )
  }
  return out
}

export interface Part {
  readonly name: string
  readonly contentType: string
  readonly body: string
}

/** A small multipart/form-data reader that keeps each part's own Content-Type. */
export function parseMultipart(req: Recorded): Part[] {
  const boundary = String(req.headers['content-type']).split('boundary=')[1]!
  const parts: Part[] = []
  for (const chunk of req.body.toString('utf8').split(`--${boundary}`).slice(1)) {
    if (chunk.startsWith('--')) break
    const split = chunk.indexOf('\r\n\r\n')
    const head = chunk.slice(2, split)
    const body = chunk.slice(split + 4, chunk.length - 2) // drop the CRLF before the next boundary
    const headers = new Map(
      head
        .split('\r\n')
        .map((l) => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).trim()]),
    )
    parts.push({
      name: /name="([^"]+)"/.exec(headers.get('content-disposition') ?? '')![1]!,
      contentType: headers.get('content-type') ?? '',
      body,
    })
  }
  return parts
}
