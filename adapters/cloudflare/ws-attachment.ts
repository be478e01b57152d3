/**
 * The accepting span's context, kept in a hibernatable WebSocket's attachment next to the
 * user's own value, and invisible to the user.
 *
 * A hibernated Durable Object keeps nothing in memory: the only per-socket state that
 * survives is the attachment (`ws.serializeAttachment`, structured clone, size-limited by
 * the platform). The stored value is the message envelope of `src/envelope.ts`:
 * `{ __tracehop: 1, ctx: <the accepting span's headers>, body: <the user's attachment> }`.
 * The user keeps calling `ws.serializeAttachment(value)` / `ws.deserializeAttachment()`:
 * those two methods are replaced on each socket object we see (own properties of that one
 * object; the `WebSocket` prototype is never touched) by versions that write and read
 * `body` only. workerd hands out one JS object per socket for as long as the object is
 * awake (`ctx.getWebSockets()` returns the same objects the handlers get), so wrapping
 * every socket at accept time, at wake-up (the constructor) and in each handler covers
 * every socket the user can reach.
 */
import { ENVELOPE_KEY, ENVELOPE_VERSION, TRACEPARENT_HEADER, unwrapEnvelope } from '../../src/internal.js'

// Ref: @cloudflare/workers-types WebSocket (the hibernation API's attachment methods).
/** The part of a hibernatable `WebSocket` the attachment wrapper uses. */
export interface AttachableWebSocket {
  serializeAttachment(value: unknown): void
  deserializeAttachment(): unknown
}

interface RawMethods {
  readonly serialize: (value: unknown) => void
  readonly deserialize: () => unknown
}

/** Key of the context record that says messages continue the accepting span's trace. */
export const MESSAGES_MODE_KEY = 'tracehop-websocket'

/** Sockets whose attachment methods are wrapped, with the platform's own methods. */
const originals = new WeakMap<object, RawMethods>()
/** The context each socket carries (`null`: none), cached for as long as the object lives. */
const contexts = new WeakMap<object, Record<string, string> | null>()

/** What {@link socketContext} found in a socket's attachment. */
export interface SocketContext {
  /** The accepting span's context headers, if the attachment carried them. */
  readonly carrier?: Record<string, string>
  /** False when the attachment looked like ours (`__tracehop: 1`) but was malformed. */
  readonly valid: boolean
}

const NO_CONTEXT: SocketContext = { valid: true }

/**
 * Replaces `serializeAttachment`/`deserializeAttachment` on this one socket object by
 * versions that hide the context. Idempotent; returns false (and changes nothing) when the
 * object has no such methods or cannot take own properties.
 *
 * @example
 * wrapSocket(ws) // then ws.deserializeAttachment() returns the user's value only
 */
export function wrapSocket(ws: AttachableWebSocket): boolean {
  if (originals.has(ws)) return true
  let serialize: unknown
  let deserialize: unknown
  try {
    serialize = ws.serializeAttachment
    deserialize = ws.deserializeAttachment
  } catch {
    return false
  }
  if (typeof serialize !== 'function' || typeof deserialize !== 'function') return false
  const raw: RawMethods = {
    serialize: serialize as RawMethods['serialize'],
    deserialize: deserialize as RawMethods['deserialize'],
  }
  try {
    Object.defineProperty(ws, 'serializeAttachment', {
      value: function serializeAttachment(value: unknown): void {
        writeUserValue(ws, raw, value)
      },
      writable: true,
      configurable: true,
    })
    Object.defineProperty(ws, 'deserializeAttachment', {
      value: function deserializeAttachment(): unknown {
        // The platform's own errors reach the user unchanged.
        return readRaw(ws, raw).body
      },
      writable: true,
      configurable: true,
    })
  } catch {
    // A frozen or exotic object: leave it exactly as it was, and never store an envelope in it.
    try {
      delete (ws as { serializeAttachment?: unknown }).serializeAttachment
      delete (ws as { deserializeAttachment?: unknown }).deserializeAttachment
    } catch {
      // Nothing more to undo.
    }
    return false
  }
  originals.set(ws, raw)
  return true
}

