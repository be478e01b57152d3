/**
 * Which service invoked the function, read from the event's shape (Lambda says nothing
 * else), and the invocation span's name, kind and attributes for it.
 *
 * Ref: AWS Lambda developer guide, "Invoking Lambda with events from other AWS services";
 * OpenTelemetry semantic conventions, "Instrumenting AWS Lambda" and FaaS spans
 * (`faas.trigger`: http, pubsub, datasource, timer, other).
 */
import { type Attributes, SpanKind } from '../../src/index.js'
import { arnResource, asObject, asString, type Obj } from './event-values.js'

/** The event sources the adapter tells apart. `invoke` is a direct `Lambda.Invoke` (or any other shape). */
export type EventSourceKind =
  | 'apigw-rest'
  | 'apigw-http'
  | 'apigw-websocket'
  | 'alb'
  | 'function-url'
  | 'sqs'
  | 'sns'
  | 'eventbridge'
  | 'schedule'
  | 'kinesis'
  | 'dynamodb'
  | 's3'
  | 'invoke'

/** What the invocation span is made of. */
export interface InvocationShape {
  readonly source: EventSourceKind
  readonly name: string
  readonly kind: SpanKind
  readonly attributes: Attributes
  /** The records of a batch event (SQS, SNS, Kinesis, DynamoDB, S3), else undefined. */
  readonly records: readonly unknown[] | undefined
  /**
   * HTTP sources: the API's own origin as API Gateway or Lambda states it
   * (`requestContext.domainName`: `https://abc.execute-api…`), for the same-origin rule.
   */
  readonly origin?: string
  /** An origin from the client's `Host` header (ALB): same origin only with `trustHostHeader`. */
  readonly hostOrigin?: string
}

const HOST_RE = /^[A-Za-z0-9.-]+(:[0-9]{1,5})?$/

/** `https://<host>` for a plausible host name, else undefined (the same-origin rule needs a real one). */
function originOf(host: string | undefined, scheme: string | undefined): string | undefined {
  if (host === undefined || host.length > 253 || !HOST_RE.test(host)) return undefined
  return `${scheme === 'http' ? 'http' : 'https'}://${host.toLowerCase()}`
}

/**
 * One request header of an HTTP event, by lowercase name: `headers` (REST keeps the client's
 * casing) or the first of `multiValueHeaders` (ALB with multi-value headers has only those).
 */
function headerOf(e: Obj, name: string): string | undefined {
  for (const field of ['headers', 'multiValueHeaders']) {
    const h = asObject(e[field])
    if (h === undefined) continue
    for (const key in h) {
      if (key.toLowerCase() !== name) continue
      const v = h[key]
      const s = Array.isArray(v) ? asString(v[0]) : asString(v)
      if (s !== undefined) return s
    }
  }
  return undefined
}

/**
 * Which service produced `event`; `invoke` when no known shape matches.
 *
 * @example
 * detectSource({ Records: [{ eventSource: 'aws:sqs' }] }) // 'sqs'
 */
export function detectSource(event: unknown): EventSourceKind {
  const e = asObject(event)
  if (e === undefined) return 'invoke'
  const records = e['Records']
  if (Array.isArray(records)) {
    const first = asObject(records[0])
    if (first !== undefined) {
      const src = asString(first['eventSource']) ?? asString(first['EventSource'])
      if (src === 'aws:sqs') return 'sqs'
      if (src === 'aws:sns') return 'sns'
      if (src === 'aws:kinesis') return 'kinesis'
      if (src === 'aws:dynamodb') return 'dynamodb'
      if (src === 'aws:s3') return 's3'
    }
    return 'invoke'
  }
  const rc = asObject(e['requestContext'])
  if (rc !== undefined) {
    if (asObject(rc['elb']) !== undefined) return 'alb'
    // WebSocket APIs: CONNECT (the client's upgrade request, with its headers), MESSAGE, DISCONNECT.
    if (typeof rc['eventType'] === 'string' && typeof rc['connectionId'] === 'string')
      return 'apigw-websocket'
    if (asObject(rc['http']) !== undefined) {
      // Function URLs use payload 2.0 with a `*.lambda-url.<region>.on.aws` domain.
      const domain = asString(rc['domainName'])
      return domain?.includes('.lambda-url.') ? 'function-url' : 'apigw-http'
    }
    if (typeof e['httpMethod'] === 'string') return 'apigw-rest'
  }
  if (typeof e['detail-type'] === 'string' && typeof e['source'] === 'string' && 'detail' in e) {
    return e['source'] === 'aws.events' && e['detail-type'] === 'Scheduled Event' ? 'schedule' : 'eventbridge'
  }
  return 'invoke'
}

