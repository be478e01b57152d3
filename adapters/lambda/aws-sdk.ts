/**
 * Producers: AWS SDK v3 clients whose sends continue the trace. `traced(client, span)`
 * returns an object with the client's own methods and types; each `send` gets an
 * `initialize`-step middleware on that one command (added just before the SDK resolves the
 * command's middleware stack and removed right after, so neither the shared client nor the
 * user's command keeps it) that opens a PRODUCER (or CLIENT) span and writes its context:
 *
 * | Command                         | Where the context goes                                  |
 * | ------------------------------- | ------------------------------------------------------- |
 * | SQS `SendMessage(Batch)`        | `MessageAttributes` (String); X-Ray as `AWSTraceHeader` |
 * | SNS `Publish(Batch)` to a topic | `MessageAttributes` (String)                            |
 * | EventBridge `PutEvents`         | `Detail._tracehop` (object of header names); X-Ray as `TraceHeader` |
 * | Lambda `Invoke`                 | `ClientContext` (base64 JSON) `custom`                  |
 *
 * Nothing here may fail a send: what does not fit (10 attributes, message size, a `Detail`
 * that is not a JSON object, the 3,583-byte ClientContext) is skipped and counted, and the
 * request goes out as the user wrote it. Other commands pass through untouched.
 */

import { type Attributes, type Span, SpanKind, StatusCode } from '../../src/index.js'
import { clientErrorType } from '../../src/internal.js'
import { EVENTBRIDGE_DETAIL_KEY } from './carriers.js'
import { arnResource, asObject, asString } from './event-values.js'
import {
  addContextAttributes,
  base64Utf8,
  countSkipped,
  fromBase64Utf8,
  messageSize,
  utf8Length,
} from './message-attributes.js'

// Ref: @smithy/types MiddlewareStack (add/remove by name)
interface MiddlewareStackLike {
  add(middleware: unknown, options: { step: string; name: string; override?: boolean }): void
  remove(name: string): boolean
}

// Ref: @smithy/types Command
interface CommandLike {
  readonly input?: unknown
  readonly middlewareStack?: MiddlewareStackLike
}

// Ref: @smithy/types Client
/** Any AWS SDK v3 client (`SQSClient`, `SNSClient`, `EventBridgeClient`, `LambdaClient`, …, or the aggregated `SQS`). */
export interface AwsClientLike {
  send(command: unknown, ...rest: unknown[]): unknown
}

// Ref: @smithy/types HandlerExecutionContext, InitializeHandlerArguments/Output
interface HandlerContextLike {
  readonly clientName?: string
  readonly commandName?: string
}
type InitializeHandler = (args: { input: unknown }) => Promise<{ output: unknown; response?: unknown }>

const MIDDLEWARE_NAME = 'tracehopPropagation'
const XRAY = 'x-amzn-trace-id'
// Lambda Invoke: "Up to 3,583 bytes of base64-encoded data" (Lambda API reference, Invoke).
const CLIENT_CONTEXT_LIMIT = 3583
// EventBridge PutEvents: the whole request's entries must stay within 256 KB.
const PUT_EVENTS_LIMIT = 256 * 1024

/** What one producer command does: its span, and how the context gets into its input. */
interface Operation {
  readonly kind: SpanKind
  /** Span name and attributes from the input. */
  describe(input: Record<string, unknown>): { name: string; attributes: Attributes }
  /** A copy of `input` carrying `headers`; counts what did not fit on `span`. */
  inject(
    input: Record<string, unknown>,
    headers: Readonly<Record<string, string>>,
    span: Span,
  ): Record<string, unknown>
  /** Attributes from the output (message id). */
  output?(output: Record<string, unknown>, span: Span): void
}

