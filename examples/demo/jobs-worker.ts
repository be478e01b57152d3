/**
 * The demo's queue hop: a Cloudflare Worker that takes the orchestrator's `enqueue` tool call
 * (`POST /` with `{ "task": "…" }`), puts the job on a Cloudflare Queue, and consumes it in
 * the same Worker. The trace crosses the queue: the producer sends through
 * `traced(env.JOBS, span)` (the context rides in an envelope around the body), and the
 * consumer, wrapped by `instrument({ queue })`, gives each message a `process jobs` span
 * parented to its `send jobs` producer span, in the producer's trace.
 *
 * Bindings (see examples/demo/wrangler.jobs.toml):
 * - `JOBS` (Queue producer, and this Worker is its consumer).
 * - `OTLP_URL` (var): OTLP/HTTP traces endpoint (protobuf), e.g. the dev collector.
 * - `LANGSMITH_ENDPOINT` (var, optional): also send LangSmith runs there (`LANGSMITH_API_KEY`).
 * - `SAMPLING_RATIO` (var, default 1): head-sampling ratio; errors are always kept.
 * - `INDEX_LATENCY_MS` (var, default 20): simulated indexing work per job.
 *
 * `GET /__tracehop/stats` answers this isolate's tracer counters (`[tracer.stats()]`), outside
 * the instrumented handler so that reading them adds nothing to them.
 */
import {
  type ExecutionContextLike,
  instrument,
  type MessageBatchLike,
  type QueueLike,
  traced,
  traceOf,
} from '../../adapters/cloudflare/index.js'
import { type Exporter, langsmith, otlp, type Tracer, type TracerStats } from '../../src/index.js'

/** A job on the queue (the user's body; the envelope around it is tracehop's). */
export interface Job {
  readonly id: string
  readonly task: string
}

export interface Env {
  readonly JOBS: QueueLike<Job>
  readonly OTLP_URL: string
  readonly LANGSMITH_ENDPOINT?: string
  readonly LANGSMITH_API_KEY?: string
  readonly LANGSMITH_PROJECT?: string
  readonly SAMPLING_RATIO?: string
  readonly INDEX_LATENCY_MS?: string
}

// The counters endpoint. (A Worker module exports handlers only: workerd rejects other values.)
const STATS_PATH = '/__tracehop/stats'

// The tracers this isolate's handlers ran with (one per env object; in practice one). Only
// read by the stats endpoint; no per-request state.
const tracers = new Set<Tracer>()

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}

async function enqueue(request: Request, env: Env, ctx: ExecutionContextLike): Promise<Response> {
  const span = traceOf(ctx)
  tracers.add(span.scope.tracer)
  if (request.method !== 'POST') return new Response('POST a job: { "task": "…" }', { status: 405 })
  let body: { task?: unknown }
  try {
    body = (await request.json()) as typeof body
  } catch {
    return Response.json({ error: 'body must be JSON: { "task": "…" }' }, { status: 400 })
  }
  if (typeof body.task !== 'string' || body.task === '') {
    return Response.json({ error: 'task is required' }, { status: 400 })
  }
  const job: Job = { id: crypto.randomUUID().slice(0, 8), task: body.task.slice(0, 200) }
  span.set('job.id', job.id)
  // A PRODUCER span `send jobs`; the consumer's process span becomes its child.
  await traced(env.JOBS, span, { name: 'jobs' }).send(job)
  return Response.json({ queued: job.id }, { status: 202 })
}

async function consume(batch: MessageBatchLike<Job>, env: Env, ctx: ExecutionContextLike): Promise<void> {
  tracers.add(traceOf(ctx).scope.tracer)
  const latency = Number(env.INDEX_LATENCY_MS ?? '20')
  for (const message of batch.messages) {
    // `message.body` is the job as sent: the envelope was unwrapped by instrument().
    await traceOf(message).child('index document', { runType: 'tool' }, async (span) => {
      span.set({ 'job.id': message.body.id, 'job.task': message.body.task })
      await sleep(latency)
    })
    message.ack()
  }
}

function exportersOf(env: Env): Exporter[] {
  // Both views at once: OTLP (protobuf) and LangSmith runs.
  const exporters: Exporter[] = [otlp({ url: env.OTLP_URL, encoding: 'protobuf' })]
  if (env.LANGSMITH_ENDPOINT) {
    exporters.push(
      langsmith({
        apiUrl: env.LANGSMITH_ENDPOINT,
        ...(env.LANGSMITH_API_KEY ? { apiKey: env.LANGSMITH_API_KEY } : {}),
        ...(env.LANGSMITH_PROJECT ? { project: env.LANGSMITH_PROJECT } : {}),
      }),
    )
  }
  return exporters
}

const handler = instrument<{ fetch: typeof enqueue; queue: typeof consume }, Env>(
  { fetch: enqueue, queue: consume },
  (env) => ({
    service: 'jobs',
    sampling: { ratio: Number(env.SAMPLING_RATIO ?? '1'), keepErrors: true },
    exporters: exportersOf(env),
    route: (request: Request) => (new URL(request.url).pathname === '/jobs' ? '/jobs' : undefined),
  }),
)

export default {
  fetch(request: Request, env: Env, ctx: ExecutionContextLike): Response | Promise<Response> {
    if (new URL(request.url).pathname === STATS_PATH) {
      const stats: TracerStats[] = []
      for (const t of tracers) stats.push(t.stats())
      return Response.json(stats)
    }
    return handler.fetch(request, env, ctx)
  },
  queue(batch: MessageBatchLike<Job>, env: Env, ctx: ExecutionContextLike): Promise<void> {
    return handler.queue(batch, env, ctx)
  },
}
