// One trace across Workers in workerd: A -> service binding -> B -> Queue -> consumer C,
// plus Workers RPC (WorkerEntrypoint), a Durable Object stub, Cron Triggers, and queue
// messages that carry no envelope or a malformed one.
import { Miniflare } from 'miniflare'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { KIND, type OtlpReceiver, type ReceivedSpan, startOtlpReceiver } from '../support/otlp-receiver.js'
import { bundleWorker } from '../support/workerd-bundle.js'

let mf: Miniflare
let receiver: OtlpReceiver

async function call(worker: string, path: string): Promise<Response> {
  const w = await mf.getWorker(worker)
  return (await w.fetch(`http://worker.test${path}`)) as unknown as Response
}

function byTrace(id: string): ReceivedSpan[] {
  return receiver.spans.filter((s) => s.traceId === id)
}

function one(spans: readonly ReceivedSpan[], pred: (s: ReceivedSpan) => boolean, what: string): ReceivedSpan {
  const found = spans.filter(pred)
  if (found.length !== 1) throw new Error(`expected one ${what}, found ${found.length}`)
  return found[0]!
}

/** The `index` span C recorded for a message whose body has this tag. */
function indexed(tag: string): ReceivedSpan | undefined {
  return receiver.spans.find(
    (s) => s.name === 'index' && String(s.attributes['test.body']).includes(`"tag":"${tag}"`),
  )
}

interface Stats {
  invalid: { envelope?: number; traceparent?: number }
}

beforeAll(async () => {
  receiver = await startOtlpReceiver()
  const [a, b, c] = await Promise.all([
    bundleWorker('test/cloudflare/workers/chain-a.ts'),
    bundleWorker('test/cloudflare/workers/chain-b.ts'),
    bundleWorker('test/cloudflare/workers/chain-c.ts'),
  ])
  const common = { modules: true, compatibilityDate: '2025-01-01', bindings: { OTLP_URL: receiver.url } }
  mf = new Miniflare({
    workers: [
      {
        name: 'a',
        ...common,
        script: a,
        serviceBindings: { B: 'b' },
        queueProducers: { Q: 'jobs' },
        durableObjects: { COUNTER: { className: 'Counter', scriptName: 'b' } },
      },
      {
        name: 'b',
        ...common,
        script: b,
        queueProducers: { Q: 'jobs' },
        durableObjects: { COUNTER: 'Counter' },
      },
      {
        name: 'c',
        ...common,
        script: c,
        queueConsumers: { jobs: { maxBatchSize: 10, maxBatchTimeout: 0.05, retryDelay: 0 } },
      },
    ],
  })
  await mf.ready
})

afterAll(async () => {
  await mf?.dispose()
  await receiver?.close()
})

