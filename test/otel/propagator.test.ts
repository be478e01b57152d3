import {
  defaultTextMapGetter,
  defaultTextMapSetter,
  propagation,
  ROOT_CONTEXT,
  trace,
} from '@opentelemetry/api'
import { W3CBaggagePropagator, W3CTraceContextPropagator } from '@opentelemetry/core'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { otelSpan, traceContextFromOtel, tracehopPropagator } from '../../adapters/otel/index.js'
import { createTracer, memoryExporter } from '../../src/index.js'

const TP = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01'

describe('tracehopPropagator', () => {
  it('injects the traceparent and tracestate of a tracehop span, as span.headers() does', async () => {
    const tracer = createTracer({ service: 's' })
    const scope = tracer.start({ traceparent: TP, tracestate: 'rojo=00f067aa0ba902b7' })
    const child = scope.root.startChild('c')
    const out: Record<string, string> = {}
    tracehopPropagator().inject(trace.setSpan(ROOT_CONTEXT, otelSpan(child)), out, defaultTextMapSetter)
    const expected = child.headers()
    expect(out['traceparent']).toBe(expected['traceparent'])
    expect(out['tracestate']).toBe(expected['tracestate'])
    expect(out['langsmith-trace']).toBeUndefined()
    child.end()
    await scope.end()
  })

  it("writes headers the OTel SDK's W3C propagator reads back to the same span context", async () => {
    const tracer = createTracer({ service: 's' })
    const scope = tracer.start()
    const out: Record<string, string> = {}
    tracehopPropagator().inject(trace.setSpan(ROOT_CONTEXT, otelSpan(scope.root)), out, defaultTextMapSetter)
    const theirs = new W3CTraceContextPropagator().extract(ROOT_CONTEXT, out, defaultTextMapGetter)
    const sc = trace.getSpanContext(theirs)
    expect(sc?.traceId).toBe(scope.traceId)
    expect(sc?.spanId).toBe(scope.root.spanId)
    await scope.end()
  })

  it("extracts what the OTel SDK's propagators wrote, baggage included", () => {
    const carrier: Record<string, string> = {}
    const sc = { traceId: '0af7651916cd43dd8448eb211c80319c', spanId: 'b7ad6b7169203331', traceFlags: 1 }
    let ctx = trace.setSpanContext(ROOT_CONTEXT, sc)
    ctx = propagation.setBaggage(ctx, propagation.createBaggage({ 'user.id': { value: 'u 7' } }))
    new W3CTraceContextPropagator().inject(ctx, carrier, defaultTextMapSetter)
    new W3CBaggagePropagator().inject(ctx, carrier, defaultTextMapSetter)
    const ours = tracehopPropagator().extract(ROOT_CONTEXT, carrier, defaultTextMapGetter)
    expect(trace.getSpanContext(ours)).toMatchObject({ ...sc, isRemote: true })
    expect(propagation.getBaggage(ours)?.getEntry('user.id')?.value).toBe('u 7')
  })

  it('round-trips baggage metadata and OTel baggage wins over a key the scope already carries', async () => {
    const tracer = createTracer({
      service: 's',
      propagation: {
        baggage: { keys: ['tenant', 'plan', { key: 'user.id', to: ['https://retrieval.internal'] }] },
      },
    })
    const scope = tracer.start({ traceparent: TP, baggage: 'tenant=other,plan=pro,user.id=u-7' })
    let ctx = trace.setSpan(ROOT_CONTEXT, otelSpan(scope.root))
    ctx = propagation.setBaggage(
      ctx,
      propagation.createBaggage({
        tenant: { value: 'acme', metadata: { toString: () => 'prop1;p=v' } as never },
      }),
    )
    const out: Record<string, string> = {}
    const p = tracehopPropagator()
    p.inject(ctx, out, defaultTextMapSetter)
    // The routed key (user.id) is not sent to a destination nobody checked.
    expect(out['baggage']).toBe('tenant=acme;prop1;p=v,plan=pro')
    const back = propagation.getBaggage(p.extract(ROOT_CONTEXT, out, defaultTextMapGetter))
    expect(back?.getEntry('tenant')?.metadata?.toString()).toBe('prop1;p=v')
    await scope.end()
  })

  it('injects baggage even when the context holds no span', () => {
    const ctx = propagation.setBaggage(ROOT_CONTEXT, propagation.createBaggage({ k: { value: 'v' } }))
    const out: Record<string, string> = {}
    tracehopPropagator().inject(ctx, out, defaultTextMapSetter)
    expect(out).toEqual({ baggage: 'k=v' })
  })

  it('continues an extracted context in a tracehop scope, LangSmith parent included', async () => {
    const memory = memoryExporter()
    const tracer = createTracer({ service: 's', exporters: [memory], flush: { windowMs: 0 } })
    const upstream = tracer.start()
    const headers = upstream.root.headers()
    const p = tracehopPropagator({ formats: ['w3c', 'baggage', 'langsmith'] })
    const ctx = p.extract(ROOT_CONTEXT, headers, defaultTextMapGetter)
    const tc = traceContextFromOtel(ctx)
    expect(tc?.langsmith?.dottedOrder).toBe(upstream.root.dottedOrder)
    const downstream = tracer.start(tc)
    await Promise.all([downstream.end(), upstream.end()])
    const root = memory.spans().find((s) => s.spanId === downstream.root.spanId)
    expect(root?.traceId).toBe(upstream.traceId)
    expect(root?.parentSpanId).toBe(upstream.root.spanId)
    expect(root?.parentRunId).toBe(upstream.root.runId)
  })

  it('writes langsmith-trace only when asked, and lists its fields', async () => {
    const tracer = createTracer({ service: 's' })
    const scope = tracer.start()
    const ctx = trace.setSpan(ROOT_CONTEXT, otelSpan(scope.root))
    const plain: Record<string, string> = {}
    const withLs: Record<string, string> = {}
    tracehopPropagator().inject(ctx, plain, defaultTextMapSetter)
    tracehopPropagator({ formats: ['w3c', 'langsmith'] }).inject(ctx, withLs, defaultTextMapSetter)
    expect(plain['langsmith-trace']).toBeUndefined()
    expect(withLs['langsmith-trace']).toBe(scope.root.dottedOrder)
    expect(tracehopPropagator().fields()).toEqual(['traceparent', 'tracestate', 'baggage'])
    expect(tracehopPropagator({ formats: ['w3c', 'langsmith'] }).fields()).toContain('langsmith-trace')
    await scope.end()
  })

  it('ignores malformed headers: extract returns the context it was given', () => {
    const ctx = tracehopPropagator().extract(
      ROOT_CONTEXT,
      { traceparent: '00-zz-bad-01' },
      defaultTextMapGetter,
    )
    expect(trace.getSpanContext(ctx)).toBeUndefined()
    expect(traceContextFromOtel(ctx)).toBeUndefined()
  })

  it('never throws, whatever the carrier holds or the getter/setter do', () => {
    const p = tracehopPropagator({ formats: ['w3c', 'baggage', 'langsmith', 'xray'] })
    const header = fc.oneof(fc.string(), fc.array(fc.string()), fc.constant(undefined))
    fc.assert(
      fc.property(
        fc.record({ traceparent: header, tracestate: header, baggage: header, 'langsmith-trace': header }),
        (carrier) => {
          const ctx = p.extract(ROOT_CONTEXT, carrier, defaultTextMapGetter)
          p.inject(ctx, {}, defaultTextMapSetter)
        },
      ),
    )
    const throwing = {
      get: () => {
        throw new Error('getter')
      },
      keys: () => [],
    }
    expect(p.extract(ROOT_CONTEXT, {}, throwing)).toBe(ROOT_CONTEXT)
    const sc = { traceId: 'a'.repeat(32), spanId: 'b'.repeat(16), traceFlags: 1 }
    expect(() =>
      p.inject(
        trace.setSpanContext(ROOT_CONTEXT, sc),
        {},
        {
          set: () => {
            throw new Error('setter')
          },
        },
      ),
    ).not.toThrow()
  })
})

