// Worker C: the queue consumer. Records what the user's handler sees on a child span.

import { instrument, traceOf } from '../../../adapters/cloudflare/index.js'
import { otlp } from '../../../src/index.js'

interface Env {
  OTLP_URL: string
}

export default instrument(
  {
    async queue(batch, _env, ctx) {
      if (traceOf(ctx) !== traceOf(batch)) throw new Error('ctx and batch disagree')
      for (const msg of batch.messages) {
        const body = msg.body as { m?: string } | null
        await traceOf(msg).child('index', async (s) => {
          s.set('test.body', JSON.stringify(body))
          s.set('test.attempts', msg.attempts)
        })
        // The wrapped message calls the workerd Message's own retry()/ack().
        if (body?.m === 'retry' && msg.attempts === 1) msg.retry({ delaySeconds: 0 })
        else msg.ack()
      }
    },
    async fetch(request, _env, ctx) {
      const span = traceOf(ctx)
      if (new URL(request.url).pathname === '/stats') return Response.json(span.scope.tracer.stats())
      return new Response('c')
    },
  },
  (env: Env) => ({
    service: 'c',
    // The test's paths are its routes (a fixed set): spans are named `GET /child`.
    route: (request: Request) => new URL(request.url).pathname,
    exporters: [otlp({ url: env.OTLP_URL, encoding: 'json' })],
    log: () => {},
  }),
)
