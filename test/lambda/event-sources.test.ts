// Every event source, from a fixture of the real AWS shape with the trace context added in
// the casing and place that source really uses, yields the producer's trace id and parent.
import fc from 'fast-check'
import { afterEach, describe, expect, it } from 'vitest'
import { forEachRecord, traceOf, withTrace } from '../../adapters/lambda/index.js'
import { createTracer, SpanKind, type SpanRecord } from '../../src/index.js'
import { fixture, lambdaContext, memoryConfig, PARENT_ID, setEnv, TRACE_ID, TRACEPARENT } from './helpers.js'

const XRAY_ROOT = '1-5759e988-bd862e3fe1be46a994272793'
const XRAY_TRACE_ID = '5759e988bd862e3fe1be46a994272793'
const XRAY_PARENT = '53995c3f42cd8ad8'

let restore: (() => void) | undefined
afterEach(() => {
  restore?.()
  restore = undefined
})

/** Runs one invocation of a handler that records nothing of its own; returns the exported spans. */
async function invoke(event: unknown, context = lambdaContext(), extra: Record<string, unknown> = {}) {
  const { memory, config } = memoryConfig(extra)
  const handler = withTrace(async (_event: unknown, ctx: object) => {
    traceOf(ctx).set('test.handled', true)
    return { statusCode: 200, body: 'ok' }
  }, config)
  const result = await handler(event, context)
  return {
    result,
    spans: memory.spans(),
    root: memory.spans().find((s) => s.attributes['test.handled'] === true)!,
  }
}

/** A producer's outgoing headers (W3C + LangSmith), from a real tracehop scope. */
function producerHeaders(): { headers: Record<string, string>; traceId: string; spanId: string } {
  const tracer = createTracer({ service: 'producer' })
  const scope = tracer.start()
  const span = scope.root.startChild('send')
  return { headers: span.headers(), traceId: span.traceId, spanId: span.spanId }
}

function expectContinues(root: SpanRecord, traceId = TRACE_ID, parent = PARENT_ID): void {
  expect(root.traceId).toBe(traceId)
  expect(root.parentSpanId).toBe(parent)
  expect(root.remoteParent).toBe(true)
}

