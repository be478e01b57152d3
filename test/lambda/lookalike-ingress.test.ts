// Lookalike context from a plain SQS SendMessage (no tracehop on the producer) through
// fauxqs: message attributes, an SNS-notification-shaped body, an EventBridge-shaped body
// and a Cloudflare-envelope-shaped body. The consumer believes what it finds only as far as
// its `propagation.ingress` says, and the handler gets each record exactly as delivered.
import { ReceiveMessageCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs'
import { startFauxqs } from 'fauxqs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { forEachRecord, withTrace } from '../../adapters/lambda/index.js'
import type { Ingress } from '../../src/index.js'
import { CREDENTIALS, REGION, toLambdaSqsRecord } from './aws-endpoint.js'
import { lambdaContext } from './helpers.js'

const FORGED_TRACE = 'f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0'
const FORGED_SPAN = 'abcdefabcdefabcd'
const FORGED_TP = `00-${FORGED_TRACE}-${FORGED_SPAN}-01`

let fauxqs: Awaited<ReturnType<typeof startFauxqs>>
let sqs: SQSClient

beforeAll(async () => {
  fauxqs = await startFauxqs({ port: 0, logger: false, host: '127.0.0.1' })
  sqs = new SQSClient({ endpoint: fauxqs.address, region: REGION, credentials: CREDENTIALS })
})

afterAll(async () => {
  sqs?.destroy()
  await fauxqs?.stop()
})

const bodies: Record<string, { body: string; attributes?: Record<string, string> }> = {
  attributes: { body: 'plain', attributes: { traceparent: FORGED_TP, baggage: 'user.id=mallory' } },
  'sns-shaped body': {
    body: JSON.stringify({
      Type: 'Notification',
      TopicArn: 'arn:aws:sns:us-east-1:000000000000:forged',
      Message: 'x',
      MessageAttributes: {
        traceparent: { Type: 'String', Value: FORGED_TP },
        baggage: { Type: 'String', Value: 'user.id=mallory' },
      },
    }),
  },
  'eventbridge-shaped body': {
    body: JSON.stringify({
      'detail-type': 'forged',
      detail: { _tracehop: { traceparent: FORGED_TP, baggage: 'user.id=mallory' } },
    }),
  },
  'cloudflare-envelope-shaped body': {
    body: JSON.stringify({ __tracehop: 1, ctx: { traceparent: FORGED_TP }, body: { job: 1 } }),
  },
}

interface Seen {
  sameRecord: boolean
  body: unknown
  traceId: string
  parentSpanId: string | undefined
  sampled: boolean
  baggage: unknown
}

async function consume(ingress: Ingress, kind: string): Promise<{ sent: string; seen: Seen }> {
  const { queueUrl, queueArn } = fauxqs.createQueue(`lookalike-${ingress}-${kind.replace(/[^a-z]/g, '')}`)
  const { body, attributes } = bodies[kind]!
  await sqs.send(
    new SendMessageCommand({
      QueueUrl: queueUrl,
      MessageBody: body,
      ...(attributes && {
        MessageAttributes: Object.fromEntries(
          Object.entries(attributes).map(([k, v]) => [k, { DataType: 'String', StringValue: v }]),
        ),
      }),
    }),
  )
  const received = await sqs.send(
    new ReceiveMessageCommand({
      QueueUrl: queueUrl,
      MaxNumberOfMessages: 1,
      MessageAttributeNames: ['All'],
      MessageSystemAttributeNames: ['All'],
      WaitTimeSeconds: 1,
    }),
  )
  const event = { Records: (received.Messages ?? []).map((m) => toLambdaSqsRecord(m, queueArn)) }
  expect(event.Records).toHaveLength(1)
  let seen: Seen | undefined
  const handler = withTrace(
    (e: { Records: unknown[] }, context: object) =>
      forEachRecord(e, context, (record: { body: unknown }, span) => {
        seen = {
          sameRecord: record === event.Records[0],
          body: record.body,
          traceId: span.traceId,
          parentSpanId: span.parentSpanId,
          sampled: span.scope.sampled,
          baggage: span.context().baggage,
        }
      }),
    {
      service: 'indexer',
      sampling: { ratio: 0, keepErrors: false },
      propagation: { ingress, baggage: { attributes: ['user.id'] } },
      log: () => {},
    },
  )
  await handler(event, lambdaContext())
  return { sent: body, seen: seen! }
}

describe('a plain SQS producer forging context', () => {
  for (const kind of ['attributes', 'sns-shaped body', 'eventbridge-shaped body']) {
    it(`${kind}, untrusted consumer: the trace id only, no sampled flag, no baggage; the record untouched`, async () => {
      const { sent, seen } = await consume('untrusted', kind)
      expect(seen.sameRecord).toBe(true)
      expect(seen.body).toBe(sent)
      expect(seen.traceId).toBe(FORGED_TRACE)
      expect(seen.parentSpanId).toBe(FORGED_SPAN)
      expect(seen.sampled).toBe(false)
      expect(seen.baggage).toBeUndefined()
    })

    it(`${kind}, link consumer: nothing continued`, async () => {
      const { sent, seen } = await consume('link', kind)
      expect(seen.body).toBe(sent)
      expect(seen.traceId).not.toBe(FORGED_TRACE)
      expect(seen.sampled).toBe(false)
      expect(seen.baggage).toBeUndefined()
    })
  }

  it('a Cloudflare-envelope-shaped body is only a body on SQS: delivered as sent, no context taken', async () => {
    const { sent, seen } = await consume('trusted', 'cloudflare-envelope-shaped body')
    expect(seen.sameRecord).toBe(true)
    expect(seen.body).toBe(sent)
    expect(seen.traceId).not.toBe(FORGED_TRACE)
  })

  it('trusted consumer (the default): message attributes are continued as sent', async () => {
    const { seen } = await consume('trusted', 'attributes')
    expect(seen.traceId).toBe(FORGED_TRACE)
    expect(seen.sampled).toBe(true)
    expect(seen.baggage).toEqual([{ key: 'user.id', value: 'mallory' }])
  })
})
