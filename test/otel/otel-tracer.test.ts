import {
  context,
  createContextKey,
  type Span as OtelSpan,
  SpanKind as OtelSpanKind,
  ROOT_CONTEXT,
  SpanStatusCode,
  trace,
} from '@opentelemetry/api'
import { generateText } from 'ai'
import { MockLanguageModelV3 } from 'ai/test'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { fromOtelSpan, otelSpan, otelTracer } from '../../adapters/otel/index.js'
import { createTracer, memoryExporter, type SpanRecord, StatusCode } from '../../src/index.js'

function setup() {
  const memory = memoryExporter()
  const tracer = createTracer({ service: 'otel-test', exporters: [memory], flush: { windowMs: 0 } })
  return { tracer, memory }
}

function byName(spans: readonly SpanRecord[], name: string): SpanRecord {
  const s = spans.find((x) => x.name === name)
  if (!s) throw new Error(`no span ${name}: ${spans.map((x) => x.name).join(', ')}`)
  return s
}

const stubModel = () =>
  new MockLanguageModelV3({
    provider: 'stub-provider',
    modelId: 'stub-1',
    doGenerate: async () => ({
      content: [{ type: 'text', text: 'the answer is 42' }],
      finishReason: { unified: 'stop', raw: 'stop' },
      usage: {
        inputTokens: { total: 12, noCache: 12, cacheRead: 0, cacheWrite: 0 },
        outputTokens: { total: 5, text: 5, reasoning: 0 },
      },
      warnings: [],
    }),
  })