describe('HTTP event sources', () => {
  it('API Gateway REST v1: reads the client casing (Traceparent) from headers and multiValueHeaders', async () => {
    const event = fixture('apigw-rest-no-auth.json')
    event.headers.Traceparent = TRACEPARENT
    event.multiValueHeaders.Traceparent = [TRACEPARENT]
    const { root } = await invoke(event)
    expectContinues(root)
    expect(root.name).toBe('POST /no-auth')
    expect(root.kind).toBe(SpanKind.SERVER)
    expect(root.attributes['faas.trigger']).toBe('http')
    expect(root.attributes['http.route']).toBe('/no-auth')
    expect(root.attributes['http.response.status_code']).toBe(200)
  })

  it('API Gateway REST v1: joins repeated header lines from multiValueHeaders (headers holds only the last)', async () => {
    const event = fixture('apigw-rest-no-auth.json')
    event.headers.traceparent = TRACEPARENT
    event.multiValueHeaders.traceparent = [TRACEPARENT]
    event.headers.tracestate = 'b=2'
    event.multiValueHeaders.tracestate = ['a=1', 'b=2']
    const { memory, config } = memoryConfig()
    const handler = withTrace(async (_e: unknown, ctx: object) => traceOf(ctx).context().traceState, config)
    const state = await handler(event, lambdaContext())
    expect(state?.map((m) => m.key)).toEqual(expect.arrayContaining(['a', 'b']))
    expect(memory.spans()[0]?.traceId).toBe(TRACE_ID)
  })

  it('API Gateway REST v1: reads headers alone when multiValueHeaders is absent', async () => {
    const event = fixture('apigw-rest-no-auth.json')
    delete event.multiValueHeaders
    event.headers.TRACEPARENT = TRACEPARENT
    expectContinues((await invoke(event)).root)
  })

  it('the API domain is the same origin: span.headers() for it carries the trace, a third party gets none', async () => {
    const event = fixture('apigw-http-no-auth.json')
    const { config } = memoryConfig()
    const handler = withTrace(async (_e: unknown, ctx: object) => {
      const span = traceOf(ctx)
      return [
        span.headers('https://lsw1ro4ipb.execute-api.eu-west-1.amazonaws.com/other'),
        span.headers('https://api.example.com/'),
      ]
    }, config)
    const [same, third] = await handler(event, lambdaContext())
    expect(same?.['traceparent']).toBeDefined()
    expect(third).toEqual({})
  })

  it('HTTP API v2: reads lowercase headers; names the span by routeKey', async () => {
    const event = fixture('apigw-http-no-auth.json')
    event.headers.traceparent = TRACEPARENT
    const { root } = await invoke(event)
    expectContinues(root)
    expect(root.name).toBe('POST /lambda')
    expect(root.attributes['http.route']).toBe('/lambda')
  })

  it('ALB (single-value headers)', async () => {
    const event = fixture('alb-base.json')
    event.headers.traceparent = TRACEPARENT
    const { root } = await invoke(event)
    expectContinues(root)
    expect(root.name).toBe('GET')
    expect(root.attributes['url.path']).toBe('/lambda')
  })

  it('ALB (multi-value headers enabled)', async () => {
    const event = fixture('alb-multi-fields.json')
    event.multiValueHeaders.traceparent = [TRACEPARENT]
    expectContinues((await invoke(event)).root)
  })

  it('Function URL (payload 2.0 on a lambda-url domain)', async () => {
    const event = fixture('lambda-base.json')
    event.headers.traceparent = TRACEPARENT
    const { root } = await invoke(event)
    expectContinues(root)
    expect(root.attributes['faas.trigger']).toBe('http')
    expect(root.name).toBe('POST')
  })

  it('continues a LangSmith-only caller (langsmith-trace, any casing)', async () => {
    const p = producerHeaders()
    const event = fixture('apigw-http-no-auth.json')
    event.headers['Langsmith-Trace'] = p.headers['langsmith-trace']
    const { root } = await invoke(event)
    expect(root.traceId).toBe(p.traceId)
    expect(root.parentSpanId).toBe(p.spanId)
  })

  it('marks a 5xx result as an error and records the status code', async () => {
    const { memory, config } = memoryConfig()
    const handler = withTrace(async () => ({ statusCode: 503, body: 'down' }), config)
    const event = fixture('apigw-http-no-auth.json')
    expect(await handler(event, lambdaContext())).toEqual({ statusCode: 503, body: 'down' })
    const [root] = memory.spans()
    expect(root?.attributes['http.response.status_code']).toBe(503)
    expect(root?.status.code).toBe(2)
  })
})

