// Throws each hostile value through every tracehop wrapper inside workerd and reports, per
// wrapper, whether the caller got the very value thrown back (`===`).
import { Hono, type MiddlewareHandler } from 'hono'
import { instrument, traced, traceOf } from '../../../adapters/cloudflare/index.js'
import { tracehop } from '../../../adapters/hono/index.js'
import { memoryExporter } from '../../../src/index.js'
import { HOSTILE_THROWN } from '../../support/hostile-thrown.js'

type Ctx = { waitUntil(promise: Promise<unknown>): void; passThroughOnException(): void }
type Call = (...args: unknown[]) => unknown

const config = { service: 'rethrow', exporters: [memoryExporter()] }

async function caught(run: () => unknown): Promise<{ threw: boolean; value: unknown }> {
  try {
    await run()
    return { threw: false, value: undefined }
  } catch (value) {
    return { threw: true, value }
  }
}

async function same(thrown: unknown, run: () => unknown): Promise<boolean> {
  const r = await caught(run)
  return r.threw && r.value === thrown
}

/** Hono's own view of a throw: what onError receives and what escapes `app.fetch`. */
async function honoOutcome(thrown: unknown, traced: boolean, env: object, ctx: Ctx) {
  const app = new Hono()
  const seen: unknown[] = []
  // Without tracehop the app still has a middleware: Hono's compose then runs the same way.
  const passThrough: MiddlewareHandler = async (_c, next) => await next()
  app.use(traced ? (tracehop(config) as unknown as MiddlewareHandler) : passThrough)
  app.get('/', () => {
    throw thrown
  })
  app.onError((err, c) => {
    seen.push(err)
    return c.text('handled', 500)
  })
  const r = await caught(() => app.fetch(new Request('http://worker.test/'), env, ctx as never))
  return {
    onErrorCalls: seen.length,
    onErrorGotIt: seen.every((e) => e === thrown),
    escaped: r.threw,
    escapedIsIt: r.threw ? r.value === thrown : null,
  }
}

const batch = { queue: 'jobs', messages: [], retryAll() {}, ackAll() {} }

export default {
  async fetch(request: Request, env: object, ctx: Ctx): Promise<Response> {
    const kind = new URL(request.url).searchParams.get('kind') ?? ''
    const make = HOSTILE_THROWN[kind]
    if (make === undefined) return new Response('unknown kind', { status: 400 })
    let thrown = make()
    const inner = instrument(
      {
        fetch() {
          throw thrown
        },
        async queue() {
          throw thrown
        },
      },
      config,
    )
    const outer = instrument({ fetch: () => new Response('outer') }, config)
    const sites: Record<string, boolean> = {}
    // instrument(): a traced fetch handler and a traced queue handler.
    sites['instrument fetch'] = await same(thrown, () => (inner.fetch as Call)(request, env, ctx))
    thrown = make()
    sites['instrument queue'] = await same(thrown, () => (inner.queue as Call)(batch, env, ctx))
    // span.child, sync and async, from a traced invocation's server span.
    await (outer.fetch as Call)(request, env, ctx)
    const span = traceOf(request)
    thrown = make()
    sites['span.child sync'] = await same(thrown, () =>
      span.child('sync', () => {
        throw thrown
      }),
    )
    thrown = make()
    sites['span.child async'] = await same(thrown, () =>
      span.child('async', async () => {
        throw thrown
      }),
    )
    // traced(queue).send: the producer wrapper, the binding throwing.
    thrown = make()
    const queue = {
      send(_body: unknown): Promise<unknown> {
        throw thrown
      },
      sendBatch(_messages: unknown): Promise<unknown> {
        return Promise.reject(thrown)
      },
    }
    sites['traced queue send'] = await same(thrown, () => traced(queue, span).send({}))
    sites['traced queue sendBatch'] = await same(thrown, () => traced(queue, span).sendBatch([{ body: {} }]))
    thrown = make()
    const plain = await honoOutcome(thrown, false, env, ctx)
    const withTracehop = await honoOutcome(thrown, true, env, ctx)
    return Response.json({ sites, hono: { plain, withTracehop } })
  },
}
