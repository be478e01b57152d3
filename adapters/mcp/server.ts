import {
  createTracer,
  type FlushReport,
  type Ingress,
  type Scope,
  type Span,
  SpanKind,
  StatusCode,
  TracehopError,
  type Tracer,
  type TracerConfig,
  type WaitUntil,
} from '../../src/index.js'
import { DelegatingTransport } from './delegating-transport.js'
import {
  describe,
  forceEnd,
  idOf,
  isBatch,
  isRecord,
  type McpSpanOptions,
  metaCarrier,
  methodOf,
  recordOutcome,
  remember,
  responseId,
  withContext,
} from './meta.js'
import type {
  JsonRpcId,
  JsonRpcMessage,
  McpHandlerExtra,
  McpMessageExtra,
  McpSendOptions,
  McpTransport,
} from './transport.js'

/** Options of {@link traceMcpServer}. */
export interface McpServerOptions extends McpSpanOptions {
  /**
   * Hands each request's flush to the runtime (Workers: `ctx.waitUntil.bind(ctx)`). Without
   * it the flush runs in the background and `close()` waits for the flushes still running.
   */
  readonly waitUntil?: WaitUntil
  /** Overrides the tracer's `propagation.ingress` (a public MCP endpoint: `untrusted`). */
  readonly ingress?: Ingress
}

// Finding a handler's span from the `extra` the SDK gives it, with no ambient context: the
// `_meta`, `requestInfo` and `authInfo` objects the transport delivered are handed to the
// handler as they are, so each leads to the wrapped transport; the request id then picks
// the scope. Weak keys: nothing here outlives the request.
const owners = new WeakMap<object, TracedServerTransport>()
// Transports with requests in flight, for a request that brought none of those objects
// (stdio, in-memory, a client that sends no `_meta`). Entries leave when nothing is pending.
const live = new Set<TracedServerTransport>()
const tracers = new WeakMap<TracerConfig, Tracer>()

/**
 * The transport {@link traceMcpServer} returns: every member of the one it wraps, delegated.
 * Transport-specific methods (`handleRequest()`, …) stay on the original.
 */
class TracedServerTransport extends DelegatingTransport {
  /** @internal */ readonly pending = new Map<JsonRpcId, Scope>()
  /** Requests this server sent the client (sampling, roots, elicitation), by their id. */
  private readonly outgoing = new Map<JsonRpcId, Span>()
  private readonly tracer: Tracer
  private readonly options: McpServerOptions | undefined
  private readonly max: number
  private readonly flushes = new Set<Promise<FlushReport>>()

  constructor(inner: McpTransport, tracer: Tracer, options: McpServerOptions | undefined) {
    super(inner)
    this.tracer = tracer
    this.options = options
    this.max = options?.maxPending ?? 1000
  }

  protected transportClosed(): void {
    this.endPending()
  }

  /**
   * A request or notification of the server's own (`sampling/createMessage`, `roots/list`,
   * progress, log messages), sent while serving a client request: the SDK names that request
   * in `relatedRequestId` (else the one request in flight is it). A request becomes a CLIENT
   * child of that request's span; both carry the context in `params._meta`, so the client's
   * side of the exchange joins the trace.
   */
  private outbound(
    message: JsonRpcMessage,
    method: string,
    options: McpSendOptions | undefined,
  ): JsonRpcMessage {
    const related = options?.relatedRequestId
    const scope =
      related !== undefined
        ? this.pending.get(related)
        : this.pending.size === 1
          ? this.pending.values().next().value
          : undefined
    if (scope === undefined) return message
    const id = idOf(message)
    let span: Span | undefined
    if (id !== undefined) {
      const d = describe(
        message,
        method,
        SpanKind.CLIENT,
        this.inner.sessionId,
        this.version,
        this.options?.resourceUriInName,
      )
      span = scope.root.startChild(d.name, d)
      remember(this.outgoing, id, span, this.max, forceEnd)
    }
    // The client has no destination name here: baggage keys routed elsewhere stay home.
    return withContext(message, span ?? scope.root, null)
  }

  override async close(): Promise<void> {
    try {
      await this.inner.close()
    } finally {
      this.endPending()
      await Promise.all(this.flushes)
    }
  }

