import { findSpan, type Span, spanOf } from '../../src/index.js'
import { Invoker, type LambdaConfigInput, type LambdaOptions } from './invocation.js'
import { recordSpan } from './records.js'
import { recordEntries } from './state.js'
import type { LambdaContextLike } from './types.js'

const TRACE_OF_HINT =
  'wrap the handler with withTrace(handler, config) (or traceLambdaHandler / tracehopMiddleware) from tracehop/lambda and pass the context or record it received'

/**
 * Wraps a Lambda handler so each invocation is one scope: the trace context is read from
 * wherever the event source carries it (API Gateway / ALB / Function URL headers, the
 * EventBridge detail, the `Lambda.Invoke` ClientContext; batch records are linked), the
 * invocation span is `traceOf(context)`, and the spans are flushed before the handler's
 * promise settles, bounded by `context.getRemainingTimeInMillis()` minus a margin. The
 * result is returned unchanged and the handler's own error is rethrown unchanged (same
 * object), after the same bounded flush. `this` is passed through.
 *
 * @example
 * import { withTrace, traceOf } from 'tracehop/lambda'
 * import { otlp } from 'tracehop'
 *
 * export const handler = withTrace(async (event: APIGatewayProxyEvent, context: Context) => {
 *   const docs = await traceOf(context).child('search', { runType: 'retriever' }, () => search(event.body))
 *   return { statusCode: 200, body: JSON.stringify(docs) }
 * }, { service: 'retrieval', exporters: [otlp({ url: process.env.OTLP_URL! })] })
 */
export function withTrace<E, R, C extends LambdaContextLike = LambdaContextLike>(
  handler: (event: E, context: C) => R | Promise<R>,
  config: LambdaConfigInput,
  options?: LambdaOptions,
): (event: E, context: C) => Promise<R> {
  const invoker = new Invoker(config, options)
  return function tracedLambdaHandler(this: unknown, event: E, context: C): Promise<R> {
    return runTraced(invoker, handler, this, event, context)
  }
}

/**
 * @internal Runs one invocation of `handler` through `invoker` (shared with the decorator).
 *
 * @example
 * return runTraced(invoker, method, this, event, context)
 */
export async function runTraced<E, R, C extends LambdaContextLike>(
  invoker: Invoker,
  handler: (this: any, event: E, context: C) => R | Promise<R>,
  self: unknown,
  event: E,
  context: C,
): Promise<R> {
  const invocation = invoker.begin(event, context)
  let result: R
  try {
    result = await handler.call(self, event, context)
  } catch (error) {
    await invoker.finish(invocation, undefined, error, true)
    throw error
  }
  await invoker.finish(invocation, result, undefined, false)
  return result
}

/**
 * The span of a Lambda platform object: the invocation span for the `context` a wrapped
 * handler received, or a batch record's own `process` span (created on first use, parented
 * to the record's producer). No ambient async context: the span is found
 * from the object itself. Throws a `TracehopError` for an object no wrapped handler saw.
 *
 * @example
 * const span = traceOf(context)
 * for (const record of event.Records) {
 *   await traceOf(record).child('index', () => index(record.body))
 * }
 */
export function traceOf(owner: LambdaContextLike | object): Span {
  if (owner !== null && typeof owner === 'object') {
    // A record of a running invocation first: a record object reused across invocations
    // (a test fixture) may still be bound to an earlier invocation's span.
    const entry = recordEntries.get(owner)
    if (entry !== undefined && !entry.invocation.finished) return recordSpan(entry)
    const bound = findSpan(owner)
    if (bound !== undefined) return bound
  }
  return spanOf(owner, TRACE_OF_HINT)
}
