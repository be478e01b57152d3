// Ingress applies to every way context comes in: a context object passed to tracer.start()
// is believed exactly as far as the same context in headers would be, and a client's X-Ray
// Lineage is never adopted from an untrusted or linked request, Root-only or not.
import { describe, expect, it } from 'vitest'
import { createTracer, type Ingress, memoryExporter, type TraceContext } from '../../src/index.js'

const TRACE_ID = '0af7651916cd43dd8448eb211c80319c'
const SPAN_ID = 'b7ad6b7169203331'
const LS_TRACE = '0af76519-16cd-43dd-8448-eb211c80319c'
const LS_RUN = '7d0b1d3c-5f4a-4b8e-9c1d-2e3f4a5b6c7d'

/** What a client would forge: sampled, decided, baggage with identity, LangSmith project/tags/metadata. */
const forged: TraceContext = {
  traceId: TRACE_ID,
  spanId: SPAN_ID,
  flags: 1,
  remote: true,
  decided: true,
  traceState: [{ key: 'vendor', value: 'forced' }],
  baggage: [{ key: 'user.id', value: 'mallory' }],
  langsmith: {
    dottedOrder: `20240101T000000000000Z${LS_TRACE}.20240101T000000000001Z${LS_RUN}`,
    runId: LS_RUN,
    traceId: LS_TRACE,
    startTime: Date.UTC(2024, 0, 1),
    project: 'victim-project',
    tags: ['forged'],
    metadata: { admin: true },
  },
  xray: {
    root: '1-0af76519-16cd43dd8448eb211c80319c',
    parent: SPAN_ID,
    sampled: true,
    lineage: 'a87bd80c:1',
  },
}

function tracerWith(ingress: Ingress) {
  const memory = memoryExporter()
  const tracer = createTracer({
    service: 'edge',
    sampling: { ratio: 0, keepErrors: false },
    propagation: {
      ingress,
      write: ['w3c', 'baggage', 'langsmith', 'xray'],
      baggage: { attributes: ['user.id'] },
    },
    exporters: [memory],
  })
  return { tracer, memory }
}

