import {
  createTracer,
  type Ingress,
  type OnConfigError,
  type Span,
  Tracer,
  type TracerConfig,
  type WaitUntil,
} from '../../src/index.js'
import { buildOrUntraced, checkOnConfigError, spanOf } from '../../src/internal.js'
import { startServerScope } from '../http/server-span.js'
import { endWithBody } from '../http/streamed-body.js'
import { findWaitUntil, REQUEST_CONTEXT } from './wait-until.js'

/** Per-route options of {@link withTrace}, on top of the tracer's configuration. */
export interface WithTraceOptions {
  /**
   * The route template (`/api/chat`, `/users/[id]`): names the server span
   * `POST /api/chat` and sets `http.route`. Without it the span is named by the method
   * alone, as the OTel HTTP conventions ask when no low-cardinality route is known.
   */
  readonly route?: string
  /** LangSmith run type of the server span (`chain` by default in LangSmith). */
  readonly runType?: string
  /** Overrides the tracer's `propagation.ingress` for this route (public vs internal). */
  readonly ingress?: Ingress
  /**
   * Runs the flush after the response, before anything else is tried: pass Next.js's
   * `after` (from `next/server`), which keeps the work alive on `next start` and on Vercel
   * alike. Without it, or where `after` refuses (outside a request): Vercel's request
   * context, then the handler's second argument, then an awaited flush.
   *
   * @example
   * import { after } from 'next/server'
   * export const GET = withTrace(handler, config, { route: '/api/chat/[id]', after })
   */
  readonly after?: (task: Promise<unknown>) => void
  /**
   * When a configuration function (`withTrace(handler, () => config)`) throws, e.g. on a
   * missing environment variable: `untraced` (default) serves requests untraced, logs once
   * and counts `stats().configErrors`; `throw` fails the requests. An object configuration
   * always throws when the module loads.
   */
  readonly onConfigError?: OnConfigError
}

const TRACE_OF_HINT =
  'wrap the handler with withTrace(handler, config) from tracehop/vercel and pass the request object it received'

/**
 * Wraps a Vercel Edge / Next.js handler so each invocation is one scope: the incoming
 * trace context is continued, the server span is available as `traceOf(request)`, and the
 * spans are flushed after the response through `waitUntil` (found as `@vercel/functions`
 * finds it, else on the second argument: Next middleware's `event`, an Edge Function's
 * `context`). With no `waitUntil` the flush is awaited before the response is returned
 * (for a streamed body, before the stream closes): never silently dropped. A streamed
 * response keeps the server span open until the stream ends. Works for all three forms:
 * `(request)`, `(request, context)` and middleware `(request, event)`; the handler's own
 * errors are rethrown unchanged.
 *
 * @example
 * export const runtime = 'edge'
 * export const POST = withTrace(async (request: Request) => {
 *   const span = traceOf(request)
 *   return span.child('plan', { runType: 'chain' }, () => Response.json(await plan(span)))
 * }, { service: 'orchestrator', exporters: [otlp({ url: process.env.OTLP_URL! })] }, { route: '/api/chat' })
 */
