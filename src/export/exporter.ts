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

/** The outcome of one `export()`: every span is either exported or dropped with a reason. */
export interface ExportResult {
  readonly exported: number
  readonly dropped: number
  readonly reason?: DropReason
  /** Human-readable detail for the one log line a dropped batch gets. */
  readonly detail?: string
  /** Attempts made (1 = no retry). */
  readonly attempts: number
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
  export(batch: ExportBatch, deadline: number): Promise<ExportResult>
}
