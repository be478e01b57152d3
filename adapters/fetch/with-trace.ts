import {
  createTracer,
  type FlushReport,
  type Ingress,
  type Span,
  TracehopError,
  Tracer,
  type TracerConfig,
  type WaitUntil,
} from '../../src/index.js'
import { spanOf } from '../../src/internal.js'
import { startServerScope } from '../http/server-span.js'
import { endWithBody } from '../http/streamed-body.js'
import { type AfterResponse, detectAfterResponse, platformWaitUntil } from './platform.js'

/** Options of {@link withTrace}, on top of the tracer's configuration (in it, or as the third argument). */
export interface FetchOptions {
  /**
   * The route template (`/api/chat`, `/users/:id`), or a function of the request that
   * returns it: names the server span `POST /api/chat` and sets `http.route`. Without it the
   * span is named by the method alone (OTel HTTP: never the raw path).
   */
  readonly route?: string | ((request: Request) => string | undefined)
  /** LangSmith run type of the server span. */
  readonly runType?: string
  /** Overrides the tracer's `propagation.ingress` for this handler (public vs internal). */
  readonly ingress?: Ingress
  /**
   * Without a platform `waitUntil`: `background` flushes after the response (the process
   * lives on), `await` holds the end of the response until the flush is done. Default
   * detected: `background` on Bun, Node and self-hosted Deno; `await` on Deno Deploy, on
   * Lambda and on runtimes not recognised.
   */
  readonly afterResponse?: AfterResponse
}

/** A tracer configuration with the {@link FetchOptions} beside it. */
export type FetchConfig = TracerConfig & FetchOptions

const TRACE_OF_HINT =
  'wrap the handler with withTrace(handler, config) from tracehop/fetch and pass the request object it received'

const AFTER_RESPONSE: readonly unknown[] = ['background', 'await']

/**
 * Wraps a web-standard `fetch` handler (`(request, ...rest) => Response`) so each request
 * is one scope: the incoming trace context is continued, the server span is
 * `traceOf(request)`, and the spans are flushed with the `waitUntil` the platform gives:
 * Supabase `EdgeRuntime.waitUntil`, a Netlify Edge `context.waitUntil`. Where there is
 * none (`Deno.serve`, `Bun.serve`, Node through `@hono/node-server`), see `afterResponse`.
 * A streamed body keeps the server span open until it has been sent. The handler's
 * result is returned and its errors rethrown unchanged.
 *
 * On Node, Deno and Bun the request URL is built from the client's `Host` header, so it is
 * not this service's origin unless `propagation.trustHostHeader` says so: name your own
 * origins in `propagation.origin`.
 *
 * @example
 * Deno.serve(withTrace(async (request) => {
 *   const answer = await traceOf(request).fetch(`${RETRIEVAL}/search`, { method: 'POST', body: await request.text() })
 *   return new Response(answer.body)
 * }, { service: 'orchestrator', propagation: { origin: 'https://api.example' }, exporters: [otlp({ url: OTLP_URL })] }))
 */
export function withTrace<Req extends Request, A extends unknown[], R extends Response | Promise<Response>>(
  handler: (request: Req, ...rest: A) => R,
  config: FetchConfig | Tracer,
  options?: FetchOptions,
): (request: Req, ...rest: A) => Promise<Response> {
  // Resolved once, when the module loads: a bad configuration fails the deployment, not a request.
  const fromConfig: FetchOptions = config instanceof Tracer ? {} : config
  const o: FetchOptions = { ...fromConfig, ...options }
  const tracer = config instanceof Tracer ? config : createTracer(config)
  if (o.afterResponse !== undefined && !AFTER_RESPONSE.includes(o.afterResponse)) {
    throw new TracehopError(`afterResponse must be 'background' or 'await', got ${String(o.afterResponse)}`)
  }
  if (o.route !== undefined && typeof o.route !== 'string' && typeof o.route !== 'function') {
    throw new TracehopError('route must be a route template string or a function of the request')
  }
  const afterResponse = o.afterResponse ?? detectAfterResponse()
  const { route, runType, ingress } = o

  return async function tracedFetchHandler(request: Req, ...rest: A): Promise<Response> {
    const waitUntil: WaitUntil | undefined =
      platformWaitUntil(rest[0]) ?? (afterResponse === 'background' ? background : undefined)
    const method = request.method
    const template = routeOf(route, request)
    const scope = startServerScope(tracer, request, {
      // The URL's host is the client's choice here (see above).
      vouched: false,
      ...(template !== undefined ? { route: template } : {}),
      ...(waitUntil !== undefined ? { waitUntil } : { awaited: true }),
      ...(runType !== undefined ? { runType } : {}),
      ...(ingress !== undefined ? { ingress } : {}),
    })
    let response: Response
    try {
      response = await handler(request, ...rest)
    } catch (error) {
      const flushing = scope.end({ error })
      if (waitUntil === undefined) await flushing
      throw error
    }
    if (!(response instanceof Response)) {
      // A non-Response is passed on for the server to reject.
      const flushing = scope.end()
      if (waitUntil === undefined) await flushing
      return response
    }
    const ended = endWithBody(scope, response, { method, awaitFlushInBody: waitUntil === undefined })
    if (waitUntil === undefined && !ended.streamed) await ended.flushing
    return ended.response
  }
}

/** The route template for this request; a throwing route function names nothing. */
function routeOf(route: FetchOptions['route'], request: Request): string | undefined {
  if (typeof route !== 'function') return route
  try {
    const r = route(request)
    return typeof r === 'string' && r !== '' ? r : undefined
  } catch {
    return undefined
  }
}

/** A long-running server's `waitUntil`: the process lives on, so the flush just runs. */
function background(promise: Promise<unknown>): void {
  ;(promise as Promise<FlushReport>).then(noop, noop)
}

function noop(): void {}

/**
 * The server span of a request handled by {@link withTrace}: create children from it, read
 * its outgoing headers, or `fetch` through it. No ambient async context: the span is found
 * from the request object itself.
 *
 * @example
 * const res = await traceOf(request).fetch('http://127.0.0.1:8001/search', { method: 'POST', body })
 */
export function traceOf(request: Request): Span {
  return spanOf(request, TRACE_OF_HINT)
}