export function withTrace<Req extends Request, A extends unknown[], R>(
  handler: (request: Req, ...rest: A) => R | Promise<R>,
  config: TracerConfig | Tracer | (() => TracerConfig),
  options?: WithTraceOptions,
): (request: Req, ...rest: A) => Promise<R> {
  // An object is resolved once, when the module is loaded: a bad configuration fails the
  // build, not a request. A function is resolved at the first request, guarded: one that
  // throws (a missing variable) serves requests untraced unless onConfigError is 'throw'.
  let tracer: Tracer | undefined
  let resolveTracer: (() => Tracer) | undefined
  if (typeof config === 'function') {
    const mode = checkOnConfigError(options?.onConfigError)
    resolveTracer = () =>
      buildOrUntraced(
        () => createTracer(config()),
        mode,
        (t) => t,
      )
  } else tracer = config instanceof Tracer ? config : createTracer(config)
  const route = options?.route
  const runType = options?.runType
  const ingress = options?.ingress
  const after = options?.after
  const vercelEnv = hasVercelEnv()
  if (after !== undefined && typeof after !== 'function') {
    throw new TypeError(
      `withTrace: options.after must be a function (next/server's after), got ${typeof after}`,
    )
  }
  return async function tracedVercelHandler(request: Req, ...rest: A): Promise<R> {
    // Not cached when it throws under 'throw': the next request tries again.
    tracer ??= resolveTracer!()
    const waitUntil = (after !== undefined ? afterAsWaitUntil(after) : undefined) ?? findWaitUntil(rest[0])
    const method = request.method
    const scope = startServerScope(tracer, request, {
      // On Vercel the platform routes by host; on `next start` the URL is built from the
      // client's Host header, so it is ours only with propagation.origin/trustHostHeader.
      vouched: onVercel(vercelEnv),
      // OTel FaaS semconv: the incoming span of a function says what triggered it.
      attributes: { 'faas.trigger': 'http' },
      ...(route !== undefined ? { route } : {}),
      // Without waitUntil the response (or its stream) waits for the flush below.
      ...(waitUntil !== undefined ? { waitUntil } : { awaited: true }),
      ...(runType !== undefined ? { runType } : {}),
      ...(ingress !== undefined ? { ingress } : {}),
    })
    let result: R
    try {
      result = await handler(request, ...rest)
    } catch (error) {
      const flushing = scope.end({ error })
      if (waitUntil === undefined) await flushing
      throw error
    }
    if (typeof Response !== 'undefined' && result instanceof Response) {
      const ended = endWithBody(scope, result, { method, awaitFlushInBody: waitUntil === undefined })
      if (waitUntil === undefined && !ended.streamed) await ended.flushing
      return ended.response as R
    }
    // Middleware may return nothing (continue) or a non-Response value.
    const flushing = scope.end()
    if (waitUntil === undefined) await flushing
    return result
  }
}

/**
 * Vercel's own runtime: the `VERCEL` system variable (read once, when the handler is
 * wrapped), or the request context it publishes (present only during a request).
 */
function onVercel(vercelEnv: boolean): boolean {
  return vercelEnv || (globalThis as Record<symbol, unknown>)[REQUEST_CONTEXT] !== undefined
}

function hasVercelEnv(): boolean {
  try {
    return typeof process !== 'undefined' && process.env?.['VERCEL'] === '1'
  } catch {
    return false
  }
}

/**
 * Registers the flush with Next's `after` now, while the request scope is certainly open,
 * as a promise that settles with the flush; a later follow-up export gets an `after` of its own. `after` throws outside a request scope (a test
 * calling the handler directly): then `undefined`, and the usual lookup applies.
 */
function afterAsWaitUntil(after: (task: Promise<unknown>) => void): WaitUntil | undefined {
  let settle: (flush: Promise<unknown>) => void = () => {}
  const flushed = new Promise<unknown>((resolve) => {
    settle = resolve
  })
  try {
    after(flushed)
  } catch {
    return undefined
  }
  let first = true
  return (flush) => {
    if (first) {
      first = false
      settle(flush)
      return
    }
    // A follow-up export (spans started in the user's own after-work): its own `after`.
    try {
      after(flush)
    } catch {
      findWaitUntil()?.(flush)
    }
  }
}

/**
 * The server span of a request handled by {@link withTrace}: create children from it,
 * read its outgoing headers, or `fetch` through it. No ambient async context: the span is
 * found from the request object itself.
 *
 * @example
 * const docs = await traceOf(request).fetch(`${process.env.RETRIEVAL_URL}/search`, { method: 'POST', body })
 */
export function traceOf(request: Request): Span {
  return spanOf(request, TRACE_OF_HINT)
}
