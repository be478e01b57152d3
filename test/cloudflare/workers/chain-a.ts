// Worker A of the chain A -> service binding -> B -> queue -> C; also calls B over Workers
// RPC, a Durable Object in B, and sends raw (malformed) queue messages for C.

import { instrument, type QueueLike, traced, traceOf } from '../../../adapters/cloudflare/index.js'
import { otlp } from '../../../src/index.js'

interface BService {
  fetch(input: RequestInfo | URL, init?: RequestInit): Promise<Response>
  hello(name: string, n: number): Promise<{ greeting: string; argc: number }>
}
interface CounterStub {
  fetch(input: RequestInfo | URL, init?: RequestInit): Promise<Response>
  increment(by: number): Promise<{ value: number; argc: number }>
}
interface Env {
  OTLP_URL: string
  B: BService
  Q: QueueLike
  COUNTER: { idFromName(name: string): unknown; get(id: unknown): CounterStub }
}

export default instrument(
  {
    async fetch(request, env, ctx) {
      const span = traceOf(ctx)
      const url = new URL(request.url)
      const headers = { 'x-trace-id': span.traceId }
      switch (url.pathname) {
        case '/chain': {
          const b = traced(env.B, span, { name: 'b' })
          const r = await b.fetch('https://b.internal/work')
          const rpc = await b.hello('world', 2)
          return Response.json({ text: await r.text(), rpc }, { headers })
        }
        case '/do': {
          const counter = traced(env.COUNTER.get(env.COUNTER.idFromName('one')), span, { name: 'counter' })
          const inc = await counter.increment(2)
          const r = await counter.fetch('https://counter.internal/')
          return Response.json({ inc, text: await r.text() }, { headers })
        }
        case '/raw': {
          // Untraced sends of what a broken or foreign producer might put on the queue.
          const kind = url.searchParams.get('kind')
          const tag = url.searchParams.get('tag') ?? ''
          const bodies: Record<string, unknown> = {
            'bad-ctx': { __tracehop: 1, ctx: 'garbage', body: { m: 'bad-ctx', tag } },
            'bad-traceparent': {
              __tracehop: 1,
              ctx: { traceparent: 'zz' },
              body: { m: 'bad-traceparent', tag },
            },
            'no-body': { __tracehop: 1, ctx: {}, m: 'no-body', tag },
            plain: { m: 'plain', tag },
            retry: { __tracehop: 1, ctx: span.headers(), body: { m: 'retry', tag } },
          }
          await env.Q.send(bodies[kind ?? ''] ?? null)
          return new Response('sent', { headers })
        }
        case '/stats':
          return Response.json(span.scope.tracer.stats(), { headers })
        default:
          return new Response('not found', { status: 404, headers })
      }
    },
    async scheduled(controller, _env, ctx) {
      const span = traceOf(controller)
      if (traceOf(ctx) !== span) throw new Error('ctx and controller disagree')
      await span.child('tick', async () => {})
    },
  },
  (env: Env) => ({
    service: 'a',
    // The test's paths are its routes (a fixed set): spans are named `GET /child`.
    route: (request: Request) => new URL(request.url).pathname,
    exporters: [otlp({ url: env.OTLP_URL, encoding: 'json' })],
    log: () => {},
  }),
)