describe("the TraceState extract hands to OTel (tracehop's parsed list)", () => {
  const w3c = new W3CTraceContextPropagator()
  const headers = { traceparent: TP, tracestate: 'rojo=00f067aa0ba902b7, congo=t61rcWkgMzE,ot=th:8' }
  const ours = trace.getSpanContext(
    tracehopPropagator().extract(ROOT_CONTEXT, headers, defaultTextMapGetter),
  )!
  const theirs = trace.getSpanContext(w3c.extract(ROOT_CONTEXT, headers, defaultTextMapGetter))!

  it('reads, sets, unsets and serializes as OTel’s own', () => {
    const a = ours.traceState!
    const b = theirs.traceState!
    expect(a.serialize()).toBe(b.serialize())
    expect(a.get('congo')).toBe(b.get('congo'))
    expect(a.get('absent')).toBe(b.get('absent'))
    expect(a.set('congo', 'x').serialize()).toBe(b.set('congo', 'x').serialize())
    expect(a.set('new', 'y').serialize()).toBe(b.set('new', 'y').serialize())
    expect(a.unset('rojo').serialize()).toBe(b.unset('rojo').serialize())
    expect(a.serialize()).toBe('rojo=00f067aa0ba902b7,congo=t61rcWkgMzE,ot=th:8') // unchanged: immutable
  })

  it("a span context OTel's propagator injects round-trips through ours, and the reverse", () => {
    const viaOurs: Record<string, string> = {}
    const viaTheirs: Record<string, string> = {}
    w3c.inject(trace.setSpanContext(ROOT_CONTEXT, ours), viaTheirs, defaultTextMapSetter)
    tracehopPropagator().inject(trace.setSpanContext(ROOT_CONTEXT, theirs), viaOurs, defaultTextMapSetter)
    expect(viaOurs).toEqual(viaTheirs)
    expect(viaOurs['tracestate']).toBe('rojo=00f067aa0ba902b7,congo=t61rcWkgMzE,ot=th:8')
  })
})
