// A chat Durable Object with hibernating WebSockets, written the way a user writes one, plus
// the probes the test reads: how often the class was constructed (a new instance after a
// hibernation), timers alive in this isolate, and `waitUntil` promises not yet settled.
import { DurableObject } from 'cloudflare:workers'
import { traceOf } from '../../../adapters/cloudflare/index.js'
import { acceptWebSocket, type DurableObjectStateLike } from '../../../adapters/cloudflare/websocket.js'

export interface ChatEnv {
  readonly OTLP_URL: string
}

// Test instrumentation of this isolate (never done by tracehop): live timers.
const live = new Set<unknown>()
const realSetTimeout = globalThis.setTimeout
const realClearTimeout = globalThis.clearTimeout
globalThis.setTimeout = ((fn: (...a: unknown[]) => void, ms?: number, ...rest: unknown[]) => {
  const id: unknown = realSetTimeout(() => {
    live.delete(id)
    fn(...rest)
  }, ms)
  live.add(id)
  return id
}) as typeof setTimeout
globalThis.clearTimeout = ((id: unknown) => {
  live.delete(id)
  realClearTimeout(id as number)
}) as typeof clearTimeout

let constructed = 0
let pendingWaitUntil = 0
let waitUntilCalls = 0

type State = DurableObjectStateLike & { waitUntil(promise: Promise<unknown>): void }

const HOSTILE: Record<string, unknown> = {
  'ctx-not-record': { __tracehop: 1, ctx: 'not-a-record', body: { user: 'h1' } },
  'bad-traceparent': { __tracehop: 1, ctx: { traceparent: '00-zz-yy-01' }, body: { user: 'h2' } },
  'too-many-keys': {
    __tracehop: 1,
    ctx: Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`k${i}`, 'v'])),
    body: { user: 'h3' },
  },
  'wrong-types': { __tracehop: 1, ctx: { traceparent: 5 } },
}

/** The chat room; `leaveTimer` makes it a control that keeps itself awake with a pending timer. */
export function chatRoom(leaveTimer: boolean): new (ctx: unknown, env: ChatEnv) => DurableObject<ChatEnv> {
  return class ChatRoom extends DurableObject<ChatEnv> {
    constructor(ctx: unknown, env: ChatEnv) {
      super(ctx as never, env)
      constructed++
      const state = ctx as State
      const waitUntil = state.waitUntil
      // Probe: count `waitUntil` promises until they settle.
      state.waitUntil = (promise: Promise<unknown>) => {
        waitUntilCalls++
        pendingWaitUntil++
        const done = (): void => {
          pendingWaitUntil--
        }
        promise.then(done, done)
        waitUntil.call(state, promise)
      }
    }

    private get state(): State {
      return this.ctx as unknown as State
    }

    async fetch(request: Request): Promise<Response> {
      const url = new URL(request.url)
      if (url.pathname === '/probe') {
        return Response.json({ constructed, liveTimers: live.size, pendingWaitUntil, waitUntilCalls })
      }
      const pair = new WebSocketPair()
      const server = pair[1]
      const kind = url.searchParams.get('hostile')
      if (kind !== null) {
        // An attachment tracehop did not write (an older version, a bug): set past the wrapper.
        this.state.acceptWebSocket(server, ['room'])
        Object.getPrototypeOf(server).serializeAttachment.call(server, HOSTILE[kind])
      } else {
        // The user's attachment, set before the socket is accepted: kept, merged, invisible.
        server.serializeAttachment({ user: url.searchParams.get('user'), n: 0 })
        acceptWebSocket(this.state, server, request, { tags: ['room'] })
      }
      return new Response(null, { status: 101, webSocket: pair[0] } as ResponseInit)
    }

    async webSocketMessage(ws: HibernatableWebSocket, message: string | ArrayBuffer): Promise<void> {
      const span = traceOf(ws)
      const before = ws.deserializeAttachment()
      const text = typeof message === 'string' ? message : `<${message.byteLength} bytes>`
      await span.child('reply', async (s) => {
        s.set('chat.text', text)
      })
      if (before !== null && typeof before === 'object' && typeof before.n === 'number') {
        ws.serializeAttachment({ ...before, n: before.n + 1 })
      }
      const raw = Object.getPrototypeOf(ws).deserializeAttachment.call(ws)
      ws.send(
        JSON.stringify({
          constructed,
          message: text,
          attachment: before,
          after: ws.deserializeAttachment(),
          viaList: (this.state.getWebSockets('room')[0] as HibernatableWebSocket).deserializeAttachment(),
          rawCtx: raw !== null && typeof raw === 'object' ? (raw.ctx ?? null) : null,
          traceId: span.traceId,
          spanId: span.spanId,
          invalid: span.scope.tracer.stats().invalid,
        }),
      )
      if (leaveTimer) setTimeout(() => {}, 60_000)
    }

    async webSocketClose(ws: HibernatableWebSocket, code: number, reason: string): Promise<void> {
      traceOf(ws).set('chat.user', String(ws.deserializeAttachment()?.user))
      try {
        ws.close(code, reason)
      } catch {
        // Already closed.
      }
    }
  }
}
