/**
 * Per-invocation state, found from the platform objects the user holds (the Lambda
 * `context`, a batch record) through WeakMaps: nothing is kept alive by them and no
 * per-invocation state sits in a plain module global.
 */
import type { FlushReport, Incoming, Ingress, Scope, Span, Tracer } from '../../src/index.js'
import type { EventSourceKind } from './event-source.js'

/** One invocation of a wrapped handler. */
export interface Invocation {
  readonly tracer: Tracer
  readonly scope: Scope
  readonly source: EventSourceKind
  readonly ingress: Ingress | undefined
  /** Flush budget of every scope of this invocation (ms). */
  readonly flushBudgetMs: number
  /** When the flush must be over (ms since epoch): the Lambda deadline minus the margin. */
  readonly hardDeadline: number
  /** Record spans created so far (by `forEachRecord` or `traceOf(record)`). */
  readonly created: RecordEntry[]
  /** Flushes of record scopes already ended. */
  readonly pending: Promise<FlushReport>[]
  finished: boolean
}

/** One record of a batch event. */
export interface RecordEntry {
  readonly record: object
  readonly invocation: Invocation
  /** The record's own context, read lazily (the first `linksPerSpan` at invocation start). */
  incoming: Incoming | undefined
  /** The record's span, once created. */
  span: Span | undefined
  /** The record's own scope when it continues its producer's trace; else its span is in the invocation's scope. */
  scope: Scope | undefined
  ended: boolean
}

/** Lambda `context` → its invocation. */
export const invocations: WeakMap<object, Invocation> = new WeakMap()
/** Batch record → its entry. */
export const recordEntries: WeakMap<object, RecordEntry> = new WeakMap()
