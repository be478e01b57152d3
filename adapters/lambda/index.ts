// tracehop/lambda: AWS Lambda handlers (function, class-method decorator, middy), batch
// records, and AWS SDK v3 producers that carry the trace to the next hop.

export type { AwsClientLike } from './aws-sdk.js'
export { traced } from './aws-sdk.js'
export { EVENTBRIDGE_DETAIL_KEY } from './carriers.js'
export { traceLambdaHandler } from './decorator.js'
export type { EventSourceKind } from './event-source.js'
export { detectSource } from './event-source.js'
export type { LambdaConfig, LambdaConfigInput, LambdaOptions } from './invocation.js'
export { createLambdaTracer } from './invocation.js'
export { tracehopMiddleware } from './middy.js'
export { ANNOTATION_SPAN_ID, ANNOTATION_TRACE_ID } from './powertools.js'
export type { ForEachRecordOptions } from './records.js'
export { forEachRecord, itemIdentifier } from './records.js'
export type { ResponseStreamLike, StreamEnd, StreamifyOptions, StreamingHandler } from './response-stream.js'
export { streamifyResponse } from './response-stream.js'
export type {
  BatchResponse,
  LambdaContextLike,
  LambdaHandler,
  MiddyMiddlewareLike,
  MiddyRequestLike,
  PowertoolsTracerLike,
  XRaySegmentLike,
} from './types.js'
export { traceOf, withTrace } from './with-trace.js'
