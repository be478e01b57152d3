// Durable Objects with hibernating WebSockets, in workerd: one span per socket event,
// linked to the accepting span across a real hibernation; the user's attachment intact;
// nothing of tracehop's keeps the object awake (a control that leaves a timer does stay awake).
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { KIND, type ReceivedSpan } from '../support/otlp-receiver.js'
import {
  type ChatSocket,
  type Harness,
  only,
  openSocket,
  randomHex,
  startHarness,
  traceparent,
} from './helpers/harness.js'

let h: Harness

beforeAll(async () => {
  h = await startHarness()
})

afterAll(async () => {
  await h?.close()
})

const MESSAGE = 'ChatRoom/webSocketMessage'
const CLOSE = 'ChatRoom/webSocketClose'

function spans(): readonly ReceivedSpan[] {
  return h.receiver.spans
}

async function chat(room: string, headers: Record<string, string> = {}, query = ''): Promise<ChatSocket> {
  // Wake the object (and the isolate, which the hibernation test leaves idle past workerd's
  // eviction) with a plain request first: under load, a first message racing the wake-up
  // was seen to get no reply.
  await (await h.fetch(`/probe?room=${room}`)).arrayBuffer()
  return openSocket(
    await h.fetch(`/chat?room=${room}${query}`, { headers: { Upgrade: 'websocket', ...headers } }),
  )
}

/** The DO's server span that accepted the socket whose upgrade continued `traceId`. */
function acceptSpan(traceId: string): ReceivedSpan {
  return only(
    spans(),
    (s) => s.service === 'chat' && s.kind === KIND.SERVER && s.traceId === traceId,
    'accept span',
  )
}

function messageSpan(spanId: string): ReceivedSpan {
  return only(spans(), (s) => s.name === MESSAGE && s.spanId === spanId, `message span ${spanId}`)
}

