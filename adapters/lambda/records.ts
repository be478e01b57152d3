/**
 * Batch records (SQS, SNS, Kinesis, DynamoDB Streams, S3): the invocation span links to
 * every record's producer; each record gets its own `process` span whose parent is that
 * producer (OTel messaging conventions: a batch consumer links, a per-message span
 * continues), linked back to the invocation. A record with no context gets a child of
 * the invocation span instead.
 */

import {
  type Attributes,
  type FlushReport,
  type Span,
  SpanKind,
  StatusCode,
  TracehopError,
} from '../../src/index.js'
import { bindSpan } from '../../src/internal.js'
import { recordCarrierOf } from './carriers.js'
import type { EventSourceKind } from './event-source.js'
import { arnResource, asObject, asString } from './event-values.js'
import { type Invocation, invocations, type RecordEntry, recordEntries } from './state.js'
import type { BatchResponse, LambdaContextLike } from './types.js'

const BATCH_FAILURE = 'reported in batchItemFailures'
const INVOCATION_FAILED = 'the invocation failed'

/**
 * Registers a batch's records and links the invocation span to the first `linksPerSpan` producers.
 *
 * @example
 * registerRecords(invocation, event.Records) // the invocation span links to each producer
 */
export function registerRecords(invocation: Invocation, records: readonly unknown[]): void {
  const limit = invocation.tracer.config.limits.linksPerSpan
  const root = invocation.scope.root
  let linked = 0
  for (const record of records) {
    if (record === null || typeof record !== 'object') continue
    const entry: RecordEntry = {
      record,
      invocation,
      incoming: undefined,
      span: undefined,
      scope: undefined,
      ended: false,
    }
    recordEntries.set(record, entry)
    if (linked >= limit) continue
    const incoming = readIncoming(entry)
    const parent = incoming.parent
    if (parent !== undefined) {
      const id = messageId(record)
      root.link(parent, id === undefined ? undefined : { 'messaging.message.id': id })
      linked++
    }
  }
}

function readIncoming(entry: RecordEntry): NonNullable<RecordEntry['incoming']> {
  if (entry.incoming !== undefined) return entry.incoming
  const inv = entry.invocation
  let incoming: NonNullable<RecordEntry['incoming']>
  try {
    incoming = inv.tracer.extract(recordCarrierOf(entry.record), inv.ingress)
  } catch {
    inv.tracer.statsRecorder.countInvalid('event')
    incoming = { links: [] }
  }
  entry.incoming = incoming
  return incoming
}

/**
 * The span of one record, created on first use.
 *
 * @example
 * recordSpan(recordEntries.get(record)!).child('index', () => index(record))
 */
export function recordSpan(entry: RecordEntry): Span {
  if (entry.span !== undefined) return entry.span
  const inv = entry.invocation
  // After the invocation ended nothing would flush a new scope: hand out the invocation span.
  if (inv.finished) return inv.scope.root
  const incoming = readIncoming(entry)
  const { name, attributes } = describeRecord(entry.record, inv.source)
  let span: Span
  if (incoming.parent !== undefined) {
    const scope = inv.tracer.start(incoming.parent, {
      // Already believed as far as the invocation's ingress allows (readIncoming).
      ingress: 'trusted',
      name,
      kind: SpanKind.CONSUMER,
      attributes,
      links: [inv.scope.root.context()],
      flushBudgetMs: inv.flushBudgetMs,
    })
    if (incoming.xray !== undefined) scope.root.set('aws.xray.trace_id', incoming.xray.root)
    entry.scope = scope
    span = scope.root
  } else {
    span = inv.scope.root.startChild(name, { kind: SpanKind.CONSUMER, attributes, links: incoming.links })
  }
  entry.span = span
  inv.created.push(entry)
  bindSpan(entry.record, span)
  return span
}

/** Ends one record's span (its scope, when it has one), recording `error` if given. */
function endRecord(entry: RecordEntry, error: unknown, failed: boolean): void {
  if (entry.ended || entry.span === undefined) return
  entry.ended = true
  const span = entry.span
  if (failed && error === undefined) span.status(StatusCode.ERROR, BATCH_FAILURE)
  if (entry.scope !== undefined) {
    entry.invocation.pending.push(entry.scope.end(failed && error !== undefined ? { error } : undefined))
  } else {
    if (failed && error !== undefined) span.error(error)
    span.end()
  }
}

