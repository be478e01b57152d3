// A Worker whose routes share one tracer (one export queue per isolate): `/forgotten`
// starts a scope by hand and never hands its flush to `waitUntil` nor awaits it, as a
// user might; `/ok` does it right. The export-queue tests check that the first never holds
// the second's spans. `/background?after=ms` starts a span (and a traced fetch) in the
// user's own waitUntil work, `after` ms after the response: the late-span tests.

import { createTracer, otlp, type Tracer } from '../../../src/index.js'

interface Env {
  OTLP_URL: string
  SERVICE: string
  /** Origin of a plain HTTP server the late-span routes call through `span.fetch`. */
  UPSTREAM?: string
  FLUSH_BUDGET_MS?: string
}

interface Ctx {
  waitUntil(promise: Promise<unknown>): void
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

let tracer: Tracer | undefined
const lines: string[] = []
/** Per trace id: the `traceparent` the upstream received from the background fetch (null: none). */
const sent: Record<string, string | null> = {}

function tracerOf(env: Env): Tracer {
  tracer ??= createTracer({
    service: env.SERVICE,
    exporters: [otlp({ url: env.OTLP_URL, encoding: 'json' })],
    propagation: env.UPSTREAM ? { allow: [env.UPSTREAM] } : {},
    ...(env.FLUSH_BUDGET_MS ? { flush: { budgetMs: Number(env.FLUSH_BUDGET_MS) } } : {}),
    log: (line) => {
      lines.push(line)
    },
  })
  return tracer
}

export default {
  async fetch(request: Request, env: Env, ctx: Ctx): Promise<Response> {
    const t = tracerOf(env)
    const path = new URL(request.url).pathname
    if (path === '/stats') return Response.json({ stats: t.stats(), log: lines, sent })
    const waitUntil = (p: Promise<unknown>): void => ctx.waitUntil(p)
    const scope = t.start(request, path === '/forgotten' ? { name: path } : { name: path, waitUntil })
    if (path === '/background') {
      const after = Number(new URL(request.url).searchParams.get('after') ?? 0)
      ctx.waitUntil(
        (async () => {
          await sleep(after)
          await scope.root.child('after-response', async (s) => {
            const echoed = (await (await s.fetch(`${env.UPSTREAM}/`)).json()) as Record<string, string>
            sent[scope.traceId] = echoed['traceparent'] ?? null
          })
        })(),
      )
    }
    await scope.root.child('work', async (s) => {
      await s.child('step', () => sleep(1))
    })
    const response = new Response('ok', { headers: { 'x-trace-id': scope.traceId } })
    // `/forgotten`: neither awaited nor handed to waitUntil.
    void scope.end(response)
    return response
  },
}
