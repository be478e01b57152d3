import { checkNumber } from '../config-values.js'
import { TracehopError } from '../errors.js'
import {
  deleteTracestateMember,
  getTracestateMember,
  setTracestateMember,
} from '../propagation/tracestate.js'
import { TRACE_FLAG_RANDOM, TRACE_FLAG_SAMPLED, type TraceState } from '../trace-context.js'
import { consistentParentOt, decideProbability } from './probability.js'

/** A consistent sampling rule: a pure function of the trace id (32 hex digits) and the ratio. */
export interface SamplingRule {
  readonly name: string
  sampled(traceId: string, ratio: number): boolean
}

/**
 * Which consistent rule turns (trace id, ratio) into a decision. Pick the one the other
 * services of your system use, so every hop keeps the same traces:
 * - `'opentelemetry'` (default): OpenTelemetry consistent probability sampling
 *   (`ot=th:…;rv:…` in tracestate), as OTel SDKs' `ProbabilitySampler` and the Collector's
 *   proportional mode;
 * - `langsmithSampling` (imported from `tracehop`): the `langsmith` SDKs' rule (XXH3-128 of
 *   the trace id, bucket of 1e6), a value rather than a string so other bundles stay small.
 */
export type SamplingAlgorithm = 'opentelemetry' | SamplingRule

export interface SamplingConfig {
  /** Head-sampling ratio in [0, 1]. Default 1 (keep everything). */
  readonly ratio?: number
  /** Export a scope that was not head-sampled when it failed. Default true. */
  readonly keepErrors?: boolean
  /** Default `opentelemetry`. */
  readonly algorithm?: SamplingAlgorithm
}

export interface ResolvedSampling {
  readonly ratio: number
  readonly keepErrors: boolean
  readonly algorithm: SamplingAlgorithm
}

export function resolveSampling(config: SamplingConfig | undefined): ResolvedSampling {
  const ratio = checkNumber('sampling.ratio', config?.ratio ?? 1, (n) => n >= 0 && n <= 1, 'within [0, 1]')
  const algorithm = config?.algorithm ?? 'opentelemetry'
  if (algorithm !== 'opentelemetry' && typeof (algorithm as SamplingRule).sampled !== 'function') {
    throw new TracehopError(
      `sampling.algorithm must be 'opentelemetry' or langsmithSampling (import { langsmithSampling } from 'tracehop'), got ${String(algorithm)}`,
    )
  }
  return { ratio, keepErrors: config?.keepErrors ?? true, algorithm }
}

export interface HeadDecision {
  readonly sampled: boolean
  /** The flags to propagate (sampled bit set per the decision, random bit kept). */
  readonly flags: number
  readonly traceState: TraceState | undefined
}

/**
 * The head decision for a new local root. A decided (trusted) remote parent is followed;
 * otherwise the decision is a pure function of the trace id and the ratio.
 */
export function decideHead(
  sampling: ResolvedSampling,
  traceId: string,
  flags: number,
  traceState: TraceState | undefined,
  followParent: boolean,
): HeadDecision {
  const ot = getTracestateMember(traceState, 'ot')
  const randomFlag = (flags & TRACE_FLAG_RANDOM) !== 0
  let sampled = (flags & TRACE_FLAG_SAMPLED) !== 0
  let next = ot // what the `ot` member becomes
  let rewrite = false
  if (followParent) {
    // OTel probability sampling: an inconsistent incoming `th` is erased, not forwarded.
    if (ot !== undefined) next = consistentParentOt({ traceId, randomFlag, sampled, ot })
    rewrite = next !== ot
  } else if (sampling.algorithm !== 'opentelemetry')
    sampled = sampling.algorithm.sampled(traceId, sampling.ratio)
  // Keep-all needs no threshold, and writing `ot=th:0` on every request buys nothing.
  else if (sampling.ratio >= 1 && ot === undefined) sampled = true
  else {
    ;({ sampled, ot: next } = decideProbability({ traceId, randomFlag, ot, ratio: sampling.ratio }))
    rewrite = true // even when unchanged: a member we decided on moves to the front (W3C §3.5)
  }
  if (rewrite) {
    traceState =
      next === undefined
        ? deleteTracestateMember(traceState, 'ot')
        : setTracestateMember(traceState, 'ot', next)
  }
  return {
    sampled,
    flags: followParent ? flags : sampled ? flags | TRACE_FLAG_SAMPLED : flags & ~TRACE_FLAG_SAMPLED,
    traceState,
  }
}
