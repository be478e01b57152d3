/**
 * Carriers for each place a Lambda event hides trace context. Each one is a getter over
 * the event as AWS delivers it: the propagation formats read them exactly like HTTP
 * headers, case-insensitively, and nothing here knows the formats.
 *
 * - API Gateway REST (v1) and ALB: `multiValueHeaders` (every value, joined) before
 *   `headers`; REST keeps the client's casing (`Traceparent`).
 * - HTTP API (v2) and Function URLs: `headers` (lowercase, repeated values already joined).
 * - SQS record: `messageAttributes.<name>.stringValue` (Lambda's camelCase; the SDK's
 *   `StringValue` is read too), the X-Ray header from the `AWSTraceHeader` system attribute,
 *   and for SNS->SQS without raw delivery the `MessageAttributes` of the SNS envelope in
 *   the body; for EventBridge->SQS, the `detail._tracehop` of the event in the body.
 * - SNS record: `Sns.MessageAttributes.<name>.Value` (`Type: String`).
 * - EventBridge: `detail._tracehop`, an object of header names to values (what
 *   `traced(eventBridgeClient, span)` writes).
 * - `Lambda.Invoke`: `context.clientContext.custom` (the `ClientContext` JSON's `custom`).
 */
import { type CarrierGetter, type HeaderRecord, recordCarrier } from '../../src/index.js'
import { asObject, asString } from './event-values.js'
import { memberExtents, parseMember } from './json-members.js'

type Obj = Record<string, unknown>

/** The EventBridge `detail` property that carries the context: `{ traceparent, tracestate?, baggage?, … }`. */
export const EVENTBRIDGE_DETAIL_KEY = '_tracehop'

const XRAY = 'x-amzn-trace-id'
const TRACEPARENT = 'traceparent'
const LANGSMITH_TRACE = 'langsmith-trace'
// An SNS envelope is at most the SNS message limit plus its JSON framing; a bigger body is not one.
const MAX_ENVELOPE_CHARS = 300 * 1024
// A context member (`MessageAttributes`, `detail._tracehop`, one attribute) is parsed only
// up to this size: what tracehop writes is a few hundred bytes.
const MAX_MEMBER_CHARS = 64 * 1024
/** The attribute names a large `MessageAttributes` is searched for (what tracehop writes). */
const CONTEXT_NAMES: readonly string[] = ['traceparent', 'tracestate', 'baggage', 'langsmith-trace', XRAY]
const SNS_MEMBERS: readonly string[] = ['Type', 'TopicArn', 'MessageAttributes']
const EVENT_MEMBERS: readonly string[] = ['detail-type', 'detail']
const DETAIL_MEMBERS: readonly string[] = [EVENTBRIDGE_DETAIL_KEY]

/**
 * Headers of an HTTP event (REST v1, HTTP API v2, ALB, Function URL), or undefined without any.
 *
 * @example
 * tracer.start(httpEventCarrier(event)) // REST v1, HTTP API v2, ALB, Function URL
 */
export function httpEventCarrier(event: unknown): CarrierGetter | undefined {
  const e = asObject(event)
  if (e === undefined) return undefined
  const multi = asObject(e['multiValueHeaders'])
  const single = asObject(e['headers'])
  if (multi === undefined) return single === undefined ? undefined : recordCarrier(single as HeaderRecord)
  if (single === undefined) return recordCarrier(multi as HeaderRecord)
  return new FallbackCarrier(recordCarrier(multi as HeaderRecord), recordCarrier(single as HeaderRecord))
}

/** Reads `first`, then `second` for names `first` lacks. */
class FallbackCarrier implements CarrierGetter {
  constructor(
    private readonly first: CarrierGetter,
    private readonly second: CarrierGetter,
  ) {}
  get(name: string): string | undefined {
    return this.first.get(name) ?? this.second.get(name)
  }
}

type ValueReader = (attribute: unknown) => string | undefined

