import { describeValue } from './config-values.js'
import { TracehopError } from './errors.js'

/** Bounds on what one scope may hold; whatever goes beyond is dropped and counted. */
export interface Limits {
  /** Spans per scope (the root included). */
  readonly spansPerScope: number
  /** Spans per scope while the scope is not head-sampled (recorded in case it fails). */
  readonly spansPerUnsampledScope: number
  readonly attributesPerSpan: number
  /** Longer string values are truncated (and counted). */
  readonly attributeValueLength: number
  readonly eventsPerSpan: number
  readonly linksPerSpan: number
  /**
   * W3C Baggage: members and bytes of one `baggage` header, read or written (our LangSmith
   * members included). Default 64 / 8192, the spec's minimums; it allows higher ones.
   */
  readonly baggageMembers: number
  readonly baggageBytes: number
}

export const DEFAULT_LIMITS: Limits = {
  spansPerScope: 1000,
  spansPerUnsampledScope: 256,
  attributesPerSpan: 128,
  attributeValueLength: 4096,
  eventsPerSpan: 128,
  linksPerSpan: 128,
  baggageMembers: 64,
  baggageBytes: 8192,
}

/** Validates user limits at configuration time; tells what to change. */
export function resolveLimits(partial: Partial<Limits> | undefined): Limits {
  const limits = { ...DEFAULT_LIMITS, ...partial }
  for (const [key, value] of Object.entries(limits)) {
    if (!Number.isInteger(value) || value < 0) {
      throw new TracehopError(`limits.${key} must be a non-negative integer, got ${describeValue(value)}`)
    }
  }
  return limits
}
