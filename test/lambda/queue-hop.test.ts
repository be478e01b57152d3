// Full hops through fauxqs (an in-memory SQS/SNS server): a traced producer invocation ->
// the real SDK -> the queue (or topic -> queue) -> ReceiveMessage -> the Lambda SQS event
// built from the received message -> the consumer's spans: one trace, the right parent,
// the right links.
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns'
import { ReceiveMessageCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs'
import { startFauxqs } from 'fauxqs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { forEachRecord, traced, traceOf, withTrace } from '../../adapters/lambda/index.js'
import { memoryExporter, SpanKind, type SpanRecord } from '../../src/index.js'
import { CREDENTIALS, REGION, toLambdaSqsRecord } from './aws-endpoint.js'
import { fixture, lambdaContext, TRACEPARENT } from './helpers.js'

let fauxqs: Awaited<ReturnType<typeof startFauxqs>>
let sqs: SQSClient
let sns: SNSClient
const memory = memoryExporter()

beforeAll(async () => {
  fauxqs = await startFauxqs({ port: 0, logger: false, host: '127.0.0.1' })
  const common = { endpoint: fauxqs.address, region: REGION, credentials: CREDENTIALS }
  sqs = new SQSClient(common)
  sns = new SNSClient(common)
})

afterAll(async () => {
  sqs?.destroy()
  sns?.destroy()
  await fauxqs?.stop()
})

const config = (service: string) => ({ service, exporters: [memory] })

/** The gateway-facing producer: an HTTP-triggered function that enqueues work. */
function producerHandler(send: (span: ReturnType<typeof traceOf>) => Promise<unknown>) {
  return withTrace(async (_event: unknown, context: object) => {
    await traceOf(context).child('enqueue', (span) => send(span))
    return { statusCode: 202, body: '' }
  }, config('orchestrator'))
}

const consumer = withTrace(
  (event: { Records: unknown[] }, context: object) =>
    forEachRecord(event, context, (_record, span) =>
      span.child('index document', { runType: 'tool' }, () => 'indexed'),
    ),
  config('indexer'),
)

async function receiveAll(queueUrl: string): Promise<any[]> {
  const out = await sqs.send(
    new ReceiveMessageCommand({
      QueueUrl: queueUrl,
      MaxNumberOfMessages: 10,
      MessageAttributeNames: ['All'],
      MessageSystemAttributeNames: ['All'],
      WaitTimeSeconds: 1,
    }),
  )
  return out.Messages ?? []
}

function apiEvent() {
  const event = fixture('apigw-http-no-auth.json')
  event.headers.traceparent = TRACEPARENT
  return event
}

function checkHop(spans: readonly SpanRecord[], producerName: string): void {
  const producer = spans.find((s) => s.name === producerName && s.kind === SpanKind.PRODUCER)!
  expect(producer).toBeDefined()
  const gateway = spans.find((s) => s.name === 'POST /lambda')!
  expect(producer.traceId).toBe(gateway.traceId)
  const record = spans.find((s) => s.kind === SpanKind.CONSUMER && s.parentSpanId === producer.spanId)!
  expect(record).toBeDefined()
  expect(record.traceId).toBe(producer.traceId)
  const index = spans.find((s) => s.name === 'index document' && s.parentSpanId === record.spanId)!
  expect(index.traceId).toBe(producer.traceId)
  const invocation = spans.find((s) => s.spanId === record.links[0]?.spanId)!
  expect(invocation.kind).toBe(SpanKind.CONSUMER)
  expect(invocation.parentSpanId).toBeUndefined()
  expect(invocation.links).toContainEqual(
    expect.objectContaining({ traceId: producer.traceId, spanId: producer.spanId }),
  )
}

describe('SQS hop through fauxqs', () => {
  it('producer scope -> SendMessage -> ReceiveMessage -> Lambda SQS event -> consumer: one trace id, parent and links', async () => {
    memory.clear()
    const { queueUrl, queueArn } = fauxqs.createQueue('index-jobs')
    const produce = producerHandler((span) =>
      traced(sqs, span).send(
        new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: JSON.stringify({ doc: 42 }) }),
      ),
    )
    await produce(apiEvent(), lambdaContext())
    const messages = await receiveAll(queueUrl)
    expect(messages).toHaveLength(1)
    await consumer({ Records: messages.map((m) => toLambdaSqsRecord(m, queueArn)) }, lambdaContext())
    const spans = memory.spans()
    checkHop(spans, 'send index-jobs')
    expect(spans.find((s) => s.name === 'send index-jobs')?.traceId).toBe(TRACEPARENT.slice(3, 35))
  })

  it('a batch from two producer traces: each record continues its own trace', async () => {
    memory.clear()
    const { queueUrl, queueArn } = fauxqs.createQueue('mixed-jobs')
    for (let i = 0; i < 2; i++) {
      const produce = producerHandler((span) =>
        traced(sqs, span).send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: `job ${i}` })),
      )
      await produce(fixture('apigw-http-no-auth.json'), lambdaContext())
    }
    const messages = await receiveAll(queueUrl)
    expect(messages).toHaveLength(2)
    await consumer({ Records: messages.map((m) => toLambdaSqsRecord(m, queueArn)) }, lambdaContext())
    const spans = memory.spans()
    const producers = spans.filter((s) => s.name === 'send mixed-jobs')
    expect(new Set(producers.map((p) => p.traceId)).size).toBe(2)
    for (const p of producers) {
      const record = spans.find((s) => s.parentSpanId === p.spanId)!
      expect(record.traceId).toBe(p.traceId)
    }
    const invocation = spans.find((s) => s.name === 'process mixed-jobs' && s.parentSpanId === undefined)!
    expect(invocation.links.map((l) => l.spanId).sort()).toEqual(producers.map((p) => p.spanId).sort())
  })
})

describe('SNS -> SQS fan-out through fauxqs', () => {
  for (const raw of [true, false]) {
    it(`${raw ? 'raw' : 'non-raw (SNS envelope in the body)'} delivery: the consumer continues the publisher's trace`, async () => {
      memory.clear()
      const name = raw ? 'fanout-raw' : 'fanout-envelope'
      const { queueUrl, queueArn } = fauxqs.createQueue(name)
      const { topicArn } = fauxqs.createTopic(`${name}-topic`)
      fauxqs.subscribe({
        topic: `${name}-topic`,
        queue: name,
        ...(raw ? { attributes: { RawMessageDelivery: 'true' } } : {}),
      })
      const produce = producerHandler((span) =>
        traced(sns, span).send(new PublishCommand({ TopicArn: topicArn, Message: 'doc 7' })),
      )
      await produce(apiEvent(), lambdaContext())
      const messages = await receiveAll(queueUrl)
      expect(messages).toHaveLength(1)
      if (raw) expect(messages[0].MessageAttributes.traceparent).toBeDefined()
      else {
        expect(messages[0].MessageAttributes).toBeUndefined()
        expect(JSON.parse(messages[0].Body).MessageAttributes.traceparent.Type).toBe('String')
      }
      await consumer({ Records: messages.map((m) => toLambdaSqsRecord(m, queueArn)) }, lambdaContext())
      checkHop(memory.spans(), `send ${name}-topic`)
    })
  }
})
