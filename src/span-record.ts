/**
 * A finished span as exporters see it: plain data, no methods, safe to serialize.
 * One record carries both identities of a span: the OpenTelemetry one (trace id, span id)
 * and the LangSmith one (run id, dotted order), so every exporter reads the same record.
 */

export type AttributeValue =
  | string
  | number
  | boolean
  | readonly string[]
  | readonly number[]
  | readonly boolean[]
export type Attributes = Record<string, AttributeValue>

/** Numbered as in `@opentelemetry/api` (OTLP's enum is this plus one). */
export const SpanKind = {
  INTERNAL: 0,
  SERVER: 1,
  CLIENT: 2,
  PRODUCER: 3,
  CONSUMER: 4,
} as const
export type SpanKind = (typeof SpanKind)[keyof typeof SpanKind]

/** Numbered as in `@opentelemetry/api` and OTLP. */
export const StatusCode = { UNSET: 0, OK: 1, ERROR: 2 } as const
export type StatusCode = (typeof StatusCode)[keyof typeof StatusCode]

export interface SpanStatus {
  readonly code: StatusCode
  readonly message?: string
}

export interface SpanEvent {
  readonly name: string
  /** ms since epoch (fractional: microseconds). */
  readonly time: number
  readonly attributes?: Attributes
}

export interface SpanLink {
  readonly traceId: string
  readonly spanId: string
  readonly flags?: number
  readonly traceState?: string
  readonly attributes?: Attributes
}

export interface SpanRecord {
  readonly traceId: string
  readonly spanId: string
  /** Absent on a trace's root span. */
  readonly parentSpanId?: string
  readonly name: string
  readonly kind: SpanKind
  /** ms since epoch (fractional: microseconds). */
  readonly startTime: number
  readonly endTime: number
  readonly attributes: Attributes
  readonly events: readonly SpanEvent[]
  readonly links: readonly SpanLink[]
  readonly status: SpanStatus
  /** Serialized W3C tracestate of the span's context, if any. */
  readonly traceState?: string
  readonly flags: number
  readonly droppedAttributes: number
  readonly droppedEvents: number
  readonly droppedLinks: number
  /** LangSmith identity: run id (a UUID whose last 16 hex digits are `spanId`). */
  readonly runId: string
  /** LangSmith trace id (UUID form of `traceId`, or the remote LangSmith trace id). */
  readonly runTraceId: string
  readonly dottedOrder: string
  /** The parent run id, when the parent is a LangSmith run (remote or local). */
  readonly parentRunId?: string
  /**
   * Set on a run that started a new LangSmith trace because its parent's dotted order was
   * at the 1,000-segment limit: the run (and trace) it would have continued.
   */
  readonly langsmithContinues?: { readonly runId: string; readonly traceId: string }
  /** True when the parent lives in another service (this span is a local root). */
  readonly remoteParent: boolean
  /** LangSmith project / tags / metadata inherited from the trace, if any. */
  readonly langsmithProject?: string
  readonly langsmithTags?: readonly string[]
  readonly langsmithMetadata?: Readonly<Record<string, unknown>>
}

/** What a resource is, in OTLP terms: the service and runtime that produced the spans. */
export interface Resource {
  readonly attributes: Attributes
}

/** One unit of export: spans from one tracer (one service) with its resource. */
export interface ExportBatch {
  readonly resource: Resource
  readonly scopeName: string
  readonly scopeVersion: string
  readonly spans: readonly SpanRecord[]
}