  override send(
    message: JsonRpcMessage | readonly JsonRpcMessage[],
    options?: McpSendOptions,
  ): Promise<void> {
    if (isBatch(message)) return this.inner.send(message, options)
    let out = message
    try {
      const method = methodOf(message)
      if (method !== undefined) out = this.outbound(message, method, options)
      // A response ends its request's scope before it leaves, so the flush is handed to
      // `waitUntil` while the HTTP request that carried it is still being served.
      const id = responseId(message)
      const scope = id === undefined ? undefined : this.pending.get(id)
      if (scope !== undefined) {
        this.pending.delete(id!)
        this.version = recordOutcome(scope.root, message) ?? this.version
        this.finish(scope)
      }
    } catch {
      // Never let tracing break the response.
    }
    return this.inner.send(out, options)
  }

  protected receive(message: JsonRpcMessage, extra?: McpMessageExtra): void {
    try {
      const method = methodOf(message)
      if (method !== undefined) {
        const id = idOf(message)
        if (id !== undefined) this.begin(message, method, id, extra)
        else if (method === 'notifications/cancelled') this.cancelled(message.params)
      } else {
        // The client's answer to a request of ours.
        const id = responseId(message)
        const span = id === undefined ? undefined : this.outgoing.get(id)
        if (span !== undefined) {
          this.outgoing.delete(id!)
          recordOutcome(span, message)
          span.end()
        }
      }
    } catch {
      // Hostile input is counted by the core; nothing reaches the SDK's message flow.
    }
    this.onmessage?.(message, extra)
  }

  private begin(
    message: JsonRpcMessage,
    method: string,
    id: JsonRpcId,
    extra: McpMessageExtra | undefined,
  ): void {
    const params = message.params
    const meta = isRecord(params) ? params._meta : undefined
    if (meta !== undefined && !isRecord(meta)) {
      // Not a valid request (`_meta` must be an object): the SDK drops it and never answers,
      // so no scope is started that nothing would end.
      this.tracer.statsRecorder.countInvalid('envelope')
      return
    }
    const carrier = meta === undefined ? undefined : metaCarrier(meta, this.tracer.statsRecorder)
    const info: McpMessageExtra | undefined = typeof extra === 'object' && extra !== null ? extra : undefined
    const requestInfo = info?.requestInfo
    if (this.version === undefined && isRecord(requestInfo) && isRecord(requestInfo.headers)) {
      const v = requestInfo.headers['mcp-protocol-version']
      if (typeof v === 'string') this.version = v
    }
    const o = this.options
    const d = describe(
      message,
      method,
      SpanKind.SERVER,
      this.inner.sessionId,
      this.version,
      o?.resourceUriInName,
    )
    // HTTP request info is given by the HTTP transports only.
    const network = o?.networkTransport ?? (isRecord(requestInfo) ? 'tcp' : undefined)
    const scope = this.tracer.start(carrier, {
      name: d.name,
      kind: d.kind,
      attributes: network === undefined ? d.attributes : { ...d.attributes, 'network.transport': network },
      ...(d.runType ? { runType: d.runType } : {}),
      ...(o?.waitUntil ? { waitUntil: o.waitUntil } : {}),
      ...(o?.ingress ? { ingress: o.ingress } : {}),
    })
    remember(this.pending, id, scope, this.max, (evicted) => {
      forceEnd(evicted.root)
      this.finish(evicted)
    })
    live.add(this)
    if (typeof meta === 'object' && meta !== null) owners.set(meta, this)
    if (typeof requestInfo === 'object' && requestInfo !== null) owners.set(requestInfo, this)
    const auth = info?.authInfo
    if (typeof auth === 'object' && auth !== null) owners.set(auth, this)
  }

  private finish(scope: Scope): void {
    if (this.pending.size === 0) live.delete(this)
    const flushing = scope.end()
    if (this.options?.waitUntil) return
    this.flushes.add(flushing)
    void flushing.then(() => this.flushes.delete(flushing))
  }

  private cancelled(params: unknown): void {
    // The SDK aborts the handler and sends no response: end the scope here.
    if (!isRecord(params)) return
    const id = params.requestId
    const scope = typeof id === 'string' || typeof id === 'number' ? this.pending.get(id) : undefined
    if (scope === undefined) return
    this.pending.delete(id as JsonRpcId)
    const reason = params.reason
    scope.root.event('cancelled', typeof reason === 'string' ? { reason } : undefined)
    scope.root.set('error.type', 'cancelled')
    this.finish(scope)
  }