const HTTP_SOURCES: ReadonlySet<EventSourceKind> = new Set([
  'apigw-rest',
  'apigw-http',
  'apigw-websocket',
  'alb',
  'function-url',
])

/**
 * Whether the source is an HTTP front door (its result may carry `statusCode`).
 *
 * @example
 * if (isHttpSource(detectSource(event))) status = result.statusCode
 */
export function isHttpSource(source: EventSourceKind): boolean {
  return HTTP_SOURCES.has(source)
}

/**
 * The invocation span for `event`. HTTP: `METHOD route` (OTel HTTP server spans), kind
 * SERVER. SQS/SNS batches: `process <queue|topic>`, kind CONSUMER. Anything else: the
 * function name, kind SERVER (OTel "Instrumenting AWS Lambda").
 *
 * @example
 * describeInvocation(apiGatewayV2Event, 'retrieval').name // 'POST /lambda'
 */
export function describeInvocation(event: unknown, functionName: string): InvocationShape {
  const source = detectSource(event)
  const shape = DESCRIBE[source](asObject(event) ?? {}, functionName, source)
  return { source, records: undefined, ...shape }
}

/** An invocation span minus its source (the table's key); `records` only for batches. */
type Described = Omit<InvocationShape, 'source' | 'records'> & { readonly records?: readonly unknown[] }

/** HTTP sources: `origin`/`hostOrigin` present only when known. */
function httpShape(
  name: string,
  attributes: Attributes,
  origin: string | undefined,
  hostOrigin?: string,
): Described {
  return {
    name,
    kind: SpanKind.SERVER,
    attributes,
    ...(origin !== undefined ? { origin } : {}),
    ...(hostOrigin !== undefined ? { hostOrigin } : {}),
  }
}

/** REST (payload 1.0) and ALB: `httpMethod`, `resource`, `path`. */
function restOrAlb(e: Obj, _fn: string, source: EventSourceKind): Described {
  const method = asString(e['httpMethod']) ?? 'GET'
  const rc = asObject(e['requestContext']) ?? {}
  const route =
    source === 'apigw-rest' ? (asString(e['resource']) ?? asString(rc['resourcePath'])) : undefined
  const path = asString(e['path'])
  const attributes: Attributes = { 'faas.trigger': 'http', 'http.request.method': method }
  if (route !== undefined) attributes['http.route'] = route
  if (path !== undefined) attributes['url.path'] = path
  // REST: the API's own domain, which API Gateway routed the request by. The Host header
  // (ALB, or a REST event without a domain) is whatever the client sent.
  const domain = source === 'apigw-rest' ? asString(rc['domainName']) : undefined
  const origin = originOf(domain, 'https')
  const hostOrigin =
    origin === undefined
      ? originOf(headerOf(e, 'host'), source === 'alb' ? headerOf(e, 'x-forwarded-proto') : 'https')
      : undefined
  return httpShape(route !== undefined ? `${method} ${route}` : method, attributes, origin, hostOrigin)
}

/** HTTP API (payload 2.0) and Function URLs: `requestContext.http`, `routeKey`. */
function httpApi(e: Obj): Described {
  const rc = asObject(e['requestContext']) ?? {}
  const http = asObject(rc['http']) ?? {}
  const method = asString(http['method']) ?? 'GET'
  const routeKey = asString(e['routeKey'])
  // `POST /items/{id}` → route `/items/{id}`; `$default` has no route template.
  const space = routeKey?.indexOf(' ') ?? -1
  const route = routeKey !== undefined && space > 0 ? routeKey.slice(space + 1) : undefined
  const path = asString(e['rawPath']) ?? asString(http['path'])
  const attributes: Attributes = { 'faas.trigger': 'http', 'http.request.method': method }
  if (route !== undefined) attributes['http.route'] = route
  if (path !== undefined) attributes['url.path'] = path
  const name = route !== undefined ? `${method} ${route}` : method
  return httpShape(name, attributes, originOf(asString(rc['domainName']), 'https'))
}