describe('otelTracer(span)', () => {
  it('starts spans as children of the bound span, in its scope and trace', async () => {
    const { tracer, memory } = setup()
    const scope = tracer.start()
    const t = otelTracer(scope.root)
    const s = t.startSpan('db.query', {
      kind: OtelSpanKind.CLIENT,
      attributes: { 'db.system.name': 'postgresql' },
    })
    expect(fromOtelSpan(s)?.scope).toBe(scope)
    s.end()
    await scope.end()
    const rec = byName(memory.spans(), 'db.query')
    expect(rec.traceId).toBe(scope.traceId)
    expect(rec.parentSpanId).toBe(scope.root.spanId)
    expect(rec.kind).toBe(OtelSpanKind.CLIENT)
    expect(rec.attributes['db.system.name']).toBe('postgresql')
    expect(rec.dottedOrder.startsWith(`${scope.root.dottedOrder}.`)).toBe(true)
  })

  it('parents to the span in the context passed when it belongs to the same scope', async () => {
    const { tracer, memory } = setup()
    const scope = tracer.start()
    const t = otelTracer(scope.root)
    const outer = t.startSpan('outer')
    const inner = t.startSpan('inner', {}, trace.setSpan(ROOT_CONTEXT, outer))
    inner.end()
    outer.end()
    await scope.end()
    expect(byName(memory.spans(), 'inner').parentSpanId).toBe(byName(memory.spans(), 'outer').spanId)
  })

  it('ignores a context span from another scope and parents to the bound span', async () => {
    const { tracer, memory } = setup()
    const a = tracer.start()
    const b = tracer.start()
    const foreign = otelSpan(b.root)
    const s = otelTracer(a.root).startSpan('mine', {}, trace.setSpan(ROOT_CONTEXT, foreign))
    s.end()
    await Promise.all([a.end(), b.end()])
    const rec = byName(memory.spans(), 'mine')
    expect(rec.traceId).toBe(a.traceId)
    expect(rec.parentSpanId).toBe(a.root.spanId)
  })

  it('ignores a non-tracehop span in the context and parents to the bound span', async () => {
    const { tracer, memory } = setup()
    const scope = tracer.start()
    const remote = trace.wrapSpanContext({ traceId: 'a'.repeat(32), spanId: 'b'.repeat(16), traceFlags: 1 })
    otelTracer(scope.root).startSpan('x', {}, trace.setSpan(ROOT_CONTEXT, remote)).end()
    await scope.end()
    expect(byName(memory.spans(), 'x').parentSpanId).toBe(scope.root.spanId)
  })

  it('puts a span asked to be a root under the bound span (a scope cannot start a new trace)', async () => {
    const { tracer, memory } = setup()
    const scope = tracer.start()
    const t = otelTracer(scope.root)
    const outer = t.startSpan('outer')
    t.startSpan('rooted', { root: true }, trace.setSpan(ROOT_CONTEXT, outer)).end()
    outer.end()
    await scope.end()
    expect(byName(memory.spans(), 'rooted').parentSpanId).toBe(scope.root.spanId)
  })

  it('startActiveSpan supports all three overloads and returns what fn returns', async () => {
    const { tracer, memory } = setup()
    const scope = tracer.start()
    const t = otelTracer(scope.root)
    const parent = t.startSpan('parent')
    const ctx = trace.setSpan(ROOT_CONTEXT, parent)
    const r1 = t.startActiveSpan('one', (s) => {
      s.end()
      return 1
    })
    const r2 = t.startActiveSpan('two', { attributes: { k: 'v' } }, (s) => {
      s.end()
      return 'two'
    })
    const r3 = await t.startActiveSpan('three', {}, ctx, async (s) => {
      s.end()
      return 3
    })
    parent.end()
    await scope.end()
    expect([r1, r2, r3]).toEqual([1, 'two', 3])
    const spans = memory.spans()
    expect(byName(spans, 'one').parentSpanId).toBe(scope.root.spanId)
    expect(byName(spans, 'two').attributes['k']).toBe('v')
    expect(byName(spans, 'three').parentSpanId).toBe(byName(spans, 'parent').spanId)
  })

  it('startActiveSpan hands fn a context whose active span is the new span (with a context manager absent, fn still runs)', async () => {
    const { tracer } = setup()
    const scope = tracer.start()
    const key = createContextKey('k')
    const ctx = ROOT_CONTEXT.setValue(key, 'kept')
    const seen = otelTracer(scope.root).startActiveSpan('a', {}, ctx, (s) => {
      s.end()
      return fromOtelSpan(s)?.name
    })
    expect(seen).toBe('a')
    // No global context manager is registered in this file: nothing leaks into context.active().
    expect(trace.getSpan(context.active())).toBeUndefined()
    await scope.end()
  })

  it('trace.setSpan / trace.getSpan round-trip our spans, and spanContext() carries the ids', async () => {
    const { tracer } = setup()
    const scope = tracer.start(
      new Headers({ tracestate: 'vendor=x', traceparent: `00-${'1'.repeat(32)}-${'2'.repeat(16)}-01` }),
    )
    const s = otelTracer(scope.root).startSpan('s')
    const ctx = trace.setSpan(ROOT_CONTEXT, s)
    expect(trace.getSpan(ctx)).toBe(s)
    const sc = s.spanContext()
    const ours = fromOtelSpan(s)!
    expect(sc.traceId).toBe('1'.repeat(32))
    expect(sc.spanId).toBe(ours.spanId)
    expect(sc.traceFlags & 1).toBe(1)
    expect(sc.isRemote).toBe(false)
    expect(sc.traceState?.get('vendor')).toBe('x')
    expect(trace.isSpanContextValid(sc)).toBe(true)
    expect(otelSpan(scope.root)).toBe(otelSpan(scope.root))
    s.end()
    await scope.end()
  })
})

