// A sweep of real Lambda event payloads (test/lambda/fixtures-sweep/, sources in SOURCES.md)
// through the public API exactly as a user wires it: withTrace + forEachRecord, a memory
// exporter, a Node-runtime-shaped context. Each fixture's expectations are written out by
// hand from the event's own content (method, route, queue ARN, X-Ray header…) and the
// adapter's documented behaviour, never read back from what the adapter returns. Where the
// event format has a place for trace context, a traceparent is put there the way the
// producer would have sent it, and the trace must continue.
import { readFileSync } from 'node:fs'
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  detectSource,
  type EventSourceKind,
  forEachRecord,
  type LambdaContextLike,
  traceOf,
  withTrace,
} from '../../adapters/lambda/index.js'
import {
  type AttributeValue,
  type InvalidInput,
  memoryExporter,
  SpanKind,
  type SpanRecord,
  type Tracer,
  type TracerStats,
} from '../../src/index.js'
import { lambdaContext, setEnv } from './helpers.js'

const FIXTURES = new URL('./fixtures-sweep/', import.meta.url)

const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736'
const PARENT_ID = '00f067aa0ba902b7'
const TRACEPARENT = `00-${TRACE_ID}-${PARENT_ID}-01`
// lambdaContext(): function `retrieval`, invoked through arn:aws:lambda:eu-west-1:123456789012:…
const FUNCTION_NAME = 'retrieval'
const ACCOUNT_ID = '123456789012'

/** Where the test puts the producer's traceparent, in the place and casing that source really uses. */
type Carry =
  /** HTTP: `headers` and, when the event has it, `multiValueHeaders` (API Gateway fills both). */
  | { readonly in: 'headers'; readonly name: string }
  /** SQS record `messageAttributes` as Lambda delivers them (`stringValue`, `dataType`). */
  | { readonly in: 'sqs'; readonly record: number }
  /** SNS->SQS without raw delivery: the SNS envelope's `MessageAttributes` in the record body. */
  | { readonly in: 'sqs-envelope'; readonly record: number }
  /** SNS record `Sns.MessageAttributes` (`Type: String`, `Value`). */
  | { readonly in: 'sns'; readonly record: number }
  /** EventBridge `detail._tracehop`, what `traced(eventBridgeClient, span)` writes. */
  | { readonly in: 'detail' }
  /** EventBridge rule -> SQS target: `detail._tracehop` of the EventBridge event in the record body. */
  | { readonly in: 'sqs-eventbridge-detail'; readonly record: number }
  /** `Lambda.Invoke` with a ClientContext: `context.clientContext.custom`. */
  | { readonly in: 'client-context' }
  /** Nothing added: the record already carries an X-Ray `AWSTraceHeader` with Parent and Sampled. */
  | {
      readonly in: 'aws-trace-header'
      readonly record: number
      readonly traceId: string
      /** Its Sampled flag is X-Ray's, not followed: the consumer decides from the trace id. */
      readonly spanId: string
    }

/** Batch events: what each record's `process` span must look like. */
interface RecordExpectation {
  /** `process <name>`: the queue, topic, stream, table or bucket named in the record. */
  readonly name: string
  readonly system?: 'aws_sqs' | 'aws.sns'
  /** `messaging.message.id` of each record, in order (absent for S3). */
  readonly ids?: readonly string[]
  readonly count: number
}

interface Case {
  readonly file: string
  /** What the event is, read from its content (for grouping and the report). */
  readonly what: string
  /** `detectSource(event)`: the adapter's classification this event must get. */
  readonly source: EventSourceKind
  readonly name: string
  readonly kind: SpanKind
  readonly trigger: 'http' | 'pubsub' | 'datasource' | 'timer' | 'other'
  /** A subset the invocation span's attributes must contain. */
  readonly attributes?: Readonly<Record<string, AttributeValue>>
  /** Attributes the invocation span must not have. */
  readonly absent?: readonly string[]
  readonly carry?: Carry
  /** `aws.xray.trace_id`: the Root of the event's own X-Amzn-Trace-Id header (correlation only). */
  readonly xrayRoot?: string
  /** HTTP: the API's own origin (its domain); a same-origin call from the span gets the trace headers. */
  readonly origin?: string
  /** ALB: the origin the client's Host names; not same origin (trustHostHeader is off). */
  readonly hostOrigin?: string
  readonly records?: RecordExpectation
  /** Malformed input the fixture itself contains, counted in `tracer.stats().invalid`. */
  readonly invalid?: Readonly<Partial<Record<InvalidInput, number>>>
}

const HTTP = { kind: SpanKind.SERVER, trigger: 'http' } as const
const OTHER = { source: 'invoke', name: FUNCTION_NAME, kind: SpanKind.SERVER, trigger: 'other' } as const

