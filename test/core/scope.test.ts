import { describe, expect, it } from 'vitest'
import {
  createTracer,
  type Exporter,
  memoryExporter,
  SpanKind,
  type SpanRecord,
  StatusCode,
  TracehopError,
} from '../../src/index.js'

const TP = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01'

function setup(extra: Parameters<typeof createTracer>[0] extends infer C ? Partial<C> : never = {}) {
  const memory = memoryExporter()
  const tracer = createTracer({ service: 'test', exporters: [memory], flush: { windowMs: 0 }, ...extra })
  return { tracer, memory }
}

function byName(spans: readonly SpanRecord[], name: string): SpanRecord {
  const s = spans.find((x) => x.name === name)
  if (!s) throw new Error(`no span ${name}: ${spans.map((x) => x.name).join(', ')}`)
  return s
}

describe('scope', () => {
  it('continues an incoming traceparent: same trace id, root parented to the remote span', async () => {
    const { tracer, memory } = setup()
    const scope = tracer.start(new Headers({ traceparent: TP }), { name: 'GET /' })
    await scope.end()
    const [root] = memory.spans()
    expect(root?.traceId).toBe('0af7651916cd43dd8448eb211c80319c')
    expect(root?.parentSpanId).toBe('b7ad6b7169203331')
    expect(root?.kind).toBe(SpanKind.SERVER)
    expect(root?.remoteParent).toBe(true)
  })

  it('starts a fresh trace when there is no carrier, with a UUIDv7 trace id whose root run id is the trace id', async () => {
    const { tracer, memory } = setup()
    await tracer.start().end()
    const [root] = memory.spans()
    expect(root?.traceId).toMatch(/^[0-9a-f]{12}7[0-9a-f]{3}[89ab][0-9a-f]{15}$/)
    expect(root?.runId.replaceAll('-', '')).toBe(root?.traceId)
    expect(root?.runTraceId).toBe(root?.runId)
    expect(root?.parentSpanId).toBeUndefined()
    expect(root?.dottedOrder).toMatch(/^\d{8}T\d{6}\d{6}Z[0-9a-f-]{36}$/)
  })

  it('starts a fresh trace and counts it when the traceparent is malformed', async () => {
    const { tracer, memory } = setup()
    const handlerRan = await (async () => {
      const scope = tracer.start({ traceparent: '00-ZZZ-bad-01' })
      await scope.end()
      return true
    })()
    expect(handlerRan).toBe(true)
    expect(memory.spans()[0]?.parentSpanId).toBeUndefined()
    expect(tracer.stats().invalid.traceparent).toBe(1)
  })

  it('reads plain header records case-insensitively (REST v1 keeps the client casing)', async () => {
    const { tracer, memory } = setup()
    await tracer.start({ Traceparent: TP }).end()
    expect(memory.spans()[0]?.traceId).toBe('0af7651916cd43dd8448eb211c80319c')
  })

  it('gives every span of a Promise.all fan-out, timers and callbacks its correct parent without AsyncLocalStorage', async () => {
    const { tracer, memory } = setup()
    const scope = tracer.start()
    await scope.root.child('plan', async (plan) => {
      await Promise.all(
        [0, 1, 2, 3].map((i) =>
          plan.child(`tool-${i}`, async (tool) => {
            await new Promise((r) => setTimeout(r, 5 * (4 - i)))
            await tool.child(`inner-${i}`, async () => {
              await new Promise<void>((resolve) =>
                setTimeout(() => {
                  tool.child(`callback-${i}`, () => undefined)
                  resolve()
                }, i),
              )
            })
          }),
        ),
      )
    })
    await scope.end()
    const spans = memory.spans()
    const plan = byName(spans, 'plan')
    expect(plan.parentSpanId).toBe(scope.root.spanId)
    for (let i = 0; i < 4; i++) {
      const tool = byName(spans, `tool-${i}`)
      expect(tool.parentSpanId).toBe(plan.spanId)
      expect(byName(spans, `inner-${i}`).parentSpanId).toBe(tool.spanId)
      expect(byName(spans, `callback-${i}`).parentSpanId).toBe(tool.spanId)
      expect(tool.dottedOrder.startsWith(`${plan.dottedOrder}.`)).toBe(true)
      expect(tool.parentRunId).toBe(plan.runId)
    }
  })

  it('child() records a thrown error and rethrows the same object', async () => {
    const { tracer, memory } = setup()
    const scope = tracer.start()
    const boom = new TypeError('boom')
    await expect(
      scope.root.child('step', async () => {
        throw boom
      }),
    ).rejects.toBe(boom)
    expect(() =>
      scope.root.child('sync', () => {
        throw boom
      }),
    ).toThrow(boom)
    await scope.end()
    const step = byName(memory.spans(), 'step')
    expect(step.status).toEqual({ code: StatusCode.ERROR, message: 'boom' })
    expect(step.events[0]?.name).toBe('exception')
    expect(step.events[0]?.attributes?.['exception.type']).toBe('TypeError')
    expect(scope.failed).toBe(true)
  })

  it('marks the root an error for a 5xx response but not for a 4xx', async () => {
    const { tracer, memory } = setup()
    await tracer.start().end(new Response('x', { status: 503 }))
    await tracer.start().end(new Response('x', { status: 404 }))
    const [a, b] = memory.spans()
    expect(a?.status.code).toBe(StatusCode.ERROR)
    expect(a?.attributes['http.response.status_code']).toBe(503)
    expect(b?.status.code).toBe(StatusCode.UNSET)
  })
})

