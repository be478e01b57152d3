import { TracehopError } from '../errors.js'
import type { InvalidInput, LimitHit } from '../stats.js'
import type { BaggageLimits } from './baggage.js'

/**
 * The propagation formats tracehop reads and writes.
 * - `w3c`: `traceparent` + `tracestate` (W3C Trace Context Level 2)
 * - `baggage`: user members of the W3C `baggage` header
 * - `langsmith`: `langsmith-trace` + the `langsmith-*` members of `baggage`
 * - `xray`: AWS `X-Amzn-Trace-Id`
 */
export type PropagationFormat = 'w3c' | 'baggage' | 'langsmith' | 'xray'

/**
 * How much an incoming context is believed.
 * - `trusted`: continue it, follow its sampling decision, keep its baggage.
 * - `untrusted` (the public edge): continue the trace id, but decide sampling here and drop
 *   incoming tracestate, baggage and LangSmith project/tags/metadata, so a client can
 *   neither set the sampled flag nor inject metadata (it can still choose trace ids the
 *   ratio keeps; `link` mints the id here).
 * - `link`: start a new trace linked to the incoming one.
 */
export type Ingress = 'trusted' | 'untrusted' | 'link'

export interface ResolvedFormats {
  readonly w3c: boolean
  readonly baggage: boolean
  readonly langsmith: boolean
  readonly xray: boolean
}

const ALL: readonly PropagationFormat[] = ['w3c', 'baggage', 'langsmith', 'xray']

/** Where extraction and injection report what they dropped, and the baggage caps they apply. */
export interface PropagationHooks {
  /** Malformed input, skipped. */
  readonly onInvalid: (what: InvalidInput) => void
  /** Well-formed input cut off by a limit (baggage members or bytes). */
  readonly onLimit?: (what: LimitHit) => void
  /** Default W3C's 64 members / 8192 bytes. */
  readonly baggageLimits?: BaggageLimits
}

/** Validates a list of formats at configuration time. */
export function resolveFormats(list: readonly PropagationFormat[], what: string): ResolvedFormats {
  for (const f of list) {
    if (!ALL.includes(f)) {
      throw new TracehopError(
        `propagation.${what} has an unknown format ${JSON.stringify(f)}; use ${ALL.join(', ')}`,
      )
    }
  }
  return {
    w3c: list.includes('w3c'),
    baggage: list.includes('baggage'),
    langsmith: list.includes('langsmith'),
    xray: list.includes('xray'),
  }
}
