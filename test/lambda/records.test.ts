// Batches: per-record process spans parented to each producer, the invocation span linked
// to all of them, and partial batch failure responses that keep working.
import { describe, expect, it } from 'vitest'
import { forEachRecord, traceOf, withTrace } from '../../adapters/lambda/index.js'
import { createTracer, SpanKind, StatusCode } from '../../src/index.js'
import { fixture, lambdaContext, memoryConfig } from './helpers.js'

/** An SQS event of `n` records, each sent by its own producer trace; returns the producers' ids. */
function sqsBatch(n: number, queueArn = 'arn:aws:sqs:us-east-2:123456789012:jobs') {
  const producer = createTracer({ service: 'producer' })
  const base = fixture('sqs-base.json').Records[0]
  const producers: { traceId: string; spanId: string }[] = []
  const Records = Array.from({ length: n }, (_, i) => {
    const span = producer.start().root
    producers.push({ traceId: span.traceId, spanId: span.spanId })
    return {
      ...base,
      messageId: `msg-${i}`,
      body: `body-${i}`,
      eventSourceARN: queueArn,
      messageAttributes: {
        traceparent: {
          stringValue: span.headers()['traceparent'],
          stringListValues: [],
          binaryListValues: [],
          dataType: 'String',
        },
      },
    }
  })
  return { event: { Records }, producers }
}

describe('forEachRecord', () => {
  it('gives each record a CONSUMER process span parented to its own producer, linked to the invocation', async () => {
    const { event, producers } = sqsBatch(3)
    const { memory, config } = memoryConfig()
    const handler = withTrace(
      (e: typeof event, ctx: object) =>
        forEachRecord(e, ctx, (record, span) => span.child('index', () => record.body)),
      config,
    )
    expect(await handler(event, lambdaContext())).toEqual({ batchItemFailures: [] })
    const spans = memory.spans()
    const invocation = spans.find((s) => s.parentSpanId === undefined && s.name === 'process jobs')!
    expect(invocation.kind).toBe(SpanKind.CONSUMER)
    expect(invocation.links.map((l) => l.spanId)).toEqual(producers.map((p) => p.spanId))
    expect(invocation.links[0]?.attributes).toEqual({ 'messaging.message.id': 'msg-0' })
    producers.forEach((p, i) => {
      const record = spans.find(
        (s) => s.attributes['messaging.message.id'] === `msg-${i}` && s.traceId === p.traceId,
      )!
      expect(record.parentSpanId).toBe(p.spanId)
      expect(record.kind).toBe(SpanKind.CONSUMER)
      expect(record.name).toBe('process jobs')
      expect(record.links).toEqual([
        expect.objectContaining({ traceId: invocation.traceId, spanId: invocation.spanId }),
      ])
      const index = spans.find((s) => s.name === 'index' && s.traceId === p.traceId)!
      expect(index.parentSpanId).toBe(record.spanId)
    })
  })

  it('reports failed records in batchItemFailures and marks only their spans failed', async () => {
    const { event, producers } = sqsBatch(4)
    const { memory, config } = memoryConfig()
    const handler = withTrace(
      (e: typeof event, ctx: object) =>
        forEachRecord(e, ctx, async (record) => {
          if (record.body === 'body-1' || record.body === 'body-3')
            throw new Error(`cannot index ${record.body}`)
        }),
      config,
    )
    expect(await handler(event, lambdaContext())).toEqual({
      batchItemFailures: [{ itemIdentifier: 'msg-1' }, { itemIdentifier: 'msg-3' }],
    })
    const spans = memory.spans()
    const statusOf = (i: number) => spans.find((s) => s.traceId === producers[i]!.traceId)!.status.code
    expect([0, 1, 2, 3].map(statusOf)).toEqual([
      StatusCode.UNSET,
      StatusCode.ERROR,
      StatusCode.UNSET,
      StatusCode.ERROR,
    ])
    const invocation = spans.find((s) => s.name === 'process jobs' && s.parentSpanId === undefined)!
    expect(invocation.status.code).toBe(StatusCode.UNSET)
  })

  it('keeps failed records even when their producer did not sample (always keep errors)', async () => {
    const { event } = sqsBatch(2)
    for (const r of event.Records) {
      const tp = r.messageAttributes.traceparent
      tp.stringValue = `${tp.stringValue!.slice(0, -2)}00`
    }
    const { memory, config } = memoryConfig({ sampling: { ratio: 0 } })
    const handler = withTrace(
      (e: typeof event, ctx: object) =>
        forEachRecord(e, ctx, (record) => {
          if (record.body === 'body-0') throw new Error('x')
        }),
      config,
    )
    await handler(event, lambdaContext())
    const spans = memory.spans()
    expect(spans).toHaveLength(1)
    expect(spans[0]?.attributes['messaging.message.id']).toBe('msg-0')
  })

  it('SQS FIFO: stops at the first failure and reports every later record failed, unprocessed', async () => {
    const { event } = sqsBatch(4, 'arn:aws:sqs:us-east-2:123456789012:jobs.fifo')
    const { config } = memoryConfig()
    const seen: string[] = []
    const handler = withTrace(
      (e: typeof event, ctx: object) =>
        forEachRecord(
          e,
          ctx,
          (record) => {
            seen.push(record.body)
            if (record.body === 'body-1') throw new Error('x')
          },
          { parallel: true },
        ),
      config,
    )
    expect(await handler(event, lambdaContext())).toEqual({
      batchItemFailures: [
        { itemIdentifier: 'msg-1' },
        { itemIdentifier: 'msg-2' },
        { itemIdentifier: 'msg-3' },
      ],
    })
    expect(seen).toEqual(['body-0', 'body-1'])
  })

  it('parallel: runs records concurrently', async () => {
    const { event } = sqsBatch(3)
    const { config } = memoryConfig()
    let running = 0
    let peak = 0
    const handler = withTrace(
      (e: typeof event, ctx: object) =>
        forEachRecord(
          e,
          ctx,
          async () => {
            running++
            peak = Math.max(peak, running)
            await new Promise((r) => setTimeout(r, 10))
            running--
          },
          { parallel: true },
        ),
      config,
    )
    await handler(event, lambdaContext())
    expect(peak).toBe(3)
  })

  it('SNS (no partial failures): rethrows the first error after the batch, unchanged', async () => {
    const event = fixture('sns-base.json')
    const { memory, config } = memoryConfig()
    const error = new Error('sns failure')
    const handler = withTrace(
      (e: typeof event, ctx: object) =>
        forEachRecord(e, ctx, () => {
          throw error
        }),
      config,
    )
    await expect(handler(event, lambdaContext())).rejects.toBe(error)
    expect(memory.spans().some((s) => s.status.code === StatusCode.ERROR)).toBe(true)
  })

  it('Kinesis: failures are reported by sequence number', async () => {
    const event = fixture('kinesis-stream.json')
    const { config } = memoryConfig()
    const handler = withTrace(
      (e: typeof event, ctx: object) =>
        forEachRecord(e, ctx, (r: any) => {
          if (r.kinesis.partitionKey === '1') throw new Error('x')
        }),
      config,
    )
    const out = await handler(event, lambdaContext())
    expect(out.batchItemFailures.map((f) => f.itemIdentifier)).toEqual(
      event.Records.map((r: any) => r.kinesis.sequenceNumber),
    )
  })
})

