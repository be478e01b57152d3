import type { Span } from '../../src/index.js'
import { findSpan, spanOf } from '../../src/internal.js'
import { boundedBy, Invoker, type LambdaConfigInput, type LambdaOptions } from './invocation.js'
import { recordSpan } from './records.js'
import {
  copyStreamingMarks,
  isResponseStream,
  type ResponseStreamLike,
  type StreamingHandler,
  watchResponseStream,
} from './response-stream.js'
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
): (event: E, context: C) => Promise<R>
/**
 * A streaming handler (`awslambda.streamifyResponse`, or {@link streamifyResponse}): the
 * invocation span stays open until the response stream has finished, failed or been
 * aborted, records `http.response.body.size` and the first byte (event
 * `http.response.body.first_byte`, `tracehop.response.first_byte_ms`), takes its status
 * from `HttpResponseStream.from(stream, { statusCode })`, and the flush runs after the
 * stream ends and before the invocation completes, within the same budget.
 *
 * @example
 * export const handler = awslambda.streamifyResponse(withTrace(async (event, responseStream, context) => {
 *   await pipeline(answer(event, traceOf(context)), responseStream)
 * }, { service: 'chat', exporters: [otlp({ url: process.env.OTLP_URL! })] }))
 */
export function withTrace<E, C extends LambdaContextLike = LambdaContextLike>(
  handler: StreamingHandler<E, C>,
  config: LambdaConfigInput,
  options?: LambdaOptions,
): StreamingHandler<E, C>
export function withTrace(
  // biome-ignore lint/suspicious/noExplicitAny: the signature behind the overloads: `second`/`third` are the context or the response stream, told apart at run time
  handler: (event: unknown, second: any, third?: any) => unknown,
  config: LambdaConfigInput,
  options?: LambdaOptions,
  // biome-ignore lint/suspicious/noExplicitAny: the signature behind the overloads: `second`/`third` are the context or the response stream, told apart at run time
): (event: unknown, second: any, third?: any) => Promise<unknown> {
  const invoker = new Invoker(config, options)
  // biome-ignore lint/suspicious/noExplicitAny: the signature behind the overloads: `second`/`third` are the context or the response stream, told apart at run time
  const traced = function tracedLambdaHandler(this: unknown, event: unknown, second: any, third?: any) {
    // The runtime calls a streaming handler as (event, responseStream, context).
    if (isResponseStream(second) && third !== null && typeof third === 'object') {
      return runStreaming(invoker, handler as StreamingHandler, this, event, second, third)
    }
    return runTraced(invoker, handler, this, event, second)
  }
  // Wrapped after streamifyResponse: the runtime must still see a streaming handler.
  copyStreamingMarks(handler, traced)
  return traced
}

/**
 * @internal Runs one streaming invocation: the span ends when the response stream does
 * (bounded so the flush still fits before the deadline), then the flush, then the
 * handler's promise settles and the runtime completes the invocation.
 */
export async function runStreaming<E, C extends LambdaContextLike>(
  invoker: Invoker,
  handler: StreamingHandler<E, C>,
  self: unknown,
  event: E,
  responseStream: ResponseStreamLike,
  context: C,
): Promise<void> {
  const invocation = invoker.begin(event, context)
  const watched = watchResponseStream(responseStream, invocation.scope.root, Date.now())
  try {
    await handler.call(self, event, responseStream, context)
  } catch (error) {
    // The runtime ends the stream with the error trailers once we rethrow: flush first.
    watched.recordSoFar()
    await invoker.finish(invocation, statusResult(watched.status()), error, true)
    throw error
  }
  // A handler may resolve before its pipeline has drained: the span covers the whole body,
  // waited for until the flush must start; with no Lambda deadline (a context without a
  // working clock), one flush budget at most.
  const deadline = invocation.hardDeadline
  await boundedBy(
    watched.settled,
    Number.isFinite(deadline) ? deadline - invocation.flushBudgetMs : Date.now() + invocation.flushBudgetMs,
  )
  if (watched.recordSoFar()) {
    // The stream was still open: its span is ended here, as the flush ends a span open at its deadline.
    invocation.scope.root.set('tracehop.force_ended', true)
    invocation.tracer.statsRecorder.spans.forceEnded++
  }
  await invoker.finish(invocation, statusResult(watched.status()), undefined, false)
}

function statusResult(status: number | undefined): { statusCode: number } | undefined {
  return status === undefined ? undefined : { statusCode: status }
}

/**
 * @internal Runs one invocation of `handler` through `invoker` (shared with the decorator).
 *
 * @example
 * return runTraced(invoker, method, this, event, context)
 */
export async function runTraced<E, R, C extends LambdaContextLike>(
  invoker: Invoker,
  // biome-ignore lint/suspicious/noExplicitAny: `this` is passed through untouched; the decorator's class type must fit
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