describe('X-Ray precedence', () => {
  it('an X-Ray header with Parent and Sampled continues the X-Ray trace (mapped trace id)', async () => {
    const event = fixture('apigw-rest-no-auth.json')
    const header = `Root=${XRAY_ROOT};Parent=${XRAY_PARENT};Sampled=1;Lineage=a87bd80c:1`
    event.headers['X-Amzn-Trace-Id'] = header
    event.multiValueHeaders['X-Amzn-Trace-Id'] = [header]
    expectContinues((await invoke(event)).root, XRAY_TRACE_ID, XRAY_PARENT)
  })

  it('W3C wins over X-Ray; the X-Ray root stays as aws.xray.trace_id', async () => {
    const event = fixture('apigw-rest-no-auth.json')
    const header = `Root=${XRAY_ROOT};Parent=${XRAY_PARENT};Sampled=1`
    event.headers['X-Amzn-Trace-Id'] = header
    event.multiValueHeaders['X-Amzn-Trace-Id'] = [header]
    event.headers.traceparent = TRACEPARENT
    event.multiValueHeaders.traceparent = [TRACEPARENT]
    const { root } = await invoke(event)
    expectContinues(root)
    expect(root.attributes['aws.xray.trace_id']).toBe(XRAY_ROOT)
  })

  it('a Root-only header (as API Gateway and ALB send it) is correlation only: fresh trace, aws.xray.trace_id', async () => {
    const event = fixture('alb-base.json') // x-amzn-trace-id: Root=1-5c536348-3d683b8b04734faae651f476
    const { root } = await invoke(event)
    expect(root.traceId).not.toBe('5c5363483d683b8b04734faae651f476')
    expect(root.parentSpanId).toBeUndefined()
    expect(root.attributes['aws.xray.trace_id']).toBe('1-5c536348-3d683b8b04734faae651f476')
  })

  it('_X_AMZN_TRACE_ID is a link (source=x-ray-env) and aws.xray.trace_id, never the parent', async () => {
    restore = setEnv({
      _X_AMZN_TRACE_ID: `Root=${XRAY_ROOT};Parent=${XRAY_PARENT};Sampled=1`,
      AWS_LAMBDA_MAX_CONCURRENCY: undefined,
    })
    const { root } = await invoke({ query: 'direct invoke' })
    expect(root.traceId).not.toBe(XRAY_TRACE_ID)
    expect(root.parentSpanId).toBeUndefined()
    expect(root.attributes['aws.xray.trace_id']).toBe(XRAY_ROOT)
    expect(root.links).toContainEqual(
      expect.objectContaining({
        traceId: XRAY_TRACE_ID,
        spanId: XRAY_PARENT,
        attributes: { source: 'x-ray-env' },
      }),
    )
  })

  it('_X_AMZN_TRACE_ID with Sampled=1 does not force sampling', async () => {
    restore = setEnv({ _X_AMZN_TRACE_ID: `Root=${XRAY_ROOT};Parent=${XRAY_PARENT};Sampled=1` })
    const { spans } = await invoke({ query: 'x' }, lambdaContext(), { sampling: { ratio: 0 } })
    expect(spans).toHaveLength(0)
  })

  it('does not read _X_AMZN_TRACE_ID when AWS_LAMBDA_MAX_CONCURRENCY is set (shared by concurrent invocations)', async () => {
    restore = setEnv({
      _X_AMZN_TRACE_ID: `Root=${XRAY_ROOT};Parent=${XRAY_PARENT};Sampled=0`,
      AWS_LAMBDA_MAX_CONCURRENCY: '8',
    })
    const { root } = await invoke({ query: 'x' })
    expect(root.attributes['aws.xray.trace_id']).toBeUndefined()
    expect(root.links).toHaveLength(0)
  })

  it("reads the runtime's per-invocation InvokeStore first, also under AWS_LAMBDA_MAX_CONCURRENCY", async () => {
    restore = setEnv({
      _X_AMZN_TRACE_ID: 'Root=1-00000001-000000000000000000000001',
      AWS_LAMBDA_MAX_CONCURRENCY: '8',
    })
    const g = globalThis as { awslambda?: unknown }
    g.awslambda = {
      InvokeStore: { getXRayTraceId: () => `Root=${XRAY_ROOT};Parent=${XRAY_PARENT};Sampled=0` },
    }
    try {
      const { root } = await invoke({ query: 'x' })
      expect(root.attributes['aws.xray.trace_id']).toBe(XRAY_ROOT)
      expect(root.links.map((l) => l.spanId)).toEqual([XRAY_PARENT])
    } finally {
      delete g.awslambda
    }
  })
})