function readRaw(ws: object, raw: RawMethods): ReturnType<typeof unwrapEnvelope> {
  const unwrapped = unwrapEnvelope(raw.deserialize.call(ws))
  contexts.set(ws, unwrapped.carrier ?? null)
  return unwrapped
}

function knownContext(ws: object, raw: RawMethods): Record<string, string> | null {
  let ctx = contexts.get(ws)
  if (ctx === undefined) {
    try {
      ctx = readRaw(ws, raw).carrier ?? null
    } catch {
      ctx = null
    }
    contexts.set(ws, ctx)
  }
  return ctx
}

function writeUserValue(ws: object, raw: RawMethods, value: unknown): void {
  const ctx = knownContext(ws, raw)
  if (ctx === null) raw.serialize.call(ws, value)
  else store(ws, raw, ctx, value)
}

/**
 * Stores `value` with `ctx`. Attachments are size-limited: when the envelope does not fit,
 * the context shrinks to `traceparent` (and the messages mode), then is dropped, so the
 * user's own value is stored whenever it would have been without tracehop; the last error
 * (the platform's, for the user's value alone) is the one the user sees.
 */
function store(ws: object, raw: RawMethods, ctx: Record<string, string>, value: unknown): void {
  try {
    raw.serialize.call(ws, { [ENVELOPE_KEY]: ENVELOPE_VERSION, ctx, body: value })
    contexts.set(ws, ctx)
    return
  } catch {
    // Too large (or the value cannot be cloned): retried smaller below.
  }
  const traceparent = ctx[TRACEPARENT_HEADER]
  if (traceparent !== undefined) {
    const minimal: Record<string, string> = { [TRACEPARENT_HEADER]: traceparent }
    const mode = ctx[MESSAGES_MODE_KEY]
    if (mode !== undefined) minimal[MESSAGES_MODE_KEY] = mode
    try {
      raw.serialize.call(ws, { [ENVELOPE_KEY]: ENVELOPE_VERSION, ctx: minimal, body: value })
      contexts.set(ws, minimal)
      return
    } catch {
      // Still too large, or the user's value is the problem: store it alone.
    }
  }
  raw.serialize.call(ws, value)
  // Only once stored: if the platform refused the user's value, the old attachment stays.
  contexts.set(ws, null)
}

/**
 * Puts `ctx` into a wrapped socket's attachment, keeping whatever value the user already
 * stored there (an attachment set before `acceptWebSocket`). Never throws.
 *
 * @example
 * if (wrapSocket(ws)) attachContext(ws, span.headers())
 */
export function attachContext(ws: AttachableWebSocket, ctx: Record<string, string>): void {
  const raw = originals.get(ws)
  if (raw === undefined) return
  let existing: unknown = null
  try {
    existing = unwrapEnvelope(raw.deserialize.call(ws)).body
  } catch {
    existing = null
  }
  try {
    store(ws, raw, ctx, existing)
  } catch {
    // The value was storable before we came: it is still there, without context.
    contexts.set(ws, null)
  }
}

/**
 * The context a socket's attachment carries, read once per socket object (once per wake).
 * Never throws; `valid: false` when the attachment looked like ours but was malformed.
 *
 * @example
 * const { carrier, valid } = socketContext(ws)
 * if (!valid) tracer.statsRecorder.countInvalid('envelope')
 */
export function socketContext(ws: AttachableWebSocket): SocketContext {
  const cached = contexts.get(ws)
  if (cached !== undefined) return cached === null ? NO_CONTEXT : { carrier: cached, valid: true }
  const raw = originals.get(ws)
  let unwrapped: ReturnType<typeof unwrapEnvelope>
  try {
    unwrapped =
      raw !== undefined
        ? readRaw(ws, raw)
        : unwrapEnvelope((ws as { deserializeAttachment(): unknown }).deserializeAttachment())
  } catch {
    return NO_CONTEXT
  }
  if (unwrapped.carrier !== undefined) return { carrier: unwrapped.carrier, valid: true }
  return unwrapped.valid ? NO_CONTEXT : { valid: false }
}
