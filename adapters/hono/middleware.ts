import type { Context, MiddlewareHandler } from 'hono'
import { matchedRoutes } from 'hono/route'
import { findSpan, type Scope, type Span, TracehopError, type WaitUntil } from '../../src/index.js'
import { createResolver, type WorkerConfig } from '../cloudflare/config.js'
import { endWithResponse } from '../cloudflare/response.js'
import { setRoute, startServerScope } from '../cloudflare/server-span.js'

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

/** The route that answered, unless the answer came from no route at all (`*`, or this middleware). */
function matchedRoute(c: Context, self: unknown): string | undefined {
  try {
    const route = matchedRoutes(c)[c.req.routeIndex]
    if (route === undefined || route.handler === self) return undefined
    const path = route.path
    return path === '*' || path === '/*' ? undefined : path
  } catch {
    return undefined
  }
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
export function tracehop<Env = any>(
  config?: HonoConfig<Env>,
): MiddlewareHandler<{ Variables: TracehopVariables }> {
  const resolve = config === undefined ? undefined : createResolver(config)
  return async function tracehopMiddleware(c, next): Promise<void> {
    const raw = c.req.raw
    const method = raw.method
    const outer = findSpan(raw)
    if (outer !== undefined) {
      // The Worker is instrument()ed: one server span per request, named here by route.
      c.set('span', outer)
      c.set('scope', outer.scope)
      await next()
      const route = matchedRoute(c, tracehopMiddleware)
      if (route !== undefined) setRoute(outer.scope, method, route)
      if (c.error !== undefined) outer.error(c.error)
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
    const scope = startServerScope(resolved, raw, ctx, waitUntil)
    c.set('span', scope.root)
    c.set('scope', scope)
    try {
      await next()
    } catch (err) {
      // Only non-Error throws get past Hono's compose; they still fail the scope.
      const route = matchedRoute(c, tracehopMiddleware)
      if (route !== undefined) setRoute(scope, method, route)
      const flush = scope.end({ error: err })
      if (waitUntil === undefined) await flush
      throw err
    }
    const route = matchedRoute(c, tracehopMiddleware)
    if (route !== undefined) setRoute(scope, method, route)
    if (c.error !== undefined) scope.root.error(c.error)
    const ended = endWithResponse(scope, c.res, resolved.streaming)
    if (ended.response !== c.res) c.res = ended.response
    // Without waitUntil the runtime may stop after the response: flush first. A streamed
    // body cannot end before it is returned, so its flush finishes in the background.
    if (waitUntil === undefined && !ended.streamed) await ended.flush
  }
}