describe('queue and event-bus sources', () => {
  it('SQS: messageAttributes.traceparent.stringValue parents the record span; the invocation span links to it', async () => {
    const event = fixture('sqs-base.json')
    event.Records[0].messageAttributes.traceparent = {
      stringValue: TRACEPARENT,
      stringListValues: [],
      binaryListValues: [],
      dataType: 'String',
    }
    const { memory, config } = memoryConfig()
    const handler = withTrace(
      (e: typeof event, ctx: object) => forEachRecord(e, ctx, (_r, span) => span.set('test.record', true)),
      config,
    )
    expect(await handler(event, lambdaContext())).toEqual({ batchItemFailures: [] })
    const spans = memory.spans()
    const invocation = spans.find(
      (s) => s.name === 'process my-queue' && s.kind === SpanKind.CONSUMER && s.parentSpanId === undefined,
    )!
    expect(invocation.attributes['messaging.batch.message_count']).toBe(2)
    expect(invocation.links).toContainEqual(expect.objectContaining({ traceId: TRACE_ID, spanId: PARENT_ID }))
    const first = spans.find(
      (s) =>
        s.attributes['messaging.message.id'] === event.Records[0].messageId && s.attributes['test.record'],
    )!
    expectContinues(first)
    expect(first.links).toContainEqual(
      expect.objectContaining({ traceId: invocation.traceId, spanId: invocation.spanId }),
    )
    // The record without context is a child of the invocation span.
    const second = spans.find((s) => s.attributes['messaging.message.id'] === event.Records[1].messageId)!
    expect(second.traceId).toBe(invocation.traceId)
    expect(second.parentSpanId).toBe(invocation.spanId)
  })

  it('SQS: the AWSTraceHeader system attribute (Parent and Sampled) parents the record; W3C wins when both', async () => {
    const event = fixture('sqs-base.json')
    event.Records[0].attributes.AWSTraceHeader = `Root=${XRAY_ROOT};Parent=${XRAY_PARENT};Sampled=1`
    event.Records[1].attributes.AWSTraceHeader = `Root=${XRAY_ROOT};Parent=${XRAY_PARENT};Sampled=1`
    event.Records[1].messageAttributes.traceparent = { stringValue: TRACEPARENT, dataType: 'String' }
    const { memory, config } = memoryConfig()
    const handler = withTrace(
      (e: typeof event, ctx: object) => forEachRecord(e, ctx, () => undefined),
      config,
    )
    await handler(event, lambdaContext())
    const spans = memory.spans()
    const xray = spans.find((s) => s.attributes['messaging.message.id'] === event.Records[0].messageId)!
    expectContinues(xray, XRAY_TRACE_ID, XRAY_PARENT)
    const w3c = spans.find((s) => s.attributes['messaging.message.id'] === event.Records[1].messageId)!
    expectContinues(w3c)
    expect(w3c.attributes['aws.xray.trace_id']).toBe(XRAY_ROOT)
  })

  it('SNS: Sns.MessageAttributes {Type: String, Value}', async () => {
    const event = fixture('sns-base.json')
    event.Records[0].Sns.MessageAttributes.traceparent = { Type: 'String', Value: TRACEPARENT }
    const { memory, config } = memoryConfig()
    const handler = withTrace(
      (e: typeof event, ctx: object) => forEachRecord(e, ctx, () => undefined),
      config,
    )
    await handler(event, lambdaContext())
    const record = memory
      .spans()
      .find((s) => s.attributes['messaging.message.id'] === '95df01b4-ee98-5cb9-9903-4c221d41eb5e')!
    expectContinues(record)
    expect(record.name).toBe('process ExampleTopic')
    expect(record.attributes['messaging.system']).toBe('aws.sns')
  })

  it('SNS->SQS without raw delivery: the SNS envelope in the body carries MessageAttributes', async () => {
    const event = fixture('sqs-sns-body.json')
    const envelope = JSON.parse(event.Records[0].body)
    envelope.MessageAttributes = { traceparent: { Type: 'String', Value: TRACEPARENT } }
    event.Records[0].body = JSON.stringify(envelope, null, 2)
    const { memory, config } = memoryConfig()
    const handler = withTrace(
      (e: typeof event, ctx: object) => forEachRecord(e, ctx, () => undefined),
      config,
    )
    await handler(event, lambdaContext())
    const record = memory
      .spans()
      .find((s) => s.attributes['messaging.message.id'] === event.Records[0].messageId)!
    expectContinues(record)
  })

  it('SNS->SQS with raw delivery: the SNS attributes arrive as SQS message attributes', async () => {
    const event = fixture('sqs-sns-body.json')
    event.Records[0].body = '{"message": "hello world"}'
    event.Records[0].messageAttributes = {
      traceparent: {
        stringValue: TRACEPARENT,
        stringListValues: [],
        binaryListValues: [],
        dataType: 'String',
      },
    }
    const { memory, config } = memoryConfig()
    const handler = withTrace(
      (e: typeof event, ctx: object) => forEachRecord(e, ctx, () => undefined),
      config,
    )
    await handler(event, lambdaContext())
    expectContinues(
      memory.spans().find((s) => s.attributes['messaging.message.id'] === event.Records[0].messageId)!,
    )
  })

  it('EventBridge: detail._tracehop carries the headers; the invocation continues it', async () => {
    const event = fixture('eventbridge-base.json')
    event.detail._tracehop = { traceparent: TRACEPARENT }
    const { root } = await invoke(event)
    expectContinues(root)
    expect(root.attributes['faas.trigger']).toBe('pubsub')
    expect(root.attributes['aws.eventbridge.detail_type']).toBe('EC2 Instance State-change Notification')
  })

  it('Lambda.Invoke: context.clientContext.custom (and the @types spelling Custom)', async () => {
    for (const key of ['custom', 'Custom']) {
      const context = lambdaContext(3000, {
        clientContext: { client: {}, env: {}, [key]: { traceparent: TRACEPARENT } },
      })
      const { root } = await invoke({ query: 'direct' }, context)
      expectContinues(root)
      expect(root.name).toBe('retrieval')
      expect(root.attributes['faas.trigger']).toBe('other')
    }
  })

  it('Kinesis: records carry no context; the batch still runs and each record gets a child span', async () => {
    const event = fixture('kinesis-stream.json')
    const { memory, config } = memoryConfig()
    const handler = withTrace(
      (e: typeof event, ctx: object) => forEachRecord(e, ctx, () => undefined),
      config,
    )
    expect(await handler(event, lambdaContext())).toEqual({ batchItemFailures: [] })
    const spans = memory.spans()
    expect(spans).toHaveLength(3)
    expect(new Set(spans.map((s) => s.traceId)).size).toBe(1)
    expect(spans.filter((s) => s.name === 'process lambda-stream')).toHaveLength(2)
  })
})

