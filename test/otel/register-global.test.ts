import { AsyncLocalStorage } from 'node:async_hooks'
import { context, propagation, ROOT_CONTEXT, trace } from '@opentelemetry/api'
import { generateText } from 'ai'
import { MockLanguageModelV3 } from 'ai/test'
import { afterEach, describe, expect, it } from 'vitest'
import {
  fromOtelSpan,
  otelTracer,
  type Registration,
  registerGlobal,
  withActiveSpan,
} from '../../adapters/otel/index.js'
import { createTracer, memoryExporter, type SpanRecord, TracehopError } from '../../src/index.js'

function byName(spans: readonly SpanRecord[], name: string): SpanRecord {
  const s = spans.find((x) => x.name === name)
  if (!s) throw new Error(`no span ${name}: ${spans.map((x) => x.name).join(', ')}`)
  return s
}

const model = () =>
  new MockLanguageModelV3({
    modelId: 'stub-1',
    doGenerate: async () => ({
      content: [{ type: 'text', text: 'ok' }],
      finishReason: { unified: 'stop', raw: 'stop' },
      usage: {
        inputTokens: { total: 3, noCache: 3, cacheRead: 0, cacheWrite: 0 },
        outputTokens: { total: 1, text: 1, reasoning: 0 },
      },
      warnings: [],
    }),
  })

let registration: Registration | undefined
afterEach(() => {
  registration?.unregister()
  registration = undefined
})

describe('registerGlobal', () => {
  it('refuses contextManager: true when the runtime has no global AsyncLocalStorage, and registers nothing', () => {
    expect((globalThis as { AsyncLocalStorage?: unknown }).AsyncLocalStorage).toBeUndefined()
    expect(() => registerGlobal({ contextManager: true })).toThrow(TracehopError)
    expect(() => registerGlobal({ contextManager: true })).toThrow(/AsyncLocalStorage/)
    // Nothing half-registered: the API still has its no-op globals.
    expect(trace.getTracer('x').startSpan('y').isRecording()).toBe(false)
  })

  it('with an AsyncLocalStorage context manager, the AI SDK nests doGenerate under generateText', async () => {
    registration = registerGlobal({ contextManager: { AsyncLocalStorage } })
    expect(registration).toMatchObject({ contextManager: true, tracerProvider: true, propagator: true })
    const memory = memoryExporter()
    const tracer = createTracer({ service: 's', exporters: [memory], flush: { windowMs: 0 } })
    const scope = tracer.start()
    await generateText({
      model: model(),
      prompt: 'x',
      experimental_telemetry: { isEnabled: true, tracer: otelTracer(scope.root) },
    })
    await scope.end()
    const outer = byName(memory.spans(), 'ai.generateText')
    const call = byName(memory.spans(), 'ai.generateText.doGenerate')
    expect(outer.parentSpanId).toBe(scope.root.spanId)
    expect(call.parentSpanId).toBe(outer.spanId)
  })

  it('global tracers join the tracehop span made active with withActiveSpan, across awaits', async () => {
    registration = registerGlobal({ contextManager: { AsyncLocalStorage } })
    const memory = memoryExporter()
    const tracer = createTracer({ service: 's', exporters: [memory], flush: { windowMs: 0 } })
    const scope = tracer.start()
    await withActiveSpan(scope.root, async () => {
      await new Promise((r) => setTimeout(r, 5))
      await trace.getTracer('lib', '1.0').startActiveSpan('lib.work', async (s) => {
        await new Promise((r) => setTimeout(r, 1))
        trace.getTracer('lib').startSpan('lib.inner').end()
        s.end()
      })
    })
    await scope.end()
    const work = byName(memory.spans(), 'lib.work')
    expect(work.parentSpanId).toBe(scope.root.spanId)
    expect(work.attributes['otel.scope.name']).toBe('lib')
    expect(byName(memory.spans(), 'lib.inner').parentSpanId).toBe(work.spanId)
  })

  it('concurrent scopes do not cross: each global span lands in the scope active where it started', async () => {
    registration = registerGlobal({ contextManager: { AsyncLocalStorage } })
    const memory = memoryExporter()
    const tracer = createTracer({ service: 's', exporters: [memory], flush: { windowMs: 0 } })
    const scopes = Array.from({ length: 8 }, () => tracer.start())
    await Promise.all(
      scopes.map((scope, i) =>
        withActiveSpan(scope.root, async () => {
          await new Promise((r) => setTimeout(r, 8 - i))
          trace.getTracer('lib').startSpan(`work-${i}`).end()
        }),
      ),
    )
    await Promise.all(scopes.map((s) => s.end()))
    scopes.forEach((scope, i) => {
      const rec = byName(memory.spans(), `work-${i}`)
      expect(rec.traceId).toBe(scope.traceId)
      expect(rec.parentSpanId).toBe(scope.root.spanId)
    })
  })

  it('a global tracer with no tracehop span in context returns a non-recording span that keeps the context', () => {
    registration = registerGlobal()
    expect(registration.contextManager).toBe(false)
    const remote = { traceId: 'a'.repeat(32), spanId: 'b'.repeat(16), traceFlags: 1, isRemote: true }
    const s = trace.getTracer('lib').startSpan('orphan', {}, trace.setSpanContext(ROOT_CONTEXT, remote))
    expect(s.isRecording()).toBe(false)
    expect(fromOtelSpan(s)).toBeUndefined()
    expect(s.spanContext().traceId).toBe('a'.repeat(32))
    expect(trace.getTracer('lib').startSpan('none').spanContext().traceId).toBe('0'.repeat(32))
  })

  it('registers the tracehop propagator globally, and unregister() removes what it registered', async () => {
    registration = registerGlobal()
    const tracer = createTracer({ service: 's' })
    const scope = tracer.start()
    const headers: Record<string, string> = {}
    propagation.inject(
      trace.setSpan(ROOT_CONTEXT, (await import('../../adapters/otel/index.js')).otelSpan(scope.root)),
      headers,
    )
    expect(headers['traceparent']).toBe(scope.root.headers()['traceparent'])
    registration.unregister()
    registration = undefined
    const after: Record<string, string> = {}
    propagation.inject(context.active(), after)
    expect(after).toEqual({})
    expect(trace.getTracer('x').startSpan('y').isRecording()).toBe(false)
    await scope.end()
  })

  it('leaves the propagator alone with propagator: false and reports what it could not register', () => {
    registration = registerGlobal({ propagator: false, tracerProvider: false })
    expect(registration).toMatchObject({ tracerProvider: false, propagator: false, contextManager: false })
    const again = registerGlobal({ propagator: false })
    const second = registerGlobal({ propagator: false })
    // OTel refuses a second global provider: the second registration says so.
    expect(again.tracerProvider).toBe(true)
    expect(second.tracerProvider).toBe(false)
    again.unregister()
  })
})