describe('traceOf(record) and returned batch responses', () => {
  it('traceOf(record) creates the record span on first use; a batchItemFailures result marks it failed', async () => {
    const { event, producers } = sqsBatch(2)
    const { memory, config } = memoryConfig()
    const handler = withTrace(async (e: typeof event) => {
      const failures: { itemIdentifier: string }[] = []
      for (const record of e.Records) {
        traceOf(record).child('handle', () => undefined)
        expect(traceOf(record)).toBe(traceOf(record))
        if (record.messageId === 'msg-1') failures.push({ itemIdentifier: record.messageId })
      }
      return { batchItemFailures: failures }
    }, config)
    const result = await handler(event, lambdaContext())
    expect(result).toEqual({ batchItemFailures: [{ itemIdentifier: 'msg-1' }] })
    const spans = memory.spans()
    const r0 = spans.find((s) => s.traceId === producers[0]!.traceId && s.name === 'process jobs')!
    const r1 = spans.find((s) => s.traceId === producers[1]!.traceId && s.name === 'process jobs')!
    expect(r0.status.code).toBe(StatusCode.UNSET)
    expect(r1.status).toEqual({ code: StatusCode.ERROR, message: 'reported in batchItemFailures' })
    expect(
      spans.find((s) => s.parentSpanId === undefined && s.name === 'process jobs')?.attributes[
        'aws.lambda.batch_item_failures'
      ],
    ).toBe(1)
  })

  it('when the handler throws, record spans still open are marked failed (the batch is retried)', async () => {
    const { event, producers } = sqsBatch(2)
    const { memory, config } = memoryConfig()
    const error = new Error('whole batch')
    const handler = withTrace(async (e: typeof event) => {
      for (const record of e.Records) traceOf(record)
      throw error
    }, config)
    await expect(handler(event, lambdaContext())).rejects.toBe(error)
    for (const p of producers) {
      expect(memory.spans().find((s) => s.traceId === p.traceId)?.status).toEqual({
        code: StatusCode.ERROR,
        message: 'the invocation failed',
      })
    }
  })

  it('a record object reused by a later invocation gets that invocation span, not the old one', async () => {
    const { event } = sqsBatch(1)
    const { memory, config } = memoryConfig()
    const handler = withTrace(async (e: typeof event) => traceOf(e.Records[0]!).spanId, config)
    const first = await handler(event, lambdaContext())
    const second = await handler(event, lambdaContext())
    expect(first).not.toBe(second)
    expect(
      memory.spans().filter((s) => s.name === 'process jobs' && s.parentSpanId !== undefined),
    ).toHaveLength(2)
  })

  it('links at most limits.linksPerSpan records; forEachRecord still parents every record', async () => {
    const { event, producers } = sqsBatch(5)
    const { memory, config } = memoryConfig({ limits: { linksPerSpan: 2 } })
    const handler = withTrace(
      (e: typeof event, ctx: object) => forEachRecord(e, ctx, () => undefined),
      config,
    )
    await handler(event, lambdaContext())
    const spans = memory.spans()
    const invocation = spans.find((s) => s.parentSpanId === undefined && s.name === 'process jobs')!
    expect(invocation.links).toHaveLength(2)
    for (const p of producers) expect(spans.find((s) => s.traceId === p.traceId)?.parentSpanId).toBe(p.spanId)
  })
})