describe('fuzzed events', () => {
  const traceValue = fc.oneof(
    fc.string(),
    fc.string({ minLength: 50_000, maxLength: 60_000 }),
    fc.integer(),
    fc.constant(null),
    fc.array(fc.string()),
    fc.object(),
  )
  const mutate = (base: string) =>
    fc
      .record({
        where: fc.nat(),
        value: traceValue,
        drop: fc.subarray(['headers', 'multiValueHeaders', 'Records', 'detail', 'requestContext']),
      })
      .map(({ where, value, drop }) => {
        const e = fixture(base)
        for (const k of drop) delete e[k]
        if (Array.isArray(e.Records) && e.Records.length > 0) {
          const r = e.Records[where % e.Records.length]
          if (where % 3 === 0)
            r.messageAttributes = { traceparent: { stringValue: value, dataType: 'String' } }
          else if (where % 3 === 1) r.attributes = value
          else if (r.Sns) r.Sns.MessageAttributes = value
          else r.body = value
        }
        if (e.headers) e.headers.traceparent = value
        if (e.multiValueHeaders) e.multiValueHeaders.traceparent = value
        if (e.detail) e.detail._tracehop = where % 2 ? value : { traceparent: value }
        return e
      })
  const fixtures = [
    'apigw-rest-no-auth.json',
    'apigw-http-no-auth.json',
    'alb-base.json',
    'alb-multi-fields.json',
    'lambda-base.json',
    'sqs-base.json',
    'sqs-sns-body.json',
    'sns-base.json',
    'eventbridge-base.json',
    'kinesis-stream.json',
  ]

  it('never throw, return the handler result, and start a fresh trace', async () => {
    const { memory, config } = memoryConfig()
    const handler = withTrace(async (e: any, ctx: object) => {
      if (Array.isArray(e?.Records)) await forEachRecord(e, ctx, () => undefined)
      return 'done'
    }, config)
    await fc.assert(
      fc.asyncProperty(fc.oneof(...fixtures.map(mutate)), async (event) => {
        memory.clear()
        expect(await handler(event, lambdaContext())).toBe('done')
        for (const s of memory.spans()) {
          expect(s.traceId).not.toBe(TRACE_ID)
          if (s.parentSpanId !== undefined)
            expect(memory.spans().some((p) => p.spanId === s.parentSpanId)).toBe(true)
        }
      }),
      { numRuns: 300 },
    )
  })

  it('never throw on arbitrary values as the event or the context', async () => {
    const { config } = memoryConfig()
    const handler = withTrace(async () => 42, config)
    await fc.assert(
      fc.asyncProperty(fc.anything(), fc.anything(), async (event, context) => {
        expect(await handler(event, context as never)).toBe(42)
      }),
      { numRuns: 300 },
    )
  })

  it('never throw on an event whose getters throw, and count it', async () => {
    const { config } = memoryConfig()
    const hostile = new Proxy(
      {},
      {
        get: () => {
          throw new Error('boom')
        },
        has: () => {
          throw new Error('boom')
        },
      },
    )
    const tracer = createTracer(config)
    const handler = withTrace(async () => 'ok', tracer)
    expect(await handler(hostile, lambdaContext())).toBe('ok')
    expect(await handler({ Records: [hostile, hostile] }, lambdaContext())).toBe('ok')
    expect(await handler({ headers: hostile, multiValueHeaders: hostile }, lambdaContext())).toBe('ok')
    expect(await handler({}, hostile as never)).toBe('ok')
    expect(await handler(fixture('sqs-base.json'), hostile as never)).toBe('ok')
    expect(tracer.stats().invalid.event).toBeGreaterThanOrEqual(4)
  })
})