const CASES: readonly Case[] = [
  // ── API Gateway REST (payload 1.0) ──────────────────────────────────────────────────
  {
    file: 'lambda-go--apigw-request.json',
    what: 'apigw-rest',
    source: 'apigw-rest',
    ...HTTP,
    name: 'POST /{proxy+}',
    attributes: { 'http.request.method': 'POST', 'http.route': '/{proxy+}', 'url.path': '/hello/world' },
    carry: { in: 'headers', name: 'traceparent' },
    origin: 'https://gy415nuibc.execute-api.us-east-2.amazonaws.com',
  },
  {
    // `headers` and `multiValueHeaders` are null: the request carried no headers at all.
    file: 'powertools-py--apiGatewayProxyEventPrincipalId.json',
    what: 'apigw-rest',
    source: 'apigw-rest',
    ...HTTP,
    name: 'POST /trip',
    attributes: { 'http.request.method': 'POST', 'http.route': '/trip', 'url.path': '/trip' },
  },
  {
    // `multiValueHeaders` null, `headers` only; no requestContext.domainName (old capture).
    file: 'datadog-js--api-gateway-get.json',
    what: 'apigw-rest',
    source: 'apigw-rest',
    ...HTTP,
    name: 'GET /{proxy+}',
    attributes: { 'http.request.method': 'GET', 'http.route': '/{proxy+}', 'url.path': '/test/hello' },
    carry: { in: 'headers', name: 'Traceparent' },
  },
  {
    file: 'datadog-py--api-gateway-v1-parametrized.json',
    what: 'apigw-rest',
    source: 'apigw-rest',
    ...HTTP,
    name: 'GET /user/{id}',
    attributes: { 'http.request.method': 'GET', 'http.route': '/user/{id}', 'url.path': '/user/42' },
    carry: { in: 'headers', name: 'traceparent' },
    xrayRoot: '1-65f49d20-7ba106216238dd0078a5db31',
    origin: 'https://mcwkra0ya4.execute-api.sa-east-1.amazonaws.com',
  },
  {
    // A REQUEST-type Lambda authorizer (payload 1.0): the request's own shape. Its
    // X-Amzn-Trace-Id is the placeholder "..." in the fixture, which is malformed.
    file: 'lambda-go--apigw-custom-auth-request-type-request.json',
    what: 'apigw-rest (authorizer)',
    source: 'apigw-rest',
    ...HTTP,
    name: 'GET /request',
    attributes: { 'http.request.method': 'GET', 'http.route': '/request', 'url.path': '/request' },
    carry: { in: 'headers', name: 'traceparent' },
    invalid: { xray: 1 },
  },
  // ── API Gateway HTTP API (payload 2.0) ──────────────────────────────────────────────
  {
    // routeKey `$default`: no route template, the span is named by the method alone.
    file: 'lambda-go--apigw-v2-request-no-authorizer.json',
    what: 'apigw-http',
    source: 'apigw-http',
    ...HTTP,
    name: 'GET',
    attributes: { 'http.request.method': 'GET', 'url.path': '/' },
    absent: ['http.route'],
    carry: { in: 'headers', name: 'traceparent' },
    xrayRoot: '1-5e9f0c65-1de4d666d4dd26aced652b6c',
    origin: 'https://aaaaaaaaaa.execute-api.us-west-2.amazonaws.com',
  },
  {
    file: 'lambda-go--apigw-v2-request-jwt-authorizer.json',
    what: 'apigw-http',
    source: 'apigw-http',
    ...HTTP,
    name: 'GET',
    attributes: { 'http.request.method': 'GET', 'url.path': '/my/path' },
    absent: ['http.route'],
    carry: { in: 'headers', name: 'traceparent' },
    origin: 'https://id.execute-api.us-east-1.amazonaws.com',
  },
  {
    file: 'datadog-py--api-gateway-v2-parametrized.json',
    what: 'apigw-http',
    source: 'apigw-http',
    ...HTTP,
    name: 'GET /user/{id}',
    attributes: { 'http.request.method': 'GET', 'http.route': '/user/{id}', 'url.path': '/user/42' },
    carry: { in: 'headers', name: 'traceparent' },
    xrayRoot: '1-65f49d71-505edb3b69b8abd513cfa08b',
    origin: 'https://9vj54we5ih.execute-api.sa-east-1.amazonaws.com',
  },
  {
    // routeKey `ANY /…`: the method is the request's (GET), the route the template. The
    // X-Ray root `1-5e6722a7-cc56xmpl46db7ae02d4da47e` is AWS's redacted doc sample, not hex.
    file: 'datadog-js--api-gateway-v2.json',
    what: 'apigw-http',
    source: 'apigw-http',
    ...HTTP,
    name: 'GET /nodejs-apig-function-1G3XMPLZXVXYI',
    attributes: {
      'http.request.method': 'GET',
      'http.route': '/nodejs-apig-function-1G3XMPLZXVXYI',
      'url.path': '/default/nodejs-apig-function-1G3XMPLZXVXYI',
    },
    absent: ['aws.xray.trace_id'],
    carry: { in: 'headers', name: 'traceparent' },
    origin: 'https://r3pmxmplak.execute-api.us-east-2.amazonaws.com',
    invalid: { xray: 1 },
  },
  {
    // A payload 2.0 REQUEST authorizer; its routeKey says GET, its requestContext.http POST.
    file: 'powertools-py--apiGatewayAuthorizerV2Event.json',
    what: 'apigw-http (authorizer)',
    source: 'apigw-http',
    ...HTTP,
    name: 'POST /merchants',
    attributes: { 'http.request.method': 'POST', 'http.route': '/merchants', 'url.path': '/merchants' },
    carry: { in: 'headers', name: 'traceparent' },
    xrayRoot: '1-611cc4a7-0746ebee281cfd967db97b64',
    origin: 'https://id.execute-api.us-east-1.amazonaws.com',
  },
  // ── ALB ──────────────────────────────────────────────────────────────────────────────
  {
    file: 'lambda-go--alb-lambda-target-request-headers-only.json',
    what: 'alb',
    source: 'alb',
    ...HTTP,
    name: 'GET',
    attributes: { 'http.request.method': 'GET', 'url.path': '/' },
    absent: ['http.route'],
    carry: { in: 'headers', name: 'traceparent' },
    xrayRoot: '1-5c34e93e-4dea0086f9763ac0667b115a',
    // x-forwarded-proto: http
    hostOrigin: 'http://lambda-test-alb-1334523864.us-east-1.elb.amazonaws.com',
  },
  {
    file: 'lambda-go--alb-lambda-target-request-multivalue-headers.json',
    what: 'alb (multiValueHeaders)',
    source: 'alb',
    ...HTTP,
    name: 'GET',
    attributes: { 'http.request.method': 'GET', 'url.path': '/' },
    absent: ['http.route'],
    carry: { in: 'headers', name: 'traceparent' },
    xrayRoot: '1-5c34e7d4-00ca239424b68028d4c56d68',
    hostOrigin: 'http://lambda-test-alb-1234567.us-east-1.elb.amazonaws.com',
  },
  {
    file: 'datadog-py--application-load-balancer-multivalue-headers.json',
    what: 'alb (multiValueHeaders)',
    source: 'alb',
    ...HTTP,
    name: 'GET',
    attributes: { 'http.request.method': 'GET', 'url.path': '/lambda' },
    carry: { in: 'headers', name: 'traceparent' },
    xrayRoot: '1-5c536348-3d683b8b04734faae651f476',
    hostOrigin: 'http://lambda-alb-123578498.us-east-2.elb.amazonaws.com',
  },
  // ── Lambda Function URLs ─────────────────────────────────────────────────────────────
  {
    // No routeKey at all; the domain is the placeholder `<url-id>.lambda-url.…` (no origin).
    file: 'lambda-go--lambda-urls-request.json',
    what: 'function-url',
    source: 'function-url',
    ...HTTP,
    name: 'POST',
    attributes: { 'http.request.method': 'POST', 'url.path': '/my/path' },
    absent: ['http.route'],
    carry: { in: 'headers', name: 'traceparent' },
  },
  {
    file: 'datadog-py--lambda-url.json',
    what: 'function-url',
    source: 'function-url',
    ...HTTP,
    name: 'GET',
    attributes: { 'http.request.method': 'GET', 'url.path': '/' },
    absent: ['http.route'],
    carry: { in: 'headers', name: 'traceparent' },
    xrayRoot: '1-61953929-1ec00c3011062a48477b169e',
    origin: 'https://a8hyhsshac.lambda-url.eu-south-1.amazonaws.com',
  },
  {
    file: 'powertools-py--lambdaFunctionUrlEventWithHeaders.json',
    what: 'function-url',
    source: 'function-url',
    ...HTTP,
    name: 'GET',
    attributes: { 'http.request.method': 'GET', 'url.path': '/' },
    carry: { in: 'headers', name: 'traceparent' },
    xrayRoot: '1-62ecd163-5f302e550dcde3b12402207d',
  },
  // ── API Gateway WebSocket APIs ───────────────────────────────────────────────────────
  {
    // $connect is the client's HTTP upgrade request, with its headers in the event.
    file: 'datadog-py--api-gateway-websocket-connect.json',
    what: 'apigw-websocket $connect',
    source: 'apigw-websocket',
    name: 'WEBSOCKET $connect',
    kind: SpanKind.SERVER,
    trigger: 'http',
    attributes: { 'network.protocol.name': 'websocket', 'aws.apigateway.websocket.event_type': 'CONNECT' },
    carry: { in: 'headers', name: 'traceparent' },
    xrayRoot: '1-613b6b23-34ae0ce37f8d09ae19095835',
  },
  {
    file: 'lambda-go--apigw-websocket-request-send-message.json',
    what: 'apigw-websocket MESSAGE',
    source: 'apigw-websocket',
    name: 'WEBSOCKET $default',
    kind: SpanKind.SERVER,
    trigger: 'other',
    attributes: { 'network.protocol.name': 'websocket', 'aws.apigateway.websocket.event_type': 'MESSAGE' },
  },
  {
    file: 'datadog-py--api-gateway-websocket-disconnect.json',
    what: 'apigw-websocket $disconnect',
    source: 'apigw-websocket',
    name: 'WEBSOCKET $disconnect',
    kind: SpanKind.SERVER,
    trigger: 'other',
    attributes: { 'network.protocol.name': 'websocket', 'aws.apigateway.websocket.event_type': 'DISCONNECT' },
  },
  // ── SQS ──────────────────────────────────────────────────────────────────────────────
  {
    // String, Number and Binary message attributes of the user's own beside ours.
    file: 'lambda-go--sqs-event.json',
    what: 'sqs',
    source: 'sqs',
    name: 'process SQSQueue',
    kind: SpanKind.CONSUMER,
    trigger: 'pubsub',
    carry: { in: 'sqs', record: 0 },
    records: { name: 'process SQSQueue', system: 'aws_sqs', ids: ['MessageID_1'], count: 1 },
  },
  {
    file: 'datadog-py--sqs-batch.json',
    what: 'sqs',
    source: 'sqs',
    name: 'process InferredSpansQueueNode',
    kind: SpanKind.CONSUMER,
    trigger: 'pubsub',
    carry: { in: 'sqs', record: 1 },
    records: {
      name: 'process InferredSpansQueueNode',
      system: 'aws_sqs',
      ids: ['2fcbad66-372a-4b1c-87da-26b2cea13936', '2fcbad66-372a-4b1c-87da-26b2cea13937'],
      count: 2,
    },
  },
  {
    // A Java producer with X-Ray: AWSTraceHeader Root=1-65eb7350-…;Parent=48cc02b6aafae897;Sampled=1.
    file: 'datadog-py--sqs-java-upstream.json',
    what: 'sqs (AWSTraceHeader)',
    source: 'sqs',
    name: 'process DdTraceXLambda-sqsjavachecksNeste-sqsJavaProducer2sqsjavaproducerfo-dwpHQF6fcZT4',
    kind: SpanKind.CONSUMER,
    trigger: 'pubsub',
    carry: {
      in: 'aws-trace-header',
      record: 0,
      traceId: '65eb7350000000006dfd06bf489aa4e5',
      spanId: '48cc02b6aafae897',
    },
    records: {
      name: 'process DdTraceXLambda-sqsjavachecksNeste-sqsJavaProducer2sqsjavaproducerfo-dwpHQF6fcZT4',
      system: 'aws_sqs',
      ids: ['f7e888aa-1368-484c-8e15-fc3f0f7c6fea'],
      count: 1,
    },
  },
  {
    // EventBridge rule -> SQS target, as delivered: the body is the EventBridge event and
    // EventBridge passed its X-Ray header on as AWSTraceHeader, Parent=7d5a9776024b2d42;Sampled=0.
    // X-Ray with Parent and Sampled is a continuation; its Sampled=0 (AWS stamps it on messages
    // from producers without active tracing) is not followed: the record's span is kept.
    file: 'datadog-js--eventbridge-sqs.json',
    what: 'sqs (AWSTraceHeader Sampled=0, EventBridge body)',
    source: 'sqs',
    name: 'process lambda-eb-sqs-lambda-dev-demo-queue',
    kind: SpanKind.CONSUMER,
    trigger: 'pubsub',
    carry: {
      in: 'aws-trace-header',
      record: 0,
      traceId: '64cc2edd112fbf1701d1355973a11d57',
      spanId: '7d5a9776024b2d42',
    },
    records: {
      name: 'process lambda-eb-sqs-lambda-dev-demo-queue',
      system: 'aws_sqs',
      ids: ['e995e54f-1724-41fa-82c0-8b81821f854e'],
      count: 1,
    },
  },
  {
    // The same hop with a tracehop producer: `traced(eventBridgeClient)` wrote Detail._tracehop,
    // and the rule's SQS target delivers the whole EventBridge event as the record body.
    file: 'datadog-py--eventbridge-sqs.json',
    what: 'sqs (EventBridge -> SQS, detail._tracehop in the body)',
    source: 'sqs',
    name: 'process eventbridge-sqs-queue',
    kind: SpanKind.CONSUMER,
    trigger: 'pubsub',
    carry: { in: 'sqs-eventbridge-detail', record: 0 },
    records: {
      name: 'process eventbridge-sqs-queue',
      system: 'aws_sqs',
      ids: ['e995e54f-1724-41fa-82c0-8b81821f854e'],
      count: 1,
    },
  },
  {
    file: 'datadog-js--snssqs.json',
    what: 'sqs (SNS fan-out envelope)',
    source: 'sqs',
    name: 'process aj-js-library-test-dev-demo-queue',
    kind: SpanKind.CONSUMER,
    trigger: 'pubsub',
    carry: { in: 'sqs-envelope', record: 0 },
    records: {
      name: 'process aj-js-library-test-dev-demo-queue',
      system: 'aws_sqs',
      ids: ['64812b68-4d9b-4dca-b3fb-9b18f255ee51'],
      count: 1,
    },
  },
  {
    file: 'powertools-py--snsSqsFifoEvent.json',
    what: 'sqs FIFO (SNS FIFO fan-out envelope)',
    source: 'sqs',
    name: 'process Test.fifo',
    kind: SpanKind.CONSUMER,
    trigger: 'pubsub',
    carry: { in: 'sqs-envelope', record: 0 },
    records: {
      name: 'process Test.fifo',
      system: 'aws_sqs',
      ids: ['69bc4bbd-ed69-4325-a434-85c3b428ceab'],
      count: 1,
    },
  },
  {
    // S3 notification delivered through SQS: the body is an S3 event JSON.
    file: 'powertools-py--s3SqsEvent.json',
    what: 'sqs (S3 notification body)',
    source: 'sqs',
    name: 'process SQS',
    kind: SpanKind.CONSUMER,
    trigger: 'pubsub',
    carry: { in: 'sqs', record: 0 },
    records: {
      name: 'process SQS',
      system: 'aws_sqs',
      ids: ['ca3e7a89-c358-40e5-8aa0-5da01403c267'],
      count: 1,
    },
  },
  // ── SNS ──────────────────────────────────────────────────────────────────────────────
  {
    // TopicArn is the placeholder `arn:aws:sns:EXAMPLE`: its last segment names the topic.
    file: 'lambda-go--sns-event.json',
    what: 'sns',
    source: 'sns',
    name: 'process EXAMPLE',
    kind: SpanKind.CONSUMER,
    trigger: 'pubsub',
    carry: { in: 'sns', record: 0 },
    records: {
      name: 'process EXAMPLE',
      system: 'aws.sns',
      ids: ['95df01b4-ee98-5cb9-9903-4c221d41eb5e'],
      count: 1,
    },
  },
  {
    file: 'datadog-py--sns-batch.json',
    what: 'sns',
    source: 'sns',
    name: 'process serverlessTracingTopicPy',
    kind: SpanKind.CONSUMER,
    trigger: 'pubsub',
    carry: { in: 'sns', record: 0 },
    records: {
      name: 'process serverlessTracingTopicPy',
      system: 'aws.sns',
      ids: ['87056a47-f506-5d77-908b-303605d3b197', '87056a47-f506-5d77-908b-303605d3b197'],
      count: 2,
    },
  },
  {
    // A Binary message attribute beside ours: never read as text.
    file: 'datadog-py--sns-b64-msg-attribute.json',
    what: 'sns (Binary attribute)',
    source: 'sns',
    name: 'process serverlessTracingTopicPy',
    kind: SpanKind.CONSUMER,
    trigger: 'pubsub',
    carry: { in: 'sns', record: 0 },
    records: {
      name: 'process serverlessTracingTopicPy',
      system: 'aws.sns',
      ids: ['87056a47-f506-5d77-908b-303605d3b197'],
      count: 1,
    },
  },
  // ── EventBridge and scheduled events ─────────────────────────────────────────────────
  {
    file: 'powertools-py--s3EventBridgeNotificationObjectCreatedEvent.json',
    what: 'eventbridge',
    source: 'eventbridge',
    name: FUNCTION_NAME,
    kind: SpanKind.SERVER,
    trigger: 'pubsub',
    attributes: {
      'aws.eventbridge.detail_type': 'Object Created',
      'aws.eventbridge.source': 'aws.s3',
      'messaging.message.id': 'f5f1e65c-dc3a-93ca-6c1e-b1647eac7963',
    },
    carry: { in: 'detail' },
  },
  {
    file: 'lambda-go--codebuild-state-change.json',
    what: 'eventbridge',
    source: 'eventbridge',
    name: FUNCTION_NAME,
    kind: SpanKind.SERVER,
    trigger: 'pubsub',
    attributes: {
      'aws.eventbridge.detail_type': 'CodeBuild Build State Change',
      'aws.eventbridge.source': 'aws.codebuild',
      'messaging.message.id': 'c030038d-8c4d-6141-9545-00ff7b7153EX',
    },
    carry: { in: 'detail' },
  },
  {
    file: 'datadog-py--eventbridge-custom.json',
    what: 'eventbridge (custom bus)',
    source: 'eventbridge',
    name: FUNCTION_NAME,
    kind: SpanKind.SERVER,
    trigger: 'pubsub',
    attributes: {
      'aws.eventbridge.detail_type': 'testdetail',
      'aws.eventbridge.source': 'eventbridge.custom.event.sender',
      'messaging.message.id': 'fd03f394-e769-eff5-08a8-53c228933591',
    },
    carry: { in: 'detail' },
  },
  {
    file: 'datadog-py--cloudwatch-events.json',
    what: 'schedule',
    source: 'schedule',
    name: FUNCTION_NAME,
    kind: SpanKind.SERVER,
    trigger: 'timer',
    attributes: {
      'aws.eventbridge.detail_type': 'Scheduled Event',
      'aws.eventbridge.source': 'aws.events',
      'messaging.message.id': 'cdc73f9d-aea9-11e3-9d5a-835b769c0d9c',
    },
  },
  // ── Streams and S3 (no place for trace context in the record) ────────────────────────
  {
    file: 'lambda-go--kinesis-event.json',
    what: 'kinesis',
    source: 'kinesis',
    name: FUNCTION_NAME,
    kind: SpanKind.SERVER,
    trigger: 'datasource',
    records: {
      name: 'process simple-stream',
      ids: [
        '49568167373333333333333333333333333333333333333333333333',
        '49568167373333333334444444444444444444444444444444444444',
      ],
      count: 2,
    },
  },
  {
    // A tumbling-window invocation: window, state, shardId beside the records.
    file: 'lambda-go--kinesis-time-window-event.json',
    what: 'kinesis (tumbling window)',
    source: 'kinesis',
    name: FUNCTION_NAME,
    kind: SpanKind.SERVER,
    trigger: 'datasource',
    records: {
      name: 'process lambda-stream',
      ids: ['49590338271490256608559692538361571095921575989136588898'],
      count: 1,
    },
  },
  {
    // Both records carry the same SequenceNumber in the fixture.
    file: 'lambda-go--dynamodb-event.json',
    what: 'dynamodb',
    source: 'dynamodb',
    name: FUNCTION_NAME,
    kind: SpanKind.SERVER,
    trigger: 'datasource',
    records: {
      name: 'process Example-Table',
      ids: ['1405400000000002063282832', '1405400000000002063282832'],
      count: 2,
    },
  },
  {
    // eventSourceARN is the placeholder `stream-ARN`: no table name in it.
    file: 'lambda-go--dynamodb-time-window-event.json',
    what: 'dynamodb (tumbling window)',
    source: 'dynamodb',
    name: FUNCTION_NAME,
    kind: SpanKind.SERVER,
    trigger: 'datasource',
    records: { name: 'process record', ids: ['111', '222', '333'], count: 3 },
  },
  {
    file: 'datadog-js--dynamodb-remove.json',
    what: 'dynamodb',
    source: 'dynamodb',
    name: FUNCTION_NAME,
    kind: SpanKind.SERVER,
    trigger: 'datasource',
    records: { name: 'process someTableName', ids: ['123456789012345678901234567'], count: 1 },
  },
  {
    file: 'lambda-go--s3-event.json',
    what: 's3',
    source: 's3',
    name: FUNCTION_NAME,
    kind: SpanKind.SERVER,
    trigger: 'datasource',
    records: { name: 'process sourcebucket', count: 1 },
  },
  {
    file: 'powertools-py--s3EventDecodedKey.json',
    what: 's3',
    source: 's3',
    name: FUNCTION_NAME,
    kind: SpanKind.SERVER,
    trigger: 'datasource',
    records: { name: 'process sourcebucket', count: 1 },
  },
  // ── Direct invocations by other services, and custom JSON ────────────────────────────
  { file: 'lambda-go--cognito-event-userpools-presignup.json', what: 'cognito trigger', ...OTHER },
  { file: 'powertools-py--cognitoPreTokenV2GenerationEvent.json', what: 'cognito trigger', ...OTHER },
  {
    file: 'powertools-py--cloudformationCustomResourceCreate.json',
    what: 'custom (CloudFormation)',
    ...OTHER,
  },
  // A JSON array (AppSync batch resolver): no object shape at all.
  { file: 'powertools-py--appSyncBatchEvent.json', what: 'custom (AppSync batch, array)', ...OTHER },
  // MSK: `records` keyed by topic-partition, not `Records`.
  { file: 'powertools-py--kafkaEventMsk.json', what: 'custom (MSK)', ...OTHER },
  // `Records` with eventSource aws:ses: a batch shape the adapter does not list.
  { file: 'lambda-go--ses-lambda-event.json', what: 'custom (SES Records)', ...OTHER },
  // VPC Lattice v2: an HTTP request, but not among the adapter's HTTP sources.
  { file: 'powertools-py--vpcLatticeV2EventWithHeaders.json', what: 'custom (VPC Lattice v2)', ...OTHER },
  {
    // `Lambda.Invoke` of custom JSON with a ClientContext carrying the caller's context.
    file: 'datadog-py--custom.json',
    what: 'custom (Invoke + ClientContext)',
    ...OTHER,
    carry: { in: 'client-context' },
  },
]

