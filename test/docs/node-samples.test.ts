// The core samples of README.md and docs/*.md run in Node, their external URLs swapped for
// real receivers on 127.0.0.1: a sample that crashes, or whose output changes, fails here.
import { randomBytes } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTracer, memoryExporter, type Span, type Tracer } from '../../src/index.js'
import { fixture, lambdaContext, TRACEPARENT } from '../lambda/helpers.js'
import { type Receiver, startReceiver } from '../support/http-receiver.js'
import { type OtlpReceiver, startOtlpReceiver } from '../support/otlp-receiver.js'
import { docSample, importNodeSample } from './samples.js'

let otlpReceiver: OtlpReceiver
let allowed: Receiver
let other: Receiver

beforeAll(async () => {
  ;[otlpReceiver, allowed, other] = await Promise.all([startOtlpReceiver(), startReceiver(), startReceiver()])
})
afterAll(async () => {
  await Promise.all([otlpReceiver?.close(), allowed?.close(), other?.close()])
})

function memoryTracer() {
  const memory = memoryExporter()
  return { memory, tracer: createTracer({ service: 'docs', exporters: [memory], flush: { windowMs: 0 } }) }
}

const hex = (bytes: number) => randomBytes(bytes).toString('hex')

describe('README.md', () => {
  it('"30 seconds": headers go to the allowed origin only; the trace is exported after the response', async () => {
    const { handle } = await importNodeSample<{
      handle(request: Request, waitUntil: (p: Promise<unknown>) => void): Promise<Response>
    }>(docSample('README.md', 'POST /chat'), {
      replace: {
        'http://127.0.0.1:4318/v1/traces': otlpReceiver.url,
        'https://retrieval.internal': allowed.url,
        'https://api.search.example': other.url,
      },
    })
    // The sample keeps 10% of traces: send requests until one is head-sampled (bounded).
    let traceparent = ''
    for (let i = 0; i < 300 && !traceparent.endsWith('-01'); i++) {
      const pending: Promise<unknown>[] = []
      const response = await handle(new Request('http://orchestrator.test/chat', { method: 'POST' }), (p) =>
        pending.push(p),
      )
      expect(await response.text()).toBe('200 200')
      await Promise.all(pending)
      traceparent = String(allowed.requests.at(-1)?.headers['traceparent'])
      expect(traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-0[01]$/)
      expect(other.requests.at(-1)?.headers['traceparent']).toBeUndefined()
    }
    const traceId = traceparent.split('-')[1]
    expect(traceparent.endsWith('-01')).toBe(true)
    // Only the sampled trace was exported (after the response, through waitUntil).
    expect(new Set(otlpReceiver.spans.map((s) => s.traceId))).toEqual(new Set([traceId]))
    const spans = otlpReceiver.spans.filter((s) => s.traceId === traceId)
    const names = spans.map((s) => s.name)
    expect(names).toEqual(expect.arrayContaining(['POST /chat', 'plan', 'retrieve', 'search']))
    const plan = spans.find((s) => s.name === 'plan')!
    expect(plan.attributes['gen_ai.usage.input_tokens']).toBe(812)
    expect(spans.find((s) => s.name === 'retrieve')?.parentSpanId).toBe(plan.spanId)
  })
})

describe('docs/fan-out.md', () => {
  it('fan-out: every tool span is a child of plan', async () => {
    const { plan } = await importNodeSample<{ plan(root: Span): Promise<string[]> }>(
      docSample('docs/fan-out.md', "['search', 'retrieve', 'calculator']"),
      { globals: { callTool: async (name: string, span: Span) => `${name} in ${span.name}` } },
    )
    const { memory, tracer } = memoryTracer()
    const scope = tracer.start()
    expect(await plan(scope.root)).toEqual([
      'search in tool search',
      'retrieve in tool retrieve',
      'calculator in tool calculator',
    ])
    await scope.end()
    const planSpan = memory.spans().find((s) => s.name === 'plan')!
    const tools = memory.spans().filter((s) => s.name.startsWith('tool '))
    expect(tools.map((s) => s.parentSpanId)).toEqual([planSpan.spanId, planSpan.spanId, planSpan.spanId])
  })

  it('timers: the debounced span ends when the callback has run, with its error', async () => {
    const { debounceFlush } = await importNodeSample<{ debounceFlush(span: Span, flush: () => void): void }>(
      docSample('docs/fan-out.md', 'debounceFlush'),
    )
    const { memory, tracer } = memoryTracer()
    const scope = tracer.start()
    const ran = new Promise<void>((resolve) =>
      debounceFlush(scope.root, () => {
        resolve()
        throw new Error('flush failed')
      }),
    )
    await ran
    await scope.end()
    const debounced = memory.spans().find((s) => s.name === 'debounced flush')!
    expect(debounced.parentSpanId).toBe(scope.root.spanId)
    expect(debounced.status.code).toBe(2)
    expect(debounced.attributes['tracehop.force_ended']).toBeUndefined()
  })

  it('across processes: produce writes the context into the message, consume continues it', async () => {
    const sample = await importNodeSample<{
      produce(span: Span): string
      consume(raw: string): Promise<void>
    }>(docSample('docs/fan-out.md', 'process job'))
    const { tracer } = memoryTracer()
    const producer = tracer.start()
    const raw = sample.produce(producer.root)
    expect(JSON.parse(raw)).toMatchObject({ job: 42, trace: { traceparent: expect.any(String) } })
    // The sample's tracer has no exporter: the consumer is checked by running to the end.
    await expect(sample.consume(raw)).resolves.toBeUndefined()
  })

  it('a relay passes the context on unchanged with tracer.extract and tracer.inject', async () => {
    const { forward } = await importNodeSample<{
      forward(incoming: Record<string, string>): Record<string, string>
    }>(docSample('docs/fan-out.md', 'tracer.inject(parent, out)'))
    const traceparent = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01'
    const out = forward({ traceparent, tracestate: 'vendor=1', baggage: 'session.id=s1' })
    expect(out).toMatchObject({ traceparent, tracestate: 'vendor=1', baggage: 'session.id=s1' })
    expect(forward({ traceparent: 'garbage' })).toEqual({})
  })
})

