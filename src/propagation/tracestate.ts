/**
 * W3C Trace Context `tracestate` (Level 2, §3.3): a list of up to 32 `key=value` members,
 * the left-most being the most recent.
 *
 * Parsing is strict: one invalid member or more than 32 members discards the whole header.
 * Level 2 ("tracestate Header Field Values" and the processing model, "A traceparent is
 * Received" step 3) allow either discarding the entire header or only the invalid entries;
 * we take the strict reading, because a tracestate we cannot fully understand may be one a
 * proxy cut in the middle, and forwarding a partial list would present it as whole to every
 * hop after us. A repeated key is different: the list is well-formed, so it is passed on
 * with the first (left-most, most recent) member of that key, as the W3C test suite
 * requires (`test_tracestate_duplicated_keys`, w3c/trace-context#477).
 *
 * Key grammar: Level 2 §3.3.2.2.1 (Key) `key = ( lcalpha / DIGIT ) 0*255 ( keychar )` with
 * `keychar = lcalpha / DIGIT / "_" / "-" / "*" / "/" / "@"`. It is a superset of the
 * Level 1 grammar (simple keys `lcalpha 0*255(...)` and multi-tenant keys `tenant@system`,
 * tenant up to 241 characters, system up to 14 starting with a letter): every Level 1 key
 * is accepted, and so are the keys Level 2 added (digit-first keys, `@` anywhere), which
 * matters because one rejected key would discard a peer's whole tracestate.
 */
import {
  charClass,
  hasKey,
  headerValue,
  OWS,
  skip,
  TS_CHR,
  TS_KEY,
  TS_KEY_FIRST,
  TS_VALUE,
} from '../chars.js'
import type { TraceState, TraceStateMember } from '../trace-context.js'
import type { Writable } from '../writable.js'

/** The header name (W3C Trace Context §3.3.1 Header Name; lowercase per the spec's SHOULD). */
export const TRACESTATE_HEADER = 'tracestate'

/** §3.3.2 (list): at most 32 list members. */
export const TRACESTATE_MAX_MEMBERS = 32
/** §3.3.3.1 (tracestate Limits): vendors SHOULD propagate at least 512 characters; we send at most that. */
export const TRACESTATE_MAX_LENGTH = 512
/** §3.3.2.2.1 and §3.3.2.2.2: keys and values are at most 256 characters. */
const MAX_KEY = 256
/**
 * Longest value read at all: 32 members of the longest key and value, with room for OWS.
 * A longer one cannot be a valid list (§3.3.2) and is dropped before it is scanned.
 */
export const TRACESTATE_MAX_INPUT = 32 * 1024
/** §3.3.3.1: when truncating, entries longer than this are removed first. */
const LARGE_ENTRY = 128

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
  return (
    n > 0 &&
    n <= MAX_KEY &&
    (charClass(key.charCodeAt(0)) & TS_KEY_FIRST) !== 0 &&
    skip(key, 1, n, TS_KEY) === n
  )
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
  return (
    n > 0 &&
    n <= MAX_KEY &&
    (charClass(value.charCodeAt(n - 1)) & TS_VALUE) !== 0 &&
    skip(value, 0, n, TS_CHR) === n
  )
}

/**
 * The header a fast-path parse read its members from, verbatim: already the form
 * {@link formatTracestate} would write for them (no OWS, no empty or repeated members,
 * at most 32, well under 512 characters).
 */
