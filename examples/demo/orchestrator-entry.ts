/**
 * The demo's entry for the orchestrator in Vercel's `edge-runtime`: the example's routes
 * (examples/orchestrator-edge/app.ts: `POST /chat`, where the gateway forwards, and
 * `POST /api/agent`), as its own edge-entry.ts serves them, plus `GET /__tracehop/stats`,
 * this isolate's tracer counters, answered outside the traced handlers so that reading them
 * adds nothing to them. (edge-runtime calls only the first fetch listener, so the counters
 * cannot be a second listener next to the example's: this entry replaces edge-entry.ts.)
 * Config comes from `globalThis.__ENV__` (set by the demo's topology).
 */

import { createOrchestratorApp } from '../orchestrator-edge/app.js'
import { configFromEnv } from '../orchestrator-edge/orchestrator.js'

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

const app = createOrchestratorApp(configFromEnv(g.__ENV__ ?? {}))

g.addEventListener('fetch', (event) => {
  if (new URL(event.request.url).pathname === '/__tracehop/stats') {
    event.respondWith(Promise.resolve(Response.json([app.tracer.stats()])))
    return
  }
  event.respondWith(app.fetch(event.request, event))
})
