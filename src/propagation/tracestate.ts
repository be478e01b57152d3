/**
 * W3C Trace Context `tracestate` (Level 2, §3.3): a list of up to 32 `key=value` members,
 * the left-most being the most recent.
 *
 * Parsing is strict: one invalid member, more than 32 members or a duplicate key discards
 * the whole header. Level 2 ("tracestate Header Field Values" and the processing model, "A traceparent is
 * Received" step 3) allow either
 * discarding the entire header or only the invalid entries; we take the strict reading,
 * because a tracestate we cannot fully understand may be one a proxy cut in the middle,
 * and forwarding a partial list would present it as whole to every hop after us.
 *
 * Key grammar: Level 2 §3.3.2.2.1 (Key) `key = ( lcalpha / DIGIT ) 0*255 ( keychar )` with
 * `keychar = lcalpha / DIGIT / "_" / "-" / "*" / "/" / "@"`. It is a superset of the
 * Level 1 grammar (simple keys `lcalpha 0*255(...)` and multi-tenant keys `tenant@system`,
 * tenant up to 241 characters, system up to 14 starting with a letter): every Level 1 key
 * is accepted, and so are the keys Level 2 added (digit-first keys, `@` anywhere), which
 * matters because one rejected key would discard a peer's whole tracestate.
 */
import type { TraceState, TraceStateMember } from '../trace-context.js'

/** The header name (W3C Trace Context §3.3.1 Header Name; lowercase per the spec's SHOULD). */
export const TRACESTATE_HEADER = 'tracestate'

/** §3.3.2 (list): at most 32 list members. */
export const TRACESTATE_MAX_MEMBERS = 32
/** §3.3.3.1 (tracestate Limits): vendors SHOULD propagate at least 512 characters; we send at most that. */
export const TRACESTATE_MAX_LENGTH = 512
/** §3.3.3.1 (tracestate Limits): when truncating, entries longer than this are removed first. */
const LARGE_ENTRY = 128
const MAX_KEY = 256
const MAX_VALUE = 256

const COMMA = 0x2c
const EQUALS = 0x3d
const SPACE = 0x20
const TAB = 0x09

// Char classes by code (0..127): bit 1 = first key char (lcalpha / DIGIT), bit 2 = keychar,
// bit 4 = nblk-chr (%x21-2B / %x2D-3C / %x3E-7E). A table lookup beats chained compares.
const CLASS = new Uint8Array(128)
for (let c = 0x61; c <= 0x7a; c++) CLASS[c]! |= 1 | 2
for (let c = 0x30; c <= 0x39; c++) CLASS[c]! |= 1 | 2
for (const ch of '_-*/@') CLASS[ch.charCodeAt(0)]! |= 2
for (let c = 0x21; c <= 0x7e; c++) if (c !== COMMA && c !== EQUALS) CLASS[c]! |= 4

function charClass(c: number): number {
  return c < 128 ? CLASS[c]! : 0
}

/**
 * Whether `key` is a valid tracestate key (Level 2 §3.3.2.2.1, Key).
 *
 * @example
 * ```ts
 * isValidTracestateKey('rojo') // true
 * isValidTracestateKey('fw529a3039@dt') // true
 * isValidTracestateKey('Rojo') // false
 * ```
 */
export function isValidTracestateKey(key: string): boolean {
  const n = key.length
  if (n === 0 || n > MAX_KEY || (charClass(key.charCodeAt(0)) & 1) === 0) return false
  for (let i = 1; i < n; i++) if ((charClass(key.charCodeAt(i)) & 2) === 0) return false
  return true
}

/**
 * Whether `value` is a valid tracestate value (§3.3.2.2.2, Value): 1–256 printable ASCII
 * characters except `,` and `=`, not ending in a space (leading spaces are allowed).
 *
 * @example
 * ```ts
 * isValidTracestateValue('00f067aa0ba902b7') // true
 * isValidTracestateValue('a,b') // false
 * ```
 */
export function isValidTracestateValue(value: string): boolean {
  const n = value.length
  if (n === 0 || n > MAX_VALUE || (charClass(value.charCodeAt(n - 1)) & 4) === 0) return false
  for (let i = 0; i < n - 1; i++) {
    const c = value.charCodeAt(i)
    if (c !== SPACE && (charClass(c) & 4) === 0) return false
  }
  return true
}

/**
 * A member minted by this module (parsed or set), so already known valid. It remembers what
 * it was validated with: if someone writes to its (readonly) fields anyway, it is simply
 * validated again. Plain `{ key, value }` objects (e.g. from a queue envelope) always are.
 */
