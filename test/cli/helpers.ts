// Shared by the collector tests: a three-service trace made by the real OpenTelemetry SDK
// (the reference producer), and a small HTTP client.
import { context, type Span, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api'
import { resourceFromAttributes } from '@opentelemetry/resources'
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  type ReadableSpan,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base'

export const T0 = 1_700_000_000_000 // ms since epoch

export interface Sdk {
  readonly exporter: InMemorySpanExporter
  readonly tracer: ReturnType<BasicTracerProvider['getTracer']>
}

/** One SDK per service: its own resource, as three processes would have. */
export function sdkFor(service: string): Sdk {
  const exporter = new InMemorySpanExporter()
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': service, 'deployment.environment': 'dev' }),
    spanProcessors: [new SimpleSpanProcessor(exporter)],
  })
  return { exporter, tracer: provider.getTracer('tracehop-test', '1.2.3') }
}

function child(sdk: Sdk, parent: Span, name: string, kind: SpanKind, start: number): Span {
  return sdk.tracer.startSpan(name, { kind, startTime: start }, trace.setSpan(context.active(), parent))
}

export interface ThreeServiceTrace {
  readonly spans: ReadableSpan[]
  readonly traceId: string
  readonly ids: { root: string; agent: string; llm: string; search: string }
}

/**
 * gateway `POST /chat` (server, 0–1240 ms)
 *   orchestrator `agent.run` (server, 20–1200 ms; events, a link, typed attributes)
 *     orchestrator `llm.chat` (client, 40–640 ms)
 *     retrieval `search` (server, 700–1000 ms, status ERROR "index timeout")
 */
export function threeServiceTrace(): ThreeServiceTrace {
  const gateway = sdkFor('gateway')
  const orchestrator = sdkFor('orchestrator')
  const retrieval = sdkFor('retrieval')
  const root = gateway.tracer.startSpan('POST /chat', {
    kind: SpanKind.SERVER,
    startTime: T0,
    attributes: { 'http.request.method': 'POST', 'http.response.status_code': 200 },
  })
  const agent = child(orchestrator, root, 'agent.run', SpanKind.SERVER, T0 + 20)
  agent.setAttributes({
    'gen_ai.agent.name': 'planner',
    'app.ratio': 0.25,
    'app.retries': 3,
    'app.cached': false,
    'app.tags': ['a', 'b'],
  })
  agent.addLink({ context: { traceId: 'ab'.repeat(16), spanId: 'cd'.repeat(8), traceFlags: 1 } })
  agent.addEvent('plan.ready', { 'plan.steps': 2 }, T0 + 30.5)
  const llm = child(orchestrator, agent, 'llm.chat', SpanKind.CLIENT, T0 + 40)
  llm.setAttribute('gen_ai.request.model', 'stub-1')
  llm.end(T0 + 640)
  const search = child(retrieval, agent, 'search', SpanKind.SERVER, T0 + 700)
  search.setStatus({ code: SpanStatusCode.ERROR, message: 'index timeout' })
  search.end(T0 + 1000)
  agent.end(T0 + 1200)
  root.end(T0 + 1240)
  const spans = [
    ...gateway.exporter.getFinishedSpans(),
    ...orchestrator.exporter.getFinishedSpans(),
    ...retrieval.exporter.getFinishedSpans(),
  ]
  const id = (s: Span): string => s.spanContext().spanId
  return {
    spans,
    traceId: root.spanContext().traceId,
    ids: { root: id(root), agent: id(agent), llm: id(llm), search: id(search) },
  }
}

export async function post(
  url: string,
  body: string | Uint8Array,
  headers: Record<string, string>,
  method = 'POST',
): Promise<{ status: number; type: string; body: Buffer }> {
  const res = await fetch(url, { method, headers, body: body as BodyInit })
  return {
    status: res.status,
    type: res.headers.get('content-type') ?? '',
    body: Buffer.from(await res.arrayBuffer()),
  }
}
