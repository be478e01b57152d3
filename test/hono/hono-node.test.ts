// The Hono middleware outside Workers (no executionCtx): the flush is awaited before the
// response, so spans are exported by the time app.request() resolves.
import { Hono } from 'hono'
import { streamSSE } from 'hono/streaming'
import { describe, expect, it } from 'vitest'
import { type TracehopVariables, tracehop } from '../../adapters/hono/index.js'
import { memoryExporter, SpanKind, StatusCode, TracehopError } from '../../src/index.js'

function setup(): {
  app: Hono<{ Variables: TracehopVariables }>
  memory: ReturnType<typeof memoryExporter>
} {
  const memory = memoryExporter()
  const app = new Hono<{ Variables: TracehopVariables }>()
  app.use(tracehop({ service: 'node-api', exporters: [memory], flush: { windowMs: 0 } }))
  app.get('/users/:id', (c) => c.var.span.child('load', () => c.json({ id: c.req.param('id') })))
  app.get('/fail', () => {
    throw new Error('nope')
  })
  app.get('/sse', (c) =>
    streamSSE(c, async (stream) => {
      for (let i = 0; i < 2; i++) {
        await stream.writeSSE({ data: String(i) })
        await stream.sleep(30)
      }
    }),
  )
  return { app, memory }
}

describe('tracehop() Hono middleware on Node', () => {
  it('is a named function', () => {
    expect(tracehop({ service: 'x' }).name).toBe('tracehopMiddleware')
  })

  it('exports before the response resolves when there is no waitUntil', async () => {
    const { app, memory } = setup()
    const res = await app.request('/users/7')
    expect(await res.json()).toEqual({ id: '7' })
    const spans = memory.spans()
    const server = spans.find((s) => s.kind === SpanKind.SERVER)!
    expect(server.name).toBe('GET /users/:id')
    expect(server.attributes['http.route']).toBe('/users/:id')
    expect(spans.find((s) => s.name === 'load')!.parentSpanId).toBe(server.spanId)
  })

  it('continues an incoming traceparent', async () => {
    const { app, memory } = setup()
    await app.request('/users/1', {
      headers: { traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' },
    })
    const server = memory.spans().find((s) => s.kind === SpanKind.SERVER)!
    expect(server.traceId).toBe('0af7651916cd43dd8448eb211c80319c')
    expect(server.parentSpanId).toBe('b7ad6b7169203331')
  })

  it('marks the scope failed when Hono turns a throw into a 500', async () => {
    const { app, memory } = setup()
    const res = await app.request('/fail')
    expect(res.status).toBe(500)
    const server = memory.spans()[0]!
    expect(server.name).toBe('GET /fail')
    expect(server.status.code).toBe(StatusCode.ERROR)
    expect(
      server.events.some((e) => e.name === 'exception' && e.attributes?.['exception.message'] === 'nope'),
    ).toBe(true)
  })

  it('does not hold a streamed response back for the flush, and spans the whole stream', async () => {
    const { app, memory } = setup()
    const res = await app.request('/sse')
    expect(memory.spans().length).toBe(0)
    expect(await res.text()).toContain('data: 1')
    await new Promise((r) => setTimeout(r, 50))
    const server = memory.spans().find((s) => s.kind === SpanKind.SERVER)!
    expect(server.endTime - server.startTime).toBeGreaterThanOrEqual(50)
  })

  it('without a config and outside instrument(), fails with a TracehopError naming the fix', async () => {
    const app = new Hono()
    let caught: unknown
    app.onError((err, c) => {
      caught = err
      return c.text('err', 500)
    })
    app.use(tracehop())
    app.get('/', (c) => c.text('ok'))
    const res = await app.request('/')
    expect(res.status).toBe(500)
    expect(caught).toBeInstanceOf(TracehopError)
    expect(String((caught as Error).message)).toMatch(/needs a config/)
  })
})
