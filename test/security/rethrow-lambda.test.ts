// Thrown values are rethrown untouched by tracehop/lambda (withTrace, span.child) in Node.
import { describe, expect, it } from 'vitest'
import { traceOf, withTrace } from '../../adapters/lambda/index.js'
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
