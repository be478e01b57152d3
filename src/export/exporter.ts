import type { ExportBatch } from '../span-record.js'

/** Why spans were not delivered; counted per reason in `tracer.stats()`. */
export type DropReason =
  | 'network'
  | 'timeout'
  | 'http-4xx'
  | 'http-5xx'
  | 'rate-limited'
  | 'budget'
  /** Never settled: the scope had no `waitUntil` and the runtime ended its invocation first. */
  | 'no-wait-until'
  | 'queue-full'
  | 'invalid'
  | 'encode'

/** Spans dropped for one reason. */
export interface DropCount {
  readonly reason: DropReason
  readonly count: number
  readonly detail?: string
}

/** The outcome of one `export()`: every span is either exported or dropped with a reason. */
export interface ExportResult {
  readonly exported: number
  readonly dropped: number
  readonly reason?: DropReason
  /** Human-readable detail for the one log line a dropped batch gets. */
  readonly detail?: string
  /**
   * Drops by reason, when one export dropped spans for several (a request that timed out,
   * others never attempted): the counts add up to `dropped`. Without it, all `dropped`
   * count under `reason`.
   */
  readonly drops?: readonly DropCount[]
  /** HTTP requests started, retries included (0: none; 1: one request, no retry). */
  readonly attempts: number
}

/**
 * Told about every HTTP request as it starts, so `stats().exports` counts what the
 * receiver sees: `retry` is true for a repeat of a request that failed, false for a first
 * attempt (a batch split into several requests makes several first attempts).
 */
export interface ExportMeter {
  onRequest(retry: boolean): void
}

/**
 * A destination for finished spans. `export` never throws and never outlives `deadline`
 * (ms since epoch, `Date.now()` clock): it retries within it and reports what happened.
 *
 * @example
 * const exporter: Exporter = otlp({ url: 'http://127.0.0.1:4318/v1/traces' })
 */
export interface Exporter {
  readonly name: string
  /** `meter`, when given, is told of each request as it starts (exporters that make none ignore it). */
  export(batch: ExportBatch, deadline: number, meter?: ExportMeter): Promise<ExportResult>
}
