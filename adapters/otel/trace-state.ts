/**
 * OTel's `TraceState` backed by the list tracehop already parsed, so the bridge parses a
 * `tracestate` header once: handing OTel a string would have it parsed again (OTel's
 * `createTraceState`), and every `serialize()` would format it. Immutable like OTel's: `set`
 * and `unset` return a new state. Serialized once, on first use.
 */
import type { TraceState as OtelTraceStateApi } from '@opentelemetry/api'
import type { TraceState } from '../../src/index.js'
import {
  deleteTracestateMember,
  formatTracestate,
  getTracestateMember,
  setTracestateMember,
} from '../../src/internal.js'

export class ListTraceState implements OtelTraceStateApi {
  /** The members, as tracehop's propagation reads and writes them. */
  readonly members: TraceState | undefined
  #serialized: string | undefined

  constructor(members: TraceState | undefined) {
    this.members = members
  }

  get(key: string): string | undefined {
    return getTracestateMember(this.members, key)
  }

  set(key: string, value: string): ListTraceState {
    return new ListTraceState(setTracestateMember(this.members, key, value))
  }

  unset(key: string): ListTraceState {
    const members = deleteTracestateMember(this.members, key)
    return members === this.members ? this : new ListTraceState(members)
  }

  serialize(): string {
    this.#serialized ??= this.members === undefined ? '' : (formatTracestate(this.members) ?? '')
    return this.#serialized
  }
}

/**
 * The members behind an OTel `TraceState`: read directly when it is ours, parsed from its
 * serialization otherwise.
 *
 * @example
 * membersOf(spanContext.traceState, parseTracestate)
 */
export function membersOf(
  state: OtelTraceStateApi | undefined,
  parse: (raw: string) => TraceState | undefined,
): TraceState | undefined {
  if (state === undefined) return undefined
  if (state instanceof ListTraceState) return state.members
  const raw = state.serialize()
  return raw ? parse(raw) : undefined
}
