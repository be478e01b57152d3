import type { DropReason } from './export/exporter.js'

/** Which incoming input was malformed (each one started a fresh trace or was skipped). */
export type InvalidInput =
  | 'traceparent'
  | 'tracestate'
  | 'baggage'
  | 'langsmith-trace'
  | 'langsmith-baggage'
  | 'xray'
  | 'envelope'
  | 'event'
  | 'mismatch'
  | 'context'

/** Which limit cut something off. */
export type LimitHit =
  | 'spans'
  | 'attributes'
  | 'attribute-length'
  | 'events'
  | 'links'
  | 'baggage'
  | 'message-attributes'

/**
 * Counters of one tracer (one isolate). Nothing is lost silently: every span ends up
 * exported, dropped with a reason, or not kept by sampling.
 */
export interface TracerStats {
  readonly scopes: {
    readonly started: number
    /** Kept by the head decision. */
    readonly sampled: number
    /** Not head-sampled, kept because the invocation failed (always-keep-errors). */
    readonly keptForError: number
    /** Not kept: not sampled and no error. */
    readonly notSampled: number
  }
  readonly spans: {
    readonly recorded: number
    readonly exported: number
    /** Spans handed to exporters and not delivered, by reason (per exporter). */
    readonly dropped: Readonly<Partial<Record<DropReason, number>>>
    /** Spans force-ended at a flush deadline. */
    readonly forceEnded: number
    /**
     * Spans started after their scope's flush was over (or too close to its deadline to be
     * sent): not exported, and they send no trace headers. A late span also past the span
     * limit is counted once, under `limits.spans`.
     */
    readonly late: number
  }
  readonly invalid: Readonly<Partial<Record<InvalidInput, number>>>
  readonly limits: Readonly<Partial<Record<LimitHit, number>>>
  readonly exports: { readonly requests: number; readonly retries: number; readonly failed: number }
  /**
   * 1 when this tracer stands in for a configuration function that threw: requests are
   * served untraced (adapters' `onConfigError: 'untraced'`, the default).
   */
  readonly configErrors: number
}

type Count<K extends string> = Partial<Record<K, number>>

/** The mutable side, owned by one tracer and shared by its scopes: counters in the shape of {@link TracerStats}. */
export class StatsRecorder {
  readonly scopes = { started: 0, sampled: 0, keptForError: 0, notSampled: 0 }
  readonly spans = { recorded: 0, exported: 0, dropped: {} as Count<DropReason>, forceEnded: 0, late: 0 }
  readonly invalid: Count<InvalidInput> = {}
  readonly limits: Count<LimitHit> = {}
  readonly exports = { requests: 0, retries: 0, failed: 0 }
  configErrors = 0
  readonly #logged = new Set<string>()
  readonly #log: (line: string) => void

  constructor(log: (line: string) => void) {
    this.#log = log
  }

  countInvalid(what: InvalidInput): void {
    this.invalid[what] = (this.invalid[what] ?? 0) + 1
  }

  countLimit(what: LimitHit, n = 1): void {
    this.limits[what] = (this.limits[what] ?? 0) + n
  }

  countDropped(reason: DropReason, spans: number, detail: string | undefined): void {
    const dropped = this.spans.dropped
    dropped[reason] = (dropped[reason] ?? 0) + spans
    // One log line per distinct reason and detail: enough to notice, never a flood.
    this.warnOnce(
      `${reason}: ${detail}`,
      `tracehop: dropped ${spans} span(s): ${reason}${detail ? ` (${detail})` : ''}`,
    )
  }

  /** Logs `line` the first time `key` is seen (a problem worth one line, never a flood). */
  warnOnce(key: string, line: string): void {
    if (this.#logged.has(key) || this.#logged.size >= 64) return
    this.#logged.add(key)
    this.#log(line)
  }

  snapshot(): TracerStats {
    const { scopes, spans, invalid, limits, exports, configErrors } = this
    return structuredClone({ scopes, spans, invalid, limits, exports, configErrors })
  }
}