/**
 * An AWS SDK v3 client whose producer calls continue the trace of `span`: SQS
 * `SendMessage`/`SendMessageBatch`, SNS `Publish`/`PublishBatch`, EventBridge `PutEvents`
 * and Lambda `Invoke` each get a span and carry its context to the consumer (which
 * `withTrace` reads back). Same methods and types as `client`; the client itself is not
 * changed, so one client can be shared by all invocations and wrapped per invocation.
 *
 * @example
 * const sqs = new SQSClient({})                           // once, at module load
 * export const handler = withTrace(async (event, context) => {
 *   await traced(sqs, traceOf(context)).send(new SendMessageCommand({ QueueUrl, MessageBody: '…' }))
 * }, { service: 'orchestrator' })
 */
export function traced<C extends AwsClientLike>(client: C, span: Span): C {
  const wrapper = Object.create(client) as C
  Object.defineProperty(wrapper, 'send', {
    configurable: true,
    writable: true,
    value: function tracedSend(
      command: CommandLike,
      optionsOrCallback?: unknown,
      callback?: unknown,
    ): unknown {
      const stack = command?.middlewareStack
      if (stack === undefined || typeof stack.add !== 'function' || typeof stack.remove !== 'function') {
        return client.send(command, optionsOrCallback, callback)
      }
      // Passing options (even `{}`) keeps the SDK from reusing a handler resolved for
      // another command of the same class (`cacheMiddleware`), which would carry another span.
      const cb = typeof optionsOrCallback === 'function' ? optionsOrCallback : callback
      const options =
        typeof optionsOrCallback === 'function' || optionsOrCallback == null ? {} : optionsOrCallback
      stack.add(propagationMiddleware(span), { step: 'initialize', name: MIDDLEWARE_NAME, override: true })
      try {
        return cb === undefined ? client.send(command, options) : client.send(command, options, cb)
      } finally {
        // The handler is resolved synchronously inside send(): the command is left as it was.
        stack.remove(MIDDLEWARE_NAME)
      }
    },
  })
  return wrapper
}

function propagationMiddleware(parent: Span) {
  return function tracehopInitialize(
    next: InitializeHandler,
    context: HandlerContextLike,
  ): InitializeHandler {
    const operation = OPERATIONS.get(`${context.clientName}.${context.commandName}`)
    if (operation === undefined) return next
    return async function tracehopPropagate(args) {
      const input = asObject(args.input) ?? {}
      let span: Span | undefined
      let injected: Record<string, unknown>
      try {
        const { name, attributes } = operation.describe(input)
        span = parent.startChild(name, { kind: operation.kind, attributes })
        injected = operation.inject(input, span.headers(), span)
      } catch {
        // Reading a hostile input: send what the user wrote, untraced.
        span?.end()
        return next(args)
      }
      try {
        const result = await next({ ...args, input: injected })
        const output = asObject(result.output)
        if (output !== undefined) {
          try {
            operation.output?.(output, span)
            const requestId = asString(asObject(output['$metadata'])?.['requestId'])
            if (requestId !== undefined) span.set('aws.request_id', requestId)
          } catch {
            // Output attributes are a nicety.
          }
        }
        span.end()
        return result
      } catch (err) {
        span.set('error.type', clientErrorType(err))
        span.error(err)
        span.end()
        throw err
      }
    }
  }
}

function messagingAttributes(
  system: string,
  destination: string | undefined,
  service: string,
  method: string,
): Attributes {
  const attributes: Attributes = {
    'messaging.system': system,
    'messaging.operation.type': 'send',
    'messaging.operation.name': 'send',
    'rpc.system': 'aws-api',
    'rpc.service': service,
    'rpc.method': method,
  }
  if (destination !== undefined) attributes['messaging.destination.name'] = destination
  return attributes
}

/** `https://sqs.us-east-1.amazonaws.com/123456789012/my-queue` → `my-queue`. */
function queueName(url: string | undefined): string | undefined {
  if (url === undefined) return undefined
  const i = url.lastIndexOf('/')
  return i >= 0 && i < url.length - 1 ? url.slice(i + 1) : undefined
}

