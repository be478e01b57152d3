/**
 * The orchestrator hop of the demo: a Vercel Edge handler (`withTrace`) that runs the agent
 * loop and answers as JSON, or as a token stream (SSE) whose span lasts until the last
 * token. Everything it needs from outside comes from config (env in the demo).
 */
import { traceOf, withTrace } from '../../adapters/vercel/index.js'
import { langsmith } from '../../src/export/langsmith-exporter.js'
import { otlp } from '../../src/export/otlp-exporter.js'
import { type Exporter, TracehopError, type Tracer, type TracerConfig } from '../../src/index.js'
import { type AgentRunOptions, runAgent } from './agent.js'
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
  /** Head-sampling ratio in [0, 1]; default 1 (every trace). Errors are always kept. */
  readonly samplingRatio?: number
  /**
   * Accept `failAt` in the request body (default false). Off in production: a failure is
   * always kept, so a caller who may ask for one may also force its trace to be exported.
   */
  readonly faultInjection?: boolean
  /** Simulated generation time of the stub model per call (ms). */
  readonly modelLatencyMs?: number
  /** Another model with the stub's shape (a real provider adapter). */
  readonly model?: ChatModel
}

/** Per-route options of {@link createOrchestrator}. */
export interface OrchestratorOptions {
  /** The route it serves, naming the server span (`POST /api/agent`). Default {@link AGENT_ROUTE}. */
  readonly route?: string
  /** A tracer to share between the routes of one isolate; default: one from `tracerConfig(config)`. */
  readonly tracer?: Tracer
}

/** The Next.js App Router route (`app/api/agent/route.ts`, see route.ts). */
export const AGENT_ROUTE = '/api/agent'
/** Where the gateway example (examples/gateway-worker) forwards its `POST /chat`. */
export const CHAT_ROUTE = '/chat'

type Env = Readonly<Record<string, string | undefined>>

/**
 * `SAMPLING_RATIO` as a number; unset or empty: 1 (tracehop's default, every trace).
 * `Number('')` would be 0 (trace nothing), hence the explicit check.
 */
function samplingRatio(value: string | undefined): number {
  if (value === undefined || value.trim() === '') return 1
  const ratio = Number(value)
  if (!(ratio >= 0 && ratio <= 1)) {
    throw new TracehopError(`SAMPLING_RATIO must be a number within [0, 1], got ${JSON.stringify(value)}`)
  }
  return ratio
}

/**
 * Reads the orchestrator's config from environment variables: `RETRIEVAL_URL`,
 * `ENQUEUE_URL` (required), `OTLP_URL`, `OTLP_ENCODING`, `LANGSMITH_ENDPOINT`,
 * `LANGSMITH_API_KEY`, `LANGSMITH_PROJECT`, `SAMPLING_RATIO` (default 1),
 * `FAULT_INJECTION` (`1` or `true` to accept `failAt`), `MODEL_LATENCY_MS`.
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
    samplingRatio: samplingRatio(env['SAMPLING_RATIO']),
    ...(env['FAULT_INJECTION'] === '1' || env['FAULT_INJECTION'] === 'true' ? { faultInjection: true } : {}),
    ...(env['MODEL_LATENCY_MS'] ? { modelLatencyMs: Number(env['MODEL_LATENCY_MS']) } : {}),
  }
}

/**
 * The tracer configuration of the orchestrator: tools' origins may receive the trace.
 * LangSmith runs go to `langsmithUrl` when set, else to the hosted API when only the key is.
 *
 * @example
 * const tracer = createTracer(tracerConfig(configFromEnv(process.env)))
 */
export function tracerConfig(config: OrchestratorConfig): TracerConfig {
  const exporters: Exporter[] = []
  if (config.otlpUrl) exporters.push(otlp({ url: config.otlpUrl, encoding: config.otlpEncoding ?? 'json' }))
  if (config.langsmithUrl || config.langsmithApiKey) {
    exporters.push(
      langsmith({
        ...(config.langsmithUrl ? { apiUrl: config.langsmithUrl } : {}),
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

/** What the request body asks for, or why it cannot be answered (400). */
function readBody(
  body: unknown,
  faultInjection: boolean,
): { question: string; stream: boolean; run: AgentRunOptions } | { error: string } {
  if (body === null || typeof body !== 'object') return { error: 'body must be JSON: { "question": "…" }' }
  const b = body as { question?: unknown; stream?: unknown; failAt?: unknown }
  if (typeof b.question !== 'string' || b.question === '') return { error: 'question is required' }
  if (b.failAt !== undefined) {
    if (!faultInjection)
      return { error: 'failAt is accepted only with FAULT_INJECTION=1 on the orchestrator' }
    if (b.failAt !== 'retrieval') return { error: 'failAt must be "retrieval"' }
  }
  return {
    question: b.question,
    stream: b.stream === true,
    run: b.failAt === 'retrieval' ? { failAt: 'retrieval' } : {},
  }
}

/**
 * The orchestrator's handler, `(request, context?) => Response`, for `export const POST`
 * in an App Router route, a Vercel Edge Function, or edge-runtime's fetch event. Body:
 * `{ "question": "…" }`; `accept: text/event-stream` (or `"stream": true`) streams the
 * answer. With `faultInjection` on, `"failAt": "retrieval"` makes the retrieval tool fail
 * (the agent then fails and the platform answers 500; the trace keeps the error).
 *
 * @example
 * export const runtime = 'edge'
 * export const POST = createOrchestrator(configFromEnv(process.env))
 */
export function createOrchestrator(
  config: OrchestratorConfig,
  options: OrchestratorOptions = {},
): (request: Request, context?: { waitUntil(promise: Promise<unknown>): void }) => Promise<Response> {
  const model = config.model ?? createStubModel({ latencyMs: config.modelLatencyMs ?? 25 })
  const tools = { retrievalUrl: config.retrievalUrl, enqueueUrl: config.enqueueUrl }
  const faultInjection = config.faultInjection === true
  return withTrace(
    async function orchestrate(request: Request, _context?: { waitUntil(promise: Promise<unknown>): void }) {
      const span = traceOf(request)
      let json: unknown
      try {
        json = await request.json()
      } catch {
        json = undefined
      }
      const read = readBody(json, faultInjection)
      if ('error' in read) return Response.json({ error: read.error }, { status: 400 })
      const result = await runAgent(span, read.question, model, tools, read.run)
      const stream = read.stream || (request.headers.get('accept') ?? '').includes('text/event-stream')
      if (stream) {
        return new Response(sseAnswer(result.answer, 5), {
          headers: { 'content-type': 'text/event-stream', 'x-trace-id': span.traceId },
        })
      }
      return Response.json({ ...result, traceId: span.traceId }, { headers: { 'x-trace-id': span.traceId } })
    },
    options.tracer ?? tracerConfig(config),
    { route: options.route ?? AGENT_ROUTE, runType: 'chain' },
  )
}
