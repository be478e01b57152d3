import { buildOrUntraced, checkOnConfigError, type OnConfigError } from '../../src/config-error.js'
import {
  type Attributes,
  bindSpan,
  createTracer,
  type Ingress,
  type Span,
  SpanKind,
  spanOf,
  Tracer,
  type TracerConfig,
} from '../../src/index.js'
import { methodAttributes, serverSpanName } from '../cloudflare/server-span.js'
import { endWithBody } from './traced-body.js'
import { findWaitUntil } from './wait-until.js'

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
  return async function tracedVercelHandler(request: Req, ...rest: A): Promise<R> {
    const waitUntil = findWaitUntil(rest[0])
    const method = request.method
    // OTel FaaS semconv: the incoming span of a function says what triggered it.
    const attributes: Attributes = { ...methodAttributes(method), 'faas.trigger': 'http' }
    let origin: string | undefined
    try {
      const url = new URL(request.url)
      origin = url.origin
      attributes['url.path'] = url.pathname
      attributes['url.scheme'] = url.protocol.slice(0, -1)
      attributes['server.address'] = url.hostname
      if (url.port !== '') attributes['server.port'] = Number(url.port)
    } catch {
      // A relative or malformed URL (a test double): no URL attributes, no same-origin rule.
    }
    if (route !== undefined) attributes['http.route'] = route
    const userAgent = request.headers.get('user-agent')
    if (userAgent !== null) attributes['user_agent.original'] = userAgent
    // Not cached when it throws under 'throw': the next request tries again.
    tracer ??= resolveTracer!()
    const scope = tracer.start(request, {
      name: serverSpanName(method, route),
      kind: SpanKind.SERVER,
      attributes,
      ...(waitUntil !== undefined ? { waitUntil } : {}),
      ...(origin !== undefined ? { origin } : {}),
      ...(runType !== undefined ? { runType } : {}),
      ...(ingress !== undefined ? { ingress } : {}),
    })
    bindSpan(request, scope.root)
    let result: R
    try {
      result = await handler(request, ...rest)
    } catch (error) {
      const flushing = scope.end({ error })
      if (waitUntil === undefined) await flushing
      throw error
    }
    // A HEAD response's body is never read by the platform: nothing to keep the span open for.
    if (typeof Response !== 'undefined' && result instanceof Response && method !== 'HEAD') {
      const ended = endWithBody(scope, result, waitUntil === undefined)
      if (waitUntil === undefined && !ended.streamed) await ended.flushing
      return ended.response as R
    }
    // Middleware may return nothing (continue) or a non-Response value.
    const flushing = scope.end(
      typeof Response !== 'undefined' && result instanceof Response ? result : undefined,
    )
    if (waitUntil === undefined) await flushing
    return result
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