describe('the OTel Span interface over a tracehop span', () => {
  async function recordOne(fn: (s: OtelSpan) => void): Promise<{ rec: SpanRecord; failed: boolean }> {
    const { tracer, memory } = setup()
    const scope = tracer.start()
    const s = otelTracer(scope.root).startSpan('subject')
    fn(s)
    s.end()
    await scope.end()
    return { rec: byName(memory.spans(), 'subject'), failed: scope.failed }
  }

  it('setAttribute/setAttributes keep valid values, drop gaps in arrays and drop mixed arrays', async () => {
    const { rec } = await recordOne((s) => {
      s.setAttribute('a', 'x')
      s.setAttribute('n', 3)
      s.setAttributes({ b: true, arr: ['p', null as unknown as string, undefined as unknown as string, 'q'] })
      s.setAttribute('mixed', [1, 'two'] as unknown as number[])
      s.setAttribute('obj', { not: 'allowed' } as unknown as string)
    })
    expect(rec.attributes).toMatchObject({ a: 'x', n: 3, b: true, arr: ['p', 'q'] })
    expect(rec.attributes['mixed']).toBeUndefined()
    expect(rec.attributes['obj']).toBeUndefined()
  })

  it('addEvent reads every TimeInput form: epoch ms, HrTime, Date, performance.now()', async () => {
    // Epoch ms later than performance.timeOrigin (earlier numbers are performance.now() readings, as in the OTel SDK).
    const epoch = Date.now() + 123
    const { rec } = await recordOne((s) => {
      s.addEvent('ms', epoch)
      s.addEvent('hr', { at: 1 }, [Math.floor(epoch / 1000), (epoch % 1000) * 1e6])
      s.addEvent('date', new Date(epoch))
      s.addEvent('perf', performance.now())
      s.addEvent('attrs-only', { k: 'v' })
    })
    const t = Object.fromEntries(rec.events.map((e) => [e.name, e]))
    expect(t['ms']?.time).toBe(epoch)
    expect(t['hr']?.time).toBeCloseTo(epoch, 3)
    expect(t['hr']?.attributes).toEqual({ at: 1 })
    expect(t['date']?.time).toBe(epoch)
    expect(Math.abs((t['perf']?.time ?? 0) - Date.now())).toBeLessThan(5_000)
    expect(t['attrs-only']?.attributes).toEqual({ k: 'v' })
  })

  it('addLink/addLinks record links with flags and attributes', async () => {
    const linked = { traceId: 'c'.repeat(32), spanId: 'd'.repeat(16), traceFlags: 1 }
    const { rec } = await recordOne((s) => {
      s.addLink({ context: linked, attributes: { why: 'batch' } })
      s.addLinks([{ context: { ...linked, spanId: 'e'.repeat(16) } }])
    })
    expect(rec.links).toEqual([
      { traceId: 'c'.repeat(32), spanId: 'd'.repeat(16), flags: 1, attributes: { why: 'batch' } },
      { traceId: 'c'.repeat(32), spanId: 'e'.repeat(16), flags: 1 },
    ])
  })

  it('setStatus(ERROR) sets the status and marks the scope failed (so errors are kept)', async () => {
    const { rec, failed } = await recordOne((s) =>
      s.setStatus({ code: SpanStatusCode.ERROR, message: 'boom' }),
    )
    expect(rec.status).toEqual({ code: StatusCode.ERROR, message: 'boom' })
    expect(failed).toBe(true)
  })

  it('recordException adds an exception event without changing the status', async () => {
    const err = new TypeError('bad input')
    const { rec, failed } = await recordOne((s) => {
      s.recordException(err)
      s.recordException('plain text')
      s.recordException({ code: 'E42', message: 'coded' })
    })
    expect(rec.status.code).toBe(StatusCode.UNSET)
    expect(failed).toBe(false)
    const [a, b, c] = rec.events
    expect(a?.attributes).toMatchObject({ 'exception.type': 'TypeError', 'exception.message': 'bad input' })
    expect(a?.attributes?.['exception.stacktrace']).toContain('bad input')
    expect(b?.attributes).toEqual({ 'exception.message': 'plain text' })
    expect(c?.attributes).toEqual({ 'exception.type': 'E42', 'exception.message': 'coded' })
  })

  it('updateName renames until the span ends; end(time) sets the end; isRecording turns false', async () => {
    const { tracer, memory } = setup()
    const endMs = Date.now() - 750
    const scope = tracer.start(undefined, { startTime: endMs - 1000 })
    const s = otelTracer(scope.root).startSpan('old', { startTime: new Date(endMs - 250) })
    s.updateName('new')
    expect(s.isRecording()).toBe(true)
    s.end([Math.floor(endMs / 1000), (endMs % 1000) * 1e6])
    expect(s.isRecording()).toBe(false)
    s.updateName('after-end')
    await scope.end()
    const rec = byName(memory.spans(), 'new')
    expect(rec.endTime - rec.startTime).toBe(250)
  })

  it('never throws on arbitrary input to any Span method', async () => {
    const { tracer } = setup()
    const scope = tracer.start()
    const s = otelTracer(scope.root).startSpan('fuzz')
    fc.assert(
      fc.property(fc.string(), fc.anything(), fc.anything(), (k, v, w) => {
        const span = s as unknown as Record<string, (...a: unknown[]) => unknown>
        span['setAttribute']!(k, v)
        span['setAttributes']!(v)
        span['addEvent']!(k, v, w)
        span['addLink']!(v)
        span['addLinks']!(v)
        span['setStatus']!(v)
        span['recordException']!(v, w)
        span['updateName']!(v)
      }),
      { numRuns: 300 },
    )
    const t = otelTracer(scope.root) as unknown as Record<string, (...a: unknown[]) => unknown>
    fc.assert(
      fc.property(fc.anything(), fc.anything(), fc.anything(), (a, b, c) => {
        ;(t['startSpan']!('x', a, b) as OtelSpan).end()
        t['startActiveSpan']!('y', a, b, c)
        t['startActiveSpan']!('z', a, b, (s: OtelSpan) => s.end())
      }),
      { numRuns: 300 },
    )
    s.end()
    // Every span started was ended: the flush does not wait for (or force-end) any.
    expect((await scope.end()).forceEnded).toBe(0)
  })
})