const BATCH: ReadonlySet<EventSourceKind> = new Set(['sqs', 'sns', 'kinesis', 'dynamodb', 's3'])
const HTTP_KINDS: ReadonlySet<EventSourceKind> = new Set([
  'apigw-rest',
  'apigw-http',
  'apigw-websocket',
  'alb',
  'function-url',
])

function load(file: string): any {
  return JSON.parse(readFileSync(new URL(file, FIXTURES), 'utf8'))
}

/**
 * Puts `value` (the producer's traceparent unless a test says otherwise) where `carry` says, as
 * the producer or AWS would. Returns what goes on the Lambda context (the Invoke ClientContext).
 */
function addContext(
  event: any,
  carry: Carry | undefined,
  value: unknown = TRACEPARENT,
): Partial<LambdaContextLike> {
  switch (carry?.in) {
    case 'headers':
      event.headers ??= {}
      event.headers[carry.name] = value
      if (event.multiValueHeaders !== null && typeof event.multiValueHeaders === 'object') {
        event.multiValueHeaders[carry.name] = Array.isArray(value) ? value : [value]
      }
      return {}
    case 'sqs':
      event.Records[carry.record].messageAttributes ??= {}
      event.Records[carry.record].messageAttributes.traceparent = {
        stringValue: value,
        stringListValues: [],
        binaryListValues: [],
        dataType: 'String',
      }
      return {}
    case 'sqs-envelope': {
      const record = event.Records[carry.record]
      const envelope = JSON.parse(record.body)
      envelope.MessageAttributes = { traceparent: { Type: 'String', Value: value } }
      // SNS writes the envelope pretty-printed with ` : `; JSON.stringify spacing is as good for a reader.
      record.body = JSON.stringify(envelope, null, 2)
      return {}
    }
    case 'sns':
      event.Records[carry.record].Sns.MessageAttributes ??= {}
      event.Records[carry.record].Sns.MessageAttributes.traceparent = { Type: 'String', Value: value }
      return {}
    case 'detail':
      event.detail._tracehop = { traceparent: value }
      return {}
    case 'sqs-eventbridge-detail': {
      const record = event.Records[carry.record]
      const envelope = JSON.parse(record.body)
      envelope.detail._tracehop = { traceparent: value }
      record.body = JSON.stringify(envelope)
      return {}
    }
    case 'client-context':
      return { clientContext: { client: {}, env: {}, custom: { traceparent: value } } }
    default:
      return {}
  }
}

