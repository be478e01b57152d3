/**
 * The orchestrator hop of the demo: a Vercel Edge handler (`withTrace`) that runs the agent
 * loop and answers as JSON, or as a token stream (SSE) whose span lasts until the last
 * token. Everything it needs from outside comes from config (env in the demo).
 */
import { traceOf, withTrace } from '../../adapters/vercel/index.js'
import { createLangSmithExporter } from '../../src/export/langsmith-exporter.js'
import { createOtlpExporter } from '../../src/export/otlp-exporter.js'
import type { Exporter, TracerConfig } from '../../src/index.js'
import { runAgent } from './agent.js'
import { type ChatModel, createStubModel } from './stub-model.js'

export interface OrchestratorConfig {
  /** The retrieval tool's endpoint (receives the trace headers). */
  readonly retrievalUrl: string
  /** The enqueue tool's endpoint (receives the trace headers). */
  readonly enqueueUrl: string
  /** OTLP/HTTP traces URL, e.g. the dev collector's `http://127.0.0.1:4318/v1/traces`. */
  readonly otlpUrl?: string
  readonly otlpEncoding?: 'json' | 'protobuf'
  /** LangSmith API (or a local receiver) for the LangSmith-native exporter. */
  readonly langsmithUrl?: string
  readonly langsmithApiKey?: string
  readonly langsmithProject?: string
  readonly service?: string
  readonly samplingRatio?: number
  /** Simulated generation time of the stub model per call (ms). */
  readonly modelLatencyMs?: number
  /** Another model with the stub's shape (a real provider adapter). */
  readonly model?: ChatModel
}

type Env = Readonly<Record<string, string | undefined>>

/**
 * Reads the orchestrator's config from environment variables: `RETRIEVAL_URL`,
 * `ENQUEUE_URL` (required), `OTLP_URL`, `OTLP_ENCODING`, `LANGSMITH_ENDPOINT`,
 * `LANGSMITH_API_KEY`, `LANGSMITH_PROJECT`, `SAMPLING_RATIO`, `MODEL_LATENCY_MS`.
 *
 * @example
 * const config = configFromEnv(process.env)
 */
export function configFromEnv(env: Env): OrchestratorConfig {
  const retrievalUrl = env['RETRIEVAL_URL']
  const enqueueUrl = env['ENQUEUE_URL']
  if (!retrievalUrl || !enqueueUrl) {
    throw new Error('orchestrator-edge: set RETRIEVAL_URL and ENQUEUE_URL (the two tools the agent calls)')
  }
  const encoding = env['OTLP_ENCODING']
  return {
    retrievalUrl,
    enqueueUrl,
    ...(env['OTLP_URL'] ? { otlpUrl: env['OTLP_URL'] } : {}),
    ...(encoding === 'json' || encoding === 'protobuf' ? { otlpEncoding: encoding } : {}),
    ...(env['LANGSMITH_ENDPOINT'] ? { langsmithUrl: env['LANGSMITH_ENDPOINT'] } : {}),
    ...(env['LANGSMITH_API_KEY'] ? { langsmithApiKey: env['LANGSMITH_API_KEY'] } : {}),
    ...(env['LANGSMITH_PROJECT'] ? { langsmithProject: env['LANGSMITH_PROJECT'] } : {}),
    ...(env['SAMPLING_RATIO'] ? { samplingRatio: Number(env['SAMPLING_RATIO']) } : {}),
    ...(env['MODEL_LATENCY_MS'] ? { modelLatencyMs: Number(env['MODEL_LATENCY_MS']) } : {}),
  }
}

/** The tracer configuration of the orchestrator: tools' origins may receive the trace. */
export function tracerConfig(config: OrchestratorConfig): TracerConfig {
  const exporters: Exporter[] = []
  if (config.otlpUrl)
    exporters.push(createOtlpExporter({ url: config.otlpUrl, encoding: config.otlpEncoding ?? 'json' }))
  if (config.langsmithUrl) {
    exporters.push(
      createLangSmithExporter({
        apiUrl: config.langsmithUrl,
        ...(config.langsmithApiKey ? { apiKey: config.langsmithApiKey } : {}),
        ...(config.langsmithProject ? { project: config.langsmithProject } : {}),
      }),
    )
  }
  return {
    service: config.service ?? 'orchestrator',
    sampling: { ratio: config.samplingRatio ?? 1, keepErrors: true },
    propagation: { allow: [new URL(config.retrievalUrl).origin, new URL(config.enqueueUrl).origin] },
    exporters,
  }
}

const encoder = new TextEncoder()

/** The answer as Server-Sent Events, one word per event (a stand-in for a token stream). */
function sseAnswer(answer: string, delayMs: number): ReadableStream<Uint8Array> {
  const words = answer.split(' ')
  let i = 0
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (i === words.length) {
        controller.enqueue(encoder.encode('event: done\ndata: {}\n\n'))
        controller.close()
        return
      }
      if (delayMs > 0) await new Promise((r) => setTimeout(r, delayMs))
      controller.enqueue(encoder.encode(`data: ${JSON.stringify(words[i++])}\n\n`))
    },
  })
}

/**
 * The orchestrator's handler, `(request, context?) => Response`, for `export const POST`
 * in an App Router route, a Vercel Edge Function, or edge-runtime's fetch event. Body:
 * `{ "question": "…" }`; `accept: text/event-stream` (or `"stream": true`) streams the
 * answer.
 *
 * @example
 * export const runtime = 'edge'
 * export const POST = createOrchestrator(configFromEnv(process.env))
 */
export function createOrchestrator(
  config: OrchestratorConfig,
): (request: Request, context?: { waitUntil(promise: Promise<unknown>): void }) => Promise<Response> {
  const model = config.model ?? createStubModel({ latencyMs: config.modelLatencyMs ?? 25 })
  const tools = { retrievalUrl: config.retrievalUrl, enqueueUrl: config.enqueueUrl }
  return withTrace(
    async function orchestrate(request: Request, _context?: { waitUntil(promise: Promise<unknown>): void }) {
      const span = traceOf(request)
      let body: { question?: unknown; stream?: unknown }
      try {
        body = (await request.json()) as typeof body
      } catch {
        return Response.json({ error: 'body must be JSON: { "question": "…" }' }, { status: 400 })
      }
      const question = typeof body.question === 'string' ? body.question : ''
      if (question === '') return Response.json({ error: 'question is required' }, { status: 400 })
      const result = await runAgent(span, question, model, tools)
      const stream =
        body.stream === true || (request.headers.get('accept') ?? '').includes('text/event-stream')
      if (stream) {
        return new Response(sseAnswer(result.answer, 5), {
          headers: { 'content-type': 'text/event-stream', 'x-trace-id': span.traceId },
        })
      }
      return Response.json({ ...result, traceId: span.traceId }, { headers: { 'x-trace-id': span.traceId } })
    },
    tracerConfig(config),
    { route: '/api/agent', runType: 'chain' },
  )
}
