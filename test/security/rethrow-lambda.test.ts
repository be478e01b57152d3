// Thrown values are rethrown untouched by tracehop/lambda (withTrace, span.child) in Node.

import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs'
import { describe, expect, it } from 'vitest'
import { traced, traceOf, withTrace } from '../../adapters/lambda/index.js'
import { createTracer } from '../../src/index.js'
import { lambdaContext, memoryConfig } from '../lambda/helpers.js'
import { HOSTILE_THROWN } from '../support/hostile-thrown.js'

const KINDS = Object.keys(HOSTILE_THROWN)
const apiEvent = {
  version: '2.0',
  routeKey: 'GET /items',
  rawPath: '/items',
  headers: {},
  requestContext: { http: { method: 'GET', path: '/items' }, domainName: 'api.example' },
}

// Compared inside the catch: an async function cannot return a Proxy (its `then` is read).
async function rejectsWithIt(p: Promise<unknown>, thrown: unknown): Promise<boolean> {
  try {
    await p
  } catch (value) {
    return value === thrown
  }
  return false
}

describe('thrown values are rethrown untouched (Lambda withTrace, Node)', () => {
  it.each(KINDS)('%s', async (kind) => {
    const make = HOSTILE_THROWN[kind]!
    const { memory, config } = memoryConfig()
    for (const event of [{}, apiEvent]) {
      const thrown = make()
      const handler = withTrace(async () => {
        throw thrown
      }, config)
      expect(await rejectsWithIt(handler(event, lambdaContext()), thrown)).toBe(true)
      const viaChild = make()
      const childHandler = withTrace(async (_e: unknown, context) => {
        await traceOf(context).child('step', async () => {
          throw viaChild
        })
      }, config)
      expect(await rejectsWithIt(childHandler(event, lambdaContext()), viaChild)).toBe(true)
    }
    // Each failed invocation is still exported, with an exception event.
    const roots = memory.spans().filter((s) => s.parentSpanId === undefined)
    expect(roots.length).toBe(4)
    for (const root of roots) expect(root.status.code).toBe(2)
  })
})

describe('thrown values are rethrown untouched (traced AWS SDK v3 client, Node)', () => {
  function failingClient(thrown: unknown): SQSClient {
    const sqs = new SQSClient({
      region: 'eu-west-1',
      endpoint: 'http://127.0.0.1:9',
      credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' },
      maxAttempts: 1,
    })
    // A later middleware (a custom signer, a retry strategy) that fails with the hostile value.
    sqs.middlewareStack.add(
      () => async () => {
        throw thrown
      },
      { step: 'build', name: 'throwsHostile' },
    )
    return sqs
  }
  const command = () => new SendMessageCommand({ QueueUrl: 'https://sqs.example/q', MessageBody: 'x' })

  it.each(KINDS)('%s: the caller gets what the untraced client gives', async (kind) => {
    const make = HOSTILE_THROWN[kind]!
    const plainThrown = make()
    const plain = await rejectsWithIt(failingClient(plainThrown).send(command()), plainThrown)
    const thrown = make()
    const scope = createTracer({ service: 'sdk' }).start(undefined, { name: 'job' })
    const viaTraced = await rejectsWithIt(traced(failingClient(thrown), scope.root).send(command()), thrown)
    expect(viaTraced).toBe(plain)
    await scope.end()
  })
})
