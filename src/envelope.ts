/**
 * Envelopes: trace context for transports that carry no metadata.
 *
 * Cloudflare Queues have no message headers or attributes, and Workers RPC (service
 * bindings, Durable Object stubs) has no headers at all, so the context rides inside the
 * payload, in two small documented shapes that any language can read and write:
 *
 * - Message envelope (a queue message body, a Workflow payload):
 *   `{ "__tracehop": 1, "ctx": { "traceparent": "00-…-01", "tracestate"?: "…",
 *   "baggage"?: "…", "langsmith-trace"?: "…" }, "body": <the user's body> }`
 * - Call marker (appended as the last argument of an RPC call, stripped by the callee
 *   before the user's method sees its arguments): `{ "__tracehop": "ctx", "ctx": { … } }`
 *
 * `ctx` is the record `span.headers()` returns: lowercase header names to string values,
 * read back with the same propagation formats as HTTP headers. Both shapes survive JSON
 * and structured clone (the `v8` content type), and nothing in them is a class instance.
 */
import type { Span } from './span.js'

/** The property that marks an envelope or a call marker. */
export const ENVELOPE_KEY = '__tracehop'
/** `__tracehop` value of a message envelope (the format's version). */
export const ENVELOPE_VERSION = 1
/** `__tracehop` value of an RPC call marker. */
export const CALL_MARKER = 'ctx'

// A context record is a handful of headers; anything bigger is not ours or was tampered with.
const MAX_CTX_KEYS = 16
const MAX_CTX_VALUE_LENGTH = 8192

/** A message body wrapped with the context of the span that produced it. */
export interface Envelope<Body = unknown> {
  readonly __tracehop: typeof ENVELOPE_VERSION
  readonly ctx: Readonly<Record<string, string>>
  readonly body: Body
}

/** The trailing argument of a traced RPC call. */
export interface CallMarker {
  readonly __tracehop: typeof CALL_MARKER
  readonly ctx: Readonly<Record<string, string>>
}

/** What {@link unwrapEnvelope} found. */
export interface Unwrapped {
  /** The user's own body: the envelope's `body`, or the value itself when it is not an envelope. */
  readonly body: unknown
  /** The context headers, when the value was a well-formed envelope. */
  readonly carrier?: Record<string, string>
  /**
   * False when the value looked like an envelope (`__tracehop: 1`) but was malformed: the
   * caller counts it (`countInvalid('envelope')`) and starts a fresh trace. True for a
   * well-formed envelope and for a value that is no envelope at all (it passes through).
   */
  readonly valid: boolean
}

const NOT_ENVELOPE_VALID = true

/**
 * Wraps `body` with the context of `span` (its outgoing headers in every configured
 * format). Baggage is included: queues and RPC are ours by construction.
 *
 * @example
 * const producer = span.startChild('send jobs', { kind: SpanKind.PRODUCER })
 * await env.JOBS.send(wrapEnvelope(producer, { doc: 42 }))
 * producer.end()
 */
export function wrapEnvelope<Body>(span: Span, body: Body): Envelope<Body> {
  return { __tracehop: ENVELOPE_VERSION, ctx: span.headers(), body }
}

/**
 * Reads a message body that may be an envelope. Never throws: a value that is no envelope
 * comes back as `{ body: value, valid: true }`; a malformed envelope as `valid: false`
 * with the best body that can be recovered (its `body` if present, else the value).
 *
 * @example
 * const { body, carrier, valid } = unwrapEnvelope(message.body)
 * if (!valid) tracer.statsRecorder.countInvalid('envelope')
 * const scope = tracer.start(carrier, { name: 'process jobs', kind: SpanKind.CONSUMER })
 */
export function unwrapEnvelope(value: unknown): Unwrapped {
  if (value === null || typeof value !== 'object') return { body: value, valid: NOT_ENVELOPE_VALID }
  let marker: unknown
  let hasBody: boolean
  let body: unknown
  let ctx: unknown
  try {
    marker = (value as { __tracehop?: unknown }).__tracehop
    if (marker !== ENVELOPE_VERSION) return { body: value, valid: NOT_ENVELOPE_VALID }
    hasBody = Object.hasOwn(value, 'body')
    body = (value as { body?: unknown }).body
    ctx = (value as { ctx?: unknown }).ctx
  } catch {
    // A hostile object whose getters throw: not ours.
    return { body: value, valid: NOT_ENVELOPE_VALID }
  }
  if (!hasBody) return { body: value, valid: false }
  const carrier = readContext(ctx)
  return carrier === undefined ? { body, valid: false } : { body, carrier, valid: true }
}

/**
 * The marker a traced RPC call appends as its last argument.
 *
 * @example
 * const rpc = span.startChild('users/get', { kind: SpanKind.CLIENT })
 * await env.USERS.get(id, callMarker(rpc))
 */
export function callMarker(span: Span): CallMarker {
  return { __tracehop: CALL_MARKER, ctx: span.headers() }
}

/** What {@link takeCallMarker} found in an argument list. */
export interface TakenMarker {
  /** The context headers of the caller, when the marker was well-formed. */
  readonly carrier?: Record<string, string>
  /** Whether the last argument was a call marker (and was removed). */
  readonly found: boolean
  /** False when a marker was found but its `ctx` was malformed (count it as `envelope`). */
  readonly valid: boolean
}

const NO_MARKER: TakenMarker = { found: false, valid: true }

/**
 * Removes a trailing call marker from `args` in place (so the user's method sees exactly
 * the arguments the caller passed) and returns the caller's context. Never throws.
 *
 * @example
 * const { carrier } = takeCallMarker(args)
 * const scope = tracer.start(carrier, { name: 'Users/get' })
 * return original.apply(this, args)
 */
export function takeCallMarker(args: unknown[]): TakenMarker {
  const n = args.length
  if (n === 0) return NO_MARKER
  const last = args[n - 1]
  if (last === null || typeof last !== 'object') return NO_MARKER
  let ctx: unknown
  try {
    if ((last as { __tracehop?: unknown }).__tracehop !== CALL_MARKER) return NO_MARKER
    ctx = (last as { ctx?: unknown }).ctx
  } catch {
    return NO_MARKER
  }
  args.length = n - 1
  const carrier = readContext(ctx)
  return carrier === undefined ? { found: true, valid: false } : { carrier, found: true, valid: true }
}

/** A context record: a plain object of at most 16 string values, each of bounded length. */
function readContext(ctx: unknown): Record<string, string> | undefined {
  if (ctx === null || typeof ctx !== 'object' || Array.isArray(ctx)) return undefined
  const out: Record<string, string> = {}
  let keys = 0
  try {
    for (const key in ctx) {
      if (!Object.hasOwn(ctx, key)) continue
      const v = (ctx as Record<string, unknown>)[key]
      if (typeof v !== 'string' || v.length > MAX_CTX_VALUE_LENGTH || ++keys > MAX_CTX_KEYS) return undefined
      out[key.toLowerCase()] = v
    }
  } catch {
    return undefined
  }
  return out
}