interface Source {
  readonly text: string
  readonly count: number
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
  /** The verbatim header this member is number `#index` of, when it came from one. */
  readonly #source: Source | undefined
  readonly #index: number
  constructor(key: string, value: string, source?: Source, index = 0) {
    this.key = this.#key = key
    this.value = this.#value = value
    this.#source = source
    this.#index = index
  }
  static isValid(m: TraceStateMember): boolean {
    if (typeof m !== 'object' || m === null) return false // the type says otherwise; JSON may not
    return (
      (#key in m && m.key === m.#key && m.value === m.#value) ||
      (typeof m.key === 'string' &&
        typeof m.value === 'string' &&
        isValidTracestateKey(m.key) &&
        isValidTracestateValue(m.value))
    )
  }
  /**
   * The header `state` was parsed from, when it is still exactly that list: the same
   * members, unchanged, in their places (a list is readonly by type only).
   */
  static sourceOf(state: TraceState): string | undefined {
    const first = state[0]
    if (typeof first !== 'object' || first === null || !(#source in first)) return undefined
    const source = first.#source
    if (source === undefined || state.length !== source.count) return undefined
    for (let i = 0; i < state.length; i++) {
      const m = state[i]
      if (
        typeof m !== 'object' ||
        m === null ||
        !(#source in m) ||
        m.#source !== source ||
        m.#index !== i ||
        m.key !== m.#key ||
        m.value !== m.#value
      )
        return undefined
    }
    return source.text
  }
}

// The canonical form (what formatTracestate writes): `key=value` members joined by `,`.
const KEY_RE = '[a-z\\d][a-z\\d_*/@-]*'
const VALUE_RE = '[\\x20-\\x2b\\x2d-\\x3c\\x3e-\\x7e]*[\\x21-\\x2b\\x2d-\\x3c\\x3e-\\x7e]'
const CANONICAL = new RegExp(`^${KEY_RE}=${VALUE_RE}(?:,${KEY_RE}=${VALUE_RE})*$`)
/** Canonical headers up to this length take the fast path: no key or value can be too long. */
const FAST_MAX = MAX_KEY

/**
 * The common case, a header already in canonical form, read in one regular-expression test
 * and kept verbatim for {@link formatTracestate}; `null` sends anything else (OWS, empty or
 * repeated members, more than 32, long values) to the general parser.
 */
function parseCanonical(s: string): TraceState | null {
  if (s.length > FAST_MAX || !CANONICAL.test(s)) return null
  const members: Entry[] = []
  const source: Writable<Source> = { text: s, count: 0 }
  for (let i = 0; i < s.length; ) {
    let comma = s.indexOf(',', i)
    if (comma < 0) comma = s.length
    const eq = s.indexOf('=', i)
    const key = s.slice(i, eq)
    const n = members.length
    // §3.3.2: more than 32 members, or a key twice: the general parser's rules apply.
    if (n === TRACESTATE_MAX_MEMBERS) return null
    for (let k = 0; k < n; k++) if (members[k]!.key === key) return null
    members.push(new Entry(key, s.slice(eq + 1, comma), source, n))
    i = comma + 1
  }
  source.count = members.length
  return members
}

/**
 * Parses a `tracestate` value (or the values of several `tracestate` fields, combined with
 * `,` as RFC 9110 §5.3 requires). Empty and whitespace-only list members are skipped
 * (§3.3.2), and so is a member whose key an earlier one already has. Returns `undefined`
 * when there is nothing to keep: an empty or blank header, or one that must be discarded
 * (an invalid member, more than 32 members).
 *
 * @example
 * ```ts
 * parseTracestate('rojo=00f067aa0ba902b7, congo=t61rcWkgMzE')
 * // [{ key: 'rojo', value: '00f067aa0ba902b7' }, { key: 'congo', value: 't61rcWkgMzE' }]
 * parseTracestate('rojo=1,rojo=2') // [{ key: 'rojo', value: '1' }] (first one wins)
 * ```
 */
export function parseTracestate(value: string | readonly string[]): TraceState | undefined {
  const s = headerValue(value)
  if (s === undefined || s.length > TRACESTATE_MAX_INPUT) return undefined
  const canonical = parseCanonical(s)
  if (canonical !== null) return canonical
  const n = s.length
  let members: TraceStateMember[] | undefined
  let count = 0
  for (let i = 0; i < n; ) {
    let c = s.charCodeAt(i)
    // OWS before a member, and empty members (§3.3.2).
    if (c === 0x2c || charClass(c) & OWS) {
      i++
      continue
    }
    const keyStart = i
    if (!(charClass(c) & TS_KEY_FIRST)) return undefined
    i = skip(s, i + 1, n, TS_KEY)
    if (s.charCodeAt(i) !== 0x3d /* = */ || i - keyStart > MAX_KEY) return undefined
    const key = s.slice(keyStart, i)
    // value: chr* nblk-chr, then optional OWS up to `,` or the end. A tab is only ever
    // trailing OWS; a space is part of the value when a visible character follows it.
    const valueStart = ++i
    let valueEnd = -1
    let tab = false
    for (; i < n && (c = s.charCodeAt(i)) !== 0x2c; i++) {
      if (charClass(c) & TS_VALUE) {
        if (tab) return undefined
        valueEnd = i + 1
      } else if (c === 9) tab = true
      else if (c !== 32) return undefined
    }
    if (valueEnd < 0 || valueEnd - valueStart > MAX_KEY) return undefined
    members ??= []
    // §3.3.2: at most 32 list members (repeats count: the limit is on the header), and no
    // key twice (a repeat is skipped).
    if (++count > TRACESTATE_MAX_MEMBERS) return undefined
    if (hasKey(members, members.length, key)) continue
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
  const verbatim = Entry.sourceOf(state)
  if (verbatim !== undefined) return verbatim
  let out = ''
  for (let i = 0; i < state.length; i++) {
    if (kept(state, i)) {
      if (out !== '') out += ','
      out += state[i]!.key
      out += '='
      out += state[i]!.value
    }
  }
  if (out.length <= TRACESTATE_MAX_LENGTH) return out || undefined
  // §3.3.3.1: the first pass drops entries over 128 characters (right-most first), the
  // second any entry from the right, each stopping as soon as the rest fits.
  const members = state.filter((_, i) => kept(state, i))
  let total = out.length
  for (let pass = 0; pass < 2; pass++) {
    for (let i = members.length - 1; i >= 0 && total > TRACESTATE_MAX_LENGTH; i--) {
      const len = entry(members[i]!).length
      if (pass > 0 || len > LARGE_ENTRY) {
        total -= len + 1 // and a comma
        members.splice(i, 1)
      }
    }
  }
  return members.map(entry).join(',') || undefined
}

/** Whether member `i` is written: valid, its key not seen before, within the first 32. */
function kept(state: TraceState, i: number): boolean {
  const m = state[i]!
  return i < TRACESTATE_MAX_MEMBERS && Entry.isValid(m) && !hasKey(state, i, m.key)
}

const entry = (m: TraceStateMember): string => `${m.key}=${m.value}`

/**
 * The value of `key`, if the tracestate has it.
 *
 * @example
 * ```ts
 * getTracestateMember(parseTracestate('ot=th:8,rojo=1'), 'ot') // 'th:8'
 * ```
 */
export function getTracestateMember(state: TraceState | undefined, key: string): string | undefined {
  if (state !== undefined) for (const m of state) if (m?.key === key) return m.value
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
  if (state !== undefined)
    for (const m of state) if (out.length < TRACESTATE_MAX_MEMBERS && m?.key !== key) out.push(m)
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
  const out: TraceStateMember[] = []
  for (const m of state) if (m?.key !== key) out.push(m)
  return out.length === 0 ? undefined : out.length === state.length ? state : out
}