/**
 * At the invocation's end: records named in a returned `batchItemFailures` are marked
 * failed, record spans still open are ended, and every record flush is returned.
 *
 * @example
 * await Promise.all(settleRecords(invocation, { batchItemFailures: [{ itemIdentifier: 'msg-1' }] }))
 */
export function settleRecords(
  invocation: Invocation,
  result: unknown,
  threw = false,
): Promise<FlushReport>[] {
  const failed = threw ? undefined : failedIdentifiers(result)
  if (failed !== undefined) invocation.scope.root.set('aws.lambda.batch_item_failures', failed.size)
  for (const entry of invocation.created) {
    if (entry.ended) continue
    if (threw) {
      // The whole batch fails (and will be retried): so does every record still open.
      entry.span?.status(StatusCode.ERROR, INVOCATION_FAILED)
      endRecord(entry, undefined, false)
      continue
    }
    const id = itemIdentifier(entry.record, invocation.source)
    endRecord(entry, undefined, failed !== undefined && id !== undefined && failed.has(id))
  }
  return invocation.pending
}

function failedIdentifiers(result: unknown): Set<string> | undefined {
  const list = asObject(result)?.['batchItemFailures']
  if (!Array.isArray(list) || list.length === 0) return undefined
  const ids = new Set<string>()
  for (const item of list) {
    const id = asString(asObject(item)?.['itemIdentifier'])
    if (id !== undefined) ids.add(id)
  }
  return ids
}

function messageId(record: object): string | undefined {
  const r = record as Record<string, unknown>
  return asString(r['messageId']) ?? asString(asObject(r['Sns'])?.['MessageId'])
}

/**
 * The identifier Lambda expects in `batchItemFailures`: the SQS `messageId`, or the
 * Kinesis / DynamoDB Streams sequence number. Undefined where partial failure does not
 * exist (SNS, S3).
 *
 * @example
 * itemIdentifier(sqsRecord, 'sqs') // its messageId
 */
export function itemIdentifier(record: unknown, source: EventSourceKind): string | undefined {
  const r = asObject(record)
  if (r === undefined) return undefined
  if (source === 'sqs') return asString(r['messageId'])
  if (source === 'kinesis') return asString(asObject(r['kinesis'])?.['sequenceNumber'])
  if (source === 'dynamodb') return asString(asObject(r['dynamodb'])?.['SequenceNumber'])
  return undefined
}

function describeRecord(record: object, source: EventSourceKind): { name: string; attributes: Attributes } {
  const r = record as Record<string, unknown>
  const attributes: Attributes = { 'messaging.operation.type': 'process' }
  let destination: string | undefined
  if (source === 'sqs') {
    destination = arnResource(asString(r['eventSourceARN']))
    attributes['messaging.system'] = 'aws_sqs'
    const id = asString(r['messageId'])
    if (id !== undefined) attributes['messaging.message.id'] = id
  } else if (source === 'sns') {
    const sns = asObject(r['Sns'])
    const arn = asString(sns?.['TopicArn'])
    destination = arnResource(arn)
    attributes['messaging.system'] = 'aws.sns'
    if (arn !== undefined) attributes['aws.sns.topic.arn'] = arn
    const id = asString(sns?.['MessageId'])
    if (id !== undefined) attributes['messaging.message.id'] = id
  } else if (source === 'kinesis' || source === 'dynamodb') {
    const arn = asString(r['eventSourceARN'])
    // arn:aws:kinesis:…:stream/lambda-stream → lambda-stream
    destination = arn?.split('/')[1]
    const id = itemIdentifier(record, source)
    if (id !== undefined) attributes['messaging.message.id'] = id
  } else if (source === 's3') {
    destination = asString(asObject(asObject(r['s3'])?.['bucket'])?.['name'])
  }
  if (destination !== undefined) attributes['messaging.destination.name'] = destination
  return { name: `process ${destination ?? 'record'}`, attributes }
}

