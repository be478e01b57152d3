/**
 * The collector's neutral span and trace shapes: what an OTLP span and a LangSmith run
 * both become, so the terminal waterfall, the browser page and `--json` read one form.
 */
import type { Attributes } from '../src/span-record.js'

export type { Attributes, AttributeValue } from '../src/span-record.js'

/** OpenTelemetry span kinds, spelled out (OTLP `SPAN_KIND_*` without the prefix). */
export type CollectedSpanKind = 'internal' | 'server' | 'client' | 'producer' | 'consumer'

/** OTLP `Status.code`, spelled out. */
export type CollectedStatusCode = 'unset' | 'ok' | 'error'

export interface CollectedEvent {
  readonly name: string
  /** ms since epoch (fractional: microseconds). */
  readonly time: number
  readonly attributes: Attributes
}

export interface CollectedLink {
  readonly traceId: string
  readonly spanId: string
  readonly attributes: Attributes
}

/** One span as received, whichever protocol brought it. */
export interface CollectedSpan {
  /** 32 lowercase hex digits (a LangSmith trace id without its dashes). */
  readonly traceId: string
  /** 16 lowercase hex digits (for a LangSmith run: the last 16 hex digits of its id). */
  readonly spanId: string
  readonly parentSpanId?: string
  readonly name: string
  /** `service.name` of the resource, or the run's `extra.metadata['service.name']` / project. */
  readonly service: string
  readonly kind: CollectedSpanKind
  /** ms since epoch (fractional: microseconds). */
  readonly startTime: number
  readonly endTime: number
  readonly attributes: Attributes
  readonly events: readonly CollectedEvent[]
  readonly links: readonly CollectedLink[]
  readonly status: { readonly code: CollectedStatusCode; readonly message?: string }
  /** Resource attributes (OTLP) or the run's `extra.runtime` (LangSmith). */
  readonly resource: Attributes
  /** Instrumentation scope name (OTLP only). */
  readonly scope?: string
  readonly source: 'otlp' | 'langsmith'
  /** The LangSmith run id (UUID), when the span came as (or was also sent as) a run. */
  readonly runId?: string
  /** The LangSmith run type (`chain`, `llm`, `tool`, …). */
  readonly runType?: string
}

/** All spans received so far for one trace id, with what the views need precomputed. */
export interface CollectedTrace {
  readonly traceId: string
  /** Ordered by start time (ties: parents first). */
  readonly spans: readonly CollectedSpan[]
  /** The root span's name (a span without a parent), else the earliest span's. */
  readonly name: string
  /** Services in order of first start. */
  readonly services: readonly string[]
  readonly startTime: number
  readonly endTime: number
  /** ms */
  readonly duration: number
  /** Spans with status `error`. */
  readonly errors: number
  /** Spans whose parent span id is not in this trace. */
  readonly orphans: number
  /** True once no span arrived for `quietMs` (a late span makes it false again). */
  readonly finished: boolean
  /** When the first and the latest span of this trace arrived (ms since epoch). */
  readonly firstSeen: number
  readonly lastSeen: number
}
