// tracehop/lambda: AWS Lambda handlers (function, class-method decorator, middy), batch
// records, and AWS SDK v3 producers that carry the trace to the next hop.
export { withTrace, traceOf } from './with-trace.js'
export { traceLambdaHandler } from './decorator.js'
export { tracehopMiddleware } from './middy.js'
export { forEachRecord, itemIdentifier } from './records.js'
export type { ForEachRecordOptions } from './records.js'
export { traced } from './aws-sdk.js'
export type { AwsClientLike } from './aws-sdk.js'
export { createLambdaTracer } from './invocation.js'
export type { LambdaConfig, LambdaOptions } from './invocation.js'
export { detectSource } from './event-source.js'
export type { EventSourceKind } from './event-source.js'
export { EVENTBRIDGE_DETAIL_KEY } from './carriers.js'
export { ANNOTATION_TRACE_ID, ANNOTATION_SPAN_ID } from './powertools.js'
export type {
  LambdaContextLike,
  LambdaHandler,
  BatchResponse,
  MiddyRequestLike,
  MiddyMiddlewareLike,
  PowertoolsTracerLike,
  XRaySegmentLike,
} from './types.js'