/** The producer span a case's trace must continue, if any. */
function expectedParent(c: Case): { traceId: string; spanId: string } | undefined {
  if (c.carry === undefined) return undefined
  if (c.carry.in === 'aws-trace-header') return { traceId: c.carry.traceId, spanId: c.carry.spanId }
  return { traceId: TRACE_ID, spanId: PARENT_ID }
}

interface Run {
  readonly event: any
  readonly context: LambdaContextLike & { awsRequestId: string }
  readonly result: unknown
  readonly spans: readonly SpanRecord[]
  readonly root: SpanRecord
  readonly stats: TracerStats
  readonly sameOrigin: Record<string, string> | undefined
  readonly hostOrigin: Record<string, string> | undefined
  readonly thirdParty: Record<string, string>
}

/** One invocation of the fixture through withTrace, as a user's handler for that source would run. */
async function run(c: Case): Promise<Run> {
  const event = load(c.file)
  const context = lambdaContext(3000, addContext(event, c.carry))
  const memory = memoryExporter()
  const seen: {
    tracer?: Tracer
    sameOrigin?: Record<string, string>
    hostOrigin?: Record<string, string>
    thirdParty?: Record<string, string>
  } = {}
  const handler = withTrace(
    async (e: any, ctx: LambdaContextLike) => {
      const span = traceOf(ctx)
      seen.tracer = span.scope.tracer
      if (c.origin !== undefined) seen.sameOrigin = span.headers(`${c.origin}/next-hop`)
      if (c.hostOrigin !== undefined) seen.hostOrigin = span.headers(`${c.hostOrigin}/next-hop`)
      seen.thirdParty = span.headers('https://api.third-party.example/v1')
      if (BATCH.has(c.source)) {
        return forEachRecord(e, ctx, (record: unknown, recordSpan) => {
          recordSpan.set('sweep.record', e.Records.indexOf(record))
        })
      }
      return HTTP_KINDS.has(c.source) ? { statusCode: 200, body: 'ok' } : { handled: true }
    },
    { service: 'sweep', exporters: [memory], flush: { windowMs: 0 } },
  )
  const result = await handler(event, context)
  const spans = memory.spans()
  const roots = spans.filter((s) => s.attributes['faas.invocation_id'] === context.awsRequestId)
  expect(roots, 'exactly one invocation span').toHaveLength(1)
  return {
    event,
    context,
    result,
    spans,
    root: roots[0]!,
    stats: seen.tracer!.stats(),
    sameOrigin: seen.sameOrigin,
    hostOrigin: seen.hostOrigin,
    thirdParty: seen.thirdParty!,
  }
}

