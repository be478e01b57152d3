// Producers: the real AWS SDK v3 clients, wrapped with traced(client, span), against a
// local endpoint that records their serialized requests; then the consumer side reads the
// recorded context back from the event shape each service delivers.
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge'
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda'
import { PublishBatchCommand, PublishCommand, SNSClient } from '@aws-sdk/client-sns'
import {
  GetQueueAttributesCommand,
  SendMessageBatchCommand,
  SendMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { traced, withTrace } from '../../adapters/lambda/index.js'
import { createTracer, memoryExporter, SpanKind, StatusCode } from '../../src/index.js'
import {
  type AwsEndpoint,
  CREDENTIALS,
  formFields,
  REGION,
  snsAttributes,
  startAwsEndpoint,
} from './aws-endpoint.js'
import { fixture, lambdaContext, memoryConfig } from './helpers.js'

let aws: AwsEndpoint
let sqs: SQSClient
let sns: SNSClient
let eventBridge: EventBridgeClient
let lambda: LambdaClient
let queueUrl: string
let topicArn: string

beforeAll(async () => {
  aws = await startAwsEndpoint()
  const common = { endpoint: aws.url, region: REGION, credentials: CREDENTIALS, maxAttempts: 1 }
  sqs = new SQSClient(common)
  sns = new SNSClient(common)
  eventBridge = new EventBridgeClient(common)
  lambda = new LambdaClient(common)
  queueUrl = aws.fauxqs.createQueue('jobs').queueUrl
  topicArn = aws.fauxqs.createTopic('events').topicArn
})

afterAll(async () => {
  for (const c of [sqs, sns, eventBridge, lambda]) c?.destroy()
  await aws?.close()
})

function producerScope(config: Parameters<typeof createTracer>[0] = { service: 'producer' }) {
  const memory = memoryExporter()
  const tracer = createTracer({ exporters: [memory], flush: { windowMs: 0 }, ...config })
  return { tracer, memory, scope: tracer.start(undefined, { name: 'agent' }) }
}

function lastRequest(operation: string) {
  const r = [...aws.requests].reverse().find((x) => x.operation === operation)
  if (!r) throw new Error(`no ${operation} request: ${aws.requests.map((x) => x.operation).join(', ')}`)
  return r
}

describe('SQS', () => {
  it('SendMessage: a PRODUCER span, its traceparent and langsmith-trace as String message attributes', async () => {
    const { memory, scope } = producerScope()
    const out = await traced(sqs, scope.root).send(
      new SendMessageCommand({
        QueueUrl: queueUrl,
        MessageBody: '{"doc":42}',
        MessageAttributes: { kind: { DataType: 'String', StringValue: 'index' } },
      }),
    )
    await scope.end()
    const body = JSON.parse(lastRequest('AmazonSQS.SendMessage').body)
    const producer = memory.spans().find((s) => s.name === 'send jobs')!
    expect(producer.kind).toBe(SpanKind.PRODUCER)
    expect(producer.parentSpanId).toBe(scope.root.spanId)
    expect(producer.attributes).toMatchObject({
      'messaging.system': 'aws_sqs',
      'messaging.destination.name': 'jobs',
      'messaging.operation.type': 'send',
      'messaging.message.id': out.MessageId,
    })
    expect(body.MessageAttributes.kind).toEqual({ DataType: 'String', StringValue: 'index' })
    expect(body.MessageAttributes.traceparent).toEqual({
      DataType: 'String',
      StringValue: expect.stringMatching(new RegExp(`^00-${producer.traceId}-${producer.spanId}-0[0-3]$`)),
    })
    expect(body.MessageAttributes['langsmith-trace'].StringValue).toContain(producer.runId)
  })

  it('never mutates the command or the shared client; other commands pass through untraced', async () => {
    const { memory, scope } = producerScope()
    const input = { QueueUrl: queueUrl, MessageBody: 'x' }
    const command = new SendMessageCommand(input)
    const before = JSON.stringify(command.input)
    const client = traced(sqs, scope.root)
    await client.send(command)
    await client.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['All'] }))
    await scope.end()
    expect(JSON.stringify(command.input)).toBe(before)
    expect(command.middlewareStack.identify().some((m) => m.includes('tracehop'))).toBe(false)
    expect(sqs.middlewareStack.identify().some((m) => m.includes('tracehop'))).toBe(false)
    expect(
      memory
        .spans()
        .map((s) => s.name)
        .sort(),
    ).toEqual(['agent', 'send jobs'])
    // The plain client sends nothing of ours.
    await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: 'plain' }))
    expect(JSON.parse(lastRequest('AmazonSQS.SendMessage').body).MessageAttributes).toBeUndefined()
  })

  it('each wrapper carries its own span, also with concurrent sends and a middleware-caching client', async () => {
    const caching = new SQSClient({
      endpoint: aws.url,
      region: REGION,
      credentials: CREDENTIALS,
      cacheMiddleware: true,
    })
    try {
      const a = producerScope()
      const b = producerScope()
      await Promise.all([
        traced(caching, a.scope.root).send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: 'a' })),
        traced(caching, b.scope.root).send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: 'b' })),
      ])
      const sent = aws.requests
        .filter((r) => r.operation === 'AmazonSQS.SendMessage')
        .slice(-2)
        .map((r) => JSON.parse(r.body))
      for (const [p, letter] of [
        [a, 'a'],
        [b, 'b'],
      ] as const) {
        const body = sent.find((s) => s.MessageBody === letter)
        expect(body.MessageAttributes.traceparent.StringValue).toContain(p.scope.traceId)
      }
    } finally {
      caching.destroy()
    }
  })

  it('respects the 10-attribute limit: fills what is left, skips the rest and counts them; the send succeeds', async () => {
    const { tracer, scope } = producerScope()
    const nine = Object.fromEntries(
      Array.from({ length: 9 }, (_, i) => [`attr${i}`, { DataType: 'String', StringValue: `v${i}` }]),
    )
    const wanted = Object.keys(scope.root.headers()).length
    await traced(sqs, scope.root).send(
      new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: 'x', MessageAttributes: nine }),
    )
    const body = JSON.parse(lastRequest('AmazonSQS.SendMessage').body)
    expect(Object.keys(body.MessageAttributes)).toHaveLength(10)
    expect(body.MessageAttributes.traceparent).toBeDefined()
    expect(tracer.stats().limits).toMatchObject({ 'message-attributes': wanted - 1 })

    const ten = { ...nine, attr9: { DataType: 'String', StringValue: 'v9' } }
    await traced(sqs, scope.root).send(
      new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: 'x', MessageAttributes: ten }),
    )
    const full = JSON.parse(lastRequest('AmazonSQS.SendMessage').body)
    expect(full.MessageAttributes).toEqual(ten)
    expect((tracer.stats().limits as Record<string, number>)['message-attributes']).toBe(2 * wanted - 1)
    await scope.end()
  })

  it('never overwrites an attribute the user set, in any casing', async () => {
    const { scope } = producerScope()
    await traced(sqs, scope.root).send(
      new SendMessageCommand({
        QueueUrl: queueUrl,
        MessageBody: 'x',
        MessageAttributes: { Traceparent: { DataType: 'String', StringValue: 'mine' } },
      }),
    )
    const body = JSON.parse(lastRequest('AmazonSQS.SendMessage').body)
    expect(body.MessageAttributes.Traceparent.StringValue).toBe('mine')
    expect(body.MessageAttributes.traceparent).toBeUndefined()
    await scope.end()
  })

  it('skips the context when it would push a message over the 256 KiB limit', async () => {
    const { tracer, scope } = producerScope()
    const body = 'x'.repeat(256 * 1024 - 20)
    await traced(sqs, scope.root).send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: body }))
    expect(JSON.parse(lastRequest('AmazonSQS.SendMessage').body).MessageAttributes).toBeUndefined()
    expect((tracer.stats().limits as Record<string, number>)['message-attributes']).toBeGreaterThan(0)
    await scope.end()
  })

  it('writes X-Ray as the AWSTraceHeader system attribute (not one of the 10), when xray is a write format', async () => {
    const { scope } = producerScope({ service: 'producer', propagation: { write: ['w3c', 'xray'] } })
    await traced(sqs, scope.root).send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: 'x' }))
    await scope.end()
    const body = JSON.parse(lastRequest('AmazonSQS.SendMessage').body)
    expect(Object.keys(body.MessageAttributes)).toEqual(['traceparent'])
    const header: string = body.MessageSystemAttributes.AWSTraceHeader.StringValue
    const t = scope.traceId
    expect(header).toMatch(
      new RegExp(`^Root=1-${t.slice(0, 8)}-${t.slice(8)};Parent=[0-9a-f]{16};Sampled=[01]$`),
    )

    // fauxqs drops AWSTraceHeader: deliver it the way Lambda does, X-Ray alone, to the consumer.
    const event = fixture('sqs-base.json')
    event.Records = [
      {
        ...event.Records[1],
        attributes: { ...event.Records[1].attributes, AWSTraceHeader: header },
        messageAttributes: {},
      },
    ]
    const { memory, config } = memoryConfig()
    const { forEachRecord } = await import('../../adapters/lambda/index.js')
    await withTrace((e: any, ctx: object) => forEachRecord(e, ctx, () => undefined), config)(
      event,
      lambdaContext(),
    )
    const record = memory.spans().find((s) => s.parentSpanId !== undefined && s.name === 'process my-queue')!
    expect(record.traceId).toBe(t)
    expect(record.parentSpanId).toBe(header.split(';')[1]!.slice('Parent='.length))
  })

  it('SendMessageBatch: one PRODUCER span with the batch size; every entry carries its context', async () => {
    const { memory, scope } = producerScope()
    await traced(sqs, scope.root).send(
      new SendMessageBatchCommand({
        QueueUrl: queueUrl,
        Entries: [
          { Id: '1', MessageBody: 'one' },
          { Id: '2', MessageBody: 'two', MessageAttributes: { a: { DataType: 'String', StringValue: 'b' } } },
        ],
      }),
    )
    await scope.end()
    const producer = memory.spans().find((s) => s.name === 'send jobs')!
    expect(producer.attributes['messaging.batch.message_count']).toBe(2)
    const entries = JSON.parse(lastRequest('AmazonSQS.SendMessageBatch').body).Entries
    for (const e of entries) expect(e.MessageAttributes.traceparent.StringValue).toContain(producer.spanId)
    expect(entries[1].MessageAttributes.a.StringValue).toBe('b')
  })

  it('a failed send: the SDK error reaches the caller unchanged and the producer span records it', async () => {
    const { memory, scope } = producerScope()
    aws.failNext(1)
    const err = await traced(sqs, scope.root)
      .send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: 'x' }))
      .catch((e: unknown) => e)
    await scope.end()
    expect(err).toBeInstanceOf(Error)
    expect((err as Error).name).toBe('InternalError')
    const producer = memory.spans().find((s) => s.name === 'send jobs')!
    expect(producer.status.code).toBe(StatusCode.ERROR)
    expect(producer.attributes['error.type']).toBe('InternalError')
  })
})

