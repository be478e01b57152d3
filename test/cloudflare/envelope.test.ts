// The queue envelope and the RPC call marker (src/envelope.ts): shapes, round trips, and
// malformed input that never throws.
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  CALL_MARKER,
  callMarker,
  ENVELOPE_KEY,
  ENVELOPE_VERSION,
  takeCallMarker,
  unwrapEnvelope,
  wrapEnvelope,
} from '../../src/envelope.js'
import { createTracer } from '../../src/index.js'

function span() {
  const tracer = createTracer({
    service: 'envelope-test',
    propagation: { write: ['w3c', 'baggage', 'langsmith'] },
  })
  return tracer.start({
    traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
    baggage: 'session.id=s1',
  }).root
}

describe('queue message envelope', () => {
  it('has the documented shape: { __tracehop: 1, ctx: headers, body }', () => {
    const s = span()
    const env = wrapEnvelope(s, { doc: 42 })
    const ctx = env.ctx as { traceparent?: string; baggage?: string; 'langsmith-trace'?: string }
    expect(Object.keys(env).sort()).toEqual(['__tracehop', 'body', 'ctx'])
    expect(env[ENVELOPE_KEY]).toBe(ENVELOPE_VERSION)
    expect(env.body).toEqual({ doc: 42 })
    expect(ctx.traceparent).toBe(`00-${s.traceId}-${s.spanId}-${s.scope.sampled ? '01' : '00'}`)
    expect(ctx['langsmith-trace']).toBe(s.dottedOrder)
    expect(ctx.baggage).toContain('session.id=s1')
  })

  it('round-trips any JSON body through JSON and structured clone', () => {
    const s = span()
    fc.assert(
      fc.property(fc.jsonValue(), (body) => {
        // JSON turns -0 into 0; structured clone keeps it, so each copy has its own expectation.
        for (const [copy, expected] of [
          [JSON.parse(JSON.stringify(wrapEnvelope(s, body))), JSON.parse(JSON.stringify(body))],
          [structuredClone(wrapEnvelope(s, body)), body],
        ] as const) {
          const out = unwrapEnvelope(copy)
          expect(out.valid).toBe(true)
          expect(out.body).toEqual(expected)
          expect((out.carrier as { traceparent?: string } | undefined)?.traceparent).toContain(s.spanId)
        }
      }),
    )
  })

  it('the unwrapped context continues the producer’s trace', () => {
    const s = span()
    const { carrier } = unwrapEnvelope(structuredClone(wrapEnvelope(s, 'x')))
    const consumer = createTracer({ service: 'consumer' }).start(carrier)
    expect(consumer.traceId).toBe(s.traceId)
    expect(consumer.root.parentSpanId).toBe(s.spanId)
  })

  it('unwraps an envelope whose span propagates nothing (empty ctx): the handler gets the body', () => {
    // A late span, or propagation.write: [] — the producer still wrapped the body.
    const tracer = createTracer({ service: 'producer', propagation: { write: [] } })
    const wrapped = structuredClone(wrapEnvelope(tracer.start().root, { job: 1 }))
    expect(wrapped.ctx).toEqual({})
    expect(unwrapEnvelope(wrapped)).toEqual({ body: { job: 1 }, carrier: {}, valid: true })
    const args: unknown[] = ['a', callMarker(tracer.start().root)]
    expect(takeCallMarker(args)).toMatchObject({ found: true, valid: true })
    expect(args).toEqual(['a'])
  })

  it('passes a body that is no envelope through untouched (valid, no carrier)', () => {
    for (const v of [
      null,
      undefined,
      0,
      'text',
      [1, 2],
      { a: 1 },
      { __tracehop: 2, body: 1 },
      new Uint8Array(2),
    ]) {
      const out = unwrapEnvelope(v)
      expect(out.body).toBe(v)
      expect(out.valid).toBe(true)
      expect(out.carrier).toBeUndefined()
    }
  })

  it('hands over a lookalike with a malformed ctx exactly as sent (the same value), reported invalid', () => {
    const tp = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01'
    for (const ctx of [
      'garbage',
      null,
      [],
      { traceparent: 42 },
      { a: 'x' },
      { traceparent: tp, 'user.id': 'u1' },
      { traceparent: 'x'.repeat(70_000) },
      Object.create({ traceparent: tp }),
      new Map([['traceparent', tp]]),
    ]) {
      const v = { __tracehop: 1, ctx, body: { keep: true } }
      const out = unwrapEnvelope(v)
      expect(out).toEqual({ body: v, valid: false })
      expect(out.body).toBe(v)
    }
  })

  it('a marker with any other key beside ctx and body, or not an own data property, is not an envelope', () => {
    const ctx = { traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' }
    for (const v of [
      { __tracehop: 1, ctx, body: 1, user: 'u1' },
      Object.assign(Object.create({ extra: 1 }), { __tracehop: 1, ctx, body: 1 }),
      Object.assign(new (class Job {})(), { __tracehop: 1, ctx, body: 1 }),
    ]) {
      const out = unwrapEnvelope(v)
      expect(out.body).toBe(v)
      expect(out.valid).toBe(false)
      expect(out.carrier).toBeUndefined()
    }
    // Inherited or computed markers are the user's own business: not even counted.
    for (const v of [
      Object.assign(Object.create({ __tracehop: 1 }), { ctx, body: 1 }),
      Object.defineProperty({ ctx, body: 1 }, '__tracehop', { get: () => 1, enumerable: true }),
    ]) {
      expect(unwrapEnvelope(v)).toEqual({ body: v, valid: true })
    }
  })

  it('reports an envelope without a body as invalid and returns the value itself', () => {
    const v = { __tracehop: 1, ctx: {} }
    expect(unwrapEnvelope(v)).toEqual({ body: v, valid: false })
  })

  it('takes only the header names tracehop writes into the context, case-insensitively', () => {
    const ctx = Object.fromEntries(Array.from({ length: 17 }, (_, i) => [`k${i}`, 'v']))
    expect(unwrapEnvelope({ __tracehop: 1, ctx, body: 1 }).valid).toBe(false)
    const all = {
      Traceparent: 'a',
      tracestate: 'b',
      baggage: 'c',
      'langsmith-trace': 'd',
      'x-amzn-trace-id': 'e',
      'tracehop-websocket': 'continue',
    }
    expect(unwrapEnvelope({ __tracehop: 1, ctx: all, body: 1 }).carrier).toEqual({
      traceparent: 'a',
      tracestate: 'b',
      baggage: 'c',
      'langsmith-trace': 'd',
      'x-amzn-trace-id': 'e',
      'tracehop-websocket': 'continue',
    })
    // Two spellings of one name: ambiguous, not ours.
    expect(
      unwrapEnvelope({ __tracehop: 1, ctx: { traceparent: 'a', TRACEPARENT: 'b' }, body: 1 }).valid,
    ).toBe(false)
  })

  it('never throws, whatever the body (property)', () => {
    fc.assert(
      fc.property(fc.anything(), fc.anything(), fc.anything(), (ctx, body, other) => {
        unwrapEnvelope(other)
        unwrapEnvelope({ __tracehop: 1, ctx, body })
        unwrapEnvelope({ __tracehop: 1, ctx })
      }),
    )
  })

  it('never throws on a hostile object whose getters throw', () => {
    const hostile = new Proxy(
      { traceparent: 'x' },
      {
        get() {
          throw new Error('no')
        },
      },
    )
    expect(unwrapEnvelope(hostile).valid).toBe(true)
    unwrapEnvelope({ __tracehop: 1, ctx: hostile, body: 1 })
    const trap = () => {
      throw new Error('no')
    }
    const traps = {
      get: trap,
      ownKeys: trap,
      getOwnPropertyDescriptor: trap,
      getPrototypeOf: trap,
      has: trap,
    }
    const everything = new Proxy({}, traps)
    const out = unwrapEnvelope(everything)
    expect(out.body).toBe(everything)
    expect(out.valid).toBe(false)
    const v = { __tracehop: 1, ctx: new Proxy({}, traps), body: 1 }
    expect(unwrapEnvelope(v)).toEqual({ body: v, valid: false })
  })
})

describe('RPC call marker', () => {
  it('is { __tracehop: "ctx", ctx } and is removed from the argument list', () => {
    const s = span()
    const marker = callMarker(s)
    expect(marker[ENVELOPE_KEY]).toBe(CALL_MARKER)
    const args: unknown[] = ['a', 2, structuredClone(marker)]
    const taken = takeCallMarker(args)
    expect(args).toEqual(['a', 2])
    expect(taken.found).toBe(true)
    expect(taken.valid).toBe(true)
    expect((taken.carrier as { traceparent?: string } | undefined)?.traceparent).toContain(s.spanId)
  })

  it('leaves arguments without a marker alone, including a trailing queue envelope', () => {
    const s = span()
    const envelope = wrapEnvelope(s, 1)
    for (const args of [[], [1], [{ a: 1 }], [null], [envelope]] as unknown[][]) {
      const copy = [...args]
      expect(takeCallMarker(copy)).toEqual({ found: false, valid: true })
      expect(copy).toEqual(args)
    }
  })

  it('leaves a malformed marker in the arguments (the caller’s own value) and reports it invalid', () => {
    const tp = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01'
    for (const last of [
      { __tracehop: 'ctx', ctx: 'nope' },
      { __tracehop: 'ctx', ctx: { traceparent: tp }, extra: 1 },
      { __tracehop: 'ctx', ctx: { traceparent: tp, 'user.id': 'u1' } },
    ]) {
      const args: unknown[] = [1, last]
      expect(takeCallMarker(args)).toEqual({ found: false, valid: false })
      expect(args).toEqual([1, last])
      expect(args[1]).toBe(last)
    }
  })

  it('never throws, whatever the arguments (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.anything()), fc.anything(), (args, ctx) => {
        takeCallMarker([...args])
        takeCallMarker([...args, { __tracehop: 'ctx', ctx }])
      }),
    )
  })
})
