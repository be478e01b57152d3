// Export over real HTTP (OTLP/JSON) to a receiver on 127.0.0.1: nothing is lost when it is
// up; when it is down or hangs, every invocation still returns its result before its
// deadline and every undelivered span is counted.
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createLambdaTracer, traceOf, withTrace } from '../../adapters/lambda/index.js'
import { otlp } from '../../src/index.js'
import { refusedUrl } from '../support/http-receiver.js'
import { type OtlpReceiver, startOtlpReceiver } from '../support/otlp-receiver.js'
import { fixture, lambdaContext } from './helpers.js'

let receiver: OtlpReceiver
beforeAll(async () => {
  receiver = await startOtlpReceiver()
})
afterAll(async () => {
  await receiver?.close()
})

const quiet = { log: () => undefined }

function retrievalHandler(url: string, extra: Record<string, unknown> = {}, flushMarginMs?: number) {
  const tracer = createLambdaTracer({
    service: 'retrieval',
    exporters: [otlp({ url, encoding: 'json' })],
    ...quiet,
    ...extra,
  })
  const handler = withTrace(
    async (event: { n: number }, context: object) => {
      const span = traceOf(context)
      const docs = await span.child('retrieve', { runType: 'retriever' }, (r) =>
        r.child('search index', () => [event.n]),
      )
      return { statusCode: 200, body: JSON.stringify(docs) }
    },
    tracer,
    flushMarginMs === undefined ? undefined : { flushMarginMs },
  )
  return { tracer, handler }
}

describe('export from Lambda invocations', () => {
  it('1,000 invocations with the receiver up: 0 spans lost', async () => {
    const { tracer, handler } = retrievalHandler(receiver.url)
    const before = receiver.spans.length
    const N = 1000
    const CONCURRENCY = 8
    let next = 0
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (next < N) {
          const n = next++
          const event = { ...fixture('apigw-http-no-auth.json'), n }
          const out = await handler(event, lambdaContext(3000))
          expect(out).toEqual({ statusCode: 200, body: JSON.stringify([n]) })
        }
      }),
    )
    // The flush was awaited inside each invocation: everything is there already.
    expect(receiver.spans.length - before).toBe(3 * N)
    const stats = tracer.stats()
    expect(stats.spans.recorded).toBe(3 * N)
    expect(stats.spans.exported).toBe(3 * N)
    expect(stats.spans.dropped).toEqual({})
    expect(new Set(receiver.spans.slice(before).map((s) => s.traceId)).size).toBe(N)
  }, 60_000)

  it('receiver down: every invocation returns its result before its deadline; drops are counted', async () => {
    // The flush is cut at 1500 - 1000 = 500 ms: the deadline leaves a loaded machine 1 s more.
    const { tracer, handler } = retrievalHandler(`${await refusedUrl()}/v1/traces`, {}, 1000)
    const N = 40
    const timings = await Promise.all(
      Array.from({ length: N }, async (_, n) => {
        const context = lambdaContext(1500)
        const t0 = Date.now()
        const out = await handler({ n } as never, context)
        return { out, took: Date.now() - t0, n }
      }),
    )
    for (const { out, took, n } of timings) {
      expect(out).toEqual({ statusCode: 200, body: JSON.stringify([n]) })
      expect(took).toBeLessThan(1500)
    }
    // An export cut off by the invocation's deadline is counted when the exporter's own
    // deadline (the same instant, give or take the time the handler ran) ends it.
    const dropped = () => Object.values(tracer.stats().spans.dropped).reduce((a, b) => a + (b ?? 0), 0)
    const until = Date.now() + 2000
    while (dropped() < 3 * N && Date.now() < until) await new Promise((r) => setTimeout(r, 20))
    expect(dropped()).toBe(3 * N)
    expect(tracer.stats().spans.exported).toBe(0)
  }, 30_000)

  it('receiver hanging (accepts, never answers): bounded by the deadline minus the margin', async () => {
    const sockets = new Set<import('node:net').Socket>()
    const hanging: Server = createServer(() => undefined)
    hanging.on('connection', (s) => sockets.add(s))
    await new Promise<void>((resolve) => hanging.listen(0, '127.0.0.1', resolve))
    try {
      const { port } = hanging.address() as AddressInfo
      const tracer = createLambdaTracer({
        service: 'retrieval',
        exporters: [otlp({ url: `http://127.0.0.1:${port}/v1/traces`, encoding: 'json' })],
        ...quiet,
      })
      // Cut at 2000 - 1400 = 600 ms; the deadline leaves a loaded machine 1.4 s more.
      const handler = withTrace(async () => 'ok', tracer, { flushMarginMs: 1400 })
      const t0 = Date.now()
      expect(await handler({}, lambdaContext(2000))).toBe('ok')
      const took = Date.now() - t0
      // Below the default margin's cut (1750 ms): the configured margin is the one applied.
      expect(took).toBeLessThan(1700)
      expect(took).toBeGreaterThanOrEqual(550)
      // The exporter's own deadline ends the attempt and counts the drop.
      const dropped = () => Object.values(tracer.stats().spans.dropped).reduce((a, b) => a + (b ?? 0), 0)
      const until = Date.now() + 3000
      while (dropped() < 1 && Date.now() < until) await new Promise((r) => setTimeout(r, 20))
      expect(dropped()).toBe(1)
    } finally {
      for (const s of sockets) s.destroy()
      await new Promise<void>((resolve) => hanging.close(() => resolve()))
    }
  }, 10_000)
})