describe('SNS', () => {
  it('Publish: message attributes in the Query-protocol request; consumer reads Sns.MessageAttributes', async () => {
    const { memory, scope } = producerScope()
    await traced(sns, scope.root).send(new PublishCommand({ TopicArn: topicArn, Message: 'hello' }))
    await scope.end()
    const attrs = snsAttributes(formFields(lastRequest('SNS.Publish').body))
    const producer = memory.spans().find((s) => s.name === 'send events')!
    expect(producer.attributes['messaging.system']).toBe('aws.sns')
    expect(attrs['traceparent']).toEqual({
      DataType: 'String',
      StringValue: expect.stringContaining(producer.spanId),
    })

    const event = fixture('sns-base.json')
    event.Records[0].Sns.MessageAttributes = Object.fromEntries(
      Object.entries(attrs).map(([k, v]) => [k, { Type: v.DataType, Value: v.StringValue }]),
    )
    const consumer = memoryConfig()
    const { forEachRecord } = await import('../../adapters/lambda/index.js')
    await withTrace((e: any, ctx: object) => forEachRecord(e, ctx, () => undefined), consumer.config)(
      event,
      lambdaContext(),
    )
    const record = consumer.memory.spans().find((s) => s.traceId === producer.traceId)!
    expect(record.parentSpanId).toBe(producer.spanId)
  })

  it('PublishBatch: every entry carries the context', async () => {
    const { scope } = producerScope()
    await traced(sns, scope.root).send(
      new PublishBatchCommand({
        TopicArn: topicArn,
        PublishBatchRequestEntries: [
          { Id: 'a', Message: '1' },
          { Id: 'b', Message: '2' },
        ],
      }),
    )
    await scope.end()
    const fields = formFields(lastRequest('SNS.PublishBatch').body)
    for (const i of [1, 2]) {
      const attrs = snsAttributes(fields, `PublishBatchRequestEntries.member.${i}.MessageAttributes`)
      expect(attrs['traceparent']?.StringValue).toContain(scope.traceId)
    }
  })
})

