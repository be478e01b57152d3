// The WebSocket pieces in one process, with a socket and a Durable Object state that behave
// like workerd's (attachments are structured clones with a size limit): the rules one by
// one, and "never throws" / "round-trips" as properties.
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { traceOf } from '../../adapters/cloudflare/index.js'
import { acceptWebSocket, instrumentDurableObject } from '../../adapters/cloudflare/websocket.js'
import { attachContext, socketContext, wrapSocket } from '../../adapters/cloudflare/ws-attachment.js'
import { readMessageTrace } from '../../adapters/cloudflare/ws-message-trace.js'
import { CONTEXT_NAMES } from '../../src/envelope.js'
import { type createTracer, memoryExporter, SpanKind, type TracerConfig } from '../../src/index.js'
import { notContext } from './helpers/not-context.js'

/** A socket whose attachment methods live on the prototype, as on workerd's WebSocket. */
class FakeSocket {
  static limit = 2048
  stored: unknown = null
  sent: string[] = []
  serializeAttachment(value: unknown): void {
    const clone = structuredClone(value)
    const size = JSON.stringify(clone ?? null)?.length ?? 0
    if (size > FakeSocket.limit)
      throw new RangeError(`attachment of ${size} bytes exceeds ${FakeSocket.limit}`)
    this.stored = clone
  }
  deserializeAttachment(): unknown {
    return structuredClone(this.stored)
  }
  send(data: string): void {
    this.sent.push(data)
  }
}

const raw = (ws: FakeSocket): unknown => FakeSocket.prototype.deserializeAttachment.call(ws)

class FakeState {
  readonly sockets: FakeSocket[] = []
  readonly pending: Promise<unknown>[] = []
  acceptWebSocket(ws: FakeSocket): void {
    this.sockets.push(ws)
  }
  getWebSockets(): FakeSocket[] {
    return [...this.sockets]
  }
  waitUntil(p: Promise<unknown>): void {
    this.pending.push(p)
  }
}

const TP = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01'

describe('readMessageTrace: the _trace field of a JSON text message', () => {
  it('reads a top-level _trace context record', () => {
    expect(readMessageTrace(`  {"text":"hi","_trace":{"traceparent":"${TP}","Baggage":"a=1"}}`)).toEqual({
      carrier: { traceparent: TP, baggage: 'a=1' },
      valid: true,
    })
  })
  it('ignores messages without one: other text, binary, a nested _trace, arrays, non-JSON', () => {
    for (const m of [
      'hello',
      '{"text":"_trace"}',
      '{"a":{"_trace":{}}}',
      '[{"_trace":{}}]',
      '{"_trace": oops',
      new ArrayBuffer(4),
    ]) {
      expect(readMessageTrace(m)).toEqual({ valid: true })
    }
  })
  it('flags a _trace that is not a bounded record of strings under the header names tracehop writes', () => {
    for (const bad of [
      5,
      'x',
      null,
      [TP],
      {},
      { traceparent: 5 },
      { traceparent: 'x'.repeat(70_000) },
      { traceparent: TP, 'user.id': 'u1' },
    ]) {
      expect(readMessageTrace(JSON.stringify({ _trace: bad }))).toEqual({ valid: false })
    }
    const many = Object.fromEntries(Array.from({ length: 17 }, (_, i) => [`k${i}`, 'v']))
    expect(readMessageTrace(JSON.stringify({ _trace: many })).valid).toBe(false)
  })
  it('never throws, whatever the message', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string(),
          fc.json(),
          fc.anything().map((v) => JSON.stringify({ _trace: v }) ?? ''),
        ),
        (m) => {
          readMessageTrace(m)
        },
      ),
    )
  })
  it('round-trips any context record', () => {
    const key = fc.constantFrom(...CONTEXT_NAMES)
    fc.assert(
      fc.property(
        fc.dictionary(key, fc.string({ maxLength: 200 }), { minKeys: 1, maxKeys: 6 }),
        fc.json(),
        (ctx, other) => {
          const message = JSON.stringify({ other: JSON.parse(other), _trace: ctx })
          expect(readMessageTrace(message)).toEqual({ carrier: ctx, valid: true })
        },
      ),
    )
  })
})