describe('sampling in a scope', () => {
  it('drops an unsampled scope without exporting it, and counts it', async () => {
    const { tracer, memory } = setup({ sampling: { ratio: 0 } })
    const report = await tracer.start().end()
    expect(report.kept).toBe(false)
    expect(memory.spans()).toHaveLength(0)
    expect(tracer.stats().scopes.notSampled).toBe(1)
  })

  it('keeps errors when unsampled, marks why, and exports the whole scope', async () => {
    const { tracer, memory } = setup({ sampling: { ratio: 0, keepErrors: true } })
    const scope = tracer.start()
    scope.root.child('ok', () => 1)
    scope.root.child('bad', (s) => s.status(StatusCode.ERROR, 'no'))
    const report = await scope.end()
    expect(report).toMatchObject({ kept: true, reason: 'error', spans: 3 })
    expect(memory.spans()).toHaveLength(3)
    expect(byName(memory.spans(), 'invocation').attributes['tracehop.kept_reason']).toBe('error')
    expect(tracer.stats().scopes.keptForError).toBe(1)
  })

  it('does not keep unsampled errors when keepErrors is off', async () => {
    const { tracer, memory } = setup({ sampling: { ratio: 0, keepErrors: false } })
    await tracer.start().end({ error: new Error('x') })
    expect(memory.spans()).toHaveLength(0)
  })

  it('follows a trusted remote decision, and ignores it at an untrusted ingress', async () => {
    const trusted = setup({ sampling: { ratio: 0 } })
    expect(trusted.tracer.start({ traceparent: TP }).sampled).toBe(true)
    const untrusted = setup({ sampling: { ratio: 0 }, propagation: { ingress: 'untrusted' } })
    const scope = untrusted.tracer.start({ traceparent: TP, baggage: 'user.id=mallory' })
    expect(scope.sampled).toBe(false)
    expect(scope.traceId).toBe('0af7651916cd43dd8448eb211c80319c')
    expect(scope.root.headers()['baggage']).toBeUndefined()
  })

  it('links instead of continuing with ingress "link"', async () => {
    const { tracer, memory } = setup({ propagation: { ingress: 'link' } })
    await tracer.start({ traceparent: TP }).end()
    const [root] = memory.spans()
    expect(root?.traceId).not.toBe('0af7651916cd43dd8448eb211c80319c')
    expect(root?.links[0]).toMatchObject({
      traceId: '0af7651916cd43dd8448eb211c80319c',
      spanId: 'b7ad6b7169203331',
    })
  })

  it('propagates the sampled flag it decided', () => {
    const on = setup({ sampling: { ratio: 1 } }).tracer.start()
    expect(on.root.headers()['traceparent']).toMatch(/-01$/)
    const off = setup({ sampling: { ratio: 0 } }).tracer.start()
    expect(off.root.headers()['traceparent']).toMatch(/-00$/)
  })
})

