/**
 * An API gateway on Cloudflare Workers, traced with tracehop: it authenticates the caller,
 * rate-limits it, and forwards `POST /chat` to the orchestrator, continuing one trace.
 *
 * The public internet is untrusted: an incoming `traceparent` is continued but its sampled
 * flag and baggage are ignored (`ingress: 'untrusted'`), so no client can set the flag or
 * inject identity. Trace headers go only to the orchestrator (`allow`), never elsewhere.
 *
 * Bindings (see wrangler.toml at the repository root):
 * - `OTLP_URL` (var): where spans go, e.g. `http://127.0.0.1:4318/v1/traces` (`npx tracehop dev`).
 * - `ORCHESTRATOR_URL` (var): the orchestrator's origin, e.g. the demo's edge function.
 * - `ORCHESTRATOR` (optional service binding): used instead of the URL when bound.
 * - `API_TOKEN` (secret): the bearer token callers must present.
 * - `RATE_LIMIT_PER_MINUTE` (var, default 60): requests per client per minute.
 * - `RATE_LIMITER` (optional Workers Rate Limiting binding): used instead of the
 *   in-isolate counter when bound (the counter is per isolate, so only approximate).
 * - `SAMPLING_RATIO` (var, default 1): head-sampling ratio in [0, 1]. The gateway starts (or,
 *   from untrusted callers, re-decides) every trace, so its ratio is the whole trace's: the
 *   services behind it follow its decision. Errors are always kept, whatever the ratio.
 *   Unset means 1, tracehop's own default: every trace, right for development and low
 *   traffic; lower it in production.
 * - `LANGSMITH_ENDPOINT` (optional var): also send LangSmith runs there (a self-hosted
 *   LangSmith, or `npx tracehop dev`, which accepts runs too).
 * - `LANGSMITH_API_KEY` (optional secret): its key; set alone, runs go to the hosted API.
 * - `LANGSMITH_PROJECT` (optional var): project for traces that bring none in their baggage.
 *
 * A bad `SAMPLING_RATIO` is a configuration error: the first request throws, naming the var.
 *
 * In your own project, import from 'tracehop' and 'tracehop/cloudflare'.
 */

import { instrument, traced, traceOf, type WorkerTracerConfig } from '../../adapters/cloudflare/index.js'
import { type Exporter, langsmith, otlp, type Span, TracehopError } from '../../src/index.js'

export interface Env {
  OTLP_URL: string
  ORCHESTRATOR_URL?: string
  ORCHESTRATOR?: { fetch(input: RequestInfo | URL, init?: RequestInit): Promise<Response> }
  API_TOKEN?: string
  RATE_LIMIT_PER_MINUTE?: string
  RATE_LIMITER?: { limit(options: { key: string }): Promise<{ success: boolean }> }
  SAMPLING_RATIO?: string
  LANGSMITH_ENDPOINT?: string
  LANGSMITH_API_KEY?: string
  LANGSMITH_PROJECT?: string
}

const encoder = new TextEncoder()

/** Constant-time comparison, so the token cannot be guessed byte by byte from timings. */
function sameToken(a: string, b: string): boolean {
  const x = encoder.encode(a)
  const y = encoder.encode(b)
  let diff = x.length ^ y.length
  for (let i = 0; i < x.length; i++) diff |= x[i]! ^ (y[i % Math.max(1, y.length)] ?? 0)
  return diff === 0
}

function authorize(request: Request, env: Env, span: Span): string | undefined {
  const header = request.headers.get('authorization') ?? ''
  const token = header.startsWith('Bearer ') ? header.slice(7) : ''
  const ok =
    env.API_TOKEN !== undefined && env.API_TOKEN !== '' && token !== '' && sameToken(token, env.API_TOKEN)
  span.set('gateway.auth.result', ok ? 'ok' : 'denied')
  // The client key for rate limiting: a hash would do too; never record the token itself.
  return ok ? (request.headers.get('cf-connecting-ip') ?? 'anonymous') : undefined
}

/**
 * Where the gateway forwards: the same path on the orchestrator, which serves `POST /chat`
 * (examples/orchestrator-edge/app.ts; its Next.js route `/api/agent` too).
 */
const ORCHESTRATOR_PATH = '/chat'

