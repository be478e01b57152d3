/**
 * A WebSocket message that carries its own trace context: an agent turn started elsewhere.
 *
 * A JSON text message whose top-level object has a `_trace` member:
 * `{"_trace": {"traceparent": "00-…-01", "tracestate"?: "…", "baggage"?: "…",
 * "langsmith-trace"?: "…"}, …the message's own fields…}`. `_trace` is the context record
 * of `src/envelope.ts` (the header names tracehop writes, to strings of at most 64 KiB, read
 * with the same formats as HTTP headers; anything else in it makes it invalid), believed as
 * far as `propagation.ingress` says. The message is not changed: the handler receives it byte for byte, with
 * `_trace` in it, so an application that does not know the field just ignores it.
 */
import { readContext } from '../../src/internal.js'

/** The top-level JSON member of a text message that carries a trace context. */
export const MESSAGE_TRACE_FIELD = '_trace'

// Workers cap a WebSocket message at 1 MiB; a bigger text is not parsed for context.
const MAX_PARSED_LENGTH = 1 << 20
const QUOTED_FIELD = `"${MESSAGE_TRACE_FIELD}"`

/** What {@link readMessageTrace} found. */
export interface MessageTrace {
  /** The context headers of the message, when it carried a well-formed `_trace`. */
  readonly carrier?: Record<string, string>
  /** False when the message had a `_trace` member that is not a context record. */
  readonly valid: boolean
}

const NONE: MessageTrace = { valid: true }
const INVALID: MessageTrace = { valid: false }

function isSpace(c: number): boolean {
  return c === 32 || c === 9 || c === 10 || c === 13
}

/**
 * Reads the `_trace` member of a JSON text message. Cheap for messages without one (a
 * first-character check and one substring search, no parse); never throws.
 *
 * @example
 * readMessageTrace('{"_trace":{"traceparent":"00-4bf9…-00f0…-01"},"text":"hi"}').carrier
 * // { traceparent: '00-4bf9…-00f0…-01' }
 */
export function readMessageTrace(message: unknown): MessageTrace {
  if (typeof message !== 'string') return NONE
  const n = message.length
  let i = 0
  while (i < n && isSpace(message.charCodeAt(i))) i++
  if (message.charCodeAt(i) !== 123 /* { */) return NONE
  if (message.indexOf(QUOTED_FIELD, i) === -1) return NONE
  if (n > MAX_PARSED_LENGTH) return INVALID
  let parsed: unknown
  try {
    parsed = JSON.parse(message)
  } catch {
    // Not JSON after all: the application's own text, not ours.
    return NONE
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) return NONE
  if (!Object.hasOwn(parsed, MESSAGE_TRACE_FIELD)) return NONE
  const ctx = (parsed as Record<string, unknown>)[MESSAGE_TRACE_FIELD]
  // The same validation as an envelope's context (the header names tracehop writes, bounded).
  const carrier = readContext(ctx)
  return carrier === undefined ? INVALID : { carrier, valid: true }
}
