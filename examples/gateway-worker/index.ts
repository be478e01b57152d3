/**
 * An API gateway on Cloudflare Workers, traced with tracehop: it authenticates the caller,
 * rate-limits it, and forwards `POST /chat` to the orchestrator, continuing one trace.
 *
 * The public internet is untrusted: an incoming `traceparent` is continued but its sampled
 * flag and baggage are ignored (`ingress: 'untrusted'`), so no client can force tracing or
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
 * - `LANGSMITH_API_KEY` (optional secret): also send runs to LangSmith.
 *
 * In your own project, import from 'tracehop' and 'tracehop/cloudflare'.
 */

import { instrument, traced, traceOf } from '../../adapters/cloudflare/index.js'
import { type Exporter, langsmith, otlp, type Span } from '../../src/index.js'

export interface Env {
  OTLP_URL: string
  ORCHESTRATOR_URL?: string
  ORCHESTRATOR?: { fetch(input: RequestInfo | URL, init?: RequestInit): Promise<Response> }
  API_TOKEN?: string
  RATE_LIMIT_PER_MINUTE?: string
  RATE_LIMITER?: { limit(options: { key: string }): Promise<{ success: boolean }> }
  LANGSMITH_API_KEY?: string
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
      const body = await request.text()
      span.set('gateway.request.bytes', body.length)
      // A streamed answer (text/event-stream) is passed through; the server span stays
      // open until it has been sent.
      return span.child('orchestrate', (s) =>
        orchestrator(env, s)('/chat', {
          method: 'POST',
          body,
          headers: { 'content-type': request.headers.get('content-type') ?? 'application/json' },
        }),
      )
    },
  },
  (env: Env) => {
    const exporters: Exporter[] = [otlp({ url: env.OTLP_URL })]
    if (env.LANGSMITH_API_KEY) exporters.push(langsmith({ apiKey: env.LANGSMITH_API_KEY }))
    return {
      service: 'gateway',
      sampling: { ratio: 1, keepErrors: true },
      propagation: {
        ingress: 'untrusted',
        allow: env.ORCHESTRATOR_URL !== undefined ? [env.ORCHESTRATOR_URL] : [],
      },
      exporters,
    }
  },
)
