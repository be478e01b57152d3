/**
 * Durable Objects with hibernating WebSockets: one scope per `webSocketMessage`,
 * `webSocketClose` and `webSocketError` (never one span for the whole socket), each linked
 * to the span that accepted the socket, whose context survives hibernation in the socket's
 * attachment (see `ws-attachment.ts`).
 */

import {
  type Attributes,
  type Scope,
  type Span,
  SpanKind,
  type SpanLink,
  type TraceContext,
  TracehopError,
  type Tracer,
  type WaitUntil,
} from '../../src/index.js'
import { bindSpan, endScope, findSpan, settle } from '../../src/internal.js'
import { findMethod, type Handler } from './class-methods.js'
import { createResolver, type Resolver, type WorkerConfig } from './config.js'
import { instrumentClass } from './entrypoint.js'
import { waitUntilOf } from './handlers.js'
import type { EntrypointClass } from './types.js'
import {
  type AttachableWebSocket,
  attachContext,
  MESSAGES_MODE_KEY,
  type SocketContext,
  socketContext,
  wrapSocket,
} from './ws-attachment.js'
import { type MessageTrace, readMessageTrace } from './ws-message-trace.js'

export { MESSAGE_TRACE_FIELD } from './ws-message-trace.js'

/**
 * Request header on the WebSocket upgrade request that chooses how the socket's messages
 * are traced: `continue` makes each message (that brings no `_trace` of its own) a child of
 * the span that accepted the socket, in the upgrade request's trace; `link` (the default)
 * starts a new trace per message, linked to that span. Browsers cannot set headers on a
 * WebSocket: they send `_trace` in the message instead.
 */
export const WEBSOCKET_MESSAGES_HEADER = 'tracehop-websocket'

/** How a socket's messages without their own `_trace` are traced. */
export type WebSocketMessages = 'link' | 'continue'

// Ref: @cloudflare/workers-types DurableObjectState (WebSocket Hibernation API).
/** The part of a `DurableObjectState` the WebSocket tracing uses. */
export interface DurableObjectStateLike {
  acceptWebSocket(ws: unknown, tags?: string[]): void
  getWebSockets(tag?: string): readonly unknown[]
  waitUntil?(promise: Promise<unknown>): void
}

/** Options of {@link acceptWebSocket}. */
export interface AcceptWebSocketOptions {
  /** Hibernation tags, passed to `state.acceptWebSocket(ws, tags)` unchanged. */
  readonly tags?: readonly string[]
  /**
   * How messages without their own `_trace` are traced; overrides the upgrade request's
   * `tracehop-websocket` header. Default: the header, else `link`.
   */
  readonly messages?: WebSocketMessages
}

function isSpan(x: unknown): x is Span {
  return (
    x !== null &&
    typeof x === 'object' &&
    typeof (x as Span).headers === 'function' &&
    typeof (x as Span).startChild === 'function'
  )
}

function messagesMode(from: unknown, option: WebSocketMessages | undefined): WebSocketMessages {
  if (option !== undefined) return option
  if (typeof Request === 'undefined' || !(from instanceof Request)) return 'link'
  const header = from.headers.get(WEBSOCKET_MESSAGES_HEADER)
  return header !== null && header.trim().toLowerCase() === 'continue' ? 'continue' : 'link'
}

/**
 * Accepts a hibernatable WebSocket (`state.acceptWebSocket(ws, tags)`) and stores the
 * accepting span's context in the socket's attachment, so that every later message,
 * close and error event, even after the object hibernated, links to it. The user's own
 * attachment (set before or after) is kept and stays invisible-merged:
 * `ws.serializeAttachment(value)` / `ws.deserializeAttachment()` keep working as before.
 *
 * `from` is the upgrade request of a traced `fetch` (its server span accepts the socket,
 * and its `tracehop-websocket: continue|link` header is read), or any span. A request that
 * was not traced accepts the socket without context.
 *
 * @example
 * class ChatRoom extends DurableObject<Env> {
 *   async fetch(request: Request) {
 *     const { 0: client, 1: server } = new WebSocketPair()
 *     acceptWebSocket(this.ctx, server, request, { tags: ['room:42'] }) // not this.ctx.acceptWebSocket
 *     server.serializeAttachment({ user: 'u1' })                        // the user's own attachment
 *     return new Response(null, { status: 101, webSocket: client })
 *   }
 * }
 */