async function check(c: Case): Promise<void> {
  const event = load(c.file)
  expect(detectSource(event)).toBe(c.source)
  const r = await run(c)
  const { root, spans } = r

  // The handler's result comes back unchanged.
  if (BATCH.has(c.source)) expect(r.result).toEqual({ batchItemFailures: [] })
  else if (HTTP_KINDS.has(c.source)) expect(r.result).toEqual({ statusCode: 200, body: 'ok' })
  else expect(r.result).toEqual({ handled: true })

  // The invocation span: name, kind, FaaS attributes (OTel "Instrumenting AWS Lambda").
  expect(root.name).toBe(c.name)
  expect(root.kind).toBe(c.kind)
  expect(root.attributes).toMatchObject({
    'faas.trigger': c.trigger,
    'faas.coldstart': true,
    'faas.invocation_id': r.context.awsRequestId,
    'faas.name': FUNCTION_NAME,
    'cloud.provider': 'aws',
    'cloud.platform': 'aws_lambda',
    'cloud.account.id': ACCOUNT_ID,
    ...c.attributes,
  })
  for (const name of c.absent ?? []) expect(root.attributes[name], name).toBeUndefined()
  if (HTTP_KINDS.has(c.source)) expect(root.attributes['http.response.status_code']).toBe(200)
  if (c.source === 'sqs' || c.source === 'sns') {
    expect(root.attributes).toMatchObject({
      'messaging.system': c.records?.system,
      'messaging.operation.type': 'process',
      'messaging.batch.message_count': c.records?.count,
      'messaging.destination.name': c.name.slice('process '.length),
    })
  }
  if (c.xrayRoot !== undefined) expect(root.attributes['aws.xray.trace_id']).toBe(c.xrayRoot)

  // Trace context: continued by the invocation (single-message sources) or by the record's
  // own span, which the invocation links to (batches: OTel messaging, "batch receiving").
  const parent = expectedParent(c)
  if (c.records === undefined) {
    if (parent !== undefined) {
      expect(root.traceId).toBe(parent.traceId)
      expect(root.parentSpanId).toBe(parent.spanId)
      expect(root.remoteParent).toBe(true)
    } else {
      expect(root.parentSpanId).toBeUndefined()
      expect(root.remoteParent).toBe(false)
    }
    expect(r.stats.scopes).toMatchObject({ started: 1, sampled: 1, notSampled: 0 })
  } else {
    // A batch invocation never has a parent of its own.
    expect(root.parentSpanId).toBeUndefined()
    checkRecords(c, r, parent)
  }

  // Same-origin rule: the API's own origin receives the trace headers; a third party never does.
  if (c.origin !== undefined)
    expect(r.sameOrigin?.['traceparent']).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-0[0-3]$/)
  // An ALB passes the client's Host along: not the service's own origin.
  if (c.hostOrigin !== undefined) expect(r.hostOrigin).toEqual({})
  expect(r.thirdParty).toEqual({})

  // Every span exported, none dropped or force-ended, nothing counted as malformed that is not.
  expect(r.stats.invalid).toEqual(c.invalid ?? {})
  expect(r.stats.spans.dropped).toEqual({})
  expect(r.stats.spans.forceEnded).toBe(0)
  expect(r.stats.spans.exported).toBe(spans.length)
  // A well-formed tree: every parent is exported here, or is the remote producer.
  for (const s of spans) {
    if (s.parentSpanId !== undefined && !s.remoteParent) {
      expect(spans.some((p) => p.spanId === s.parentSpanId)).toBe(true)
    }
  }
}