/** WebSocket APIs: one span per CONNECT, MESSAGE or DISCONNECT event. */
function websocket(e: Obj): Described {
  const rc = asObject(e['requestContext']) ?? {}
  const route = asString(rc['routeKey']) ?? asString(e['routeKey']) ?? '$default'
  const eventType = asString(rc['eventType'])
  const attributes: Attributes = {
    // The CONNECT event is the client's HTTP upgrade request; the others are frames.
    'faas.trigger': eventType === 'CONNECT' ? 'http' : 'other',
    'network.protocol.name': 'websocket',
  }
  if (eventType !== undefined) attributes['aws.apigateway.websocket.event_type'] = eventType
  return httpShape(`WEBSOCKET ${route}`, attributes, originOf(asString(rc['domainName']), 'https'))
}

/** SQS and SNS batches: `process <queue|topic>`, kind CONSUMER. */
function messagingBatch(e: Obj, _fn: string, source: EventSourceKind): Described {
  const records = e['Records'] as unknown[]
  const sqs = source === 'sqs'
  const destination = batchDestination(records, sqs ? 'sqs' : 'sns')
  const attributes: Attributes = {
    'faas.trigger': 'pubsub',
    'messaging.system': sqs ? 'aws_sqs' : 'aws.sns',
    'messaging.operation.type': 'process',
    'messaging.batch.message_count': records.length,
  }
  if (destination !== undefined) attributes['messaging.destination.name'] = destination
  return {
    name: `process ${destination ?? 'multiple_sources'}`,
    kind: SpanKind.CONSUMER,
    attributes,
    records,
  }
}

/** Kinesis, DynamoDB streams and S3 notifications: the function's name, records linked. */
function datasourceBatch(e: Obj, functionName: string): Described {
  const records = e['Records'] as unknown[]
  return { name: functionName, kind: SpanKind.SERVER, attributes: { 'faas.trigger': 'datasource' }, records }
}

/** EventBridge events and schedules. */
function eventBridge(e: Obj, functionName: string, source: EventSourceKind): Described {
  const attributes: Attributes = { 'faas.trigger': source === 'schedule' ? 'timer' : 'pubsub' }
  const detailType = asString(e['detail-type'])
  const src = asString(e['source'])
  if (detailType !== undefined) attributes['aws.eventbridge.detail_type'] = detailType
  if (src !== undefined) attributes['aws.eventbridge.source'] = src
  const id = asString(e['id'])
  if (id !== undefined) attributes['messaging.message.id'] = id
  return { name: functionName, kind: SpanKind.SERVER, attributes }
}

/** A direct `Lambda.Invoke` or any shape not recognised. */
function other(_e: Obj, functionName: string): Described {
  return { name: functionName, kind: SpanKind.SERVER, attributes: { 'faas.trigger': 'other' } }
}

/** One entry per event source: how its invocation span is described. */
const DESCRIBE: {
  readonly [K in EventSourceKind]: (e: Obj, functionName: string, source: EventSourceKind) => Described
} = {
  'apigw-rest': restOrAlb,
  alb: restOrAlb,
  'apigw-http': httpApi,
  'function-url': httpApi,
  'apigw-websocket': websocket,
  sqs: messagingBatch,
  sns: messagingBatch,
  kinesis: datasourceBatch,
  dynamodb: datasourceBatch,
  s3: datasourceBatch,
  eventbridge: eventBridge,
  schedule: eventBridge,
  invoke: other,
}

/** The queue (SQS) or topic (SNS) every record came from, or undefined when they differ. */
function batchDestination(records: readonly unknown[], source: 'sqs' | 'sns'): string | undefined {
  let name: string | undefined
  for (const r of records) {
    const o = asObject(r)
    const arn =
      source === 'sqs' ? asString(o?.['eventSourceARN']) : asString(asObject(o?.['Sns'])?.['TopicArn'])
    const n = arnResource(arn)
    if (n === undefined || (name !== undefined && n !== name)) return undefined
    name = n
  }
  return name
}