describe('the attachment wrapper', () => {
  it('hides the context: the user reads and writes only their own value, the store holds both', () => {
    const ws = new FakeSocket()
    ws.serializeAttachment({ user: 'u1' })
    expect(wrapSocket(ws)).toBe(true)
    attachContext(ws, { traceparent: TP })
    expect(ws.deserializeAttachment()).toEqual({ user: 'u1' })
    ws.serializeAttachment({ user: 'u1', n: 2 })
    expect(ws.deserializeAttachment()).toEqual({ user: 'u1', n: 2 })
    expect(raw(ws)).toEqual({ __tracehop: 1, ctx: { traceparent: TP }, body: { user: 'u1', n: 2 } })
    expect(socketContext(ws)).toEqual({ carrier: { traceparent: TP }, valid: true })
    // Own properties of this one object: the prototype (the platform's WebSocket) is untouched.
    expect(Object.hasOwn(ws, 'deserializeAttachment')).toBe(true)
    expect(new FakeSocket().deserializeAttachment).toBe(FakeSocket.prototype.deserializeAttachment)
  })

  it('after a wake-up (a new socket object over the same store) the user still sees only their value', () => {
    const before = new FakeSocket()
    wrapSocket(before)
    attachContext(before, { traceparent: TP })
    before.serializeAttachment(['a', 1])
    const woken = new FakeSocket()
    woken.stored = before.stored
    wrapSocket(woken)
    expect(woken.deserializeAttachment()).toEqual(['a', 1])
    expect(socketContext(woken).carrier).toEqual({ traceparent: TP })
  })

  it('shrinks the context to traceparent, then drops it, when the attachment would exceed the limit', () => {
    const big = { traceparent: TP, baggage: `k=${'v'.repeat(1500)}` }
    const ws = new FakeSocket()
    wrapSocket(ws)
    attachContext(ws, big)
    ws.serializeAttachment({ note: 'x'.repeat(600) })
    expect((raw(ws) as { ctx: unknown }).ctx).toEqual({ traceparent: TP })
    ws.serializeAttachment({ note: 'x'.repeat(1990) })
    expect(raw(ws)).toEqual({ note: 'x'.repeat(1990) })
    expect(ws.deserializeAttachment()).toEqual({ note: 'x'.repeat(1990) })
  })

  it("passes the platform's own error through for a value it would refuse anyway", () => {
    const ws = new FakeSocket()
    wrapSocket(ws)
    attachContext(ws, { traceparent: TP })
    const expected = (() => {
      try {
        structuredClone(() => 1)
      } catch (e) {
        return (e as Error).name
      }
    })()
    expect(() => ws.serializeAttachment({ f: () => 1 })).toThrow(expect.objectContaining({ name: expected }))
    expect(() => ws.serializeAttachment('y'.repeat(5000))).toThrow(RangeError)
    // The old attachment, context included, is still there.
    expect(ws.deserializeAttachment()).toBe(null)
    expect(socketContext(ws).carrier).toEqual({ traceparent: TP })
  })

  it('leaves a socket that cannot take own properties exactly as it was', () => {
    const ws = Object.freeze(new FakeSocket())
    expect(wrapSocket(ws)).toBe(false)
    attachContext(ws, { traceparent: TP })
    expect(ws.stored).toBe(null)
  })

  it('round-trips any cloneable user value', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        FakeSocket.limit = 1 << 20
        try {
          const ws = new FakeSocket()
          wrapSocket(ws)
          attachContext(ws, { traceparent: TP })
          ws.serializeAttachment(value)
          expect(ws.deserializeAttachment()).toEqual(value)
        } finally {
          FakeSocket.limit = 2048
        }
      }),
    )
  })

  it('never throws on a hostile raw attachment, and flags the ones that look like ours', () => {
    const envelopeLike = fc.record(
      { __tracehop: fc.constant(1), ctx: fc.anything() },
      { requiredKeys: ['__tracehop'] },
    )
    fc.assert(
      fc.property(fc.oneof(fc.anything(), envelopeLike), (value) => {
        const ws = new FakeSocket()
        ws.stored = value
        wrapSocket(ws)
        socketContext(ws)
        ws.deserializeAttachment()
      }),
    )
    const ws = new FakeSocket()
    const lookalike = { __tracehop: 1, ctx: 7, body: 'b' }
    ws.stored = lookalike
    wrapSocket(ws)
    expect(socketContext(ws)).toEqual({ valid: false })
    // Not ours: the user's own value, whole.
    expect(ws.deserializeAttachment()).toEqual(lookalike)
  })
})

