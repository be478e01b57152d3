// tracehop/cloudflare: Workers handlers, service bindings, Workers RPC, Durable Objects and Queues.

export type { StreamingMode } from '../http/streamed-body.js'
export type { ConfigErrorOptions, WorkerConfig, WorkerOptions, WorkerTracerConfig } from './config.js'
export { instrument } from './instrument.js'
export { traceOf } from './trace-of.js'
export type { TracedOptions } from './traced.js'
export { traced } from './traced.js'
export type {
  EntrypointClass,
  ExecutionContextLike,
  ExportedHandlerLike,
  FetcherLike,
  MessageBatchLike,
  MessageLike,
  QueueLike,
  ScheduledControllerLike,
} from './types.js'
export type { AcceptWebSocketOptions, DurableObjectStateLike, WebSocketMessages } from './websocket.js'
export {
  acceptWebSocket,
  instrumentDurableObject,
  MESSAGE_TRACE_FIELD,
  WEBSOCKET_MESSAGES_HEADER,
} from './websocket.js'
export type { WorkflowLike, WorkflowStepLike } from './workflow.js'
export { instrumentWorkflow } from './workflow.js'
export type { AttachableWebSocket } from './ws-attachment.js'
