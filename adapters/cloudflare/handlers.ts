import { type Attributes, SpanKind, type WaitUntil } from '../../src/index.js'
import { bindSpan } from '../../src/internal.js'
import { setRoute } from '../http/server-span.js'
import { endWithBody } from '../http/streamed-body.js'
import type { Handler } from './class-methods.js'
import type { Resolved } from './config.js'
import type { ExecutionContextLike, ScheduledControllerLike } from './types.js'
import { startWorkerScope } from './worker-scope.js'

/** @internal `ctx.waitUntil`, called on its own `ctx` (a detached one throws "Illegal invocation"). */
export function waitUntilOf(ctx: unknown): WaitUntil | undefined {
  if (ctx === null || typeof ctx !== 'object') return undefined
  const c = ctx as ExecutionContextLike
  return typeof c.waitUntil === 'function' ? (promise) => c.waitUntil(promise) : undefined
}

/**
 * @internal One traced `fetch` invocation: the server span, the user's handler (called
 * with its own `this` and arguments), errors recorded and rethrown unchanged, the flush
 * handed to `waitUntil` (nothing awaits the exporter), a streamed body kept open.
 */
export async function runFetch(
  resolved: Resolved,
  request: Request,
  ctx: unknown,
  fn: Handler,
  thisArg: unknown,
  args: readonly unknown[],
): Promise<Response> {
  const scope = startWorkerScope(
    resolved,
    request,
    ctx !== null && typeof ctx === 'object' ? ctx : undefined,
    waitUntilOf(ctx),
  )
  // OTel FaaS semconv: the incoming span of a function says what triggered it.
  scope.root.set('faas.trigger', 'http')
  if (resolved.route !== undefined) {
    try {
      const route = resolved.route(request)
      if (typeof route === 'string' && route !== '') setRoute(scope, request.method, route)
    } catch {
      // A throwing route function must not break the request: the span keeps the method name.
    }
  }
  let response: Response
  try {
    response = (await Reflect.apply(fn, thisArg, args)) as Response
  } catch (err) {
    void scope.end({ error: err })
    throw err
  }
  return endWithBody(scope, response, { streaming: resolved.streaming, method: request.method }).response
}

/** @internal One traced `scheduled` invocation (a Cron Trigger): a SERVER span `scheduled <cron>`. */
export async function runScheduled(
  resolved: Resolved,
  controller: ScheduledControllerLike,
  ctx: unknown,
  fn: Handler,
  thisArg: unknown,
  args: readonly unknown[],
): Promise<void> {
  const cron = typeof controller?.cron === 'string' ? controller.cron : ''
  // OTel FaaS semconv: a timer-triggered invocation.
  const attributes: Attributes = { 'faas.trigger': 'timer' }
  if (cron !== '') attributes['faas.cron'] = cron
  const time = controller?.scheduledTime
  if (typeof time === 'number' && Number.isFinite(time))
    attributes['faas.time'] = new Date(time).toISOString()
  if (resolved.coldStart) {
    resolved.coldStart = false
    attributes['faas.coldstart'] = true
  }
  const waitUntil = waitUntilOf(ctx)
  const scope = resolved.tracer.start(undefined, {
    name: cron !== '' ? `scheduled ${cron}` : 'scheduled',
    kind: SpanKind.SERVER,
    attributes,
    ...(waitUntil !== undefined ? { waitUntil } : {}),
  })
  if (controller !== null && typeof controller === 'object') bindSpan(controller, scope.root)
  if (ctx !== null && typeof ctx === 'object') bindSpan(ctx, scope.root)
  try {
    await Reflect.apply(fn, thisArg, args)
  } catch (err) {
    void scope.end({ error: err })
    throw err
  }
  void scope.end()
}