function skipped(span: Span, n: number): void {
  if (n <= 0) return
  span.set(
    'tracehop.propagation.skipped',
    ((span.get('tracehop.propagation.skipped') as number | undefined) ?? 0) + n,
  )
  countSkipped(span.scope.tracer, n)
}

/** SQS: X-Ray travels as the `AWSTraceHeader` system attribute (not counted in the 10). */
function withTraceHeader(
  entry: Record<string, unknown>,
  headers: Readonly<Record<string, string>>,
): Record<string, unknown> {
  const xray = headers[XRAY]
  if (xray === undefined) return entry
  const system = asObject(entry['MessageSystemAttributes'])
  if (system?.['AWSTraceHeader'] !== undefined) return entry
  return {
    ...entry,
    MessageSystemAttributes: { ...system, AWSTraceHeader: { DataType: 'String', StringValue: xray } },
  }
}

function sqsEntry(
  entry: Record<string, unknown>,
  headers: Readonly<Record<string, string>>,
  counted: number,
  span: Span,
): { entry: Record<string, unknown>; grew: number } {
  const fitted = addContextAttributes(entry['MessageAttributes'], headers, counted, XRAY)
  skipped(span, fitted.skipped)
  const out = fitted.added > 0 ? { ...entry, MessageAttributes: fitted.attributes } : entry
  return { entry: withTraceHeader(out, headers), grew: fitted.grew }
}

function snsEntry(
  entry: Record<string, unknown>,
  headers: Readonly<Record<string, string>>,
  counted: number,
  span: Span,
): { entry: Record<string, unknown>; grew: number } {
  const fitted = addContextAttributes(entry['MessageAttributes'], headers, counted)
  skipped(span, fitted.skipped)
  return {
    entry: fitted.added > 0 ? { ...entry, MessageAttributes: fitted.attributes } : entry,
    grew: fitted.grew,
  }
}

/** A batch: every entry carries the batch span's context; the whole request stays within its size limit. */
function injectBatch(
  entries: unknown,
  body: string,
  headers: Readonly<Record<string, string>>,
  span: Span,
  one: typeof sqsEntry,
): unknown[] | undefined {
  if (!Array.isArray(entries)) return undefined
  let total = 0
  for (const e of entries) {
    const o = asObject(e)
    if (o !== undefined) total += messageSize(o[body], o['MessageAttributes'])
  }
  const out: unknown[] = []
  for (const e of entries) {
    const o = asObject(e)
    if (o === undefined) {
      out.push(e)
      continue
    }
    const r = one(o, headers, total, span)
    total += r.grew
    out.push(r.entry)
  }
  return out
}

function sqsDescribe(
  input: Record<string, unknown>,
  method: string,
): { name: string; attributes: Attributes } {
  const url = asString(input['QueueUrl'])
  const name = queueName(url)
  const attributes = messagingAttributes('aws_sqs', name, 'SQS', method)
  if (url !== undefined) attributes['aws.sqs.queue.url'] = url
  return { name: `send ${name ?? 'queue'}`, attributes }
}

/** A single send's message id, as `messaging.message.id` on the producer span. */
function recordMessageId(output: Record<string, unknown>, span: Span): void {
  const id = asString(output['MessageId'])
  if (id !== undefined) span.set('messaging.message.id', id)
}

const SQS_SEND: Operation = {
  kind: SpanKind.PRODUCER,
  describe: (input) => sqsDescribe(input, 'SendMessage'),
  inject(input, headers, span) {
    return sqsEntry(input, headers, messageSize(input['MessageBody'], input['MessageAttributes']), span).entry
  },
  output: recordMessageId,
}

