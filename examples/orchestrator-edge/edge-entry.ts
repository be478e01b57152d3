/**
 * Entry for Vercel's `edge-runtime` (what `npm run demo` runs, through the demo's entry): a
 * fetch listener over the orchestrator's routes, `POST /chat` (where the gateway example
 * forwards) and `POST /api/agent` (app.ts). Config comes from `globalThis.__ENV__` (set by the
 * demo through `EdgeRuntime({ extend })` or `initialCode`), else `process.env` where the
 * runtime has one.
 */
import { createOrchestratorApp } from './app.js'
import { configFromEnv } from './orchestrator.js'

// Ref: edge-runtime FetchEvent (@edge-runtime/primitives).
interface FetchEventLike {
  readonly request: Request
  respondWith(response: Promise<Response>): void
  waitUntil(promise: Promise<unknown>): void
}

const g = globalThis as {
  __ENV__?: Record<string, string | undefined>
  process?: { env?: Record<string, string | undefined> }
  addEventListener(type: 'fetch', listener: (event: FetchEventLike) => void): void
}

const app = createOrchestratorApp(configFromEnv(g.__ENV__ ?? g.process?.env ?? {}))

g.addEventListener('fetch', (event) => {
  event.respondWith(app.fetch(event.request, event))
})
