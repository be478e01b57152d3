// Deadlines are the library's, not the exporter's: an exporter whose export() never settles
// cannot hold scope.end() past flush.budgetMs; what it did not deliver is counted as budget.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTracer, type Exporter, otlp } from '../../src/index.js'
import { type OtlpReceiver, startOtlpReceiver } from '../cloudflare/helpers/otlp-receiver.js'

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
      flush: { budgetMs: 100 },
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