/** SQS: `{ stringValue, dataType: 'String' }` (Lambda event) or `{ StringValue, DataType }` (SDK). */
function sqsAttributeValue(attribute: unknown): string | undefined {
  const a = asObject(attribute)
  if (a === undefined) return undefined
  const type = asString(a['dataType']) ?? asString(a['DataType'])
  if (type !== undefined && !type.startsWith('String')) return undefined
  return asString(a['stringValue']) ?? asString(a['StringValue'])
}

/** SNS: `{ Type: 'String', Value }` (Lambda event and SNS envelope alike). */
function snsAttributeValue(attribute: unknown): string | undefined {
  const a = asObject(attribute)
  if (a === undefined) return undefined
  const type = asString(a['Type'])
  if (type !== undefined && !type.startsWith('String')) return undefined
  return asString(a['Value'])
}

/**
 * A map of message attributes read case-insensitively: an exact match first, then a
 * lowercase index built once, the first time a name misses.
 */
class AttributeCarrier implements CarrierGetter {
  private index: Map<string, string> | undefined

  constructor(
    private readonly attributes: Obj,
    private readonly read: ValueReader,
  ) {}

  get(name: string): string | undefined {
    const direct = this.read(this.attributes[name])
    if (direct !== undefined) return direct
    if (this.index === undefined) {
      this.index = new Map()
      for (const key in this.attributes) {
        const value = this.read(this.attributes[key])
        if (value !== undefined) this.index.set(key.toLowerCase(), value)
      }
    }
    return this.index.get(name)
  }

  /** Whether these attributes carry a W3C or LangSmith context at all. */
  hasContext(): boolean {
    return this.get(TRACEPARENT) !== undefined || this.get(LANGSMITH_TRACE) !== undefined
  }
}

/**
 * An SQS record's carrier: its message attributes, or (SNS->SQS without raw delivery) the
 * SNS envelope's, and the X-Ray header from the `AWSTraceHeader` system attribute.
 */
class SqsRecordCarrier implements CarrierGetter {
  private source: CarrierGetter | undefined
  private resolved = false

  constructor(private readonly record: Obj) {}

  get(name: string): string | undefined {
    if (name === XRAY) {
      const system = asString(asObject(this.record['attributes'])?.['AWSTraceHeader'])
      if (system !== undefined) return system
    }
    if (!this.resolved) {
      this.resolved = true
      this.source = this.pick()
    }
    return this.source?.get(name)
  }

  private pick(): CarrierGetter | undefined {
    const attrs = asObject(this.record['messageAttributes'])
    const own = attrs === undefined ? undefined : new AttributeCarrier(attrs, sqsAttributeValue)
    if (own?.hasContext()) return own
    const body = this.record['body']
    const envelope = snsEnvelopeAttributes(body)
    if (envelope !== undefined) {
      const carrier = new AttributeCarrier(envelope, snsAttributeValue)
      if (carrier.hasContext()) return carrier
    }
    // An EventBridge rule targeting the queue: the event itself is the body.
    const bridged = bridgedContext(body)
    if (bridged !== undefined && (bridged.get(TRACEPARENT) ?? bridged.get(LANGSMITH_TRACE)) !== undefined)
      return bridged
    return own
  }
}

/**
 * Whether `body` is a string that may be a JSON object mentioning `marker` (cheap checks:
 * most bodies are not envelopes). Only the members read are ever parsed, never the whole
 * body: a sender chooses its size and shape.
 */
function mayHold(body: unknown, marker: string): body is string {
  if (typeof body !== 'string' || body.length > MAX_ENVELOPE_CHARS) return false
  let i = 0
  while (i < body.length && body.charCodeAt(i) <= 32) i++
  return body.charCodeAt(i) === 123 /* { */ && body.includes(marker)
}

