// A Hono app with the tracehop middleware, run in workerd as a module Worker.
import { Hono } from 'hono'
import { streamSSE } from 'hono/streaming'
import { type TracehopVariables, tracehop } from '../../../adapters/hono/index.js'
import { otlp } from '../../../src/index.js'

interface Env {
  OTLP_URL: string
}

export function routes(app: Hono<{ Bindings: Env; Variables: TracehopVariables }>): void {
  app.get('/users/:id', async (c) => {
    const user = await c.var.span.child('load user', async (s) => {
      s.set('test.user', c.req.param('id'))
      return { id: c.req.param('id') }
    })
    c.header('x-trace-id', c.var.span.traceId)
    return c.json({ user, sameScope: c.var.scope === c.var.span.scope })
  })
  app.get('/boom', (c) => {
    c.header('x-trace-id', c.var.span.traceId)
    throw new Error('kaboom')
  })
  app.get('/sse', (c) => {
    c.header('x-trace-id', c.var.span.traceId)
    const span = c.var.span
    return streamSSE(c, async (stream) => {
      for (let i = 0; i < 3; i++) {
        await span.child('token', () => stream.writeSSE({ data: `token${i}` }))
        await stream.sleep(40)
      }
    })
  })
  app.get('/stats', (c) => c.json(c.var.scope.tracer.stats()))
  // Workers routes a request to the Worker by its host: the request URL's origin is ours.
  app.get('/same-origin', (c) => c.json({ sameOrigin: c.var.span.mayReceive(new URL('/x', c.req.url)) }))
  app.notFound((c) => {
    c.header('x-trace-id', c.var.span.traceId)
    return c.text('nope', 404)
  })
}

const app = new Hono<{ Bindings: Env; Variables: TracehopVariables }>()
app.use(
  tracehop((env: Env) => ({
    service: 'hono',
    exporters: [otlp({ url: env.OTLP_URL, encoding: 'json' })],
    log: () => {},
  })),
)
routes(app)

export default app