describe('tracehop/cloudflare across Workers in workerd', () => {
  it('A -> service binding -> B -> queue -> C: one trace id, correct parents and links, exported from all three', async () => {
    const res = await call('a', '/chain')
    expect(res.status).toBe(200)
    const body = (await res.json()) as { text: string }
    expect(body.text).toBe('b ok')
    const id = res.headers.get('x-trace-id')!
    // A: server + fetch client + rpc client; B: server (fetch) + 2 producers + rpc server;
    // C: 3 process spans + 3 index spans.
    // Each service exports on its own schedule: wait for every one of them.
    const count = (service: string) => byTrace(id).filter((s) => s.service === service).length
    await receiver.waitFor(
      () =>
        byTrace(id).filter((s) => s.service === 'c' && s.name === 'index').length === 3 &&
        count('a') >= 3 &&
        count('b') >= 4,
    )
    const spans = byTrace(id)
    expect(new Set(spans.map((s) => s.service))).toEqual(new Set(['a', 'b', 'c']))

    const aRoot = one(spans, (s) => s.service === 'a' && s.kind === KIND.SERVER, 'A server span')
    expect(aRoot.name).toBe('GET /chain')
    const aFetch = one(spans, (s) => s.service === 'a' && s.name === 'GET b', 'A fetch client span')
    expect(aFetch.kind).toBe(KIND.CLIENT)
    expect(aFetch.parentSpanId).toBe(aRoot.spanId)

    const bServer = one(spans, (s) => s.service === 'b' && s.name === 'GET /work', 'B server span')
    expect(bServer.kind).toBe(KIND.SERVER)
    expect(bServer.parentSpanId).toBe(aFetch.spanId)

    const producers = spans.filter((s) => s.service === 'b' && s.kind === KIND.PRODUCER)
    expect(producers.map((p) => p.name)).toEqual(['send jobs', 'send jobs'])
    for (const p of producers) {
      expect(p.parentSpanId).toBe(bServer.spanId)
      expect(p.attributes['messaging.system']).toBe('cloudflare')
    }
    const batchProducer = one(
      producers,
      (p) => p.attributes['messaging.batch.message_count'] === 2,
      'batch send',
    )

    const processes = spans.filter((s) => s.service === 'c' && s.name === 'process jobs')
    expect(processes.length).toBe(3)
    for (const p of processes) {
      expect(p.kind).toBe(KIND.CONSUMER)
      expect(producers.map((x) => x.spanId)).toContain(p.parentSpanId)
      expect(p.attributes['messaging.destination.name']).toBe('jobs')
      expect(typeof p.attributes['messaging.message.id']).toBe('string')
    }
    expect(processes.filter((p) => p.parentSpanId === batchProducer.spanId).length).toBe(2)

    // The consumer's handler saw the original bodies, not the envelope.
    const bodies = spans
      .filter((s) => s.name === 'index')
      .map((s) => {
        const p = processes.find((x) => x.spanId === s.parentSpanId)
        expect(p).toBeDefined()
        return JSON.parse(String(s.attributes['test.body']))
      })
    expect(bodies).toEqual(expect.arrayContaining([{ n: 1, from: 'b' }, { n: 2 }, { n: 3 }]))

    // The batch span (its own trace) is linked to every process span, and they to it.
    const batches = receiver.spans.filter(
      (s) =>
        s.name === 'process jobs' && s.parentSpanId === undefined && s.links.some((l) => l.traceId === id),
    )
    const linked = batches.flatMap((b) => b.links.filter((l) => l.traceId === id).map((l) => l.spanId))
    expect(new Set(linked)).toEqual(new Set(processes.map((p) => p.spanId)))
    for (const p of processes) {
      const batch = batches.find((b) => b.links.some((l) => l.spanId === p.spanId))!
      expect(batch.traceId).not.toBe(id)
      expect(batch.kind).toBe(KIND.CONSUMER)
      expect(p.links).toContainEqual({ traceId: batch.traceId, spanId: batch.spanId })
    }
  })

  it('Workers RPC: the callee continues the trace and its method sees exactly the caller’s arguments', async () => {
    const res = await call('a', '/chain')
    const body = (await res.json()) as { rpc: { greeting: string; argc: number; helper: string } }
    expect(body.rpc).toEqual({ greeting: 'hello world x2', argc: 2, helper: 'WORLD' })
    const id = res.headers.get('x-trace-id')!
    // A's spans and B's arrive in separate exports: wait for both sides.
    await receiver.waitFor(
      () =>
        byTrace(id).some((s) => s.name === 'B/hello') &&
        byTrace(id).some((s) => s.name === 'b/hello') &&
        byTrace(id).some((s) => s.service === 'a' && s.kind === KIND.SERVER),
    )
    const spans = byTrace(id)
    const aRoot = one(spans, (s) => s.service === 'a' && s.kind === KIND.SERVER, 'A server span')
    const client = one(spans, (s) => s.name === 'b/hello', 'RPC client span')
    expect(client.kind).toBe(KIND.CLIENT)
    expect(client.parentSpanId).toBe(aRoot.spanId)
    expect(client.attributes).toMatchObject({ 'rpc.method': 'hello', 'rpc.service': 'b' })
    const server = one(spans, (s) => s.name === 'B/hello', 'RPC server span')
    expect(server.service).toBe('b')
    expect(server.kind).toBe(KIND.SERVER)
    expect(server.parentSpanId).toBe(client.spanId)
    expect(server.attributes['test.argc']).toBe(2)
    // hello() calling this.helper() is the class calling itself, not an RPC hop.
    expect(receiver.spans.some((s) => s.name === 'B/helper')).toBe(false)
  })

  it('Durable Object stubs: RPC and fetch continue the trace', async () => {
    const res = await call('a', '/do')
    const body = (await res.json()) as { inc: { value: number; argc: number }; text: string }
    expect(body.inc.argc).toBe(1)
    expect(body.text).toBe(`count ${body.inc.value}`)
    const id = res.headers.get('x-trace-id')!
    // A's client spans and B's server spans arrive in separate exports: wait for all four.
    const names = ['counter/increment', 'CounterObject/increment', 'GET counter']
    await receiver.waitFor(
      () =>
        names.every((n) => byTrace(id).some((s) => s.name === n)) &&
        byTrace(id).some((s) => s.service === 'b' && s.name === 'GET /'),
    )
    const spans = byTrace(id)
    const rpcClient = one(spans, (s) => s.name === 'counter/increment', 'DO RPC client span')
    const rpcServer = one(spans, (s) => s.name === 'CounterObject/increment', 'DO RPC server span')
    expect(rpcServer.parentSpanId).toBe(rpcClient.spanId)
    const fetchClient = one(spans, (s) => s.name === 'GET counter', 'DO fetch client span')
    const fetchServer = one(spans, (s) => s.service === 'b' && s.name === 'GET /', 'DO fetch server span')
    expect(fetchServer.parentSpanId).toBe(fetchClient.spanId)
    expect(fetchServer.attributes['test.value']).toBe(body.inc.value)
  })

  it('messages without an envelope pass through untouched, as children of the batch span', async () => {
    await call('a', '/raw?kind=plain&tag=p1')
    await receiver.waitFor(() => indexed('p1') !== undefined)
    const index = indexed('p1')!
    expect(JSON.parse(String(index.attributes['test.body']))).toEqual({ m: 'plain', tag: 'p1' })
    const process = receiver.spans.find((s) => s.spanId === index.parentSpanId)!
    const batch = receiver.spans.find((s) => s.spanId === process.parentSpanId)!
    expect(batch.name).toBe('process jobs')
    expect(batch.parentSpanId).toBeUndefined()
    expect(process.traceId).toBe(batch.traceId)
  })

  it('a malformed envelope: the handler still runs, a fresh trace starts, it is counted', async () => {
    const before = (await (await call('c', '/stats')).json()) as Stats
    await call('a', '/raw?kind=bad-ctx&tag=m1')
    await call('a', '/raw?kind=no-body&tag=m2')
    await call('a', '/raw?kind=bad-traceparent&tag=m3')
    await receiver.waitFor(() => ['m1', 'm2', 'm3'].every((t) => indexed(t) !== undefined))
    // Not exactly an envelope: the handler gets the whole value, as sent.
    expect(JSON.parse(String(indexed('m1')!.attributes['test.body']))).toEqual({
      __tracehop: 1,
      ctx: 'garbage',
      body: { m: 'bad-ctx', tag: 'm1' },
    })
    expect(JSON.parse(String(indexed('m2')!.attributes['test.body']))).toMatchObject({
      m: 'no-body',
      tag: 'm2',
    })
    expect(JSON.parse(String(indexed('m3')!.attributes['test.body']))).toEqual({
      m: 'bad-traceparent',
      tag: 'm3',
    })
    // A well-formed envelope with a bad traceparent: its own fresh trace, no parent.
    const m3 = receiver.spans.find((s) => s.spanId === indexed('m3')!.parentSpanId)!
    expect(m3.parentSpanId).toBeUndefined()
    const after = (await (await call('c', '/stats')).json()) as Stats
    expect((after.invalid.envelope ?? 0) - (before.invalid.envelope ?? 0)).toBe(2)
    expect((after.invalid.traceparent ?? 0) - (before.invalid.traceparent ?? 0)).toBe(1)
  })

  it('retry() and ack() on the wrapped message reach the workerd Message', async () => {
    const res = await call('a', '/raw?kind=retry&tag=r1')
    const id = res.headers.get('x-trace-id')!
    await receiver.waitFor(() =>
      receiver.spans.some(
        (s) => s.name === 'index' && s.attributes['test.attempts'] === 2 && s.traceId === id,
      ),
    )
    const processes = byTrace(id).filter((s) => s.name === 'process jobs')
    expect(processes.map((p) => p.attributes['messaging.cloudflare.outcome']).sort()).toEqual([
      'ack',
      'retry',
    ])
  })

  it('traces a Cron Trigger: a span scheduled <cron> found with traceOf(controller)', async () => {
    const w = await mf.getWorker('a')
    const before = receiver.spans.length
    await w.scheduled({ cron: '*/5 * * * *', scheduledTime: new Date() })
    await receiver.waitFor((spans) => spans.slice(before).some((s) => s.name === 'tick'))
    const tick = receiver.spans.slice(before).find((s) => s.name === 'tick')!
    const root = receiver.spans.find((s) => s.spanId === tick.parentSpanId)!
    expect(root.name).toBe('scheduled */5 * * * *')
    expect(root.attributes).toMatchObject({ 'faas.trigger': 'timer', 'faas.cron': '*/5 * * * *' })
  })
})
