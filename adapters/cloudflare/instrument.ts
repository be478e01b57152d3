import { TracehopError } from '../../src/index.js'
import type { Handler } from './class-methods.js'
import { type ConfigErrorOptions, createResolver, type WorkerConfig } from './config.js'
import { instrumentClass } from './entrypoint.js'
import { runFetch, runScheduled } from './handlers.js'
import { runQueue } from './queue-consumer.js'
import type {
  EntrypointClass,
  ExportedHandlerLike,
  MessageBatchLike,
  ScheduledControllerLike,
} from './types.js'

// Handlers a module Worker may export besides the traced ones: kept, bound to the handler.
const OTHER_HANDLERS = ['email', 'tail', 'trace', 'tailStream', 'test', 'connect'] as const

/**
 * Traces a Worker. Wraps a module Worker's exported handler (`fetch`, `queue`,
 * `scheduled`; other handlers are kept as they are) or a `WorkerEntrypoint` /
 * `DurableObject` class (its `fetch`, `queue`, `scheduled` and Workers RPC methods), and
 * returns the same type.
 *
 * - `fetch`: a SERVER span `GET /path` with HTTP semantic conventions, continuing the
 *   incoming trace context (per `propagation.ingress`); status from the response (5xx is
 *   an error); a thrown error is recorded and rethrown unchanged. A streamed body keeps
 *   the span open until it has been sent (see `streaming`).
 * - `queue`: a batch span linked to one process span per message, each parented to the
 *   message's producer; the handler sees the original bodies (`traced(queue, span)`
 *   wraps them in an envelope).
 * - `scheduled`: a SERVER span `scheduled <cron>`.
 *
 * Spans are flushed through `ctx.waitUntil` after the response: nothing awaits the
 * exporter first. The handler finds its span with `traceOf(ctx)` / `traceOf(request)` /
 * `traceOf(message)`; there is no ambient context. `config` may be a function of `env`,
 * resolved once per `env` (once per isolate); if it throws (a missing secret), requests
 * are served untraced and the error is logged once and counted in `stats().configErrors`,
 * unless `options.onConfigError` is `'throw'`.
 *
 * @example
 * import { instrument, traceOf, traced } from 'tracehop/cloudflare'
 * import { otlp } from 'tracehop'
 *
 * export default instrument(
 *   {
 *     async fetch(request, env, ctx) {
 *       const span = traceOf(ctx)
 *       await traced(env.JOBS, span, { name: 'jobs' }).send({ doc: 42 })
 *       return span.child('orchestrate', (s) => traced(env.ORCHESTRATOR, s).fetch(request))
 *     },
 *     async queue(batch, env, ctx) {
 *       for (const msg of batch.messages) await traceOf(msg).child('index', () => index(msg.body))
 *     },
 *   } satisfies ExportedHandler<Env>,
 *   (env: Env) => ({ service: 'gateway', exporters: [otlp({ url: env.OTLP_URL })] }),
 * )
 *
 * @example
 * // Workers RPC: the callee strips the caller's context marker before `plan` runs.
 * class Orchestrator extends WorkerEntrypoint<Env> {
 *   async plan(question: string) {
 *     return traceOf(this.ctx).child('plan', () => makePlan(question))
 *   }
 * }
 * export default instrument(Orchestrator, { service: 'orchestrator' })
 */
export function instrument<C extends EntrypointClass>(
  handler: C,
  // biome-ignore lint/suspicious/noExplicitAny: user-facing default: `env` is the user's own type (Hono and workers-types default Env to any too)
  config: WorkerConfig<any>,
  options?: ConfigErrorOptions,
): C
// biome-ignore lint/suspicious/noExplicitAny: user-facing default: `env` is the user's own type (Hono and workers-types default Env to any too)
export function instrument<H extends ExportedHandlerLike<Env>, Env = any>(
  handler: H,
  config: WorkerConfig<Env>,
  options?: ConfigErrorOptions,
): H
// biome-ignore lint/suspicious/noExplicitAny: user-facing default: `env` is the user's own type (Hono and workers-types default Env to any too)
export function instrument(handler: object, config: WorkerConfig<any>, options?: ConfigErrorOptions): object {
  if (typeof handler === 'function') {
    return instrumentClass(handler as EntrypointClass, createResolver(config, options))
  }
  if (handler === null || typeof handler !== 'object') {
    throw new TracehopError(
      'instrument() wraps an exported handler ({ fetch, queue, … }) or an entrypoint class',
    )
  }
  const resolve = createResolver(config, options)
  const h = handler as ExportedHandlerLike<unknown> & Record<string, unknown>
  // A plain object: own members are copied; handlers found on a prototype (a class
  // instance) are wrapped or bound below.
  const out: ExportedHandlerLike<unknown> & Record<string, unknown> = { ...h }
  const fetch = h.fetch
  if (typeof fetch === 'function') {
    out.fetch = function tracehopFetch(
      request: Request,
      env: unknown,
      ctx: unknown,
      ...rest: unknown[]
    ): Promise<Response> {
      return runFetch(resolve(env), request, ctx, fetch, handler, [request, env, ctx, ...rest])
    }
  }
  const queue = h.queue
  if (typeof queue === 'function') {
    out.queue = function tracehopQueue(
      batch: MessageBatchLike<unknown>,
      env: unknown,
      ctx: unknown,
      ...rest: unknown[]
    ): Promise<void> {
      // The batch (args[0]) is replaced by the traced one; the rest is passed on.
      return runQueue(resolve(env), batch, ctx, queue, handler, [batch, env, ctx, ...rest])
    }
  }
  const scheduled = h.scheduled
  if (typeof scheduled === 'function') {
    out.scheduled = function tracehopScheduled(
      controller: ScheduledControllerLike,
      env: unknown,
      ctx: unknown,
      ...rest: unknown[]
    ): Promise<void> {
      return runScheduled(resolve(env), controller, ctx, scheduled, handler, [controller, env, ctx, ...rest])
    }
  }
  for (const name of OTHER_HANDLERS) {
    const other = h[name]
    if (typeof other === 'function' && !Object.hasOwn(h, name)) {
      out[name] = (...args: unknown[]) => Reflect.apply(other as Handler, handler, args)
    }
  }
  return out
}