function setup(extra: Partial<TracerConfig> = {}) {
  const memory = memoryExporter()
  const calls: unknown[][] = []
  class Room {
    constructor(
      readonly ctx: FakeState,
      readonly env: object,
    ) {}
    async fetch(request: Request): Promise<Response> {
      const ws = new FakeSocket()
      acceptWebSocket(this.ctx, ws, request)
      return new Response('accepted')
    }
    webSocketMessage(ws: FakeSocket, message: string | ArrayBuffer): void {
      calls.push([message, ws.deserializeAttachment(), traceOf(ws)])
      if (message === 'throw') throw new TypeError('user bug')
    }
    async webSocketClose(ws: FakeSocket, code: number): Promise<void> {
      calls.push(['close', code, traceOf(ws)])
    }
    webSocketError(ws: FakeSocket, error: unknown): void {
      calls.push(['error', error, traceOf(ws)])
    }
  }
  const config = { service: 'room', exporters: [memory], flush: { windowMs: 0 }, ...extra }
  const Traced = instrumentDurableObject(Room, config)
  const state = new FakeState()
  const env = {}
  return { memory, calls, Traced, state, env, room: new Traced(state, env) }
}

async function settle(state: FakeState): Promise<void> {
  while (state.pending.length > 0) await state.pending.shift()
}

describe('instrumentDurableObject (one process)', () => {
  it('keeps the class name and the user handlers', () => {
    const { Traced, room } = setup()
    expect(Traced.name).toBe('Room')
    expect(room).toBeInstanceOf(Traced)
  })

  it('gives each event its own CONSUMER scope, linked to the accepting server span, flushed through waitUntil', async () => {
    const { memory, calls, room, state } = setup()
    const res = await room.fetch(new Request('https://chat.example/ws', { headers: { traceparent: TP } }))
    expect(await res.text()).toBe('accepted')
    const ws = state.sockets[0]!
    room.webSocketMessage(ws, 'hi')
    await room.webSocketClose(ws, 1001)
    await settle(state)
    const accept = memory.spans().find((s) => s.kind === SpanKind.SERVER)!
    expect(accept.parentSpanId).toBe('00f067aa0ba902b7')
    const events = memory.spans().filter((s) => s.kind === SpanKind.CONSUMER)
    expect(events.map((s) => s.name)).toEqual(['Room/webSocketMessage', 'Room/webSocketClose'])
    for (const e of events) {
      expect(e.links).toEqual([{ traceId: accept.traceId, spanId: accept.spanId, flags: 1 }])
      expect(e.traceId).not.toBe(accept.traceId)
    }
    expect(events[1]!.attributes['websocket.close.code']).toBe(1001)
    expect(calls[0]![1]).toBe(null)
    expect((calls[0]![2] as { spanId: string }).spanId).toBe(events[0]!.spanId)
  })

  it("rethrows the user's own error unchanged and records it", async () => {
    const { memory, room, state } = setup()
    await room.fetch(new Request('https://chat.example/ws'))
    let thrown: unknown
    try {
      room.webSocketMessage(state.sockets[0]!, 'throw')
    } catch (e) {
      thrown = e
    }
    expect(thrown).toBeInstanceOf(TypeError)
    expect((thrown as Error).message).toBe('user bug')
    await settle(state)
    expect(memory.spans().find((s) => s.name === 'Room/webSocketMessage')!.status.code).toBe(2)
  })

  it('records a socket error on the webSocketError span', async () => {
    const { memory, room, state } = setup()
    await room.fetch(new Request('https://chat.example/ws'))
    room.webSocketError(state.sockets[0]!, new Error('reset'))
    await settle(state)
    const span = memory.spans().find((s) => s.name === 'Room/webSocketError')!
    expect(span.status).toEqual({ code: 2, message: 'reset' })
  })

  it('wraps the sockets of a woken object at construction, before any event', async () => {
    const { Traced, room, state, env } = setup()
    await room.fetch(new Request('https://chat.example/ws'))
    const before = state.sockets[0]!
    before.serializeAttachment({ user: 'u' })
    // Hibernation: a new instance, new socket objects over the same stored attachments.
    const woken = new FakeSocket()
    woken.stored = before.stored
    const state2 = new FakeState()
    state2.sockets.push(woken)
    new Traced(state2, env)
    expect(woken.deserializeAttachment()).toEqual({ user: 'u' })
  })

  it('never throws into the handler for hostile attachments or messages: fresh trace, counted, inputs unchanged', async () => {
    const hostileAttachment = fc.oneof(
      fc.anything(),
      fc.record(
        { __tracehop: fc.constant(1), ctx: notContext, body: fc.jsonValue() },
        { requiredKeys: ['__tracehop', 'ctx'] },
      ),
    )
    const hostileMessage = fc.oneof(
      fc.string(),
      fc.anything().map((v) => JSON.stringify({ _trace: v, text: 'x' }) ?? '{}'),
      fc.constant(`{"_trace":{"traceparent":"00-${'0'.repeat(32)}-${'0'.repeat(16)}-01"}}`),
    )
    await fc.assert(
      fc.asyncProperty(hostileAttachment, hostileMessage, async (attachment, message) => {
        const { calls, room, state, memory } = setup()
        const ws = new FakeSocket()
        ws.stored = attachment
        state.sockets.push(ws)
        const tracer = () =>
          (calls.at(-1)![2] as { scope: { tracer: ReturnType<typeof createTracer> } }).scope.tracer
        room.webSocketMessage(ws, message)
        expect(calls).toHaveLength(1)
        expect(calls[0]![0]).toBe(message)
        const looksOurs =
          attachment !== null &&
          typeof attachment === 'object' &&
          (attachment as { __tracehop?: unknown }).__tracehop === 1
        // Not a well-formed envelope: the user's value, whole.
        expect(calls[0]![1]).toEqual(attachment)
        await settle(state)
        const span = memory.spans().find((s) => s.name === 'Room/webSocketMessage')!
        expect(span.links).toEqual([])
        if (readMessageTrace(message).carrier === undefined) expect(span.parentSpanId).toBeUndefined()
        if (looksOurs || !readMessageTrace(message).valid)
          expect(tracer().stats().invalid.envelope ?? 0).toBeGreaterThan(0)
      }),
      { numRuns: 200 },
    )
  })
})

