// tracehop/mcp: one trace across MCP tool calls, with context in JSON-RPC `params._meta` (SEP-414).

export type { McpClientOptions } from './client.js'
export { traceMcp } from './client.js'
export type { McpSpanOptions } from './meta.js'
export type { McpServerOptions } from './server.js'
export { traceMcpServer, traceOf } from './server.js'
export type {
  JsonRpcId,
  JsonRpcMessage,
  McpHandlerExtra,
  McpMessageExtra,
  McpSendOptions,
  McpTransport,
} from './transport.js'
