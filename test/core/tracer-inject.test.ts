// tracer.inject: a context written into a carrier without a span (a relay passing a trace on).
import { describe, expect, it } from 'vitest'
import { createTracer, type TraceContext } from '../../src/index.js'

const TP = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01'
const TS = 'rojo=00f067aa0ba902b7,congo=t61rcWkgMzE'

describe('tracer.inject', () => {
  it('writes what tracer.extract read, unchanged: traceparent, tracestate and baggage', () => {
    const tracer = createTracer({ service: 'relay' })
    const { parent } = tracer.extract({ traceparent: TP, tracestate: TS, baggage: 'tenant=acme' })
    const out: Record<string, string> = {}
    tracer.inject(parent!, out)
    expect(out).toEqual({ traceparent: TP, tracestate: TS, baggage: 'tenant=acme' })
  })

  it('calls a CarrierSetter', () => {
    const tracer = createTracer({ service: 'relay' })
    const seen: [string, string][] = []
    tracer.inject(tracer.extract({ traceparent: TP }).parent!, { set: (k, v) => void seen.push([k, v]) })
    expect(seen).toEqual([['traceparent', TP]])
  })

  it('leaves out baggage keys routed to named destinations only', () => {
    const tracer = createTracer({
      service: 'relay',
      propagation: { baggage: { keys: ['tenant', { key: 'user.id', to: ['https://retrieval.internal'] }] } },
    })
    const { parent } = tracer.extract({ traceparent: TP, baggage: 'tenant=acme,user.id=u1' })
    const out: Record<string, string> = {}
    tracer.inject(parent!, out)
    expect(out['baggage']).toBe('tenant=acme')
  })

  it('writes nothing for a context that is not one, counts it, and never throws', () => {
    const tracer = createTracer({ service: 'relay' })
    const out: Record<string, string> = {}
    tracer.inject({ traceId: 'nope', spanId: 'b7ad6b7169203331', flags: 1 } as TraceContext, out)
    tracer.inject(null as unknown as TraceContext, out)
    const throwing = {
      set: () => {
        throw new Error('read-only')
      },
    }
    expect(() => tracer.inject(tracer.extract({ traceparent: TP }).parent!, throwing)).not.toThrow()
    expect(out).toEqual({})
    expect(tracer.stats().invalid.context).toBe(3)
  })

  it('checks ids again once they were replaced in an extracted context', () => {
    const tracer = createTracer({ service: 'relay', log: () => {} })
    const parent = tracer.extract({ traceparent: TP }).parent as { traceId: string; spanId: string }
    const out: Record<string, string> = {}
    parent.traceId = 'not-a-trace-id'
    tracer.inject(parent as TraceContext, out)
    expect(out).toEqual({})
    expect(tracer.stats().invalid.context).toBe(1)
    parent.traceId = '4bf92f3577b34da6a3ce929d0e0e4736'
    parent.spanId = '0'.repeat(16)
    tracer.inject(parent as TraceContext, out)
    expect(out).toEqual({})
    parent.spanId = '00f067aa0ba902b7'
    tracer.inject(parent as TraceContext, out)
    expect(out['traceparent']).toBe('00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01')
  })
})