describe('outgoing propagation', () => {
  it('writes traceparent and langsmith-trace for the span it is asked from', () => {
    const { tracer } = setup()
    const scope = tracer.start({ traceparent: TP })
    const child = scope.root.startChild('call')
    const h = child.headers()
    expect(h['traceparent']).toBe(`00-0af7651916cd43dd8448eb211c80319c-${child.spanId}-01`)
    expect(h['langsmith-trace']).toBe(child.dottedOrder)
  })

  it("a Request carrier's URL (the client's Host) is not same origin unless trustHostHeader (tracer.start(request))", () => {
    const request = () => new Request('https://gateway.example/chat', { headers: { traceparent: TP } })
    const { tracer } = setup()
    const scope = tracer.start(request())
    expect(scope.origin).toBeUndefined()
    expect(scope.root.headers('https://gateway.example/tools')).toEqual({})
    const trusting = setup({ propagation: { trustHostHeader: true } }).tracer.start(request())
    expect(trusting.origin).toBe('https://gateway.example')
    expect(Object.keys(trusting.root.headers('https://gateway.example/tools'))).toContain('traceparent')
    expect(trusting.root.headers('https://elsewhere.example/')).toEqual({})
    // An origin the adapter vouches for wins, trusted or not.
    const other = tracer.start(request(), { origin: 'https://app.example' })
    expect(other.origin).toBe('https://app.example')
  })

  it("propagation.origin names the service's own origins: same origin in every scope", () => {
    const { tracer } = setup({
      propagation: { origin: ['https://gateway.example/', 'http://127.0.0.1:8787'] },
    })
    const scope = tracer.start(new Request('https://attacker.example/'))
    expect(Object.keys(scope.root.headers('https://gateway.example/x'))).toContain('traceparent')
    expect(Object.keys(scope.root.headers('http://127.0.0.1:8787/x'))).toContain('traceparent')
    expect(scope.root.headers('https://attacker.example/')).toEqual({})
    const off = setup({ propagation: { origin: 'https://gateway.example', sameOrigin: false } })
    expect(off.tracer.start().root.headers('https://gateway.example/x')).toEqual({})
    expect(() => setup({ propagation: { origin: 'gateway.example' } })).toThrow(/propagation.origin/)
  })

  it('sends headers only to allowed destinations', () => {
    const { tracer } = setup({ propagation: { allow: ['https://retrieval.internal'] } })
    const scope = tracer.start(undefined, { origin: 'https://gateway.example' })
    expect(Object.keys(scope.root.headers('https://retrieval.internal/q'))).toContain('traceparent')
    expect(Object.keys(scope.root.headers('https://gateway.example/x'))).toContain('traceparent')
    expect(scope.root.headers('https://api.search.example/?q=1')).toEqual({})
  })

  it('span.fetch adds headers for allowed destinations, records a client span, and merges existing baggage', async () => {
    const seen: Request[] = []
    const fakeUpstream = (async (input: RequestInfo | URL) => {
      seen.push(input as Request)
      return new Response('ok', { status: 502 })
    }) as typeof fetch
    const { tracer, memory } = setup({
      fetch: fakeUpstream,
      propagation: { allow: ['https://retrieval.internal'] },
    })
    const scope = tracer.start({ traceparent: TP, baggage: 'session.id=s1' })
    await scope.root.fetch('https://retrieval.internal/q', { headers: { baggage: 'tenant=acme' } })
    await scope.root.fetch('https://third.party/x')
    await scope.end()
    expect(seen[0]?.headers.get('traceparent')).toMatch(/^00-0af7651916cd43dd8448eb211c80319c-/)
    expect(seen[0]?.headers.get('baggage')).toContain('tenant=acme')
    expect(seen[0]?.headers.get('baggage')).toContain('session.id=s1')
    expect(seen[1]?.headers.get('traceparent')).toBeNull()
    const client = byName(memory.spans(), 'GET retrieval.internal')
    expect(client.kind).toBe(SpanKind.CLIENT)
    expect(client.attributes['http.response.status_code']).toBe(502)
    expect(client.status.code).toBe(StatusCode.ERROR)
  })
})

