/**
 * What the adapter needs from AWS Lambda, described structurally: the real types live in
 * `@types/aws-lambda`, `@middy/core`, `@aws-lambda-powertools/tracer` and `@smithy/types`
 * and fit these shapes, as do test doubles, with no version lock-step and no run-time import.
 */

// Ref: @types/aws-lambda Context
/** The second argument of every Lambda handler. */
export interface LambdaContextLike {
  readonly awsRequestId?: string
  readonly functionName?: string
  readonly functionVersion?: string
  readonly invokedFunctionArn?: string
  readonly memoryLimitInMB?: string
  readonly logStreamName?: string
  /** Set for `Lambda.Invoke` calls that passed a `ClientContext` (base64 JSON, decoded by the runtime). */
  readonly clientContext?: unknown
  getRemainingTimeInMillis?(): number
}

/** A promise-returning (or value-returning) Lambda handler. Callback-style handlers are not wrapped. */
// biome-ignore lint/suspicious/noExplicitAny: defaults mirror @types/aws-lambda's Handler<TEvent = any, TResult = any> and middy's Request
export type LambdaHandler<E = any, R = any, C extends LambdaContextLike = LambdaContextLike> = (
  event: E,
  context: C,
) => R | Promise<R>

// Ref: @types/aws-lambda SQSBatchResponse (also Kinesis and DynamoDB Streams)
/** A partial batch failure response: the records Lambda should retry. */
export interface BatchResponse {
  batchItemFailures: { itemIdentifier: string }[]
}

// Ref: @middy/core Request
/** What a middy middleware receives. */
// biome-ignore lint/suspicious/noExplicitAny: defaults mirror @types/aws-lambda's Handler<TEvent = any, TResult = any> and middy's Request
export interface MiddyRequestLike<E = any, R = any, C = any> {
  event: E
  context: C
  response: R | null | undefined
  error: unknown
  internal: Record<string, unknown>
}

// Ref: @middy/core MiddlewareObj
/** A middy middleware object. */
// biome-ignore lint/suspicious/noExplicitAny: defaults mirror @types/aws-lambda's Handler<TEvent = any, TResult = any> and middy's Request
export interface MiddyMiddlewareLike<E = any, R = any, C = any> {
  before: (request: MiddyRequestLike<E, R, C>) => void
  after: (request: MiddyRequestLike<E, R, C>) => Promise<void>
  onError: (request: MiddyRequestLike<E, R, C>) => Promise<void>
}

// Ref: aws-xray-sdk-core Subsegment / Segment (what Powertools' `getSegment()` returns)
/** An X-Ray segment or subsegment. Only a subsegment has `segment` (its parent segment). */
export interface XRaySegmentLike {
  readonly id?: string
  readonly segment?: unknown
  addAnnotation?(key: string, value: string | number | boolean): void
}

// Ref: @aws-lambda-powertools/tracer Tracer
/** The part of a Powertools `Tracer` used for correlation. */
export interface PowertoolsTracerLike {
  isTracingEnabled(): boolean
  getSegment(): XRaySegmentLike | undefined
  getRootXrayTraceId(): string | undefined
}
