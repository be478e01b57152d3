import { TracehopError } from './errors.js'
import type { Span } from './span.js'

/**
 * Maps platform objects (a Worker `ExecutionContext`, a `Request`, a queue `Message`, a
 * Lambda `context`, an SQS record) to the span that belongs to them, so handler
 * signatures stay the platform's and the span is looked up explicitly: `traceOf(ctx)`.
 * A WeakMap: nothing is kept alive by it and no per-request state sits in a global.
 */
const spans = new WeakMap<object, Span>()

/** Associates `span` with a platform object. */
export function bindSpan(owner: object, span: Span): void {
  spans.set(owner, span)
}

/** The span bound to `owner`, if any. */
export function findSpan(owner: object): Span | undefined {
  return spans.get(owner)
}

/**
 * The span bound to a platform object; throws a configuration error naming the fix when
 * there is none (a handler that was not wrapped), since that is a programmer error.
 */
export function spanOf(owner: object, hint: string): Span {
  const span = owner !== null && typeof owner === 'object' ? spans.get(owner) : undefined
  if (span === undefined) {
    throw new TracehopError(`traceOf() found no span for this object; ${hint}`)
  }
  return span
}