function checkRecords(c: Case, r: Run, parent: { traceId: string; spanId: string } | undefined): void {
  const expected = c.records!
  const { root, spans } = r
  const records = spans.filter((s) => typeof s.attributes['sweep.record'] === 'number')
  const carried = c.carry !== undefined && 'record' in c.carry ? c.carry.record : undefined
  // Every record's span is exported (ratio 1; an X-Ray Sampled=0 does not decide).
  const kept = Array.from({ length: expected.count }, (_, i) => i)
  expect(records).toHaveLength(kept.length)
  expect(r.stats.scopes.notSampled).toBe(0)
  const ordered = [...records].sort(
    (a, b) => (a.attributes['sweep.record'] as number) - (b.attributes['sweep.record'] as number),
  )
  ordered.forEach((s, k) => {
    const i = kept[k]!
    expect(s.attributes['sweep.record']).toBe(i)
    expect(s.kind).toBe(SpanKind.CONSUMER)
    expect(s.name).toBe(expected.name)
    expect(s.attributes['messaging.operation.type']).toBe('process')
    if (expected.system !== undefined) expect(s.attributes['messaging.system']).toBe(expected.system)
    if (expected.ids !== undefined) expect(s.attributes['messaging.message.id']).toBe(expected.ids[i])
    else expect(s.attributes['messaging.message.id']).toBeUndefined()
    if (i === carried && parent !== undefined) {
      // The record continues its producer's trace and links back to the invocation.
      expect(s.traceId).toBe(parent.traceId)
      expect(s.parentSpanId).toBe(parent.spanId)
      expect(s.remoteParent).toBe(true)
      expect(s.links).toContainEqual(expect.objectContaining({ traceId: root.traceId, spanId: root.spanId }))
    } else {
      // No context of its own: a child of the invocation span.
      expect(s.traceId).toBe(root.traceId)
      expect(s.parentSpanId).toBe(root.spanId)
    }
  })
  if (parent !== undefined && carried !== undefined) {
    // The invocation links to the producer, naming the message.
    expect(root.links).toContainEqual(
      expect.objectContaining({
        traceId: parent.traceId,
        spanId: parent.spanId,
        attributes: { 'messaging.message.id': expected.ids?.[carried] },
      }),
    )
  } else {
    expect(root.links).toEqual([])
  }
}