/** The `detail._tracehop` of an EventBridge event that is the body, as a carrier. Never throws. */
function bridgedContext(body: unknown): CarrierGetter | undefined {
  if (!mayHold(body, `"${EVENTBRIDGE_DETAIL_KEY}"`)) return undefined
  const event = memberExtents(body, 0, EVENT_MEMBERS)
  const detail = event?.get('detail')
  if (
    detail === undefined ||
    typeof parseMember(body, event!.get('detail-type'), MAX_MEMBER_CHARS) !== 'string'
  )
    return undefined
  const ctx = asObject(
    parseMember(
      body,
      memberExtents(body, detail[0], DETAIL_MEMBERS)?.get(EVENTBRIDGE_DETAIL_KEY),
      MAX_MEMBER_CHARS,
    ),
  )
  return ctx === undefined ? undefined : recordCarrier(ctx as HeaderRecord)
}

/**
 * The `MessageAttributes` of an SNS notification delivered to SQS without raw delivery:
 * the body is the SNS envelope JSON (`{"Type":"Notification", …, "MessageAttributes": …}`).
 * Undefined for any other body; never throws.
 *
 * @example
 * snsEnvelopeAttributes(sqsRecord.body)?.['traceparent'] // { Type: 'String', Value: '00-…' }
 */
export function snsEnvelopeAttributes(body: unknown): Obj | undefined {
  // An envelope is a JSON object that names its type.
  if (!mayHold(body, '"Notification"')) return undefined
  const at = memberExtents(body, 0, SNS_MEMBERS)
  if (
    at === undefined ||
    parseMember(body, at.get('Type'), 64) !== 'Notification' ||
    typeof parseMember(body, at.get('TopicArn'), MAX_MEMBER_CHARS) !== 'string'
  ) {
    return undefined
  }
  const attributes = at.get('MessageAttributes')
  if (attributes === undefined || attributes[1] - attributes[0] <= MAX_MEMBER_CHARS)
    return asObject(parseMember(body, attributes, MAX_MEMBER_CHARS))
  // A large one (a big attribute of the sender's own): only the names tracehop writes.
  const names = memberExtents(body, attributes[0], CONTEXT_NAMES)
  if (names === undefined) return undefined
  const out: Obj = {}
  for (const [name, value] of names) {
    const v = parseMember(body, value, MAX_MEMBER_CHARS)
    if (v !== undefined) out[name] = v
  }
  return out
}

/**
 * The carrier of one batch record (SQS or SNS); undefined for sources that carry none (Kinesis, S3).
 *
 * @example
 * const incoming = tracer.extract(recordCarrierOf(event.Records[0]))
 */
export function recordCarrierOf(record: unknown): CarrierGetter | undefined {
  const r = asObject(record)
  if (r === undefined) return undefined
  if (r['eventSource'] === 'aws:sqs') return new SqsRecordCarrier(r)
  const sns = asObject(r['Sns'])
  if (sns !== undefined) {
    const attrs = asObject(sns['MessageAttributes'])
    return attrs === undefined ? undefined : new AttributeCarrier(attrs, snsAttributeValue)
  }
  return undefined
}

/**
 * EventBridge: the `detail._tracehop` object, or undefined.
 *
 * @example
 * tracer.start(eventBridgeCarrier(event)) // event.detail._tracehop
 */
export function eventBridgeCarrier(event: unknown): CarrierGetter | undefined {
  const ctx = asObject(asObject(asObject(event)?.['detail'])?.[EVENTBRIDGE_DETAIL_KEY])
  return ctx === undefined ? undefined : recordCarrier(ctx as HeaderRecord)
}

/**
 * `Lambda.Invoke` with a `ClientContext`: the runtime decodes it onto
 * `context.clientContext`; its `custom` object carries the headers (`Custom` is how
 * `@types/aws-lambda` spells it, so both are read).
 *
 * @example
 * tracer.start(clientContextCarrier(context)) // context.clientContext.custom
 */
export function clientContextCarrier(context: unknown): CarrierGetter | undefined {
  const cc = asObject(asObject(context)?.['clientContext'])
  if (cc === undefined) return undefined
  const custom = asObject(cc['custom']) ?? asObject(cc['Custom'])
  return custom === undefined ? undefined : recordCarrier(custom as HeaderRecord)
}
