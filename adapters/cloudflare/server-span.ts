import { type Attributes, bindSpan, type Scope, SpanKind, type WaitUntil } from '../../src/index.js'
import type { Resolved } from './config.js'

/**
 * @internal Starts the scope of one incoming HTTP request: a SERVER span named `GET` with
 * the OpenTelemetry HTTP server attributes, continuing the request's
 * trace context, bound to the request (and to `owner`, the invocation's context) so
 * `traceOf(request)` / `traceOf(ctx)` find it. `http.route` and the name are refined by a
 * router that knows the matched route (the Hono middleware). `vouched`: the runtime routed the
 * request by its URL's host (Workers), so that origin is the service's own; otherwise the
 * host is the client's choice (a Node server builds the URL from `Host`).
 */
export function startServerScope(
  resolved: Resolved,
  request: Request,
  owner: object | undefined,
  waitUntil: WaitUntil | undefined,
  vouched = true,
): Scope {
  const url = new URL(request.url)
  const method = request.method
  // OTel HTTP semconv (server): url.path and url.scheme required; url.full kept for search.
  const attributes: Attributes = {
    ...methodAttributes(method),
    'url.full': url.href,
    'url.path': url.pathname,
    'url.scheme': url.protocol.slice(0, -1),
    'server.address': url.hostname,
  }
  if (url.port !== '') attributes['server.port'] = Number(url.port)
  const ua = request.headers.get('user-agent')
  if (ua !== null) attributes['user_agent.original'] = ua
  if (resolved.coldStart) {
    // Per tracer (per isolate and env), not a module global: only the first invocation.
    resolved.coldStart = false
    attributes['faas.coldstart'] = true
  }
  const scope = resolved.tracer.start(request, {
    // OTel HTTP semconv: the method alone until a route is known (never the raw path).
    name: serverSpanName(method, undefined),
    kind: SpanKind.SERVER,
    attributes,
    ...(vouched ? { origin: url.origin } : { hostOrigin: url.origin }),
    ...(waitUntil !== undefined ? { waitUntil } : {}),
  })
  bindSpan(request, scope.root)
  if (owner !== undefined) bindSpan(owner, scope.root)
  return scope
}

/** @internal Sets the matched route on a server span: `http.route` and the name `GET /users/:id`. */
export function setRoute(scope: Scope, method: string, route: string): void {
  scope.root.set('http.route', route)
  scope.root.name = serverSpanName(method, route)
}

// OTel HTTP semconv: the methods of RFC 9110 and PATCH; any other is `_OTHER`.
const KNOWN_METHODS: ReadonlySet<string> = new Set([
  'GET',
  'HEAD',
  'POST',
  'PUT',
  'DELETE',
  'CONNECT',
  'OPTIONS',
  'TRACE',
  'PATCH',
])

/**
 * @internal `http.request.method`, `_OTHER` for a method outside the known set, with the
 * original in `http.request.method_original` (OTel HTTP semconv).
 */
export function methodAttributes(method: string): Attributes {
  return KNOWN_METHODS.has(method)
    ? { 'http.request.method': method }
    : { 'http.request.method': '_OTHER', 'http.request.method_original': method }
}

/**
 * @internal `{method} {route}` (OTel HTTP semconv span name), `HTTP` standing for a method
 * outside the known set; the method alone without a route.
 */
export function serverSpanName(method: string, route: string | undefined): string {
  const m = KNOWN_METHODS.has(method) ? method : 'HTTP'
  return route === undefined ? m : `${m} ${route}`
}