describe('EventBridge', () => {
  it('PutEvents: Detail gains _tracehop; the consumer of that event continues the trace', async () => {
    const { memory, scope } = producerScope()
    await traced(eventBridge, scope.root).send(
      new PutEventsCommand({
        Entries: [
          {
            Source: 'agent',
            DetailType: 'DocumentIndexed',
            Detail: JSON.stringify({ doc: 42 }),
            EventBusName: 'agents',
          },
        ],
      }),
    )
    await scope.end()
    const entry = JSON.parse(lastRequest('AWSEvents.PutEvents').body).Entries[0]
    const detail = JSON.parse(entry.Detail)
    const producer = memory.spans().find((s) => s.name === 'send agents')!
    expect(detail.doc).toBe(42)
    expect(detail._tracehop.traceparent).toContain(producer.spanId)

    const event = {
      ...fixture('eventbridge-base.json'),
      source: entry.Source,
      'detail-type': entry.DetailType,
      detail,
    }
    const consumer = memoryConfig()
    await withTrace(async () => 'ok', consumer.config)(event, lambdaContext())
    const root = consumer.memory.spans()[0]!
    expect(root.traceId).toBe(producer.traceId)
    expect(root.parentSpanId).toBe(producer.spanId)
  })

  it('sends a Detail that is not a JSON object as written, and counts it', async () => {
    const { tracer, scope } = producerScope()
    await traced(eventBridge, scope.root).send(
      new PutEventsCommand({ Entries: [{ Source: 'agent', DetailType: 'Raw', Detail: '[1,2,3]' }] }),
    )
    await scope.end()
    expect(JSON.parse(lastRequest('AWSEvents.PutEvents').body).Entries[0].Detail).toBe('[1,2,3]')
    expect((tracer.stats().limits as Record<string, number>)['message-attributes']).toBe(1)
  })
})

