import type { Baggage, LangSmithParent, TraceContext, TraceState, XRayHeader } from './trace-context.js'

/**
 * A context read from a carrier, whose ids were checked as it was read. `tracer.inject`
 * trusts them while they are still the very strings that were checked, instead of reading
 * their 48 hex digits again (a relay extracts and injects on every request). Any other
 * object with these fields is a `TraceContext` just as well; it is checked on every use.
 */
export class CheckedContext implements TraceContext {
  traceId: string
  spanId: string
  flags: number
  remote: boolean
  decided: boolean
  // Declared, not defined: a context without them has no such own property (as a literal).
  declare traceState?: TraceState
  declare baggage?: Baggage
  declare langsmith?: LangSmithParent
  declare xray?: XRayHeader
  readonly #traceId: string
  readonly #spanId: string

  /** `traceId` and `spanId` must already be valid lowercase hex ids, not all zero. */
  constructor(traceId: string, spanId: string, flags: number, decided: boolean) {
    this.traceId = this.#traceId = traceId
    this.spanId = this.#spanId = spanId
    this.flags = flags
    this.remote = true
    this.decided = decided
  }

  /** Whether `ctx` is a checked context whose ids nobody has replaced since. */
  static idsChecked(ctx: TraceContext): boolean {
    return #traceId in ctx && ctx.traceId === ctx.#traceId && ctx.spanId === ctx.#spanId
  }
}
