/**
 * The immutable value that says where a trace continues: what a carrier (headers, a queue
 * message, a Lambda event) yields on the way in, and what a span hands out on the way out.
 */

/** W3C Trace Context §3.2.2.5: bit 0, the caller recorded (sampled) this trace. */
export const TRACE_FLAG_SAMPLED = 0x01
/** W3C Trace Context Level 2 §3.2.2.5.2: bit 1, the trace id's low 56 bits are random. */
export const TRACE_FLAG_RANDOM = 0x02

/** One `key=value` member of a W3C `tracestate`, in header order (left = most recent). */
export interface TraceStateMember {
  readonly key: string
  readonly value: string
}
export type TraceState = readonly TraceStateMember[]

/** One W3C Baggage list member. `properties` is the raw `;…` suffix, kept opaque. */
export interface BaggageMember {
  readonly key: string
  /** Decoded (percent-decoding applied) value. */
  readonly value: string
  readonly properties?: string
}
export type Baggage = readonly BaggageMember[]

/** What a `langsmith-trace` header (and the LangSmith `baggage` members) carried. */
export interface LangSmithParent {
  /** The parent run's full dotted order, exactly as received. */
  readonly dottedOrder: string
  /** The parent run's id: the UUID of the last dotted-order segment. */
  readonly runId: string
  /** The LangSmith trace id: the UUID of the first dotted-order segment. */
  readonly traceId: string
  /** Start time of the parent run (ms since epoch, with microseconds as fraction). */
  readonly startTime: number
  readonly project?: string
  readonly tags?: readonly string[]
  readonly metadata?: Readonly<Record<string, unknown>>
  /** The `langsmith-address` member, passed through untouched (`langsmith-replicas` never is). */
  readonly passthrough?: readonly BaggageMember[]
}

/** AWS X-Ray `X-Amzn-Trace-Id` fields. */
export interface XRayHeader {
  /** `1-5759e988-bd862e3fe1be46a994272793` */
  readonly root: string
  readonly parent?: string
  readonly sampled?: boolean
  /** Opaque; forwarded unchanged. */
  readonly lineage?: string
}

/**
 * Where a trace continues. `traceId` is 32 lowercase hex digits, `spanId` 16: the span
 * (or LangSmith run) that is the parent of whatever starts from this context.
 */
export interface TraceContext {
  readonly traceId: string
  readonly spanId: string
  /** {@link TRACE_FLAG_SAMPLED} | {@link TRACE_FLAG_RANDOM}; other bits are always zero. */
  readonly flags: number
  readonly traceState?: TraceState
  readonly baggage?: Baggage
  readonly langsmith?: LangSmithParent
  readonly xray?: XRayHeader
  /** True when the context came from a carrier, false when minted in this process. */
  readonly remote: boolean
  /**
   * Whether the incoming sampling decision may be followed. False for a `langsmith-trace`
   * without `traceparent` (it carries no decision) and on untrusted ingress: the trace id
   * is kept, the decision is made here.
   */
  readonly decided: boolean
}
