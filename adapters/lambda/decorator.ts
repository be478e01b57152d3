import { Invoker, type LambdaConfigInput, type LambdaOptions } from './invocation.js'
import type { LambdaContextLike } from './types.js'
import { runTraced } from './with-trace.js'

/**
 * A standard (TC39 stage 3, TypeScript 5+ without `experimentalDecorators`) class-method
 * decorator for Lambda handler classes, used where Powertools users write
 * `@tracer.captureLambdaHandler()`. Each invocation of the method runs exactly as under
 * {@link withTrace}: one scope, `traceOf(context)`, a bounded flush before it resolves,
 * the result and errors passed through unchanged, `this` kept.
 *
 * @example
 * class Retrieval {
 *   @traceLambdaHandler({ service: 'retrieval', exporters: [otlp({ url: process.env.OTLP_URL! })] })
 *   async handler(event: APIGatewayProxyEventV2, context: Context) {
 *     return traceOf(context).child('search', () => this.search(event))
 *   }
 * }
 * const lambda = new Retrieval()
 * export const handler = lambda.handler.bind(lambda)
 */
export function traceLambdaHandler(
  config: LambdaConfigInput,
  options?: LambdaOptions,
): <This, E, R, C extends LambdaContextLike>(
  method: (this: This, event: E, context: C) => Promise<R>,
  decorator: ClassMethodDecoratorContext<This, (this: This, event: E, context: C) => Promise<R>>,
) => (this: This, event: E, context: C) => Promise<R> {
  // One tracer and one cold-start flag per decorated method, created when the class is defined.
  const invoker = new Invoker(config, options)
  return function decorateLambdaHandler<This, E, R, C extends LambdaContextLike>(
    method: (this: This, event: E, context: C) => Promise<R>,
    _decorator: ClassMethodDecoratorContext<This, (this: This, event: E, context: C) => Promise<R>>,
  ): (this: This, event: E, context: C) => Promise<R> {
    return function tracedLambdaMethod(this: This, event: E, context: C): Promise<R> {
      return runTraced(invoker, method, this, event, context)
    }
  }
}