// Cross-request state by nature (a rate window), per isolate; no per-request state here.
const windows = new Map<string, { start: number; count: number }>()
const MAX_CLIENTS = 10_000

async function allow(client: string, env: Env, span: Span): Promise<boolean> {
  if (env.RATE_LIMITER !== undefined) {
    const { success } = await env.RATE_LIMITER.limit({ key: client })
    span.set('gateway.rate_limited', !success)
    return success
  }
  const limit = Number(env.RATE_LIMIT_PER_MINUTE ?? '60')
  const now = Date.now()
  let w = windows.get(client)
  if (w === undefined || now - w.start >= 60_000) {
    if (windows.size >= MAX_CLIENTS) windows.clear()
    w = { start: now, count: 0 }
    windows.set(client, w)
  }
  w.count++
  const ok = w.count <= limit
  span.set('gateway.rate_limited', !ok)
  return ok
}

function orchestrator(env: Env, span: Span): (path: string, init: RequestInit) => Promise<Response> {
  if (env.ORCHESTRATOR !== undefined) {
    // A service binding: ours by construction, the trace headers always go along.
    const binding = traced(env.ORCHESTRATOR, span, { name: 'orchestrator' })
    return (path, init) => binding.fetch(`https://orchestrator.internal${path}`, init)
  }
  const base = env.ORCHESTRATOR_URL ?? 'http://127.0.0.1:8788'
  return (path, init) => span.fetch(new URL(path, base), init)
}

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
 * The gateway's tracer, from its bindings; `instrument` calls it once per `env` object
 * (once per isolate), never per request. (Not exported: workerd takes every export of a
 * Worker's main module for a handler.)
 */
function tracerConfig(env: Env): WorkerTracerConfig {
  const exporters: Exporter[] = [otlp({ url: env.OTLP_URL })]
  // LangSmith-native runs as well: to LANGSMITH_ENDPOINT when set, else to the hosted API
  // when only the key is.
  if (env.LANGSMITH_ENDPOINT || env.LANGSMITH_API_KEY) {
    exporters.push(
      langsmith({
        ...(env.LANGSMITH_ENDPOINT ? { apiUrl: env.LANGSMITH_ENDPOINT } : {}),
        ...(env.LANGSMITH_API_KEY ? { apiKey: env.LANGSMITH_API_KEY } : {}),
        ...(env.LANGSMITH_PROJECT ? { project: env.LANGSMITH_PROJECT } : {}),
      }),
    )
  }
  return {
    service: 'gateway',
    sampling: { ratio: samplingRatio(env.SAMPLING_RATIO), keepErrors: true },
    propagation: {
      ingress: 'untrusted',
      allow: env.ORCHESTRATOR_URL !== undefined ? [env.ORCHESTRATOR_URL] : [],
    },
    exporters,
    // No router here: name the span after the routes this Worker knows (never a raw path).
    route: (request: Request) => KNOWN_ROUTES.find((r) => r === new URL(request.url).pathname),
  }
}

const KNOWN_ROUTES = ['/chat', '/health']

export default instrument(
  {
    async fetch(request, env, ctx) {
      const span = traceOf(ctx)
      const url = new URL(request.url)
      if (url.pathname === '/health') return new Response('ok')
      if (url.pathname !== '/chat' || request.method !== 'POST')
        return new Response('not found', { status: 404 })

      const client = span.child('auth', (s) => authorize(request, env, s))
      if (client === undefined) {
        return new Response('unauthorized', { status: 401, headers: { 'www-authenticate': 'Bearer' } })
      }
      if (!(await span.child('rate limit', (s) => allow(client, env, s)))) {
        return new Response('too many requests', { status: 429, headers: { 'retry-after': '60' } })
      }
      // The body goes on as it came (`{ "question": "…" }`, and any option the orchestrator
      // reads from it); only the trace is added, as headers.
      const body = await request.text()
      span.set('gateway.request.bytes', body.length)
      // A streamed answer (text/event-stream) is passed through; the server span stays
      // open until it has been sent.
      return span.child('orchestrate', (s) =>
        orchestrator(env, s)(ORCHESTRATOR_PATH, {
          method: 'POST',
          body,
          headers: { 'content-type': request.headers.get('content-type') ?? 'application/json' },
        }),
      )
    },
  },
  tracerConfig,
)