describe('WebSocket messages from a client obey the ingress setting', () => {
  const FORGED_TRACE = 'f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0'
  const forged = JSON.stringify({
    _trace: { traceparent: `00-${FORGED_TRACE}-abcdefabcdefabcd-01`, baggage: 'user.id=mallory' },
    text: 'hi',
  })

  it('untrusted: a _trace keeps its trace id, not its sampled flag or baggage; the message is unchanged', async () => {
    const { calls, room, state } = setup({
      sampling: { ratio: 0, keepErrors: false },
      propagation: { ingress: 'untrusted' },
    })
    await room.fetch(new Request('https://chat.example/ws'))
    room.webSocketMessage(state.sockets[0]!, forged)
    await settle(state)
    const [message, , span] = calls[0] as [
      string,
      unknown,
      {
        traceId: string
        parentSpanId?: string
        scope: { sampled: boolean }
        context(): { baggage?: unknown }
      },
    ]
    expect(message).toBe(forged)
    expect(span.traceId).toBe(FORGED_TRACE)
    expect(span.parentSpanId).toBe('abcdefabcdefabcd')
    expect(span.scope.sampled).toBe(false)
    expect(span.context().baggage).toBeUndefined()
  })

  it('link: a _trace is a link, never the parent', async () => {
    const { calls, room, state } = setup({ propagation: { ingress: 'link' } })
    await room.fetch(new Request('https://chat.example/ws'))
    room.webSocketMessage(state.sockets[0]!, forged)
    await settle(state)
    const span = calls[0]![2] as { traceId: string; parentSpanId?: string }
    expect(span.traceId).not.toBe(FORGED_TRACE)
    expect(span.parentSpanId).toBeUndefined()
  })

  it("a message shaped like a queue envelope is the client's text: handed over byte for byte, no context taken", async () => {
    const { calls, room, state } = setup()
    await room.fetch(new Request('https://chat.example/ws'))
    const lookalike = JSON.stringify({
      __tracehop: 1,
      ctx: { traceparent: `00-${FORGED_TRACE}-abcdefabcdefabcd-01` },
      body: 'hi',
    })
    room.webSocketMessage(state.sockets[0]!, lookalike)
    await settle(state)
    expect(calls[0]![0]).toBe(lookalike)
    expect((calls[0]![2] as { traceId: string }).traceId).not.toBe(FORGED_TRACE)
  })
})
