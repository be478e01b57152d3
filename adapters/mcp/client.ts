import { type Scope, type Span, SpanKind, StatusCode, TracehopError } from '../../src/index.js'
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
import type { JsonRpcId, JsonRpcMessage, McpMessageExtra, McpSendOptions, McpTransport } from './transport.js'

/** Options of {@link traceMcp}. */
export interface McpClientOptions extends McpSpanOptions {
  /**
   * Write trace context into `params._meta` (default true). `false` keeps the client spans
   * but sends nothing: for a third-party server that must not learn your trace ids or baggage.
   */
  readonly propagate?: boolean
  /**
   * Where this transport's messages go, for identity baggage routed to named destinations
   * (`propagation.baggage.keys: [{ key, to }]`): a key is sent only when this destination is
   * one of its `to`. Default: the URL of an HTTP transport (the SDK's Streamable HTTP and SSE
   * client transports). Name stdio and in-memory servers yourself (`'mcp://search'`, and
   * `to: ['mcp://search']` in the route); without a destination, routed keys are not sent.
   */
  readonly destination?: string | URL
}

/** The explicit destination, else the URL an SDK HTTP transport was built with, else none. */
function destinationOf(inner: McpTransport, destination: string | URL | undefined): URL | null {
  if (destination !== undefined) {
    try {
      return new URL(String(destination))
    } catch {
      throw new TracehopError(
        `traceMcp destination must be a URL such as 'https://tools.example/mcp' or 'mcp://search', got ${JSON.stringify(String(destination))}`,
      )
    }
  }
  try {
    // StreamableHTTPClientTransport and SSEClientTransport keep their server URL here.
    const url: unknown = (inner as { _url?: unknown })._url
    return url instanceof URL ? url : null
  } catch {
    return null
  }
}

/**
 * The transport {@link traceMcp} returns: every member of the one it wraps, delegated.
 * Transport-specific methods (`terminateSession()`, `finishAuth()`, …) stay on the original.
 */
class TracedClientTransport extends DelegatingTransport {
  private readonly parent: Span
  private readonly pending = new Map<JsonRpcId, Span>()
  /** Requests the server sent us (sampling, roots, elicitation): one SERVER scope each. */
  private readonly incoming = new Map<JsonRpcId, Scope>()
  private readonly flushes = new Set<Promise<unknown>>()
  private readonly max: number
  private readonly propagate: boolean
  private readonly uriInName: boolean | undefined
  private readonly network: McpSpanOptions['networkTransport']
  private readonly destination: URL | null

  constructor(
    inner: McpTransport,
    parent: Span,
    options: McpClientOptions | undefined,
    destination: URL | null,
  ) {
    super(inner)
    this.destination = destination
    this.parent = parent
    this.max = options?.maxPending ?? 1000
    this.propagate = options?.propagate ?? true
    this.uriInName = options?.resourceUriInName
    this.network = options?.networkTransport
  }

  protected transportClosed(): void {
    this.endPending('transport closed')
  }

  override async close(): Promise<void> {
    try {
      await this.inner.close()
    } finally {
      this.endPending('transport closed')
      await Promise.all(this.flushes)
    }
  }

  override async send(
    message: JsonRpcMessage | readonly JsonRpcMessage[],
    options?: McpSendOptions,
  ): Promise<void> {
    if (isBatch(message)) return this.inner.send(message, options)
    let out = message
    let span: Span | undefined
    let id: JsonRpcId | undefined
    try {
      // Our answer to a request of the server's: its scope ends as the answer leaves.
      const answered = responseId(message)
      const scope = answered === undefined ? undefined : this.incoming.get(answered)
      if (scope !== undefined) {
        this.incoming.delete(answered!)
        recordOutcome(scope.root, message)
        this.finish(scope)
      }
      const method = methodOf(message)
      if (method !== undefined) {
        id = idOf(message)
        if (id !== undefined) {
          const d = describe(
            message,
            method,
            SpanKind.CLIENT,
            this.inner.sessionId,
            this.version,
            this.uriInName,
          )
          span = this.parent.startChild(d.name, d)
          // Streamable HTTP assigns a session: a session id means HTTP underneath.
          const network = this.network ?? (this.inner.sessionId !== undefined ? 'tcp' : undefined)
          if (network !== undefined) span.set('network.transport', network)
          remember(this.pending, id, span, this.max, forceEnd)
        } else if (method === 'notifications/cancelled') {
          // The SDK sends this on timeout or abort; no response will come for that id.
          this.cancelled(message.params)
        }
        if (this.propagate) out = withContext(message, span ?? this.parent, this.destination)
      }
    } catch {
      // A hostile message (throwing getters): sent as it is, untraced.
      out = message
    }
    if (span === undefined) return this.inner.send(out, options)
    try {
      await this.inner.send(out, options)
    } catch (err) {
      if (id !== undefined && this.pending.get(id) === span) {
        this.pending.delete(id)
        span.error(err)
        span.end()
      }
      throw err
    }
  }

