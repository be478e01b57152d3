// tracehop/cloudflare: Workers handlers, service bindings, Workers RPC, Durable Objects and Queues.
export { instrument } from './instrument.js'
export { traceOf } from './trace-of.js'
export { traced } from './traced.js'
export type { TracedOptions } from './traced.js'
export type { WorkerConfig, WorkerOptions, WorkerTracerConfig } from './config.js'
export type { StreamingMode } from './response.js'
export type {
  EntrypointClass,
  ExecutionContextLike,
  ExportedHandlerLike,
  MessageBatchLike,
  MessageLike,
  QueueLike,
  FetcherLike,
  ScheduledControllerLike,
} from './types.js'
