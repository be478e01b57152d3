/**
 * The MCP transport contract, described structurally so `tracehop/mcp` loads nothing from
 * the SDK at run time and follows no SDK release in lock-step.
 * Ref: @modelcontextprotocol/sdk `shared/transport.ts` (`Transport`, `TransportSendOptions`),
 * `types.ts` (`JSONRPCMessage`, `MessageExtraInfo`), `shared/protocol.ts` (`RequestHandlerExtra`).
 */

/** A JSON-RPC 2.0 id (`null` ids are never tracked: the OTel MCP conventions skip them). */
export type JsonRpcId = string | number

/** Any JSON-RPC 2.0 message: a request, a notification, a result or an error response. */
export interface JsonRpcMessage {
  readonly jsonrpc?: string | undefined
  readonly id?: JsonRpcId | null | undefined
  readonly method?: string | undefined
  readonly params?: unknown
  readonly result?: unknown
  readonly error?: unknown
}

/** What a transport hands along with an incoming message. Ref: SDK `MessageExtraInfo`. */
export interface McpMessageExtra {
  /** The HTTP request a message arrived in (Streamable HTTP, SSE). */
  readonly requestInfo?: unknown
  readonly authInfo?: unknown
}

/** Ref: SDK `TransportSendOptions` (each transport adds its own). Passed through untouched. */
export interface McpSendOptions {
  readonly relatedRequestId?: JsonRpcId | undefined
  readonly [option: string]: unknown
}

// A method-derived function type is checked bivariantly, so the SDK's generic
// `onmessage<T extends JSONRPCMessage>` and this structural one are assignable both ways.
type OnMessage = {
  bivariant(message: JsonRpcMessage, extra?: McpMessageExtra): void
}['bivariant']

/**
 * An MCP transport, as `Client.connect()` and `Server.connect()` use it: the SDK's
 * `InMemoryTransport`, `StdioClientTransport`, `StreamableHTTPClientTransport`,
 * `WebStandardStreamableHTTPServerTransport`, … or your own.
 */
export interface McpTransport {
  start(): Promise<void>
  /** A batch (an array) is passed through as it is: the SDK's Client and Server never send one. */
  send(message: JsonRpcMessage | readonly JsonRpcMessage[], options?: McpSendOptions): Promise<void>
  close(): Promise<void>
  onclose?: (() => void) | undefined
  onerror?: ((error: Error) => void) | undefined
  onmessage?: OnMessage | undefined
  readonly sessionId?: string | undefined
  setProtocolVersion?: ((version: string) => void) | undefined
}

/**
 * What the SDK passes a request handler as its last argument (a tool callback's `extra`).
 * Ref: SDK `RequestHandlerExtra`.
 */
export interface McpHandlerExtra {
  readonly requestId: JsonRpcId
  readonly sessionId?: string | undefined
  /** The request's `params._meta`, the very object the transport delivered. */
  readonly _meta?: object | undefined
  readonly requestInfo?: unknown
  readonly authInfo?: unknown
}
