// The Workers and Hono samples of docs/runtimes.md run in workerd (miniflare) with real
// queues and service bindings, exporting to an OTLP receiver on 127.0.0.1; the Hono
// sample's downstream is a real HTTP receiver there too.
import { Miniflare } from 'miniflare'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type Receiver, startReceiver } from '../support/http-receiver.js'
import { KIND, type OtlpReceiver, type ReceivedSpan, startOtlpReceiver } from '../support/otlp-receiver.js'
import { nodeImports } from '../support/workerd-bundle.js'
import { bundleWorkerdSample, docSample } from './samples.js'

let mf: Miniflare
let receiver: OtlpReceiver
let users: Receiver

/** The orchestrator behind the Workers sample's service binding: says what it received. */
const ORCHESTRATOR = `export default {
  async fetch(request) {
    return Response.json({ traceparent: request.headers.get('traceparent'), path: new URL(request.url).pathname })
  },
}`

const queue = (name: string) => ({ [name]: { maxBatchSize: 10, maxBatchTimeout: 0.05, retryDelay: 0 } })

beforeAll(async () => {
  ;[receiver, users] = await Promise.all([startOtlpReceiver(), startReceiver()])
  const [workers, hono, honoQueue] = await Promise.all([
    bundleWorkerdSample(docSample('docs/runtimes.md', 'ORCHESTRATOR: Fetcher')),
    bundleWorkerdSample(docSample('docs/runtimes.md', "app.get('/users/:id'"), {
      'https://users.internal': users.url,
      'http://127.0.0.1:4318/v1/traces': receiver.url,
    }),
    bundleWorkerdSample(docSample('docs/runtimes.md', 'fetch: app.fetch')),
  ])
  for (const code of [workers, hono, honoQueue]) expect(nodeImports(code)).toEqual([])
  const common = { modules: true, compatibilityDate: '2025-01-01', bindings: { OTLP_URL: receiver.url } }
  mf = new Miniflare({
    workers: [
      {
        name: 'gateway',
        ...common,
        script: workers,
        serviceBindings: { ORCHESTRATOR: 'orchestrator' },
        queueProducers: { JOBS: 'gateway-jobs' },
        queueConsumers: queue('gateway-jobs'),
      },
      { name: 'orchestrator', ...common, script: ORCHESTRATOR },
      { name: 'hono', ...common, script: hono },
      {
        name: 'hono-queue',
        ...common,
        script: honoQueue,
        queueProducers: { JOBS: 'docs-jobs' },
        queueConsumers: queue('docs-jobs'),
      },
    ],
  })
  await mf.ready
})

afterAll(async () => {
  await mf?.dispose()
  await Promise.all([receiver?.close(), users?.close()])
})

async function call(worker: string, path: string, init?: RequestInit): Promise<Response> {
  const w = await mf.getWorker(worker)
  return (await w.fetch(`http://worker.test${path}`, init as never)) as unknown as Response
}

/** A caller's sampled context, so the sample's spans can be found by trace id. */
function caller(): { traceId: string; headers: Record<string, string> } {
  const traceId = crypto.randomUUID().replaceAll('-', '')
  return { traceId, headers: { traceparent: `00-${traceId}-00f067aa0ba902b7-01` } }
}

function one(spans: readonly ReceivedSpan[], pred: (s: ReceivedSpan) => boolean, what: string): ReceivedSpan {
  const found = spans.filter(pred)
  if (found.length !== 1) throw new Error(`${found.length} ${what}: ${spans.map((s) => s.name).join(', ')}`)
  return found[0]!
}

/** The span's ancestors within `spans`, nearest first. */
function ancestors(spans: readonly ReceivedSpan[], span: ReceivedSpan): ReceivedSpan[] {
  const chain: ReceivedSpan[] = []
  for (let s = span; s.parentSpanId !== undefined; ) {
    const parent = spans.find((p) => p.spanId === s.parentSpanId)
    if (parent === undefined) break
    chain.push(parent)
    s = parent
  }
  return chain
}

describe('docs/runtimes.md in workerd', () => {
  it('Workers: server span, queue producer, consumer and service binding in one trace', async () => {
    const { traceId, headers } = caller()
    const res = await call('gateway', '/chat', { headers })
    expect(res.status).toBe(200)
    const body = (await res.json()) as { traceparent: string; path: string }
    expect(body.path).toBe('/chat')
    expect(body.traceparent).toContain(traceId)
    await receiver.waitFor((spans) => spans.some((s) => s.traceId === traceId && s.name === 'index'))
    const spans = receiver.spans.filter((s) => s.traceId === traceId)
    const server = one(spans, (s) => s.kind === KIND.SERVER, 'server span')
    expect(server.service).toBe('gateway')
    const producer = one(spans, (s) => s.kind === KIND.PRODUCER, 'producer span')
    expect(producer.parentSpanId).toBe(server.spanId)
    const orchestrate = one(spans, (s) => s.name === 'orchestrate', 'orchestrate span')
    expect(orchestrate.parentSpanId).toBe(server.spanId)
    // The orchestrator received the binding's client span as its parent.
    const client = one(spans, (s) => s.kind === KIND.CLIENT, 'client span')
    expect(client.parentSpanId).toBe(orchestrate.spanId)
    expect(body.traceparent.split('-')[2]).toBe(client.spanId)
    const index = one(spans, (s) => s.name === 'index', 'index span')
    expect(ancestors(spans, index).map((s) => s.spanId)).toContain(producer.spanId)
  })

  it('Hono: the route names the span, and the allowed downstream receives its context', async () => {
    const { traceId, headers } = caller()
    const res = await call('hono', '/users/42', { headers })
    expect(res.status).toBe(200)
    const received = users.requests.find((r) => r.path === '/42')
    expect(String(received?.headers['traceparent'])).toContain(traceId)
    await receiver.waitFor((spans) => spans.some((s) => s.traceId === traceId && s.kind === KIND.CLIENT))
    const spans = receiver.spans.filter((s) => s.traceId === traceId)
    const server = one(spans, (s) => s.kind === KIND.SERVER, 'server span')
    expect(server.name).toBe('GET /users/:id')
    const client = one(spans, (s) => s.kind === KIND.CLIENT, 'client span')
    expect(client.parentSpanId).toBe(server.spanId)
    expect(String(received?.headers['traceparent']).split('-')[2]).toBe(client.spanId)
  })

  it('Hono and a queue consumer in one Worker: one trace from the request to the consumer', async () => {
    const { traceId, headers } = caller()
    const res = await call('hono-queue', '/docs/7', { method: 'POST', headers })
    expect(res.status).toBe(202)
    expect(await res.json()).toEqual({ queued: '7' })
    await receiver.waitFor((spans) => spans.some((s) => s.traceId === traceId && s.name === 'index'))
    const spans = receiver.spans.filter((s) => s.traceId === traceId)
    const server = one(spans, (s) => s.kind === KIND.SERVER, 'server span')
    expect(server.name).toBe('POST /docs/:id')
    expect(server.parentSpanId).toBe('00f067aa0ba902b7')
    const producer = one(spans, (s) => s.kind === KIND.PRODUCER, 'producer span')
    expect(producer.parentSpanId).toBe(server.spanId)
    const index = one(spans, (s) => s.name === 'index', 'index span')
    expect(index.attributes['doc.id']).toBe('7')
    const chain = ancestors(spans, index)
    expect(chain.map((s) => s.spanId)).toEqual(expect.arrayContaining([producer.spanId, server.spanId]))
    expect(new Set(spans.map((s) => s.service))).toEqual(new Set(['docs-api']))
  })
})