const SQS_SEND_BATCH: Operation = {
  kind: SpanKind.PRODUCER,
  describe(input) {
    const d = sqsDescribe(input, 'SendMessageBatch')
    if (Array.isArray(input['Entries']))
      d.attributes['messaging.batch.message_count'] = input['Entries'].length
    return d
  },
  inject(input, headers, span) {
    const entries = injectBatch(input['Entries'], 'MessageBody', headers, span, sqsEntry)
    return entries === undefined ? input : { ...input, Entries: entries }
  },
  output(output, span) {
    if (Array.isArray(output['Failed']) && output['Failed'].length > 0) {
      span.status(StatusCode.ERROR, `${output['Failed'].length} message(s) failed`)
    }
  },
}

function snsDescribe(
  input: Record<string, unknown>,
  method: string,
): { name: string; attributes: Attributes } {
  const arn = asString(input['TopicArn']) ?? asString(input['TargetArn'])
  const name = arnResource(arn)
  const attributes = messagingAttributes('aws.sns', name, 'SNS', method)
  if (arn !== undefined) attributes['aws.sns.topic.arn'] = arn
  return { name: `send ${name ?? 'topic'}`, attributes }
}

const SNS_PUBLISH: Operation = {
  kind: SpanKind.PRODUCER,
  describe: (input) => snsDescribe(input, 'Publish'),
  inject(input, headers, span) {
    // Topics only: SMS and mobile push endpoints reserve their own attributes.
    if (asString(input['TopicArn']) === undefined) return input
    return snsEntry(input, headers, messageSize(input['Message'], input['MessageAttributes']), span).entry
  },
  output: recordMessageId,
}

const SNS_PUBLISH_BATCH: Operation = {
  kind: SpanKind.PRODUCER,
  describe(input) {
    const d = snsDescribe(input, 'PublishBatch')
    const entries = input['PublishBatchRequestEntries']
    if (Array.isArray(entries)) d.attributes['messaging.batch.message_count'] = entries.length
    return d
  },
  inject(input, headers, span) {
    const entries = injectBatch(input['PublishBatchRequestEntries'], 'Message', headers, span, snsEntry)
    return entries === undefined ? input : { ...input, PublishBatchRequestEntries: entries }
  },
  output(output, span) {
    if (Array.isArray(output['Failed']) && output['Failed'].length > 0) {
      span.status(StatusCode.ERROR, `${output['Failed'].length} message(s) failed`)
    }
  },
}

/** AWS's PutEvents entry size: 14 bytes for the time, plus source, detail type, detail and resources. */
function eventEntrySize(e: Record<string, unknown>): number {
  let n = 14
  for (const k of ['Source', 'DetailType', 'Detail'] as const) {
    const v = e[k]
    if (typeof v === 'string') n += utf8Length(v)
  }
  if (Array.isArray(e['Resources']))
    for (const r of e['Resources']) if (typeof r === 'string') n += utf8Length(r)
  return n
}

