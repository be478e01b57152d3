import { Invoker, type LambdaConfigInput, type LambdaOptions } from './invocation.js'
import { invocations } from './state.js'
import type { MiddyMiddlewareLike, MiddyRequestLike } from './types.js'

/**
 * A middy (`@middy/core` 4–6) middleware: `before` starts the invocation scope, `after` and
 * `onError` end it with a flush bounded by the Lambda deadline. It never changes
 * `request.response` or `request.error`. Register it first (`.use()` order), so that its
 * `before` runs before the other middlewares' and its `after`/`onError` after theirs; when
 * Powertools' `captureLambdaHandler` middleware is used, register that one before it.
 *
 * @example
 * import middy from '@middy/core'
 * import { tracehopMiddleware, traceOf } from 'tracehop/lambda'
 *
 * export const handler = middy(async (event, context) => traceOf(context).child('work', () => work(event)))
 *   .use(tracehopMiddleware({ service: 'retrieval', exporters: [otlp({ url: process.env.OTLP_URL! })] }))
 */
export function tracehopMiddleware(config: LambdaConfigInput, options?: LambdaOptions): MiddyMiddlewareLike {
  const invoker = new Invoker(config, options)
  return {
    before: function tracehopBefore(request: MiddyRequestLike): void {
      invoker.begin(request.event, request.context)
    },
    after: async function tracehopAfter(request: MiddyRequestLike): Promise<void> {
      const invocation = invocationOf(request)
      if (invocation !== undefined) await invoker.finish(invocation, request.response, undefined, false)
    },
    onError: async function tracehopOnError(request: MiddyRequestLike): Promise<void> {
      const invocation = invocationOf(request)
      // A response an earlier onError middleware set (a recovered error) still gives the status.
      if (invocation !== undefined) await invoker.finish(invocation, request.response, request.error, true)
    },
  }
}

function invocationOf(request: MiddyRequestLike): ReturnType<typeof invocations.get> {
  const context = request.context
  return context !== null && typeof context === 'object' ? invocations.get(context) : undefined
}