/** `n` incoming W3C contexts with random trace ids, each saying "sampled" (flag 01). */
function sampledCallers(n: number): { traceparent: string; baggage: string }[] {
  return Array.from({ length: n }, () => ({
    traceparent: `00-${hex(16)}-${hex(8)}-01`,
    baggage: 'user.id=mallory',
  }))
}

describe('docs/sampling.md', () => {
  it('head sampling: two services with the sample config keep the same ~10% of traces', async () => {
    const sample = docSample('docs/sampling.md', "algorithm: 'opentelemetry'")
    const a = (await importNodeSample<{ tracer: Tracer }>(sample)).tracer
    const b = (await importNodeSample<{ tracer: Tracer }>(sample)).tracer
    expect(a).not.toBe(b)
    let kept = 0
    for (let i = 0; i < 2000; i++) {
      const first = a.start(undefined, { name: 'gateway' })
      const second = b.start(first.root.headers(), { ingress: 'untrusted' }) // decides again, by itself
      expect(second.traceId).toBe(first.traceId)
      expect(second.sampled).toBe(first.sampled)
      if (first.sampled) kept++
    }
    // 2000 draws at 10%: 200 ± 13 (one standard deviation); these bounds are ±4.5.
    expect(kept).toBeGreaterThan(140)
    expect(kept).toBeLessThan(260)
  })

  it("an untrusted edge keeps the client's trace id, ignores its sampled flag and drops its baggage", async () => {
    const { gateway } = await importNodeSample<{ gateway: Tracer }>(
      docSample('docs/sampling.md', 'export const gateway'),
    )
    let kept = 0
    for (const caller of sampledCallers(1000)) {
      const scope = gateway.start(caller)
      expect(scope.traceId).toBe(caller.traceparent.split('-')[1])
      expect(scope.root.headers()['baggage'] ?? '').not.toContain('mallory')
      if (scope.sampled) kept++
    }
    expect(kept).toBeLessThan(200) // the client said 100%; the edge keeps ~10%
  })

  it('a context of our own, continued on an untrusted tracer with ingress: trusted', async () => {
    // The sample runs at import; its scopes are module-private, so it must simply not throw.
    await expect(importNodeSample(docSample('docs/sampling.md', 'nightly job'))).resolves.toBeDefined()
  })
})

describe('docs/troubleshooting.md', () => {
  it('debugRoute answers the tracer stats as JSON', async () => {
    const { debugRoute } = await importNodeSample<{ debugRoute(): Response }>(
      docSample('docs/troubleshooting.md', 'debugRoute'),
    )
    const stats = await debugRoute().json()
    expect(Object.keys(stats)).toEqual(
      expect.arrayContaining(['scopes', 'spans', 'invalid', 'limits', 'exports']),
    )
    expect(stats.spans).toMatchObject({ recorded: 0, exported: 0, dropped: {} })
  })
})

describe('docs/langsmith-vs-otel.md', () => {
  it('"both": every outgoing call carries traceparent and langsmith-trace of one trace', async () => {
    // Its LangSmith exporter would post to api.smith.langchain.com: no scope is ended here.
    const { tracer } = await importNodeSample<{ tracer: Tracer }>(
      docSample('docs/langsmith-vs-otel.md', "service: 'retrieval'"),
      { globals: { env: { LANGSMITH_API_KEY: 'lsv2-test', OTLP_URL: otlpReceiver.url } } },
    )
    const scope = tracer.start(undefined, { name: 'search' })
    const headers = scope.root.headers()
    expect(headers['traceparent']).toContain(scope.traceId)
    expect(headers['langsmith-trace']).toMatch(new RegExp(`Z${scope.root.runId}$`))
  })
})

describe('docs/runtimes.md AWS Lambda', () => {
  type Handler = (event: unknown, context: ReturnType<typeof lambdaContext>) => Promise<unknown>

  it('retrieve answers a direct invocation; consume settles an SQS batch with no failures', async () => {
    const { retrieve, consume } = await importNodeSample<{ retrieve: Handler; consume: Handler }>(
      docSample('docs/runtimes.md', 'export const retrieve = withTrace('),
    )
    expect(await retrieve({ query: 'what is tracehop?' }, lambdaContext())).toEqual({
      docs: ['what is tracehop?'],
    })
    // A real SQS batch (aws-lambda-go's fixture), one record carrying its producer's context.
    const event = fixture('sqs-base.json')
    event.Records[0].messageAttributes.traceparent = { stringValue: TRACEPARENT, dataType: 'String' }
    expect(await consume(event, lambdaContext())).toEqual({ batchItemFailures: [] })
  })
})
