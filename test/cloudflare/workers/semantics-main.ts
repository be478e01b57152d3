// A module Worker whose fetch, queue and scheduled handlers are traced with instrument(),
// for workers-semantics.test.ts: each route or message mode exercises one runtime behaviour.
// The default export wraps the traced handler only to observe, from inside workerd, what
// the traced handler rethrew and when it returned.

import {
  type ExecutionContextLike,
  instrument,
  type MessageBatchLike,
  type ScheduledControllerLike,
  traceOf,
} from '../../../adapters/cloudflare/index.js'
import { otlp } from '../../../src/index.js'

interface Env {
  OTLP_URL: string
  /** The test's mark server: records when a handler returned, and what it saw. */
  MARK: string
  Q: { send(body: unknown, options?: { contentType?: 'text' | 'bytes' | 'json' | 'v8' }): Promise<void> }
}

// workerd globals (types: @cloudflare/workers-types, loaded for reference only).
declare const WebSocketPair: new () => { 0: WebSocket; 1: WebSocket & { accept(): void } }

const encoder = new TextEncoder()
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

/** What `/catch/*` routes throw, so the wrapper can check it got the very same value back. */
const THROWN: Record<string, unknown> = {
  string: 'plain string thrown',
  object: { code: 42, reason: 'not an Error' },
  undefined: undefined,
}
const CRON_ERROR = new Error('cron failed')

/** A body that sends two chunks, then errors (an upstream model failing mid-answer). */
function failingBody(): ReadableStream<Uint8Array> {
  let n = 0
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      await sleep(20)
      if (n++ < 2) controller.enqueue(encoder.encode(`data: part${n}\n\n`))
      else controller.error(new Error('upstream died mid-stream'))
    },
  })
}

function describeBody(body: unknown): string {
  if (body instanceof ArrayBuffer) return `ArrayBuffer:${new TextDecoder().decode(body)}`
  if (body instanceof Map) return `Map:${JSON.stringify([...body])}`
  if (body instanceof Date) return `Date:${body.toISOString()}`
  return `${typeof body}:${JSON.stringify(body)}`
}