  protected receive(message: JsonRpcMessage, extra?: McpMessageExtra): void {
    try {
      const method = methodOf(message)
      const requestId = method === undefined ? undefined : idOf(message)
      if (method !== undefined && requestId !== undefined) this.begin(message, method, requestId)
      const id = responseId(message)
      const span = id === undefined ? undefined : this.pending.get(id)
      if (span !== undefined) {
        this.pending.delete(id!)
        // Streamable HTTP assigns the session with the `initialize` response: known only now.
        const session = this.inner.sessionId
        if (session !== undefined && span.get('mcp.session.id') === undefined)
          span.set('mcp.session.id', session)
        recordOutcome(span, message)
        span.end()
      }
    } catch {
      // Never let tracing break the SDK's message flow.
    }
    this.onmessage?.(message, extra)
  }

  /**
   * A request the server sent us while serving one of ours (`sampling/createMessage`,
   * `roots/list`, `elicitation/create`): a SERVER scope continuing the context in its
   * `_meta` (the server's CLIENT span), in the trace of the call that caused it.
   */
  private begin(message: JsonRpcMessage, method: string, id: JsonRpcId): void {
    const params = message.params
    const meta = isRecord(params) ? params._meta : undefined
    const tracer = this.parent.scope.tracer
    const d = describe(message, method, SpanKind.SERVER, this.inner.sessionId, this.version, this.uriInName)
    const scope = tracer.start(isRecord(meta) ? metaCarrier(meta, tracer.statsRecorder) : undefined, {
      name: d.name,
      kind: d.kind,
      attributes: d.attributes,
    })
    remember(this.incoming, id, scope, this.max, (evicted) => {
      forceEnd(evicted.root)
      this.finish(evicted)
    })
  }

  /** Ends a scope of ours; `close()` waits for the flushes still running. */
  private finish(scope: Scope): void {
    const flushing = scope.end()
    this.flushes.add(flushing)
    void flushing.then(() => this.flushes.delete(flushing))
  }

  private cancelled(params: unknown): void {
    const id = isRecord(params) ? params.requestId : undefined
    const span = typeof id === 'string' || typeof id === 'number' ? this.pending.get(id) : undefined
    if (span === undefined) return
    this.pending.delete(id as JsonRpcId)
    span.set('error.type', 'cancelled')
    span.status(StatusCode.ERROR, 'cancelled')
    span.end()
  }

  private endPending(reason: string): void {
    for (const scope of this.incoming.values()) {
      scope.root.set('error.type', 'transport_closed')
      scope.root.status(StatusCode.ERROR, reason)
      this.finish(scope)
    }
    this.incoming.clear()
    for (const span of this.pending.values()) {
      span.set('error.type', 'transport_closed')
      span.status(StatusCode.ERROR, reason)
      span.end()
    }
    this.pending.clear()
  }
}

/**
 * Wraps an MCP client transport so that every call continues the trace of `span` (the
 * agent's hop). Each request gets a CLIENT span named `{mcp.method.name} {target}`
 * (`tools/call search`) with the OpenTelemetry MCP attributes (`mcp.method.name`,
 * `gen_ai.tool.name`, `gen_ai.operation.name`, `jsonrpc.request.id`, `mcp.session.id`,
 * `mcp.protocol.version`), ended when the response with its id arrives. Every request and
 * notification carries the context in `params._meta` under the unprefixed SEP-414 keys
 * `traceparent`, `tracestate` and `baggage`, plus `langsmith-trace` (the `langsmith`
 * SDKs' header name, holding the span's dotted order) when the LangSmith format is written.
 * Your own `_meta` keys are kept (copied, never mutated); your `baggage` members are merged.
 *
 * Errors: a JSON-RPC error response, a tool result with `isError: true`, a cancellation or
 * a transport that closes with calls pending mark the span as an error, so
 * always-keep-errors keeps failed tool calls. Nothing is patched: the returned object
 * delegates each `Transport` member (`start`, `send`, `close`, the callbacks, `sessionId`,
 * `setProtocolVersion`) to the one you pass, which you keep for its own extra methods.
 *
 * Wrapping a transport is consent to send it context (as with a service binding); pass
 * `{ propagate: false }` for a server that must not receive it. Identity baggage keys routed
 * to named destinations are sent only to theirs: the transport's URL (HTTP transports) or
 * the `destination` you name (stdio, in-memory: `{ destination: 'mcp://search' }`).
 *
 * @example
 * import { Client } from '@modelcontextprotocol/sdk/client/index.js'
 * import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js'
 * import { traceMcp } from 'tracehop/mcp'
 *
 * const client = new Client({ name: 'agent', version: '1.0.0' })
 * await client.connect(traceMcp(new StreamableHTTPClientTransport(new URL(MCP_URL)), scope.root))
 * const result = await client.callTool({ name: 'search', arguments: { q: 'tracing' } })
 */
export function traceMcp(transport: McpTransport, span: Span, options?: McpClientOptions): McpTransport {
  // Checked before wrapping: a bad destination throws with the transport untouched.
  return new TracedClientTransport(transport, span, options, destinationOf(transport, options?.destination))
}