const PUT_EVENTS: Operation = {
  kind: SpanKind.PRODUCER,
  describe(input) {
    const entries = Array.isArray(input['Entries']) ? input['Entries'] : []
    const bus = asString(asObject(entries[0])?.['EventBusName'])
    const name = bus === undefined ? 'default' : (arnResource(bus)?.replace(/^event-bus\//, '') ?? bus)
    const attributes = messagingAttributes('aws.eventbridge', name, 'EventBridge', 'PutEvents')
    attributes['messaging.batch.message_count'] = entries.length
    return { name: `send ${name}`, attributes }
  },
  inject(input, headers, span) {
    if (!Array.isArray(input['Entries'])) return input
    const ctx: Record<string, string> = {}
    for (const key in headers) if (key !== XRAY) ctx[key] = headers[key]!
    const xray = headers[XRAY]
    let total = 0
    for (const e of input['Entries']) {
      const o = asObject(e)
      if (o !== undefined) total += eventEntrySize(o)
    }
    const entries: unknown[] = []
    for (const e of input['Entries']) {
      const o = asObject(e)
      const detail = typeof o?.['Detail'] === 'string' ? parseDetail(o['Detail']) : undefined
      if (o === undefined || detail === undefined || EVENTBRIDGE_DETAIL_KEY in detail) {
        // A Detail that is not a JSON object (or already carries a context) is sent as written.
        if (o !== undefined) skipped(span, 1)
        entries.push(e)
        continue
      }
      const text = JSON.stringify({ ...detail, [EVENTBRIDGE_DETAIL_KEY]: ctx })
      const grew = utf8Length(text) - utf8Length(o['Detail'] as string)
      if (total + grew > PUT_EVENTS_LIMIT) {
        skipped(span, 1)
        entries.push(e)
        continue
      }
      total += grew
      const out: Record<string, unknown> = { ...o, Detail: text }
      if (xray !== undefined && o['TraceHeader'] === undefined) out['TraceHeader'] = xray
      entries.push(out)
    }
    return { ...input, Entries: entries }
  },
  output(output, span) {
    const failed = output['FailedEntryCount']
    if (typeof failed === 'number' && failed > 0) span.status(StatusCode.ERROR, `${failed} event(s) failed`)
  },
}

function parseDetail(text: string): Record<string, unknown> | undefined {
  try {
    return asObject(JSON.parse(text))
  } catch {
    return undefined
  }
}

/** `arn:aws:lambda:us-east-1:123456789012:function:retrieval:live` → `retrieval`; a plain name stays. */
function functionName(name: string | undefined): string | undefined {
  if (name === undefined) return undefined
  const parts = name.split(':')
  const i = parts.indexOf('function')
  return i >= 0 && i + 1 < parts.length ? parts[i + 1] : name
}

const LAMBDA_INVOKE: Operation = {
  kind: SpanKind.CLIENT,
  describe(input) {
    const name = functionName(asString(input['FunctionName']))
    const attributes: Attributes = {
      'faas.invoked_provider': 'aws',
      'rpc.system': 'aws-api',
      'rpc.service': 'Lambda',
      'rpc.method': 'Invoke',
    }
    if (name !== undefined) attributes['faas.invoked_name'] = name
    return { name: `invoke ${name ?? 'function'}`, attributes }
  },
  inject(input, headers, span) {
    // Our keys never overwrite the user's own `custom` entries.
    let clientContext: Record<string, unknown> = {}
    const existing = asString(input['ClientContext'])
    if (existing !== undefined) {
      const text = fromBase64Utf8(existing)
      let parsed: unknown
      try {
        parsed = text === undefined ? undefined : JSON.parse(text)
      } catch {
        parsed = undefined
      }
      const o = asObject(parsed)
      if (o === undefined) {
        skipped(span, 1)
        return input
      }
      clientContext = o
    }
    const custom = { ...headers, ...asObject(clientContext['custom']) }
    const encoded = base64Utf8(JSON.stringify({ ...clientContext, custom }))
    if (encoded.length > CLIENT_CONTEXT_LIMIT) {
      skipped(span, 1)
      return input
    }
    return { ...input, ClientContext: encoded }
  },
  output(output, span) {
    const status = output['StatusCode']
    if (typeof status === 'number') span.set('rpc.response.status_code', status)
    if (typeof output['FunctionError'] === 'string') span.status(StatusCode.ERROR, output['FunctionError'])
  },
}

const OPERATIONS: ReadonlyMap<string, Operation> = new Map([
  ['SQSClient.SendMessageCommand', SQS_SEND],
  ['SQSClient.SendMessageBatchCommand', SQS_SEND_BATCH],
  ['SNSClient.PublishCommand', SNS_PUBLISH],
  ['SNSClient.PublishBatchCommand', SNS_PUBLISH_BATCH],
  ['EventBridgeClient.PutEventsCommand', PUT_EVENTS],
  ['LambdaClient.InvokeCommand', LAMBDA_INVOKE],
  ['LambdaClient.InvokeWithResponseStreamCommand', LAMBDA_INVOKE],
])