/** Options of {@link forEachRecord}. */
export interface ForEachRecordOptions {
  /**
   * Process records concurrently. Default false (one after another). Ignored for SQS FIFO
   * queues, where order matters: there the first failure stops processing and every
   * later record is reported failed, as AWS requires.
   */
  readonly parallel?: boolean
}

const FOR_EACH_HINT =
  'call forEachRecord(event, context, fn) inside a handler wrapped with withTrace, traceLambdaHandler or tracehopMiddleware, with the context it received'

/**
 * Runs `fn` for every record of a batch event (SQS, SNS, Kinesis, DynamoDB Streams), each in
 * its own `process` span parented to the record's producer (the invocation span links to
 * all of them). A record whose `fn` throws is marked failed and reported in the returned
 * partial batch response (`batchItemFailures`), so the handler can return it as is. For
 * sources without partial failures (SNS, S3) the first error is rethrown after the batch.
 *
 * @example
 * export const handler = withTrace(async (event: SQSEvent, context: Context) =>
 *   forEachRecord(event, context, async (record, span) => {
 *     await span.child('index', { runType: 'tool' }, () => index(JSON.parse(record.body)))
 *   }), { service: 'indexer' })
 */
export function forEachRecord<R>(
  event: { readonly Records: readonly R[] },
  context: LambdaContextLike | object,
  fn: (record: R, span: Span) => unknown,
  options?: ForEachRecordOptions,
): Promise<BatchResponse>
export function forEachRecord(
  event: unknown,
  context: LambdaContextLike | object,
  // biome-ignore lint/suspicious/noExplicitAny: the untyped-event overload: the callback annotates its own record type
  fn: (record: any, span: Span) => unknown,
  options?: ForEachRecordOptions,
): Promise<BatchResponse>
export async function forEachRecord(
  event: unknown,
  context: LambdaContextLike | object,
  fn: (record: unknown, span: Span) => unknown,
  options?: ForEachRecordOptions,
): Promise<BatchResponse> {
  const inv = context !== null && typeof context === 'object' ? invocations.get(context) : undefined
  if (inv === undefined)
    throw new TracehopError(`forEachRecord() found no traced invocation for this context; ${FOR_EACH_HINT}`)
  const failures: { itemIdentifier: string }[] = []
  let records: readonly unknown[]
  try {
    const list = asObject(event)?.['Records']
    records = Array.isArray(list) ? list : []
    if (!Array.isArray(list)) inv.tracer.statsRecorder.countInvalid('event')
  } catch {
    inv.tracer.statsRecorder.countInvalid('event')
    records = []
  }
  const source = inv.source
  const fifo = source === 'sqs' && isFifo(records[0])
  let rethrow: { error: unknown } | undefined

  const run = async (record: unknown): Promise<void> => {
    const entry = entryOf(inv, record)
    const span = entry === undefined ? inv.scope.root : recordSpan(entry)
    try {
      await fn(record, span)
      if (entry !== undefined) endRecord(entry, undefined, false)
    } catch (error) {
      if (entry !== undefined) endRecord(entry, error, true)
      const id = itemIdentifier(record, source)
      if (id !== undefined) failures.push({ itemIdentifier: id })
      else rethrow ??= { error }
    }
  }

  if (options?.parallel === true && !fifo) {
    await Promise.all(records.map(run))
  } else {
    for (const record of records) {
      if (fifo && failures.length > 0) {
        // SQS FIFO: after a failure, later messages must not be processed out of order.
        const id = itemIdentifier(record, source)
        if (id !== undefined) failures.push({ itemIdentifier: id })
        continue
      }
      await run(record)
    }
  }
  if (rethrow !== undefined) throw rethrow.error
  return { batchItemFailures: failures }
}

function entryOf(inv: Invocation, record: unknown): RecordEntry | undefined {
  if (record === null || typeof record !== 'object') return undefined
  let entry = recordEntries.get(record)
  if (entry === undefined || entry.invocation !== inv) {
    // A record the invocation did not register (the user built or copied it): read it now.
    entry = { record, invocation: inv, incoming: undefined, span: undefined, scope: undefined, ended: false }
    recordEntries.set(record, entry)
  }
  return entry
}

function isFifo(record: unknown): boolean {
  return asString(asObject(record)?.['eventSourceARN'])?.endsWith('.fifo') === true
}