let restore: (() => void) | undefined
beforeAll(() => {
  // The X-Ray environment of a real invocation would add a link; these runs are about the event.
  restore = setEnv({ _X_AMZN_TRACE_ID: undefined, AWS_LAMBDA_INITIALIZATION_TYPE: undefined })
})
afterAll(() => restore?.())

describe('real Lambda event payloads through withTrace', () => {
  for (const c of CASES) {
    const title = `${c.what}: ${c.file} -> ${c.source} "${c.name}" (faas.trigger ${c.trigger})`
    it(title, () => check(c))
  }
})

describe('the sweep fixtures with arbitrary values where the trace context goes', () => {
  const value = fc.oneof(
    fc.string(),
    fc.string().map((s) => `00-${s}`),
    fc.constant(TRACEPARENT.toUpperCase()),
    fc.integer(),
    fc.constant(null),
    fc.array(fc.string(), { maxLength: 3 }),
    fc.object({ maxDepth: 1 }),
  )

  it('never throw, return the handler result, and keep every exported tree well formed', async () => {
    const memory = memoryExporter()
    const handler = withTrace(
      async (e: any, ctx: LambdaContextLike) => {
        if (Array.isArray(e?.Records)) await forEachRecord(e, ctx, () => undefined)
        return 'done'
      },
      { service: 'sweep', exporters: [memory], flush: { windowMs: 0 } },
    )
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...CASES), value, async (c, v) => {
        memory.clear()
        const event = load(c.file)
        const extra = addContext(event, c.carry, v)
        expect(await handler(event, lambdaContext(3000, extra))).toBe('done')
        const spans = memory.spans()
        expect(spans.length).toBeGreaterThan(0)
        for (const s of spans) {
          // A malformed value is never continued: only the fixture's own X-Ray header may be.
          if (s.remoteParent) expect(s.traceId).not.toBe(TRACE_ID)
          else if (s.parentSpanId !== undefined) {
            expect(spans.some((p) => p.spanId === s.parentSpanId)).toBe(true)
          }
        }
      }),
      { numRuns: 300 },
    )
  })
})