describe('tracer.start(contextObject) applies the ingress rules of headers', () => {
  it('untrusted: keeps where the trace continues, believes no sampled flag, baggage, tracestate or LangSmith fields', () => {
    const { tracer } = tracerWith('untrusted')
    const scope = tracer.start(forged)
    expect(scope.traceId).toBe(TRACE_ID)
    expect(scope.root.parentSpanId).toBe(SPAN_ID)
    expect(scope.sampled).toBe(false)
    const h = scope.root.headers()
    expect(h['traceparent']).toMatch(/-00$/)
    expect(h['baggage'] ?? '').not.toContain('mallory')
    expect(h['baggage'] ?? '').not.toContain('victim-project')
    expect(h['tracestate'] ?? '').not.toContain('forced')
    expect(h['x-amzn-trace-id'] ?? '').not.toContain('Lineage')
    const ctx = scope.root.context()
    expect(ctx.baggage).toBeUndefined()
    expect(ctx.langsmith?.project).toBeUndefined()
    expect(ctx.langsmith?.tags).toBeUndefined()
    expect(ctx.langsmith?.metadata).toBeUndefined()
    // The LangSmith run it continues is kept, as from headers.
    expect(ctx.langsmith?.traceId).toBe(LS_TRACE)
  })

  it('untrusted: the same object and the same headers give the same scope', () => {
    const { tracer } = tracerWith('untrusted')
    const fromObject = tracer.start(forged)
    const fromHeaders = tracer.start({
      traceparent: `00-${TRACE_ID}-${SPAN_ID}-01`,
      tracestate: 'vendor=forced',
      baggage: 'user.id=mallory,langsmith-project=victim-project,langsmith-tags=forged',
      'langsmith-trace': forged.langsmith!.dottedOrder,
    })
    for (const s of [fromObject, fromHeaders]) {
      expect(s.sampled).toBe(false)
      expect(s.root.context().baggage).toBeUndefined()
      expect(s.root.context().langsmith?.project).toBeUndefined()
    }
    expect(fromObject.root.parentSpanId).toBe(fromHeaders.root.parentSpanId)
  })

  it('untrusted: the forced sampled flag records nothing, and no user.id attribute is recorded', async () => {
    const { tracer, memory } = tracerWith('untrusted')
    await tracer.start(forged).end()
    expect(memory.spans()).toHaveLength(0)
    const kept = memoryExporter()
    const all = createTracer({
      service: 'edge',
      propagation: { ingress: 'untrusted', baggage: { attributes: ['user.id'] } },
      exporters: [kept],
    })
    await all.start(forged).end()
    expect(kept.spans()[0]?.attributes['user.id']).toBeUndefined()
    await all.start(forged, { ingress: 'trusted' }).end()
    expect(kept.spans()[1]?.attributes['user.id']).toBe('mallory')
  })

  it('link: a new trace linked to the object, nothing adopted', async () => {
    const { tracer, memory } = tracerWith('link')
    const scope = tracer.start(forged)
    expect(scope.traceId).not.toBe(TRACE_ID)
    expect(scope.root.parentSpanId).toBeUndefined()
    expect(scope.sampled).toBe(false)
    expect(scope.root.context().baggage).toBeUndefined()
    expect(scope.root.context().langsmith?.project).toBeUndefined()
    await scope.end()
    expect(memory.spans()).toHaveLength(0)
  })

  it('link: the object is a link of the root span', async () => {
    const memory = memoryExporter()
    const tracer = createTracer({ service: 'edge', propagation: { ingress: 'link' }, exporters: [memory] })
    await tracer.start(forged).end()
    expect(memory.spans()[0]?.links[0]).toMatchObject({ traceId: TRACE_ID, spanId: SPAN_ID })
  })

  it('trusted (the default) keeps the object as it is', () => {
    const { tracer } = tracerWith('trusted')
    const scope = tracer.start(forged)
    expect(scope.sampled).toBe(true)
    expect(scope.root.context().baggage).toEqual([{ key: 'user.id', value: 'mallory' }])
    expect(scope.root.context().langsmith?.project).toBe('victim-project')
  })

  it('an untrusted tracer still continues its own context when told to (ingress: trusted)', () => {
    const { tracer } = tracerWith('untrusted')
    const scope = tracer.start(forged, { ingress: 'trusted' })
    expect(scope.sampled).toBe(true)
    expect(scope.root.context().langsmith?.project).toBe('victim-project')
  })
})

describe('X-Ray Lineage from a client', () => {
  const ROOT_ONLY = 'Root=1-5759e988-bd862e3fe1be46a994272793;Lineage=a87bd80c:1|68fd508a:5'

  for (const ingress of ['untrusted', 'link'] as const) {
    it(`${ingress}: a Root-only header's Lineage is dropped, its Root kept for correlation`, () => {
      const { tracer } = tracerWith(ingress)
      const scope = tracer.start({ 'x-amzn-trace-id': ROOT_ONLY })
      expect(scope.xray?.root).toBe('1-5759e988-bd862e3fe1be46a994272793')
      expect(scope.xray?.lineage).toBeUndefined()
      expect(scope.root.headers()['x-amzn-trace-id']).not.toContain('Lineage')
    })

    it(`${ingress}: with traceparent winning, the X-Ray header's Lineage is dropped too`, () => {
      const { tracer } = tracerWith(ingress)
      const scope = tracer.start({
        traceparent: `00-${TRACE_ID}-${SPAN_ID}-01`,
        'x-amzn-trace-id': `${ROOT_ONLY};Parent=53995c3f42cd8ad8;Sampled=1`,
      })
      expect(scope.root.headers()['x-amzn-trace-id'] ?? '').not.toContain('Lineage')
    })
  }

  it('trusted: the Lineage is forwarded', () => {
    const { tracer } = tracerWith('trusted')
    const scope = tracer.start({ 'x-amzn-trace-id': ROOT_ONLY })
    expect(scope.xray?.lineage).toBe('a87bd80c:1|68fd508a:5')
    expect(scope.root.headers()['x-amzn-trace-id']).toContain('Lineage=a87bd80c:1|68fd508a:5')
  })
})
