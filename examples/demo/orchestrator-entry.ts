/**
 * The demo's entry for the orchestrator in Vercel's `edge-runtime`: the example's fetch
 * listener (examples/orchestrator-edge/edge-entry.ts), also on `POST /chat` (where the gateway
 * example forwards), plus `GET /__tracehop/stats`, this
 * isolate's tracer counters, answered outside the traced handler so that reading them adds
 * nothing to them. Config comes from `globalThis.__ENV__` (set by the demo's topology).
 */

import { findSpan, type Tracer } from '../../src/index.js'
import { configFromEnv, createOrchestrator } from '../orchestrator-edge/orchestrator.js'

// Ref: edge-runtime FetchEvent (@edge-runtime/primitives).
interface FetchEventLike {
  readonly request: Request
  respondWith(response: Promise<Response>): void
  waitUntil(promise: Promise<unknown>): void
}

const g = globalThis as unknown as {
  __ENV__?: Record<string, string | undefined>
  addEventListener(type: 'fetch', listener: (event: FetchEventLike) => void): void
}

const handler = createOrchestrator(configFromEnv(g.__ENV__ ?? {}))
let tracer: Tracer | undefined
const AGENT_PATHS = new Set(['/api/agent', '/chat'])

async function handle(event: FetchEventLike): Promise<Response> {
  const request = event.request
  try {
    return await handler(request, event)
  } catch {
    // What the platform answers for an unhandled error (the error is on the trace already:
    // withTrace recorded it on the server span before rethrowing it).
    return new Response('internal server error', { status: 500 })
  } finally {
    // withTrace bound the request to its server span: its scope knows the tracer.
    tracer ??= findSpan(request)?.scope.tracer
  }
}

g.addEventListener('fetch', (event) => {
  const url = new URL(event.request.url)
  if (url.pathname === '/__tracehop/stats') {
    event.respondWith(Promise.resolve(Response.json(tracer === undefined ? [] : [tracer.stats()])))
    return
  }
  // `/chat` too: the gateway example forwards its `POST /chat` to the same path.
  if (!AGENT_PATHS.has(url.pathname) || event.request.method !== 'POST') {
    event.respondWith(Promise.resolve(new Response('POST /api/agent', { status: 404 })))
    return
  }
  event.respondWith(handle(event))
})
