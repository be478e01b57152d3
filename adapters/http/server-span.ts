import {
  type Attributes,
  type Ingress,
  type Scope,
  SpanKind,
  type StartOptions,
  type Tracer,
  type WaitUntil,
} from '../../src/index.js'
import { bindSpan, redactQuery, redactUrl, type Writable } from '../../src/internal.js'

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

/** @internal How one HTTP adapter starts the server scope of a request. */
export interface ServerScopeOptions {
  /** The invocation's own object (Workers' `ctx`), bound to the server span beside the request. */
  readonly owner?: object
  readonly waitUntil?: WaitUntil
  /** The route template, when known before the handler runs. */
  readonly route?: string
  /** Attributes of the runtime (`faas.trigger`, `faas.coldstart`). */
  readonly attributes?: Attributes
  readonly runType?: string
  readonly ingress?: Ingress
  /**
   * Whether the platform vouches for the request URL's host (default true: Workers route by
   * it, Vercel too). False on a Node server, where the URL is built from the client's
   * `Host`: that origin is then the scope's only with `propagation.trustHostHeader`.
   */
  readonly vouched?: boolean
  /** The adapter awaits the flush itself (no `waitUntil`): no "no waitUntil" warning. */
  readonly awaited?: boolean
}

/**
 * @internal Starts the scope of one incoming HTTP request: a SERVER span named `GET` (or
 * `GET /route`) with the OpenTelemetry HTTP server attributes, continuing the request's
 * trace context, bound to the request (and to `owner`) so `traceOf()` finds it. The
 * request's own URL is the service's origin for the same-origin rule where the platform
 * vouches for it (Workers, Vercel); elsewhere only with `propagation.trustHostHeader`. A URL
 * that does not parse (a test double) gives no URL attributes and no origin.
 */
export function startServerScope(tracer: Tracer, request: Request, options: ServerScopeOptions): Scope {
  const method = request.method
  const route = options.route
  // Built field by field (no spread copies): this runs on every request.
  const attributes: Writable<Attributes> = {}
  if (KNOWN_METHODS.has(method)) attributes['http.request.method'] = method
  else {
    attributes['http.request.method'] = '_OTHER'
    attributes['http.request.method_original'] = method
  }
  const extra = options.attributes
  if (extra !== undefined) for (const key in extra) attributes[key] = extra[key]!
  let origin: string | undefined
  try {
    const url = new URL(request.url)
    origin = url.origin
    // OTel HTTP semconv (server): url.path and url.scheme required, url.query when present;
    // url.full kept for search. Neither carries credentials (userinfo, signed query values).
    const redaction = tracer.config.redact
    attributes['url.full'] = redactUrl(url, redaction)
    attributes['url.path'] = url.pathname
    const search = url.search
    if (search.length > 1) attributes['url.query'] = redactQuery(search.slice(1), redaction)
    attributes['url.scheme'] = url.protocol.slice(0, -1)
    attributes['server.address'] = url.hostname
    const port = url.port
    if (port !== '') attributes['server.port'] = Number(port)
  } catch {
    // A relative or malformed URL: no URL attributes, no same-origin rule.
  }
  if (route !== undefined) attributes['http.route'] = route
  const ua = request.headers.get('user-agent')
  if (ua !== null) attributes['user_agent.original'] = ua
  const start: Writable<StartOptions> = {
    // OTel HTTP semconv: the method alone until a route is known (never the raw path).
    name: serverSpanName(method, route),
    kind: SpanKind.SERVER,
    attributes,
  }
  if (origin !== undefined) {
    if (options.vouched === false) start.hostOrigin = origin
    else start.origin = origin
  }
  if (options.waitUntil !== undefined) start.waitUntil = options.waitUntil
  if (options.awaited === true) start.awaited = true
  if (options.runType !== undefined) start.runType = options.runType
  if (options.ingress !== undefined) start.ingress = options.ingress
  const scope = tracer.start(request, start)
  bindSpan(request, scope.root)
  if (options.owner !== undefined) bindSpan(options.owner, scope.root)
  return scope
}

/** @internal Sets the matched route on a server span: `http.route` and the name `GET /users/:id`. */
export function setRoute(scope: Scope, method: string, route: string): void {
  scope.root.set('http.route', route)
  scope.root.name = serverSpanName(method, route)
}