export function acceptWebSocket(
  state: DurableObjectStateLike,
  ws: AttachableWebSocket,
  from: Request | Span,
  options?: AcceptWebSocketOptions,
): void {
  if (state === null || typeof state !== 'object' || typeof state.acceptWebSocket !== 'function') {
    throw new TracehopError('acceptWebSocket(state, ws, request) needs the Durable Object state: this.ctx')
  }
  const tags = options?.tags
  if (tags === undefined) state.acceptWebSocket(ws)
  else state.acceptWebSocket(ws, [...tags])
  const span = isSpan(from) ? from : from !== null && typeof from === 'object' ? findSpan(from) : undefined
  if (span === undefined || !wrapSocket(ws)) return
  let ctx: Record<string, string>
  try {
    ctx = span.headers()
  } catch {
    return
  }
  if (messagesMode(from, options?.messages) === 'continue') ctx[MESSAGES_MODE_KEY] = 'continue'
  attachContext(ws, ctx)
}

type SocketEvent = 'webSocketMessage' | 'webSocketClose' | 'webSocketError'
const SOCKET_EVENTS: readonly SocketEvent[] = ['webSocketMessage', 'webSocketClose', 'webSocketError']

interface Platform {
  readonly state: unknown
  readonly env: unknown
}

/** The `(state, env)` each instance was constructed with; no per-request state. */
const platforms = new WeakMap<object, Platform>()

/** Wraps every socket the woken object can reach, before any user code reads an attachment. */
function adoptSockets(state: unknown): void {
  if (state === null || typeof state !== 'object') return
  const s = state as DurableObjectStateLike
  if (typeof s.getWebSockets !== 'function') return
  try {
    for (const ws of s.getWebSockets())
      if (ws !== null && typeof ws === 'object') wrapSocket(ws as AttachableWebSocket)
  } catch {
    // No hibernation API here (a plain object in a test, an older runtime): nothing to adopt.
  }
}

function messageAttributes(message: unknown): Attributes {
  if (typeof message === 'string')
    return { 'websocket.message.type': 'text', 'websocket.message.size': message.length }
  const size = message instanceof ArrayBuffer ? message.byteLength : undefined
  return size === undefined
    ? { 'websocket.message.type': 'binary' }
    : { 'websocket.message.type': 'binary', 'websocket.message.size': size }
}

function eventAttributes(event: SocketEvent, args: readonly unknown[]): Attributes {
  if (event === 'webSocketMessage') return messageAttributes(args[1])
  if (event === 'webSocketClose') {
    const attributes: Attributes = {}
    if (typeof args[1] === 'number') attributes['websocket.close.code'] = args[1]
    if (typeof args[2] === 'string' && args[2] !== '') attributes['websocket.close.reason'] = args[2]
    if (typeof args[3] === 'boolean') attributes['websocket.close.was_clean'] = args[3]
    return attributes
  }
  return {}
}

/**
 * Starts one socket event's scope. Parent: the message's own `_trace`, else (messages mode
 * `continue`) the accepting span, else none (a new trace). The accepting span is linked
 * whenever it is not the parent. Bad context never throws: it is counted, the trace is fresh.
 */
function startEventScope(
  tracer: Tracer,
  name: string,
  attributes: Attributes,
  socket: SocketContext,
  message: MessageTrace,
  waitUntil: WaitUntil | undefined,
): Scope {
  const stats = tracer.statsRecorder
  if (!socket.valid) stats.countInvalid('envelope')
  let accept: TraceContext | undefined
  if (socket.carrier !== undefined) {
    accept = tracer.extract(socket.carrier, 'trusted').parent
    if (accept === undefined) stats.countInvalid('envelope')
  }
  if (!message.valid) stats.countInvalid('envelope')
  let parent: TraceContext | undefined
  let links: readonly SpanLink[] = []
  let source = 'none'
  if (message.carrier !== undefined) {
    // Sent by the client: believed as far as `propagation.ingress` says.
    const incoming = tracer.extract(message.carrier)
    parent = incoming.parent
    links = incoming.links
    if (parent === undefined && links.length === 0) stats.countInvalid('envelope')
    else source = 'message'
  }
  if (parent === undefined && accept !== undefined && socket.carrier?.[MESSAGES_MODE_KEY] === 'continue') {
    parent = accept
    source = 'accept'
  }
  attributes['tracehop.websocket.parent'] = source
  const scope = tracer.start(parent, {
    // Already believed as far as its source allows (above): not filtered twice.
    ingress: 'trusted',
    name,
    kind: SpanKind.CONSUMER,
    attributes,
    ...(accept !== undefined && parent !== accept ? { links: [accept] } : {}),
    ...(waitUntil !== undefined ? { waitUntil } : {}),
  })
  for (const l of links) scope.root.link(l)
  return scope
}

const NO_MESSAGE_TRACE: MessageTrace = { valid: true }

