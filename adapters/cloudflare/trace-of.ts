import type { Span } from '../../src/index.js'
import { spanOf } from '../../src/internal.js'

/**
 * The span that belongs to a platform object the traced handler received: the
 * invocation's `ctx` (the server, batch or cron span), the `request`, a queue `message`
 * (its process span, parented to its producer) or the `batch`, a scheduled `controller`,
 * or an argument object of a traced RPC method. No ambient async context: you pass the object.
 * Throws a `TracehopError` naming the fix when the handler was not wrapped.
 *
 * @example
 * async fetch(request, env, ctx) {
 *   const span = traceOf(ctx) // same span as traceOf(request)
 *   const user = await span.child('auth', () => authorize(request))
 *   return span.fetch('https://retrieval.internal/q', { method: 'POST', body: user.id })
 * }
 */
export function traceOf(owner: object): Span {
  return spanOf(
    owner,
    'wrap the Worker with instrument(handler, config) and pass the ctx, request, message or batch it was given',
  )
}