describe('limits and counters', () => {
  it('caps spans per scope, keeps propagating, and counts the overflow', async () => {
    const { tracer, memory } = setup({ limits: { spansPerScope: 3 } })
    const scope = tracer.start()
    for (let i = 0; i < 5; i++)
      scope.root.child(`s${i}`, (s) => expect(s.headers()['traceparent']).toBeDefined())
    await scope.end()
    expect(memory.spans()).toHaveLength(3)
    expect(tracer.stats().limits.spans).toBe(3)
  })

  it('counts a span both past the limit and late once, under limits.spans', async () => {
    const { tracer } = setup({ limits: { spansPerScope: 1 } })
    const scope = tracer.start()
    await scope.end()
    // After the flush, and the root alone fills the limit: one span, one count.
    const span = scope.root.startChild('late and over')
    span.end()
    const stats = tracer.stats()
    expect(stats.limits.spans).toBe(1)
    expect(stats.spans.late).toBe(0)
    // Still never exported, so it sends no trace headers, as a late span does.
    expect(span.headers()).toEqual({})
    // With a waitUntil (late spans accepted in a follow-up), the limit alone keeps it out.
    const pending: Promise<unknown>[] = []
    const held = tracer.start(undefined, { waitUntil: (p) => pending.push(p) })
    await held.end()
    held.root.startChild('over').end()
    await Promise.all(pending)
    expect(tracer.stats().limits.spans).toBe(2)
    expect(tracer.stats().spans.late).toBe(0)
  })

  it('caps attributes and truncates long values', async () => {
    const { tracer, memory } = setup({ limits: { attributesPerSpan: 2, attributeValueLength: 4 } })
    const scope = tracer.start()
    scope.root.set('a', 'abcdefgh').set('b', 1).set('c', 2).set('a', 'xy')
    await scope.end()
    const [root] = memory.spans()
    expect(root?.attributes).toEqual({ a: 'xy', b: 1 })
    expect(root?.droppedAttributes).toBe(1)
    expect(tracer.stats().limits['attribute-length']).toBe(1)
  })

  it('counts baggage cut by the limits, in and out; configured limits apply to both', () => {
    const members = (n: number, from = 0) => Array.from({ length: n }, (_, i) => `k${from + i}=v`)
    const { tracer } = setup({ propagation: { write: ['w3c', 'baggage'] } })
    const scope = tracer.start({ traceparent: TP, baggage: members(70).join(',') })
    expect(tracer.stats().limits.baggage).toBe(1)
    expect(scope.root.headers()['baggage']?.split(',')).toEqual(members(64))
    const wide = setup({ limits: { baggageMembers: 100 }, propagation: { write: ['w3c', 'baggage'] } })
    const wideScope = wide.tracer.start({ traceparent: TP, baggage: members(100).join(',') })
    expect(wideScope.root.headers()['baggage']?.split(',')).toEqual(members(100))
    expect(wide.tracer.stats().limits.baggage).toBeUndefined()
  })

  it('applies the baggage limits to the whole header, LangSmith members included', async () => {
    const user = (n: number, from = 0) => Array.from({ length: n }, (_, i) => `k${from + i}=v`)
    const seen: Request[] = []
    const upstream = (async (input: RequestInfo | URL) => {
      seen.push(input as Request)
      return new Response('ok')
    }) as typeof fetch
    const { tracer } = setup({ fetch: upstream, propagation: { allow: ['http://127.0.0.1'] } })
    // 64 members in, one of them LangSmith's (read with the caller's langsmith-trace): within the limit.
    const caller = setup().tracer.start().root.headers()
    const scope = tracer.start({ ...caller, baggage: ['langsmith-project=p', ...user(63)].join(',') })
    expect(scope.parent?.langsmith?.project).toBe('p')
    expect(tracer.stats().limits.baggage).toBeUndefined()
    // The request already carries 5 more: 69 would go out; 64 do, ours first.
    await scope.root.fetch('http://127.0.0.1/', { headers: { baggage: user(5, 100).join(',') } })
    const keys = (seen[0]?.headers.get('baggage') ?? '').split(',').map((m) => m.split('=')[0])
    expect(keys).toHaveLength(64)
    expect(keys[0]).toBe('langsmith-project')
    expect(keys.slice(1)).toEqual(user(63).map((m) => m.split('=')[0]))
    expect(tracer.stats().limits.baggage).toBe(1)
  })

  it('passes langsmith-* members on as plain baggage when the LangSmith format is off, never twice when on', () => {
    const incoming = { traceparent: TP, baggage: 'langsmith-project=checkout,userId=alice' }
    const w3cOnly = setup({ propagation: { read: ['w3c', 'baggage'], write: ['w3c', 'baggage'] } })
    expect(w3cOnly.tracer.start(incoming).root.headers()['baggage']).toBe(
      'langsmith-project=checkout,userId=alice',
    )
    // Read as plain baggage, written by the LangSmith writer: one langsmith-project, ours.
    const mixed = setup({ propagation: { read: ['w3c', 'baggage'] } })
    const header = mixed.tracer.start(incoming).root.headers()['baggage']!
    expect(header.match(/langsmith-project=/g)).toBeNull()
    expect(header).toContain('userId=alice')
  })

  it('passes baggage on that came without any trace context (trusted ingress only)', () => {
    const { tracer } = setup({ propagation: { write: ['w3c', 'baggage'] } })
    const scope = tracer.start({ baggage: 'userId=alice' })
    expect(scope.parent).toBeUndefined()
    expect(scope.root.headers()['baggage']).toBe('userId=alice')
    const edge = setup({ propagation: { ingress: 'untrusted', write: ['w3c', 'baggage'] } })
    expect(edge.tracer.start({ baggage: 'userId=alice' }).root.headers()['baggage']).toBeUndefined()
  })

  it('rejects bad configuration with a message that says what to change', () => {
    expect(() => createTracer({ service: 'x', sampling: { ratio: 1.5 } })).toThrow(
      /sampling.ratio must be within \[0, 1\], got 1.5/,
    )
    expect(() => createTracer({ service: '' })).toThrow(TracehopError)
  })
})