function runSocketEvent(
  resolve: Resolver<unknown>,
  instance: object,
  name: string,
  event: SocketEvent,
  original: Handler,
  args: unknown[],
): unknown {
  const platform = platforms.get(instance)
  const env = platform !== undefined ? platform.env : (instance as { env?: unknown }).env
  const state = platform !== undefined ? platform.state : (instance as { ctx?: unknown }).ctx
  const tracer = resolve(env).tracer
  const ws = args[0]
  let socket: SocketContext = { valid: true }
  if (ws !== null && typeof ws === 'object') {
    wrapSocket(ws as AttachableWebSocket)
    socket = socketContext(ws as AttachableWebSocket)
  }
  const message = event === 'webSocketMessage' ? readMessageTrace(args[1]) : NO_MESSAGE_TRACE
  const scope = startEventScope(
    tracer,
    name,
    eventAttributes(event, args),
    socket,
    message,
    waitUntilOf(state),
  )
  const root = scope.root
  if (ws !== null && typeof ws === 'object') bindSpan(ws, root)
  if (args[1] instanceof ArrayBuffer) bindSpan(args[1], root)
  if (event === 'webSocketError') root.error(args[1])
  return settle(() => Reflect.apply(original, instance, args), endScope(scope))
}

/**
 * Traces a Durable Object class that uses hibernating WebSockets: everything `instrument()`
 * traces (`fetch`, Workers RPC methods) plus one scope per `webSocketMessage`,
 * `webSocketClose` and `webSocketError` call, named `Class/webSocketMessage` etc. Accept
 * sockets with {@link acceptWebSocket} so events link to the accepting span across
 * hibernation. Returns a subclass with the same name and type; the prototype of the
 * platform's `WebSocket` and `DurableObjectState` is never touched.
 *
 * - The handler finds its span with `traceOf(ws)` (call it before the first `await`: a
 *   later event on the same socket rebinds it).
 * - A message can carry its own context: a JSON text message with a top-level `_trace`
 *   member (`{"_trace":{"traceparent":"00-…"},"text":"hi"}`) becomes a child of that
 *   context (believed as far as `propagation.ingress` says) and still links to the
 *   accepting span. The message reaches the handler unchanged (`_trace` is not stripped).
 * - The upgrade request's `tracehop-websocket: continue` header (or `acceptWebSocket`'s
 *   `messages: 'continue'`) makes messages without `_trace` children of the accepting span.
 * - Nothing keeps the object awake: no timers, no promise of ours outlives the handler's;
 *   each event's spans are flushed through `ctx.waitUntil`.
 *
 * @example
 * import { DurableObject } from 'cloudflare:workers'
 * import { acceptWebSocket, instrumentDurableObject, traceOf } from 'tracehop/cloudflare'
 *
 * class ChatRoomImpl extends DurableObject<Env> {
 *   async fetch(request: Request) {
 *     const pair = new WebSocketPair()
 *     acceptWebSocket(this.ctx, pair[1], request)
 *     return new Response(null, { status: 101, webSocket: pair[0] })
 *   }
 *   async webSocketMessage(ws: WebSocket, message: string | ArrayBuffer) {
 *     const span = traceOf(ws)
 *     const reply = await span.child('llm', () => answer(message))
 *     ws.send(reply)
 *   }
 * }
 * export const ChatRoom = instrumentDurableObject(ChatRoomImpl, (env: Env) => ({
 *   service: 'chat',
 *   exporters: [otlp({ url: env.OTLP_URL })],
 * }))
 */
// biome-ignore lint/suspicious/noExplicitAny: user-facing default: `env` is the user's own type (Hono and workers-types default Env to any too)
export function instrumentDurableObject<C extends EntrypointClass>(Base: C, config: WorkerConfig<any>): C {
  if (typeof Base !== 'function') {
    throw new TracehopError('instrumentDurableObject(Class, config) wraps a Durable Object class')
  }
  const resolve = createResolver(config)
  // biome-ignore lint/suspicious/noExplicitAny: TypeScript's mixin rule: a class extended at runtime needs a `...args: any[]` constructor
  const Traced = instrumentClass(Base, resolve) as unknown as new (...args: any[]) => object
  const className = Base.name || 'DurableObject'
  const WithSockets = {
    // A computed key keeps the class's own name.
    [className]: class extends Traced {
      // biome-ignore lint/suspicious/noExplicitAny: TypeScript's mixin rule: a class extended at runtime needs a `...args: any[]` constructor
      constructor(...args: any[]) {
        super(...args)
        platforms.set(this, { state: args[0], env: args[1] })
        adoptSockets(args[0])
      }
    },
  }[className]!
  for (const event of SOCKET_EVENTS) {
    const original = findMethod(Base.prototype, event)
    if (original === undefined) continue
    const spanName = `${className}/${event}`
    const wrapper = function (this: object, ...args: unknown[]): unknown {
      return runSocketEvent(resolve, this, spanName, event, original, args)
    }
    Object.defineProperty(wrapper, 'name', { value: event })
    Object.defineProperty(WithSockets.prototype, event, {
      value: wrapper,
      writable: true,
      configurable: true,
    })
  }
  return WithSockets as unknown as C
}
