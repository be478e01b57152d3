// The Hono middleware inside workerd: on its own, and inside instrument() (one span).
import { Miniflare } from 'miniflare'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { KIND, type OtlpReceiver, type ReceivedSpan, startOtlpReceiver } from '../support/otlp-receiver.js'
import { bundleWorker, nodeImports } from '../support/workerd-bundle.js'

let mf: Miniflare
let receiver: OtlpReceiver

async function call(worker: string, path: string, init?: RequestInit): Promise<Response> {
  const w = await mf.getWorker(worker)
  return (await w.fetch(`http://worker.test${path}`, init as never)) as unknown as Response
}

async function spansOf(res: Response, count: number, timeoutMs = 10_000): Promise<ReceivedSpan[]> {
  const id = res.headers.get('x-trace-id')
  if (id === null) throw new Error('no x-trace-id')
  await receiver.waitFor((spans) => spans.filter((s) => s.traceId === id).length >= count, timeoutMs)
  return receiver.spans.filter((s) => s.traceId === id)
}

beforeAll(async () => {
  receiver = await startOtlpReceiver()
  const [plain, wrapped] = await Promise.all([
    bundleWorker('test/cloudflare/workers/hono-app.ts'),
    bundleWorker('test/cloudflare/workers/hono-instrumented.ts'),
  ])
  expect(nodeImports(plain)).toEqual([])
  const common = { modules: true, compatibilityDate: '2025-01-01', bindings: { OTLP_URL: receiver.url } }
  mf = new Miniflare({
    workers: [
      { name: 'hono', ...common, script: plain },
      { name: 'hono-instrumented', ...common, script: wrapped },
    ],
  })
  await mf.ready
})

afterAll(async () => {
  await mf?.dispose()
  await receiver?.close()
})

describe.each(['hono', 'hono-instrumented'])('tracehop() Hono middleware in workerd (%s)', (worker) => {
  it("the request URL's origin is same origin on Workers (the platform routed it by that host)", async () => {
    const res = await call(worker, '/same-origin')
    expect(await res.json()).toEqual({ sameOrigin: true })
  })

  it('names the server span after the matched route and sets c.var.span / c.var.scope', async () => {
    const res = await call(worker, '/users/42')
    expect(res.status).toBe(200)
    expect(await res.json()).toEqual({ user: { id: '42' }, sameScope: true })
    const spans = await spansOf(res, 2)
    const servers = spans.filter((s) => s.kind === KIND.SERVER)
    expect(servers.length).toBe(1)
    const server = servers[0]!
    expect(server.service).toBe(worker)
    expect(server.name).toBe('GET /users/:id')
    expect(server.attributes['http.route']).toBe('/users/:id')
    expect(server.attributes['url.path']).toBe('/users/42')
    expect(server.attributes['http.response.status_code']).toBe(200)
    const child = spans.find((s) => s.name === 'load user')!
    expect(child.parentSpanId).toBe(server.spanId)
  })

  it('a thrown error (a 500 in Hono, kept in c.error) still fails the scope', async () => {
    const res = await call(worker, '/boom')
    expect(res.status).toBe(500)
    const [server] = await spansOf(res, 1)
    expect(server!.name).toBe('GET /boom')
    expect(server!.status).toBe(2)
    const exception = server!.events.find((e) => e.name === 'exception')!
    expect(exception.attributes['exception.message']).toBe('kaboom')
  })

  it('an unmatched path is named by the method alone (never the raw path) and gets no http.route', async () => {
    const res = await call(worker, '/no/such/thing')
    expect(res.status).toBe(404)
    const [server] = await spansOf(res, 1)
    expect(server!.name).toBe('GET')
    expect(server!.attributes['http.route']).toBeUndefined()
    expect(server!.status).not.toBe(2)
  })

  it('an SSE stream keeps the server span open until the last event', async () => {
    const res = await call(worker, '/sse')
    const text = await res.text()
    expect(text.match(/data: token/g)?.length).toBe(3)
    const spans = await spansOf(res, 2)
    const server = spans.find((s) => s.kind === KIND.SERVER)!
    const first = spans.find((s) => s.name === 'token')!
    expect(first.parentSpanId).toBe(server.spanId)
    // Three events 40 ms apart: the span covers the stream, not just the handler.
    expect(server.endMs - server.startMs).toBeGreaterThanOrEqual(100)
    expect(server.endMs).toBeGreaterThanOrEqual(first.endMs)
  })

  // Known core gap (src/scope.ts createSpan: `!this.flushing`): a span *started* after
  // scope.end() — here inside the stream, after the middleware returned — is not recorded.
  // Flip to `it` once the scope records until its flush collects the spans.
  it('keeps spans started inside the stream after the handler returned', async () => {
    const res = await call(worker, '/sse')
    await res.text()
    const spans = await spansOf(res, 4, 1500)
    expect(spans.filter((s) => s.name === 'token').length).toBe(3)
  })
})