class Entry implements TraceStateMember {
  readonly key: string
  readonly value: string
  readonly #key: string
  readonly #value: string
  constructor(key: string, value: string) {
    this.key = this.#key = key
    this.value = this.#value = value
  }
  static isValid(m: TraceStateMember): boolean {
    if (typeof m !== 'object' || m === null) return false // the type says otherwise; JSON may not
    return (#key in m && m.key === m.#key && m.value === m.#value) || isValidMember(m)
  }
}

function isValidMember(m: TraceStateMember): boolean {
  return (
    typeof m.key === 'string' &&
    typeof m.value === 'string' &&
    isValidTracestateKey(m.key) &&
    isValidTracestateValue(m.value)
  )
}

function joinValues(value: readonly string[]): string {
  let out = ''
  let first = true
  for (const v of value) {
    if (typeof v !== 'string') continue
    out = first ? v : `${out},${v}`
    first = false
  }
  return out
}

/**
 * Parses a `tracestate` value (or the values of several `tracestate` fields, combined with
 * `,` as RFC 9110 §5.3 requires). Empty and whitespace-only list members are skipped
 * (§3.3.2). Returns `undefined` when there is nothing to keep: an empty or blank header,
 * or one that must be discarded (an invalid member, more than 32 members, a duplicate key).
 *
 * @example
 * ```ts
 * parseTracestate('rojo=00f067aa0ba902b7, congo=t61rcWkgMzE')
 * // [{ key: 'rojo', value: '00f067aa0ba902b7' }, { key: 'congo', value: 't61rcWkgMzE' }]
 * parseTracestate('rojo=1,rojo=2') // undefined (duplicate key)
 * ```
 */
export function parseTracestate(value: string | readonly string[]): TraceState | undefined {
  const s = typeof value === 'string' ? value : Array.isArray(value) ? joinValues(value) : undefined
  if (s === undefined) return undefined
  const n = s.length
  let members: TraceStateMember[] | undefined
  let i = 0
  while (i < n) {
    let c = s.charCodeAt(i)
    // OWS before a member, and empty members (§3.3.2).
    if (c === SPACE || c === TAB || c === COMMA) {
      i++
      continue
    }
    // key
    const keyStart = i
    if ((charClass(c) & 1) === 0) return undefined
    i++
    while (i < n && (charClass((c = s.charCodeAt(i))) & 2) !== 0) i++
    if (i >= n || c !== EQUALS || i - keyStart > MAX_KEY) return undefined
    const keyEnd = i
    i++
    // value: chr* nblk-chr, then optional OWS up to `,` or the end. A tab is only ever
    // trailing OWS; a space is part of the value when a visible character follows it.
    const valueStart = i
    let valueEnd = -1
    let sawTab = false
    for (; i < n; i++) {
      c = s.charCodeAt(i)
      if (c === COMMA) break
      if ((charClass(c) & 4) !== 0) {
        if (sawTab) return undefined
        valueEnd = i + 1
      } else if (c === TAB) sawTab = true
      else if (c !== SPACE) return undefined
    }
    if (valueEnd < 0 || valueEnd - valueStart > MAX_VALUE) return undefined
    const key = s.slice(keyStart, keyEnd)
    if (members === undefined) members = []
    else {
      if (members.length === TRACESTATE_MAX_MEMBERS) return undefined // §3.3.2: at most 32
      for (let k = 0; k < members.length; k++) if (members[k]!.key === key) return undefined
    }
    members.push(new Entry(key, s.slice(valueStart, valueEnd)))
  }
  return members
}

/**
 * Serializes a tracestate, or returns `undefined` when it has no members (an empty
 * `tracestate` SHOULD NOT be sent, §3.3.2). Members that are not valid (bad key or value,
 * a repeated key, past the 32nd) are left out. Longer than 512 characters, whole entries
 * are removed (§3.3.3.1, tracestate Limits): entries over 128 characters first, right-most
 * first, then entries from the right until it fits.
 *
 * @example
 * ```ts
 * formatTracestate([{ key: 'rojo', value: '00f067aa0ba902b7' }, { key: 'congo', value: 't61rcWkgMzE' }])
 * // 'rojo=00f067aa0ba902b7,congo=t61rcWkgMzE'
 * ```
 */
export function formatTracestate(state: TraceState): string | undefined {
  const n = state.length
  let out = ''
  let total = 0
  let clean = true
  for (let i = 0; i < n; i++) {
    const m = state[i]!
    if (i >= TRACESTATE_MAX_MEMBERS || !Entry.isValid(m) || hasKeyBefore(state, i, m.key)) {
      clean = false
      continue
    }
    if (total > 0) {
      out += ','
      total++
    }
    out += m.key
    out += '='
    out += m.value
    total += m.key.length + 1 + m.value.length
  }
  if (total === 0) return undefined
  if (total <= TRACESTATE_MAX_LENGTH) return out
  return truncate(clean ? state : keptMembers(state))
}

function hasKeyBefore(state: TraceState, end: number, key: string): boolean {
  for (let k = 0; k < end; k++) if (state[k]?.key === key) return true
  return false
}

function keptMembers(state: TraceState): TraceStateMember[] {
  const kept: TraceStateMember[] = []
  for (let i = 0; i < state.length && kept.length < TRACESTATE_MAX_MEMBERS; i++) {
    const m = state[i]!
    if (Entry.isValid(m) && !hasKeyBefore(state, i, m.key)) {
      kept.push(m)
    }
  }
  return kept
}

/** §3.3.3.1 truncation of valid, unique members (the rare path: only when over 512). */
function truncate(members: TraceState): string | undefined {
  const n = members.length
  const keep: boolean[] = new Array(n).fill(true)
  let total = n - 1 // commas
  for (let i = 0; i < n; i++) total += entryLength(members[i]!)
  let count = n
  // First pass drops entries over 128 characters (right-most first), the second pass
  // drops any entry from the right, each stopping as soon as the rest fits.
  for (let pass = 0; pass < 2; pass++) {
    for (let i = n - 1; i >= 0 && total > TRACESTATE_MAX_LENGTH; i--) {
      const len = entryLength(members[i]!)
      if (!keep[i] || (pass === 0 && len <= LARGE_ENTRY)) continue
      keep[i] = false
      total -= len + (count > 1 ? 1 : 0)
      count--
    }
  }
  if (count === 0) return undefined
  let out = ''
  for (let i = 0; i < n; i++) {
    if (!keep[i]) continue
    const m = members[i]!
    out = out === '' ? `${m.key}=${m.value}` : `${out},${m.key}=${m.value}`
  }
  return out
}

function entryLength(m: TraceStateMember): number {
  return m.key.length + 1 + m.value.length
}

/**
 * The value of `key`, if the tracestate has it.
 *
 * @example
 * ```ts
 * getTracestateMember(parseTracestate('ot=th:8,rojo=1'), 'ot') // 'th:8'
 * ```
 */
export function getTracestateMember(state: TraceState | undefined, key: string): string | undefined {
  if (state === undefined) return undefined
  for (let i = 0; i < state.length; i++) {
    const m = state[i]
    if (m?.key === key) return m.value
  }
  return undefined
}

/**
 * A tracestate with `key` set to `value` as its left-most (most recent) member; the other
 * members keep their order (§3.5 "Mutating the tracestate Field"). When that would make
 * more than 32 members, the right-most is dropped (§3.3.2). An invalid key or value
 * leaves the state unchanged (an empty one when `state` is undefined).
 *
 * @example
 * ```ts
 * setTracestateMember(parseTracestate('rojo=1,congo=2'), 'congo', '3')
 * // [{ key: 'congo', value: '3' }, { key: 'rojo', value: '1' }]
 * ```
 */
export function setTracestateMember(state: TraceState | undefined, key: string, value: string): TraceState {
  if (!isValidTracestateKey(key) || !isValidTracestateValue(value)) return state ?? []
  const out: TraceStateMember[] = [new Entry(key, value)]
  if (state !== undefined) {
    for (let i = 0; i < state.length && out.length < TRACESTATE_MAX_MEMBERS; i++) {
      const m = state[i]!
      if (m?.key !== key) out.push(m)
    }
  }
  return out
}

/**
 * A tracestate without `key`; `undefined` when nothing remains.
 *
 * @example
 * ```ts
 * deleteTracestateMember(parseTracestate('ot=th:8,rojo=1'), 'ot') // [{ key: 'rojo', value: '1' }]
 * deleteTracestateMember(parseTracestate('ot=th:8'), 'ot') // undefined
 * ```
 */
export function deleteTracestateMember(state: TraceState | undefined, key: string): TraceState | undefined {
  if (state === undefined) return undefined
  let found = false
  for (let i = 0; i < state.length; i++) if (state[i]?.key === key) found = true
  if (!found) return state.length > 0 ? state : undefined
  const out: TraceStateMember[] = []
  for (let i = 0; i < state.length; i++) if (state[i]?.key !== key) out.push(state[i]!)
  return out.length > 0 ? out : undefined
}