describe('hibernating WebSockets in workerd', () => {
  it('traces each message as its own scope linked to the accepting span, across a real hibernation, with no timer or promise left behind', async () => {
    const upgradeTrace = randomHex(16)
    const upgradeSpan = randomHex(8)
    const socket = await chat(
      'r-hibernate',
      { traceparent: traceparent(upgradeTrace, upgradeSpan) },
      '&user=ada',
    )
    const control = await openSocket(
      await h.fetch('/', { headers: { Upgrade: 'websocket' } }, 'insomniac').then((r) => r),
    )

    const r1 = await socket.send('{"text":"hello"}')
    const c1 = await control.send('hello')
    // Let the flush finish, then stay idle past workerd's 10 s inactivity eviction (with
    // room for a starved workerd to run its eviction timer late).
    await h.receiver.waitFor((s) => s.some((x) => x.spanId === r1.spanId))
    await new Promise((r) => setTimeout(r, 13_000))

    const turnTrace = randomHex(16)
    const turnSpan = randomHex(8)
    const turn = JSON.stringify({ _trace: { traceparent: traceparent(turnTrace, turnSpan) }, text: 'second' })
    const r2 = await socket.send(turn)
    const c2 = await control.send('again')
    const r3 = await socket.send(new Uint8Array(16).buffer)
    socket.close(1000, 'bye')

    // Hibernation happened: the object was evicted and constructed anew for message 2,
    // while the control, whose handler left a 60 s timer, was never evicted.
    expect(r2.constructed).toBe(r1.constructed + 1)
    expect(r3.constructed).toBe(r2.constructed)
    expect(c2.constructed).toBe(c1.constructed)

    // The user's attachment: set before accept, updated per message, never showing ours,
    // through the handler's socket and through ctx.getWebSockets(), before and after waking.
    expect(r1.attachment).toEqual({ user: 'ada', n: 0 })
    expect(r1.after).toEqual({ user: 'ada', n: 1 })
    expect(r1.viaList).toEqual({ user: 'ada', n: 1 })
    expect(r2.attachment).toEqual({ user: 'ada', n: 1 })
    expect(r2.viaList).toEqual({ user: 'ada', n: 2 })
    expect(r3.attachment).toEqual({ user: 'ada', n: 2 })
    // The message reached the handler unchanged, `_trace` included.
    expect(r2.message).toBe(turn)

    await h.receiver.waitFor(
      (s) => s.filter((x) => x.name === MESSAGE && x.traceId !== upgradeTrace).length >= 3,
    )
    await h.receiver.waitFor((s) => s.some((x) => x.name === CLOSE && x.service === 'chat'))

    // The upgrade's trace: gateway server span -> binding client span -> the DO's accepting span.
    const gateway = only(
      spans(),
      (s) => s.service === 'gateway' && s.traceId === upgradeTrace && s.kind === KIND.SERVER,
      'gateway span',
    )
    expect(gateway.parentSpanId).toBe(upgradeSpan)
    const client = only(spans(), (s) => s.traceId === upgradeTrace && s.kind === KIND.CLIENT, 'binding span')
    expect(client.parentSpanId).toBe(gateway.spanId)
    const accept = acceptSpan(upgradeTrace)
    expect(accept.parentSpanId).toBe(client.spanId)
    // The attachment really holds the accepting span's context (read past the wrapper).
    expect(String(r1.rawCtx.traceparent)).toContain(accept.spanId)

    const m1 = messageSpan(r1.spanId)
    const m2 = messageSpan(r2.spanId)
    const m3 = messageSpan(r3.spanId)
    for (const m of [m1, m2, m3]) {
      expect(m.service).toBe('chat')
      expect(m.kind).toBe(KIND.CONSUMER)
      expect(m.links).toContainEqual({ traceId: upgradeTrace, spanId: accept.spanId })
    }
    // Message 1: its own trace (link only, the default). Message 2: the agent turn's trace.
    expect(m1.traceId).not.toBe(upgradeTrace)
    expect(m1.parentSpanId).toBeUndefined()
    expect(m1.attributes['tracehop.websocket.parent']).toBe('none')
    expect(m2.traceId).toBe(turnTrace)
    expect(m2.parentSpanId).toBe(turnSpan)
    expect(m2.attributes['tracehop.websocket.parent']).toBe('message')
    expect(m3.attributes['websocket.message.type']).toBe('binary')
    expect(m3.attributes['websocket.message.size']).toBe(16)
    // The handler's own child span, found with traceOf(ws), after the wake-up too.
    for (const m of [m1, m2]) {
      expect(
        spans().some((s) => s.name === 'reply' && s.parentSpanId === m.spanId && s.traceId === m.traceId),
      ).toBe(true)
    }
    const close = only(
      spans(),
      (s) => s.name === CLOSE && s.service === 'chat' && s.links.some((l) => l.spanId === accept.spanId),
      'close span',
    )
    expect(close.attributes['websocket.close.code']).toBe(1000)
    expect(close.attributes['chat.user']).toBe('ada')

    // Nothing pending: every waitUntil promise settled and no timer alive in the isolate
    // (polled: the last flush may still be settling on a loaded machine).
    const readProbe = async () => (await h.fetch('/probe?room=r-hibernate')).json()
    let probe = await readProbe()
    for (let i = 0; i < 50 && (probe.pendingWaitUntil !== 0 || probe.liveTimers !== 0); i++) {
      await new Promise((r) => setTimeout(r, 100))
      probe = await readProbe()
    }
    expect(probe.waitUntilCalls).toBeGreaterThan(0)
    expect(probe.pendingWaitUntil).toBe(0)
    expect(probe.liveTimers).toBe(0)
  }, 60_000)

  it('continues the upgrade trace when the upgrade request asks for it (tracehop-websocket: continue)', async () => {
    const upgradeTrace = randomHex(16)
    const socket = await chat('r-continue', {
      traceparent: traceparent(upgradeTrace, randomHex(8)),
      'tracehop-websocket': 'continue',
    })
    const r = await socket.send('hi')
    await h.receiver.waitFor((s) => s.some((x) => x.spanId === r.spanId))
    const m = messageSpan(r.spanId)
    const accept = acceptSpan(upgradeTrace)
    expect(m.traceId).toBe(upgradeTrace)
    expect(m.parentSpanId).toBe(accept.spanId)
    expect(m.links).toEqual([])
    expect(m.attributes['tracehop.websocket.parent']).toBe('accept')
  })

  it('hostile _trace fields never reach user code as errors: fresh trace, still linked, counted, message unchanged', async () => {
    const upgradeTrace = randomHex(16)
    const socket = await chat('r-hostile-messages', { traceparent: traceparent(upgradeTrace, randomHex(8)) })
    const hostile = [
      '{"_trace":5,"text":"x"}',
      '{"_trace":{"traceparent":"garbage"},"text":"y"}',
      `{"_trace":{"traceparent":"00-${'f'.repeat(20_000)}"}}`,
      '{"_trace":{"traceparent":["00-a"]}}',
    ]
    let previous = -1
    for (const message of hostile) {
      const r = await socket.send(message)
      expect(r.message).toBe(message)
      const count = r.invalid.envelope ?? 0
      expect(count).toBeGreaterThan(previous)
      previous = count
      await h.receiver.waitFor((s) => s.some((x) => x.spanId === r.spanId))
      const m = messageSpan(r.spanId)
      expect(m.traceId).not.toBe(upgradeTrace)
      expect(m.parentSpanId).toBeUndefined()
      expect(m.links).toContainEqual({ traceId: upgradeTrace, spanId: acceptSpan(upgradeTrace).spanId })
    }
  })

  // Not exactly an envelope: the user sees the whole value as stored. `bad-traceparent` is an
  // envelope in shape (its body is the user's value) whose context is unusable.
  it.each([
    ['ctx-not-record', { __tracehop: 1, ctx: 'not-a-record', body: { user: 'h1' } }],
    ['bad-traceparent', { user: 'h2' }],
    [
      'too-many-keys',
      {
        __tracehop: 1,
        ctx: Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`k${i}`, 'v'])),
        body: { user: 'h3' },
      },
    ],
    ['wrong-types', { __tracehop: 1, ctx: { traceparent: 5 } }],
  ])(
    'a hostile attachment (%s) never throws into the handler: the user sees its value, a fresh trace, counted',
    async (kind, seen) => {
      const socket = await chat(`r-hostile-${kind}`, {}, `&hostile=${kind}`)
      const r = await socket.send('hi')
      expect(r.attachment).toEqual(seen)
      expect(r.invalid.envelope ?? 0).toBeGreaterThanOrEqual(1)
      await h.receiver.waitFor((s) => s.some((x) => x.spanId === r.spanId))
      const m = messageSpan(r.spanId)
      expect(m.parentSpanId).toBeUndefined()
      expect(m.links).toEqual([])
    },
  )
})