describe('flush', () => {
  it('hands the flush to waitUntil and returns before the exporter finishes', async () => {
    let release!: () => void
    const gate = new Promise<void>((r) => {
      release = r
    })
    const slow: Exporter = {
      name: 'slow',
      async export(batch) {
        await gate
        return { exported: batch.spans.length, dropped: 0, attempts: 1 }
      },
    }
    const tracer = createTracer({ service: 't', exporters: [slow] })
    const pending: Promise<unknown>[] = []
    const scope = tracer.start(undefined, { waitUntil: (p) => pending.push(p) })
    const flushing = scope.end()
    expect(pending).toHaveLength(1)
    let settled = false
    flushing.then(() => {
      settled = true
    })
    await new Promise((r) => setTimeout(r, 30))
    expect(settled).toBe(false)
    release()
    await expect(flushing).resolves.toMatchObject({ kept: true, exported: 1 })
  })

  it('waits for spans that end after the handler (streams, waitUntil work) and force-ends them at the deadline', async () => {
    const { tracer, memory } = setup({ flush: { budgetMs: 300, windowMs: 0 } })
    const scope = tracer.start()
    const late = scope.root.startChild('late')
    const never = scope.root.startChild('never')
    setTimeout(() => late.end(), 20)
    const report = await scope.end()
    expect(report.forceEnded).toBe(1)
    expect(byName(memory.spans(), 'late').attributes['tracehop.force_ended']).toBeUndefined()
    expect(byName(memory.spans(), 'never').attributes['tracehop.force_ended']).toBe(true)
    expect(never.ended).toBe(true)
  })

  it('coalesces scopes that end within the window into one export request', async () => {
    const memory = memoryExporter()
    const tracer = createTracer({ service: 't', exporters: [memory], flush: { windowMs: 20 } })
    const waitUntil = (): void => {}
    const start = () => tracer.start(undefined, { waitUntil })
    await Promise.all([start().end(), start().end(), start().end()])
    expect(memory.batches()).toHaveLength(1)
    expect(memory.spans()).toHaveLength(3)
  })

  it('sends a scope without waitUntil at once and alone: its response waits for no window', async () => {
    const memory = memoryExporter()
    const tracer = createTracer({ service: 't', exporters: [memory], flush: { windowMs: 2_000 } })
    const waitUntil = (): void => {}
    void tracer.start(undefined, { waitUntil }).end()
    await Promise.all([tracer.start().end(), tracer.start().end()])
    // The two awaited scopes were sent, each in its own request; the waitUntil one still waits.
    expect(memory.batches()).toHaveLength(2)
    expect(memory.batches().map((b) => b.spans.length)).toEqual([1, 1])
  })

  it('counts spans of a failing exporter as dropped, never throws, and reports the reason', async () => {
    const failing: Exporter = {
      name: 'down',
      async export(batch) {
        return {
          exported: 0,
          dropped: batch.spans.length,
          reason: 'network',
          attempts: 3,
          detail: 'ECONNREFUSED',
        }
      },
    }
    const logs: string[] = []
    const tracer = createTracer({
      service: 't',
      exporters: [failing],
      log: (l) => logs.push(l),
      flush: { windowMs: 0 },
    })
    const r1 = await tracer.start().end()
    const r2 = await tracer.start().end()
    expect(r1).toMatchObject({ kept: true, exported: 0, dropped: 1, dropReason: 'network' })
    expect(r2.dropped).toBe(1)
    expect(tracer.stats().spans.dropped.network).toBe(2)
    expect(tracer.stats().exports.retries).toBe(4)
    expect(logs).toHaveLength(1)
  })

  it('survives an exporter that throws', async () => {
    const throwing: Exporter = {
      name: 'bad',
      export() {
        throw new Error('bug')
      },
    }
    const tracer = createTracer({
      service: 't',
      exporters: [throwing],
      log: () => {},
      flush: { windowMs: 0 },
    })
    await expect(tracer.start().end()).resolves.toMatchObject({ dropped: 1, dropReason: 'encode' })
  })

  it('bounds queued spans per isolate and counts what does not fit', async () => {
    const memory = memoryExporter()
    const tracer = createTracer({
      service: 't',
      exporters: [memory],
      log: () => {},
      flush: { windowMs: 50, maxQueuedSpans: 2, maxBatchSpans: 100 },
    })
    const reports = await Promise.all([tracer.start().end(), tracer.start().end(), tracer.start().end()])
    expect(reports.map((r) => r.dropped)).toEqual([0, 0, 1])
    expect(tracer.stats().spans.dropped['queue-full']).toBe(1)
  })
})

