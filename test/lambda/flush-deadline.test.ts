// On Lambda the response waits for the flush: an exporter whose export() never settles must
// not hold it past flush.budgetMs; the spans it did not deliver are counted as budget.
import { describe, expect, it } from 'vitest'
import { type LambdaContextLike, traceOf, withTrace } from '../../adapters/lambda/index.js'
import { createTracer, type Exporter, type Tracer } from '../../src/index.js'
import { fixture, lambdaContext } from './helpers.js'

function stuckExporter(): Exporter {
  return { name: 'stuck', export: () => new Promise<never>(() => {}) }
}

function guard<T>(p: Promise<T>, ms: number): Promise<T> {
  return Promise.race([
    p,
    new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`not settled within ${ms} ms`)), ms)),
  ])
}

describe('Lambda withTrace with an exporter that never settles', () => {
  it('returns the result once the 100 ms budget is over, the spans counted as budget', async () => {
    const log: string[] = []
    let tracer: Tracer | undefined
    // Configured as a deployment would: the config object, so createLambdaTracer applies.
    const handler = withTrace(
      async (event: { rawPath: string }, context: LambdaContextLike) => {
        tracer = traceOf(context).scope.tracer
        return { statusCode: 200, body: event.rawPath }
      },
      {
        service: 'retrieval',
        exporters: [stuckExporter()],
        flush: { budgetMs: 100 },
        log: (l) => log.push(l),
      },
    )
    // A realistic context: 30 s left, so only the flush budget can end the wait.
    const context = lambdaContext(30_000)
    const result = await guard(handler(fixture('apigw-http-no-auth.json'), context), 5000)
    expect(result).toMatchObject({ statusCode: 200 })
    const stats = tracer!.stats()
    expect(stats.spans.recorded).toBe(1)
    expect(stats.spans.dropped).toEqual({ budget: 1 })
    expect(log.some((l) => l.includes('export() did not settle within the flush budget'))).toBe(true)
  })

  it('rethrows the handler error unchanged after the same bounded flush', async () => {
    const tracer = createTracer({
      service: 'retrieval',
      exporters: [stuckExporter()],
      flush: { budgetMs: 100 },
      log: () => {},
    })
    const boom = new Error('boom')
    const handler = withTrace(async () => {
      throw boom
    }, tracer)
    await expect(guard(handler(fixture('sqs-base.json'), lambdaContext(30_000)), 5000)).rejects.toBe(boom)
    expect(tracer.stats().spans.dropped.budget).toBeGreaterThan(0)
  })
})
