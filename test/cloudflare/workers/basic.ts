// A Worker traced with instrument(): the routes the workerd tests call.

import { instrument, traceOf } from '../../../adapters/cloudflare/index.js'
import { otlp } from '../../../src/index.js'

interface Env {
  OTLP_URL: string
  /** An origin allowed to receive trace headers. */
  UPSTREAM: string
  /** An origin that is not. */
  OTHER: string
  SERVICE?: string
  RATIO?: string
  FLUSH_BUDGET_MS?: string
  TIMEOUT_MS?: string
  /** Set: OTLP bodies are gzipped (CompressionStream in workerd). */
  GZIP?: string
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))
const encoder = new TextEncoder()

export default instrument(
  {
    async fetch(request, env, ctx) {
      const span = traceOf(ctx)
      const url = new URL(request.url)
      const headers = {
        'x-trace-id': span.traceId,
        'x-span-id': span.spanId,
        'x-same-span': String(traceOf(request) === span),
      }
      switch (url.pathname) {
        case '/':
          return new Response('ok', { headers })
        case '/child':
          await span.child('work', async (s) => {
            s.set('test.n', Number(url.searchParams.get('n') ?? 0))
          })
          return new Response('ok', { headers })
        case '/upstream': {
          const r = await span.fetch(`${env.UPSTREAM}/`)
          await r.arrayBuffer()
          return new Response('ok', { headers })
        }
        case '/stats':
          return Response.json(span.scope.tracer.stats(), { headers })
        case '/error':
          throw new Error('boom')
        case '/500':
          return new Response('bad', { status: 500, headers })
        case '/interleave': {
          const i = url.searchParams.get('i') ?? ''
          span.set('test.i', i)
          const wait = Number(url.searchParams.get('wait') ?? 0)
          await span.child('upstream call', async (s) => {
            s.set('test.i', i)
            const r = await s.fetch(`${env.UPSTREAM}/?wait=${wait}`)
            await r.arrayBuffer()
          })
          // Another request ran meanwhile: our lookups must still give our own span.
          if (traceOf(ctx) !== span || traceOf(request) !== span) throw new Error('spans mixed up')
          return new Response(i, { headers })
        }
        case '/baggage': {
          const allowed = await span.fetch(`${env.UPSTREAM}/echo`, { headers: { baggage: 'user.tier=gold' } })
          const other = await span.fetch(`${env.OTHER}/echo`)
          return Response.json({ allowed: await allowed.json(), other: await other.json() }, { headers })
        }
        case '/waituntil':
          // A span that ends inside the user's own waitUntil work is kept.
          ctx.waitUntil(span.child('background', () => sleep(80)))
          return new Response('ok', { headers })
        case '/stream': {
          const chunks = Number(url.searchParams.get('chunks') ?? 5)
          let i = 0
          const gen = span.startChild('generate')
          const body = new ReadableStream<Uint8Array>({
            async pull(controller) {
              await sleep(40)
              if (i++ < chunks) controller.enqueue(encoder.encode(`data: token${i}\n\n`))
              else {
                gen.end()
                controller.close()
              }
            },
            cancel() {
              gen.set('test.cancelled', true)
              gen.end()
            },
          })
          return new Response(body, { headers: { ...headers, 'content-type': 'text/event-stream' } })
        }
        default:
          return new Response('not found', { status: 404, headers })
      }
    },
  },
  (env: Env) => ({
    service: env.SERVICE ?? 'basic',
    // The test's paths are its routes (a fixed set): spans are named `GET /child`.
    route: (request: Request) => new URL(request.url).pathname,
    sampling: { ratio: Number(env.RATIO ?? '1') },
    propagation: { allow: [env.UPSTREAM] },
    exporters: [
      otlp({
        url: env.OTLP_URL,
        encoding: 'json',
        ...(env.TIMEOUT_MS ? { timeoutMs: Number(env.TIMEOUT_MS) } : {}),
        ...(env.GZIP ? { compression: 'gzip' as const } : {}),
      }),
    ],
    flush: { budgetMs: Number(env.FLUSH_BUDGET_MS ?? '10000') },
    log: () => {},
  }),
)