describe('concurrency in one isolate', () => {
  it('keeps interleaved scopes apart', async () => {
    const { tracer, memory } = setup()
    const a = tracer.start({ traceparent: TP })
    const b = tracer.start()
    const pa = a.root.child('a-work', () => new Promise((r) => setTimeout(r, 10)))
    const pb = b.root.child('b-work', () => new Promise((r) => setTimeout(r, 5)))
    await Promise.all([pa, pb])
    await Promise.all([a.end(), b.end()])
    expect(byName(memory.spans(), 'a-work').traceId).toBe(a.traceId)
    expect(byName(memory.spans(), 'b-work').traceId).toBe(b.traceId)
    expect(a.traceId).not.toBe(b.traceId)
  })
})

describe('identity baggage', () => {
  const incoming = { traceparent: TP, baggage: 'session.id=s-1,user.id=u-9,tenant=acme' }

  it('drops keys that are not allowed: neither sent nor recorded', async () => {
    const { tracer, memory } = setup({ propagation: { baggage: { keys: ['session.id'], attributes: true } } })
    const scope = tracer.start(incoming)
    expect(scope.root.headers()['baggage']).toBe('session.id=s-1')
    await scope.end()
    expect(memory.spans()[0]?.attributes).toMatchObject({ 'session.id': 's-1' })
    expect(memory.spans()[0]?.attributes['user.id']).toBeUndefined()
  })

  it('sends a routed key only to its destinations, and to bindings and queues', () => {
    const { tracer } = setup({
      propagation: {
        allow: ['https://retrieval.internal', 'https://billing.internal'],
        baggage: { keys: ['session.id', { key: 'user.id', to: ['https://retrieval.internal'] }] },
      },
    })
    const span = tracer.start(incoming).root
    expect(span.headers('https://retrieval.internal/q')['baggage']).toBe('session.id=s-1,user.id=u-9')
    expect(span.headers('https://billing.internal/x')['baggage']).toBe('session.id=s-1')
    expect(span.headers()['baggage']).toBe('session.id=s-1,user.id=u-9')
    expect(span.headers('https://third.party/')).toEqual({})
  })

  it('copies allowed keys onto every span of the scope', async () => {
    const { tracer, memory } = setup({ propagation: { baggage: { attributes: ['session.id'] } } })
    const scope = tracer.start(incoming)
    scope.root.child('deep', (s) => s.child('deeper', () => 1))
    await scope.end()
    for (const s of memory.spans()) expect(s.attributes['session.id']).toBe('s-1')
  })
})