describe('with a real OTel-instrumented library (ai generateText)', () => {
  it("records the AI SDK's spans, with their gen_ai.* and ai.* attributes, under the bound span", async () => {
    const { tracer, memory } = setup()
    const scope = tracer.start()
    const result = await scope.root.child('agent', { runType: 'chain' }, (agent) =>
      generateText({
        model: stubModel(),
        prompt: 'what is the answer?',
        experimental_telemetry: { isEnabled: true, tracer: otelTracer(agent), functionId: 'answer' },
      }),
    )
    expect(result.text).toBe('the answer is 42')
    await scope.end()
    const spans = memory.spans()
    const agent = byName(spans, 'agent')
    const outer = byName(spans, 'ai.generateText')
    const call = byName(spans, 'ai.generateText.doGenerate')
    // No context manager (as on the edge): both land under the span the tracer is bound to.
    expect(outer.parentSpanId).toBe(agent.spanId)
    expect(call.parentSpanId).toBe(agent.spanId)
    for (const s of [outer, call]) expect(s.traceId).toBe(scope.traceId)
    expect(call.attributes).toMatchObject({
      'gen_ai.system': 'stub-provider',
      'gen_ai.request.model': 'stub-1',
      'gen_ai.usage.input_tokens': 12,
      'gen_ai.usage.output_tokens': 5,
      'ai.model.id': 'stub-1',
      'ai.operationId': 'ai.generateText.doGenerate',
    })
    expect(outer.attributes['ai.telemetry.functionId']).toBe('answer')
    expect(outer.endTime).toBeGreaterThanOrEqual(call.endTime)
  })

  it('records a failed model call as an error span and keeps the trace', async () => {
    const memory = memoryExporter()
    const tracer = createTracer({
      service: 'otel-test',
      exporters: [memory],
      flush: { windowMs: 0 },
      sampling: { ratio: 0, keepErrors: true },
    })
    const scope = tracer.start()
    const model = new MockLanguageModelV3({
      doGenerate: async () => {
        throw new Error('model overloaded')
      },
    })
    await expect(
      generateText({
        model,
        prompt: 'x',
        maxRetries: 0,
        experimental_telemetry: { isEnabled: true, tracer: otelTracer(scope.root) },
      }),
    ).rejects.toThrow('model overloaded')
    const report = await scope.end()
    expect(report.reason).toBe('error')
    const outer = byName(memory.spans(), 'ai.generateText')
    expect(outer.status.code).toBe(StatusCode.ERROR)
    expect(outer.events.some((e) => e.name === 'exception')).toBe(true)
  })
})