describe('Lambda.Invoke', () => {
  it('ClientContext custom carries the context (user keys kept); the invoked handler continues it', async () => {
    const { memory, scope } = producerScope()
    const own = Buffer.from(JSON.stringify({ custom: { tenant: 'acme' }, env: { locale: 'en' } })).toString(
      'base64',
    )
    await traced(lambda, scope.root).send(
      new InvokeCommand({
        FunctionName: 'arn:aws:lambda:us-east-1:123456789012:function:retrieval:live',
        Payload: JSON.stringify({ q: 'x' }),
        ClientContext: own,
      }),
    )
    await scope.end()
    const req = lastRequest('Lambda.Invoke')
    const clientContext = JSON.parse(
      Buffer.from(String(req.headers['x-amz-client-context']), 'base64').toString('utf8'),
    )
    const producer = memory.spans().find((s) => s.name === 'invoke retrieval')!
    expect(producer.kind).toBe(SpanKind.CLIENT)
    expect(clientContext.custom.tenant).toBe('acme')
    expect(clientContext.env).toEqual({ locale: 'en' })
    expect(clientContext.custom.traceparent).toContain(producer.spanId)

    // The Node runtime decodes the header onto context.clientContext.
    const consumer = memoryConfig()
    await withTrace(async () => 'ok', consumer.config)({ q: 'x' }, lambdaContext(3000, { clientContext }))
    const root = consumer.memory.spans()[0]!
    expect(root.traceId).toBe(producer.traceId)
    expect(root.parentSpanId).toBe(producer.spanId)
  })

  it('leaves a ClientContext that would exceed 3,583 bytes as written, and counts it', async () => {
    const { tracer, scope } = producerScope()
    const big = Buffer.from(JSON.stringify({ custom: { pad: 'x'.repeat(2600) } })).toString('base64')
    await traced(lambda, scope.root).send(
      new InvokeCommand({ FunctionName: 'retrieval', ClientContext: big }),
    )
    await scope.end()
    expect(lastRequest('Lambda.Invoke').headers['x-amz-client-context']).toBe(big)
    expect((tracer.stats().limits as Record<string, number>)['message-attributes']).toBe(1)
  })
})
