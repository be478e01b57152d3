import type { WaitUntil } from '../../src/index.js'

// Ref: @vercel/functions `waitUntil` (src/get-context.ts): the platform publishes the
// current request's context on this global symbol; `get()` returns `{ waitUntil, … }`.
export const REQUEST_CONTEXT = Symbol.for('@vercel/request-context')

// Ref: Next.js `NextFetchEvent`, Vercel Edge Functions' `RequestContext`: both carry a
// `waitUntil(promise)` method. Structural, so no dependency on either package.
interface HasWaitUntil {
  waitUntil(promise: Promise<unknown>): void
}

function hasWaitUntil(x: unknown): x is HasWaitUntil {
  return x !== null && typeof x === 'object' && typeof (x as { waitUntil?: unknown }).waitUntil === 'function'
}

/**
 * The `waitUntil` of the current invocation, looked up as `@vercel/functions` does it
 * (the platform's request context), then on the handler's second argument (Next
 * middleware's `event`, an Edge Function's `context`). `undefined` when there is none —
 * off Vercel, or an App Router handler whose second argument is `{ params }` — and the
 * caller must then await the flush itself: `@vercel/functions`' own `waitUntil` silently
 * does nothing in that case, which is how spans get lost.
 *
 * @example
 * const waitUntil = findWaitUntil(event) // event: NextFetchEvent
 * const scope = tracer.start(request, waitUntil ? { waitUntil } : {})
 */
export function findWaitUntil(second?: unknown): WaitUntil | undefined {
  try {
    const holder = (globalThis as Record<symbol, unknown>)[REQUEST_CONTEXT] as
      | { get?: () => unknown }
      | undefined
    const context = typeof holder?.get === 'function' ? holder.get() : undefined
    if (hasWaitUntil(context)) return (promise) => context.waitUntil(promise)
  } catch {
    // A request context getter that throws outside a request: fall through.
  }
  if (hasWaitUntil(second)) return (promise) => second.waitUntil(promise)
  return undefined
}
