// Deadlines are the library's, not the exporter's: an exporter whose export() never settles
// cannot hold scope.end() past flush.budgetMs; what it did not deliver is counted as budget.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTracer, type Exporter, otlp } from '../../src/index.js'
import { attemptLimitMs, startBlackhole } from '../support/blackhole.js'
import { type OtlpReceiver, startOtlpReceiver } from '../support/otlp-receiver.js'

let receiver: OtlpReceiver

beforeAll(async () => {
  receiver = await startOtlpReceiver()
})

afterAll(async () => {
  await receiver?.close()
})

/** A custom exporter whose export() never settles (a hung socket, a forgotten resolve). */
function stuckExporter(): Exporter & { calls: number } {
  const e = {
    name: 'stuck',
    calls: 0,
    export(): Promise<never> {
      e.calls++
      return new Promise<never>(() => {})
    },
  }
  return e
}

/** Fails the test instead of hanging it when `p` does not settle in `ms` (a guard, not a timing). */
function guard<T>(p: Promise<T>, ms: number): Promise<T> {
  return Promise.race([
    p,
    new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`not settled within ${ms} ms`)), ms)),
  ])
}

describe('an exporter that never settles', () => {
  it('does not hold an awaited scope.end(): the spans are counted as budget, the other exporter delivers', async () => {
    const stuck = stuckExporter()
    const log: string[] = []
    const tracer = createTracer({
      service: 'deadline',
      exporters: [stuck, otlp({ url: receiver.url, encoding: 'json' })],
      // Room for the real exporter's first (cold) POST on a loaded machine: it takes 30-40 ms
      // here. The stuck exporter must still not hold the flush past it.
      flush: { budgetMs: 1000 },
      log: (line) => log.push(line),
    })
    const scope = tracer.start(undefined, { name: 'job' })
    scope.root.child('step', () => {})
    const report = await guard(scope.end(), 3000)
    expect(stuck.calls).toBe(1)
    expect(report).toMatchObject({ kept: true, spans: 2, exported: 2, dropped: 2, dropReason: 'budget' })
    expect(receiver.spans.filter((s) => s.traceId === scope.traceId)).toHaveLength(2)
    const stats = tracer.stats()
    expect(stats.spans.dropped).toEqual({ budget: 2 })
    expect(stats.exports).toMatchObject({ requests: 2, failed: 1 })
    expect(
      log.filter((l) => l.includes('stuck: export() did not settle within the flush budget')),
    ).toHaveLength(1)
  })

  it('does not hold the flush handed to waitUntil either, and the next scopes are not held by it', async () => {
    const stuck = stuckExporter()
    const tracer = createTracer({
      service: 'deadline',
      exporters: [stuck],
      flush: { budgetMs: 100 },
      log: () => {},
    })
    const pending: Promise<unknown>[] = []
    const waitUntil = (p: Promise<unknown>): void => {
      pending.push(p)
    }
    for (let i = 0; i < 3; i++) void tracer.start(undefined, { waitUntil }).end()
    const reports = await guard(Promise.all(pending), 3000)
    expect(reports).toEqual(
      Array.from({ length: 3 }, () =>
        expect.objectContaining({ exported: 0, dropped: 1, dropReason: 'budget' }),
      ),
    )
    expect(tracer.stats().spans.dropped).toEqual({ budget: 3 })
  })
})

describe('default flush budgets', () => {
  /** An exporter that records how much time each export was given. */
  function budgetProbe(): Exporter & { given: number[] } {
    const given: number[] = []
    return {
      name: 'probe',
      given,
      async export(batch, deadline) {
        given.push(deadline - Date.now())
        return { exported: batch.spans.length, dropped: 0, attempts: 1 }
      },
    }
  }

  it('is short (2 s) when the response waits for the flush, long (10 s) when waitUntil holds it', async () => {
    const probe = budgetProbe()
    const tracer = createTracer({ service: 'budgets', exporters: [probe], flush: { windowMs: 0 } })
    await tracer.start().end()
    await tracer.start(undefined, { waitUntil: () => {} }).end()
    const [awaited, held] = probe.given
    expect(awaited).toBeGreaterThan(1500)
    expect(awaited).toBeLessThanOrEqual(2000)
    expect(held).toBeGreaterThan(9000)
    expect(held).toBeLessThanOrEqual(10_000)
  })

  it('a configured flush.budgetMs applies to both', async () => {
    const probe = budgetProbe()
    const tracer = createTracer({
      service: 'budgets',
      exporters: [probe],
      flush: { windowMs: 0, budgetMs: 5000 },
    })
    await tracer.start().end()
    await tracer.start(undefined, { waitUntil: () => {} }).end()
    for (const ms of probe.given) {
      expect(ms).toBeGreaterThan(4000)
      expect(ms).toBeLessThanOrEqual(5000)
    }
  })

  it('an unreachable collector delays an awaited scope.end() by the 2 s default only, counted as timeout', async () => {
    const blackhole = await startBlackhole()
    try {
      const log: string[] = []
      const tracer = createTracer({
        service: 'awaited',
        exporters: [otlp({ url: blackhole.url, encoding: 'json' })],
        log: (line) => log.push(line),
      })
      const t0 = Date.now()
      const report = await guard(tracer.start(undefined, { name: 'GET /' }).end(), 8000)
      const elapsed = Date.now() - t0
      expect(blackhole.accepted()).toBeGreaterThan(0)
      expect(report).toMatchObject({ kept: true, exported: 0, dropped: 1, dropReason: 'timeout' })
      expect(tracer.stats().spans.dropped).toEqual({ timeout: 1 })
      const limit = attemptLimitMs(log)
      expect(limit).toBeGreaterThan(1000)
      expect(limit).toBeLessThanOrEqual(2000)
      expect(elapsed).toBeLessThan(6000) // a guard only: the budget is asserted above
    } finally {
      await blackhole.close()
    }
  }, 15_000)
})
