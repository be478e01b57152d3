// Envelope lookalikes from a plain `env.QUEUE.send` in workerd: the consumer believes an
// envelope's context only as far as its own `propagation.ingress` says, and a body that is
// not exactly a tracehop envelope reaches the handler exactly as it was sent.
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { Miniflare } from 'miniflare'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { bundleWorker } from '../support/workerd-bundle.js'

const FORGED_TRACE = 'f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0'
const FORGED_SPAN = 'abcdefabcdefabcd'
const FORGED_CTX = {
  traceparent: `00-${FORGED_TRACE}-${FORGED_SPAN}-01`,
  baggage: 'user.id=mallory',
}

interface Observed {
  ingress: string
  body: unknown
  bodyType: string
  traceId: string
  parentSpanId: string | null
  sampled: boolean
  baggage: { key: string; value: string }[] | null
  invalid: { envelope?: number }
}

let mf: Miniflare
let observer: Server
const observed: Observed[] = []

async function waitFor<T>(pred: () => T | undefined, what: string): Promise<T> {
  const deadline = Date.now() + 20_000
  for (;;) {
    const v = pred()
    if (v !== undefined) return v
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 25))
  }
}

let seq = 0
/** Sends `body` through the plain producer and returns what the consumer's handler saw. */
async function sendPlain(
  queue: 'PUB' | 'LNK' | 'PRIV',
  body: unknown,
  contentType?: string,
): Promise<Observed> {
  const tag = `m${++seq}`
  const tagged = tagBody(body, tag)
  const producer = await mf.getWorker('producer')
  const res = await producer.fetch('http://producer.test/', {
    method: 'POST',
    body: JSON.stringify({ queue, body: tagged, contentType }),
  })
  expect(await res.text()).toBe('sent')
  return waitFor(() => observed.find((o) => JSON.stringify(o.body).includes(tag)), `message ${tag}`)
}

/** Puts a unique tag where the handler will show it, without changing the body's shape. */
function tagBody(body: unknown, tag: string): unknown {
  if (body !== null && typeof body === 'object' && !Array.isArray(body)) {
    const b = body as Record<string, unknown>
    if (b['body'] !== null && typeof b['body'] === 'object')
      return { ...b, body: { ...(b['body'] as object), tag } }
    return { ...b, tag }
  }
  return { body, tag }
}

beforeAll(async () => {
  observer = createServer((req, res) => {
    let data = ''
    req.on('data', (c) => {
      data += c
    })
    req.on('end', () => {
      observed.push(JSON.parse(data) as Observed)
      res.end('ok')
    })
  })
  await new Promise<void>((r) => observer.listen(0, '127.0.0.1', r))
  const url = `http://127.0.0.1:${(observer.address() as AddressInfo).port}/`
  const [producer, consumer] = await Promise.all([
    bundleWorker('test/cloudflare/workers/lookalike-producer.ts'),
    bundleWorker('test/cloudflare/workers/lookalike-consumer.ts'),
  ])
  const common = { modules: true, compatibilityDate: '2025-01-01' }
  const consumerOf = (name: string, queue: string, ingress: string) => ({
    name,
    ...common,
    script: consumer,
    bindings: { INGRESS: ingress, OBSERVER_URL: url },
    queueConsumers: { [queue]: { maxBatchSize: 1, maxBatchTimeout: 0.05, retryDelay: 0 } },
  })
  mf = new Miniflare({
    workers: [
      {
        name: 'producer',
        ...common,
        script: producer,
        queueProducers: { PUB: 'pub', LNK: 'lnk', PRIV: 'priv' },
      },
      consumerOf('untrusted', 'pub', 'untrusted'),
      consumerOf('link', 'lnk', 'link'),
      consumerOf('trusted', 'priv', 'trusted'),
    ],
  })
  await mf.ready
})

afterAll(async () => {
  await mf?.dispose()
  await new Promise((r) => observer?.close(r))
})

describe('a forged envelope from a plain env.QUEUE.send', () => {
  const forged = () => ({ __tracehop: 1, ctx: FORGED_CTX, body: { job: 1 } })

  it('untrusted consumer: keeps the trace id, decides sampling itself, records no baggage', async () => {
    const o = await sendPlain('PUB', forged())
    expect(o.traceId).toBe(FORGED_TRACE)
    expect(o.parentSpanId).toBe(FORGED_SPAN)
    // ratio 0: only a followed (forced) sampled flag would keep it.
    expect(o.sampled).toBe(false)
    expect(o.baggage).toBeNull()
    // A well-formed envelope: the handler sees its body.
    expect(o.body).toEqual({ job: 1, tag: expect.any(String) })
  }, 30_000)

  it('link consumer: a trace of its own, nothing adopted', async () => {
    const o = await sendPlain('LNK', forged())
    expect(o.traceId).not.toBe(FORGED_TRACE)
    expect(o.parentSpanId).toBeNull()
    expect(o.sampled).toBe(false)
    expect(o.baggage).toBeNull()
  }, 30_000)

  it('trusted consumer (the default): continues it as sent', async () => {
    const o = await sendPlain('PRIV', forged())
    expect(o.traceId).toBe(FORGED_TRACE)
    expect(o.sampled).toBe(true)
    expect(o.baggage).toEqual([{ key: 'user.id', value: 'mallory' }])
    // Well-formed: not counted (the lookalikes below are, on this same consumer).
    expect(o.invalid.envelope ?? 0).toBe(0)
  }, 30_000)
})

describe('lookalike bodies reach the handler exactly as sent', () => {
  const lookalikes: [string, unknown][] = [
    ['marker and body, no ctx', { __tracehop: 1, body: { job: 2 } }],
    ['an extra key', { __tracehop: 1, ctx: FORGED_CTX, body: { job: 3 }, user: 'u1' }],
    ['a ctx with a user field', { __tracehop: 1, ctx: { ...FORGED_CTX, 'user.id': 'x' }, body: { job: 4 } }],
    ['a ctx that is a string', { __tracehop: 1, ctx: 'traceparent', body: { job: 5 } }],
  ]
  for (const [what, body] of lookalikes) {
    it(`${what}: the whole value, a fresh trace, counted invalid`, async () => {
      const before = observed.length
      const o = await sendPlain('PRIV', body)
      expect(observed.length).toBe(before + 1)
      const { tag, ...rest } = o.body as Record<string, unknown>
      const { tag: _inner, ...sentInner } = ((rest['body'] ?? {}) as Record<string, unknown>) ?? {}
      expect(typeof (tag ?? (rest['body'] as { tag?: string })?.tag)).toBe('string')
      // The marker is still there: nothing was unwrapped.
      expect(rest['__tracehop']).toBe(1)
      expect(Object.keys(rest).sort()).toEqual(Object.keys(body as object).sort())
      expect(sentInner).toEqual(((body as { body?: object }).body as object) ?? {})
      expect(o.traceId).not.toBe(FORGED_TRACE)
      expect(o.invalid.envelope ?? 0).toBeGreaterThan(0)
    }, 30_000)
  }

  it('a body without the marker passes through untouched', async () => {
    const json = await sendPlain('PUB', { order: 7, __tracehop_like: true })
    expect(json.body).toEqual({ order: 7, __tracehop_like: true, tag: expect.any(String) })
    expect(json.traceId).not.toBe(FORGED_TRACE)
  }, 30_000)
})