const traced = instrument(
  {
    async fetch(request, env: Env, ctx) {
      const span = traceOf(ctx)
      const url = new URL(request.url)
      const headers = { 'x-trace-id': span.traceId, 'x-span-id': span.spanId }
      switch (url.pathname) {
        case '/unread-body':
          // The request body is never read.
          return new Response('ok', { headers })
        case '/stream-error':
          return new Response(failingBody(), {
            headers: { ...headers, 'content-type': url.searchParams.get('type') ?? 'text/event-stream' },
          })
        case '/ws': {
          const pair = new WebSocketPair()
          const server = pair[1]
          server.accept()
          server.addEventListener('message', (e) => server.send(`echo:${String(e.data)}`))
          server.addEventListener('close', () => server.close())
          return new Response(null, { status: 101, headers, webSocket: pair[0] } as ResponseInit)
        }
        case '/sse-ok': {
          // A streamed body that ends normally after three chunks.
          let n = 0
          const body = new ReadableStream<Uint8Array>({
            async pull(controller) {
              await sleep(20)
              if (n++ < 3) controller.enqueue(encoder.encode(`data: ${n}\n\n`))
              else controller.close()
            },
          })
          return new Response(body, { headers: { ...headers, 'content-type': 'text/event-stream' } })
        }
        case '/redirect':
          return new Response(null, { status: 302, headers: { ...headers, location: '/moved' } })
        case '/catch/string':
        case '/catch/object':
        case '/catch/undefined':
          throw THROWN[url.pathname.slice('/catch/'.length)]
        case '/pass-through':
          ctx.passThroughOnException()
          throw new Error('falls back to the origin')
        case '/headers':
          return Response.json(
            { count: [...request.headers].length, ua: request.headers.get('user-agent')?.length ?? 0 },
            { headers },
          )
        case '/ctx':
          // What this service would send on: the continued context, tracestate and baggage.
          return Response.json({ out: span.headers(), stats: span.scope.tracer.stats() }, { headers })
        case '/produce': {
          // Plain sends, no tracehop envelope: text, bytes and v8 (structured clone) bodies.
          const tag = url.searchParams.get('tag') ?? ''
          await env.Q.send(`text ${tag}`, { contentType: 'text' })
          await env.Q.send(encoder.encode(`bytes ${tag}`), { contentType: 'bytes' })
          await env.Q.send(new Map([['tag', tag]]), { contentType: 'v8' })
          return new Response('sent', { headers })
        }
        case '/stats':
          return Response.json(span.scope.tracer.stats(), { headers })
        default:
          return new Response(`${request.method} ${url.pathname}`, { headers })
      }
    },

    async queue(batch: MessageBatchLike<unknown>, _env: Env, ctx) {
      const first = batch.messages[0]?.body as { mode?: string } | undefined
      const mode = first?.mode ?? 'plain'
      const [m1, m2] = batch.messages
      traceOf(ctx).set('test.mode', mode)
      switch (mode) {
        case 'mixed':
          // m1 acked, m2 retried with a delay, the rest left to the implicit ack.
          m1?.ack()
          m2?.retry({ delaySeconds: 7 })
          return
        case 'retry-then-ack':
          m1?.retry()
          m1?.ack()
          return
        case 'retry-then-ackAll':
          m1?.retry()
          batch.ackAll()
          return
        case 'retryAll-then-ack':
          batch.retryAll({ delaySeconds: 3 })
          m1?.ack()
          return
        case 'throw':
          m1?.ack()
          throw new Error('consumer failed')
        default:
          for (const msg of batch.messages) {
            await traceOf(msg).child('handle', async (s) => {
              s.set('test.body', describeBody(msg.body))
            })
          }
      }
    },

    async scheduled(controller: ScheduledControllerLike, _env: Env, ctx) {
      const span = traceOf(controller)
      if (traceOf(ctx) !== span) throw new Error('ctx and controller disagree')
      if (controller.cron === '13 13 * * *') throw CRON_ERROR
      await span.child('tick', () => sleep(5))
    },
  },
  (env: Env) => ({
    service: 'semantics-main',
    // The test's paths are its routes, except /purge-me, which checks the route-less name.
    route: (request: Request) => {
      const path = new URL(request.url).pathname
      return path === '/purge-me' ? undefined : path
    },
    exporters: [otlp({ url: env.OTLP_URL, encoding: 'json' })],
    // Short enough that a span left open (a HEAD body never read) is force-ended within the test.
    flush: { budgetMs: 3000 },
    log: () => {},
  }),
)

async function mark(env: Env, what: string, params: Record<string, string>): Promise<void> {
  const r = await fetch(`${env.MARK}/${what}?${new URLSearchParams(params)}`)
  await r.arrayBuffer()
}

export default {
  async fetch(request: Request, env: Env, ctx: ExecutionContextLike): Promise<Response> {
    const path = new URL(request.url).pathname
    if (!path.startsWith('/catch/')) return traced.fetch!(request, env, ctx)
    try {
      return await traced.fetch!(request, env, ctx)
    } catch (err) {
      // The traced handler must rethrow exactly what the user's handler threw.
      const same = err === THROWN[path.slice('/catch/'.length)]
      return Response.json({ rethrown: true, same }, { status: 500 })
    }
  },
  queue(batch: MessageBatchLike<unknown>, env: Env, ctx: ExecutionContextLike): Promise<void> {
    return traced.queue!(batch, env, ctx) as Promise<void>
  },
  async scheduled(controller: ScheduledControllerLike, env: Env, ctx: ExecutionContextLike): Promise<void> {
    let same = 'none'
    try {
      await traced.scheduled!(controller, env, ctx)
    } catch (err) {
      same = String(err === CRON_ERROR)
      throw err
    } finally {
      // Sent once the traced handler has returned: the export must not have been awaited first.
      await mark(env, 'scheduled-returned', { cron: controller.cron, same })
    }
  },
}
