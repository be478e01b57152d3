/**
 * Entry for Vercel's `edge-runtime` (what `npm run demo` bundles and evaluates): a fetch
 * listener over the orchestrator. Config comes from `globalThis.__ENV__` (set by the
 * demo through `EdgeRuntime({ extend })` or `initialCode`), else `process.env` where the
 * runtime has one.
 */
import { configFromEnv, createOrchestrator } from './orchestrator.js'

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

const handler = createOrchestrator(configFromEnv(g.__ENV__ ?? g.process?.env ?? {}))

g.addEventListener('fetch', (event) => {
  const url = new URL(event.request.url)
  if (url.pathname !== '/api/agent' || event.request.method !== 'POST') {
    event.respondWith(Promise.resolve(new Response('POST /api/agent', { status: 404 })))
    return
  }
  event.respondWith(handler(event.request, event))
})
