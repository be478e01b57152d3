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

/** Which limit cut something off. */
export type LimitHit = 'spans' | 'attributes' | 'attribute-length' | 'events' | 'links' | 'baggage' | 'message-attributes'

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
  }
  readonly invalid: Readonly<Partial<Record<InvalidInput, number>>>
  readonly limits: Readonly<Partial<Record<LimitHit, number>>>
  readonly exports: { readonly requests: number; readonly retries: number; readonly failed: number }
}

/** The mutable side, owned by one tracer and shared by its scopes. */
export class StatsRecorder {
  scopesStarted = 0
  scopesSampled = 0
  scopesKeptForError = 0
  scopesNotSampled = 0
  spansRecorded = 0
  spansExported = 0
  spansForceEnded = 0
  exportRequests = 0
  exportRetries = 0
  exportFailed = 0
  readonly dropped: Partial<Record<DropReason, number>> = {}
  readonly invalid: Partial<Record<InvalidInput, number>> = {}
  readonly limits: Partial<Record<LimitHit, number>> = {}
  private readonly logged = new Set<string>()

  constructor(private readonly log: (line: string) => void) {}

  countInvalid(what: InvalidInput): void {
    this.invalid[what] = (this.invalid[what] ?? 0) + 1
  }

  countLimit(what: LimitHit, n = 1): void {
    this.limits[what] = (this.limits[what] ?? 0) + n
  }

  countDropped(reason: DropReason, spans: number, detail: string | undefined): void {
    this.dropped[reason] = (this.dropped[reason] ?? 0) + spans
    // One log line per distinct reason and detail: enough to notice, never a flood.
    const key = `${reason}:${detail ?? ''}`
    if (!this.logged.has(key) && this.logged.size < 64) {
      this.logged.add(key)
      this.log(`tracehop: dropped ${spans} span(s): ${reason}${detail ? ` (${detail})` : ''}`)
    }
  }

  snapshot(): TracerStats {
    return {
      scopes: {
        started: this.scopesStarted,
        sampled: this.scopesSampled,
        keptForError: this.scopesKeptForError,
        notSampled: this.scopesNotSampled,
      },
      spans: {
        recorded: this.spansRecorded,
        exported: this.spansExported,
        dropped: { ...this.dropped },
        forceEnded: this.spansForceEnded,
      },
      invalid: { ...this.invalid },
      limits: { ...this.limits },
      exports: { requests: this.exportRequests, retries: this.exportRetries, failed: this.exportFailed },
    }
  }
}
