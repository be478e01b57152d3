import type { Context, MiddlewareHandler } from 'hono'
import { matchedRoutes } from 'hono/route'
import { type Scope, type Span, TracehopError, type WaitUntil } from '../../src/index.js'
import { findSpan } from '../../src/internal.js'
import { type ConfigErrorOptions, createResolver, type WorkerConfig } from '../cloudflare/config.js'
import { startWorkerScope } from '../cloudflare/worker-scope.js'
import { serverSpanName, setRoute } from '../http/server-span.js'
import { endWithBody } from '../http/streamed-body.js'

/**
 * The variables the middleware sets, for `new Hono<{ Variables: TracehopVariables }>()`:
 * `c.var.span` is the request's server span, `c.var.scope` its scope.
 *
 * @example
 * const app = new Hono<{ Bindings: Env; Variables: TracehopVariables }>()
 * app.use(tracehop((env) => ({ service: 'api', exporters: [otlp({ url: env.OTLP_URL })] })))
 * app.get('/users/:id', (c) => c.var.span.fetch(`${USERS}/${c.req.param('id')}`))
 */
export interface TracehopVariables {
  span: Span
  scope: Scope
}

/** The middleware's configuration: a tracer config (plus `streaming`), or a function of `c.env`. */
// biome-ignore lint/suspicious/noExplicitAny: user-facing default: `env` is the user's own type (Hono and workers-types default Env to any too)
export type HonoConfig<Env = any> = WorkerConfig<Env>

interface ContextWithCtx {
  readonly executionCtx: { waitUntil(promise: Promise<unknown>): void }
}

function executionCtxOf(c: Context): object | undefined {
  try {
    // Hono's getter throws outside Workers (Node, Bun, Lambda): there is no ctx there.
    const ctx = (c as unknown as ContextWithCtx).executionCtx
    return ctx !== null && typeof ctx === 'object' && typeof ctx.waitUntil === 'function' ? ctx : undefined
  } catch {
    return undefined
  }
}

/**
 * Whether this is the Workers runtime, which only routes a request to the Worker for a host
 * it serves: there the request URL's origin is the service's own. On Node, Bun or Deno
 * Hono's URL comes from the client's `Host` header.
 */
function onWorkers(): boolean {
  return typeof navigator !== 'undefined' && navigator.userAgent === 'Cloudflare-Workers'
}

/**
 * The route that answered, unless the answer came from no route at all: this middleware,
 * a catch-all (`*`), or a Hono 404 after a prefix middleware (`app.use('/api/*', mw)`
 * registers for every method with a trailing `*`, as `mount()` does: a 404 there means no
 * handler matched; any other answer from it, an auth 401 say, keeps its pattern).
 */
function matchedRoute(c: Context, self: unknown): string | undefined {
  try {
    const route = matchedRoutes(c)[c.req.routeIndex]
    if (route === undefined || route.handler === self) return undefined
    const path = route.path
    if (path === '*' || path === '/*') return undefined
    return route.method === 'ALL' && path.endsWith('/*') && c.res.status === 404 ? undefined : path
  } catch {
    return undefined
  }
}

/**
 * Names the server span after the matched route, or after the method alone when none
 * matched: OTel HTTP semconv, "instrumentation MUST NOT default to using URI path".
 */
function nameByRoute(scope: Scope, c: Context, self: unknown): void {
  const route = matchedRoute(c, self)
  if (route !== undefined) setRoute(scope, c.req.raw.method, route)
  else scope.root.name = serverSpanName(c.req.raw.method, undefined)
}

// Errors already recorded, so a second registration (or a nested app) does not record twice.
const recorded = new WeakSet<object>()

/**
 * Records the error Hono caught (it keeps it in `c.error`): the exception event always, and
 * status ERROR only when the answer is a 5xx (a thrown `HTTPException(401)` is the client's).
 */
function recordCaught(span: Span, c: Context): void {
  const err = c.error
  if (err === undefined) return
  if (typeof err === 'object' && err !== null) {
    if (recorded.has(err)) return
    recorded.add(err)
  }
  if (c.res.status >= 500) span.error(err)
  else span.exception(err)
}

/**
 * Hono middleware: traces each request in a SERVER span named after the matched route
 * (`GET /users/:id`, with `http.route`), sets `c.var.span` and `c.var.scope`, records
 * errors (Hono turns a thrown error into a 500 and keeps it in `c.error`: the scope is
 * failed, so always-keep-errors still exports it), and flushes with
 * `c.executionCtx.waitUntil` on Workers or, on runtimes without it, before the response
 * is returned.
 *
 * Inside a Worker wrapped with `instrument()` from `tracehop/cloudflare`, it reuses that
 * server span (and needs no config): `tracehop()`.
 *
 * @example
 * import { Hono } from 'hono'
 * import { tracehop, type TracehopVariables } from 'tracehop/hono'
 *
 * const app = new Hono<{ Variables: TracehopVariables }>()
 * app.use(tracehop({ service: 'gateway', exporters: [otlp({ url: 'http://127.0.0.1:4318/v1/traces' })] }))
 * app.get('/users/:id', (c) => c.var.span.child('load user', () => c.json(load(c.req.param('id')))))
 * export default app
 */
// biome-ignore lint/suspicious/noExplicitAny: user-facing default: `env` is the user's own type (Hono and workers-types default Env to any too)
export function tracehop<Env = any>(
  config?: HonoConfig<Env>,
  options?: ConfigErrorOptions,
): MiddlewareHandler<{ Variables: TracehopVariables }> {
  const resolve = config === undefined ? undefined : createResolver(config, options)
  return async function tracehopMiddleware(c, next): Promise<void> {
    const raw = c.req.raw
    const method = raw.method
    const outer = findSpan(raw)
    if (outer !== undefined) {
      // The Worker is instrument()ed: one server span per request, named here by route.
      c.set('span', outer)
      c.set('scope', outer.scope)
      await next()
      nameByRoute(outer.scope, c, tracehopMiddleware)
      recordCaught(outer, c)
      return
    }
    if (resolve === undefined) {
      throw new TracehopError(
        'tracehop() needs a config, e.g. tracehop({ service: "api" }), unless the Worker is wrapped with instrument()',
      )
    }
    const resolved = resolve(c.env as Env)
    const ctx = executionCtxOf(c)
    const waitUntil: WaitUntil | undefined =
      ctx === undefined ? undefined : (p) => (ctx as ContextWithCtx['executionCtx']).waitUntil(p)
    const scope = startWorkerScope(resolved, raw, ctx, waitUntil, onWorkers())
    c.set('span', scope.root)
    c.set('scope', scope)
    try {
      await next()
    } catch (err) {
      // Only non-Error throws get past Hono's compose; they still fail the scope.
      nameByRoute(scope, c, tracehopMiddleware)
      const flush = scope.end({ error: err })
      if (waitUntil === undefined) await flush
      throw err
    }
    nameByRoute(scope, c, tracehopMiddleware)
    recordCaught(scope.root, c)
    // A HEAD answer has no body to wait for (Hono drops the wrapped one).
    const ended = endWithBody(scope, c.res, {
      streaming: resolved.streaming,
      method,
      awaitFlushInBody: waitUntil === undefined,
    })
    if (ended.response !== c.res) c.res = ended.response
    // Without waitUntil the runtime may stop after the response: flush first. A streamed
    // body cannot end before it is returned: its stream closes after the flush instead.
    if (waitUntil === undefined && !ended.streamed) await ended.flushing
  }
}