  private endPending(): void {
    for (const span of this.outgoing.values()) {
      span.set('error.type', 'transport_closed')
      span.status(StatusCode.ERROR, 'transport closed')
      span.end()
    }
    this.outgoing.clear()
    const scopes = [...this.pending.values()]
    this.pending.clear()
    for (const scope of scopes) {
      scope.root.set('error.type', 'transport_closed')
      scope.root.status(StatusCode.ERROR, 'transport closed')
      this.finish(scope)
    }
    live.delete(this)
  }
}

/**
 * Wraps an MCP server transport so each incoming request is one scope: its context is read
 * from `params._meta` (SEP-414 keys `traceparent`, `tracestate`, `baggage`, and
 * `langsmith-trace`), its SERVER span (`tools/call search`, OTel MCP attributes) is the
 * parent of what the handler does (reach it with {@link traceOf}), and it ends and flushes
 * when the response for its id is sent. `_meta` reaches the handler untouched (SEP-414).
 * A tool result with `isError: true` or a JSON-RPC error marks the span as an error.
 * Hostile `_meta` (wrong types, huge values, a bad `traceparent`) starts a fresh trace and is
 * counted in `tracer.stats().invalid`; it never throws into the SDK or your handler.
 *
 * `config` is a {@link Tracer} or a `TracerConfig` (one tracer per config object, reused).
 * Nothing is patched: the returned object delegates each `Transport` member; keep the
 * original for its own methods (`handleRequest()`).
 *
 * @example
 * import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js'
 * import { WebStandardStreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js'
 * import { traceMcpServer, traceOf } from 'tracehop/mcp'
 *
 * export default {
 *   async fetch(request, env, ctx) {
 *     const server = new McpServer({ name: 'tools', version: '1.0.0' })
 *     server.registerTool('search', { inputSchema: { q: z.string() } }, ({ q }, extra) =>
 *       traceOf(extra).child('search index', () => search(q)),
 *     )
 *     const transport = new WebStandardStreamableHTTPServerTransport({ enableJsonResponse: true })
 *     await server.connect(traceMcpServer(transport, tracer, { waitUntil: ctx.waitUntil.bind(ctx) }))
 *     return transport.handleRequest(request)
 *   },
 * }
 */
export function traceMcpServer(
  transport: McpTransport,
  config: Tracer | TracerConfig,
  options?: McpServerOptions,
): McpTransport {
  let tracer: Tracer
  if (typeof (config as Tracer).start === 'function') tracer = config as Tracer
  else {
    tracer = tracers.get(config as TracerConfig) ?? createTracer(config as TracerConfig)
    tracers.set(config as TracerConfig, tracer)
  }
  return new TracedServerTransport(transport, tracer, options)
}

/**
 * The SERVER span of the request a handler is serving, from the `extra` argument the MCP
 * SDK passes every request handler and tool callback: parent your work to it explicitly
 * (no ambient async context). Found through the `_meta`, `requestInfo` or `authInfo` objects of
 * that request and its id; for a request that brought none of them (stdio or in-memory,
 * a client that sends no `_meta`), through the session and id among the transports wrapped
 * by {@link traceMcpServer}. Throws a `TracehopError` when the transport was not wrapped,
 * or when two such transports serve the same id at once with nothing to tell them apart.
 *
 * @example
 * server.registerTool('search', { inputSchema: { q: z.string() } }, async ({ q }, extra) => {
 *   const hits = await traceOf(extra).child('query index', (s) => s.fetch(INDEX_URL, { method: 'POST', body: q }))
 *   return { content: [{ type: 'text', text: await hits.text() }] }
 * })
 */
export function traceOf(extra: McpHandlerExtra): Span {
  const id = extra.requestId
  const found =
    own(extra._meta, id) ??
    own(extra.requestInfo, id) ??
    own(extra.authInfo, id) ??
    fromLive(extra.sessionId, id)
  if (found === undefined) {
    throw new TracehopError(
      'traceOf() found no MCP request for this extra; connect the server with traceMcpServer(transport, tracer) ' +
        'and pass the extra argument the SDK gave the handler',
    )
  }
  return found.root
}

function own(key: unknown, id: JsonRpcId): Scope | undefined {
  return typeof key === 'object' && key !== null ? owners.get(key)?.pending.get(id) : undefined
}

function fromLive(sessionId: string | undefined, id: JsonRpcId): Scope | undefined {
  let found: Scope | undefined
  for (const transport of live) {
    if (transport.sessionId !== sessionId) continue
    const scope = transport.pending.get(id)
    if (scope === undefined) continue
    if (found !== undefined) return undefined // ambiguous: never guess a parent
    found = scope
  }
  return found
}
