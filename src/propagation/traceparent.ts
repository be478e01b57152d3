/**
 * W3C Trace Context `traceparent` (Level 2, §3.2): `version-traceid-parentid-flags`.
 *
 * Parsing is a single pass over char codes: no regex, no split, and one object per valid
 * header. Malformed input returns `undefined`; nothing here throws.
 */

/** The header name (W3C Trace Context §3.2.1; lowercase per the spec's SHOULD). */
export const TRACEPARENT_HEADER = 'traceparent'

/** What a valid `traceparent` carried. Ids are lowercase hex, never all zero. */
export interface ParsedTraceparent {
  /** 32 lowercase hex digits. */
  readonly traceId: string
  /** 16 lowercase hex digits: the caller's span (the spec's `parent-id`). */
  readonly spanId: string
  /** Sampled (0x01) and random (0x02) only: the flags this version defines (§3.2.2.5). */
  readonly flags: number
  /** The header's version byte, 0x00–0xfe; formatting always writes `00`. */
  readonly version: number
}

// Layout of a version-00 header: `vv-` + 32 + `-` + 16 + `-` + 2 = 55 characters.
const LENGTH_00 = 55
const TRACE_ID_START = 3
const SPAN_ID_START = 36
const FLAGS_START = 53
// Flags this version of the spec defines; others are reserved and MUST be zero when sent.
const KNOWN_FLAGS = 0x03

const DASH = 0x2d
const SPACE = 0x20
const TAB = 0x09

/** Lowercase hex digit value, or -1 (uppercase is not allowed: §3.2.2, HEXDIGLC). */
function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30
  if (c >= 0x61 && c <= 0x66) return c - 0x61 + 10
  return -1
}

/**
 * Checks `s[start, end)` is lowercase hex. Returns -1 when it is not, 0 when it is all
 * zeros, 1 otherwise (all-zero ids are invalid: §3.2.2.3, §3.2.2.4).
 */
function scanId(s: string, start: number, end: number): number {
  let nonZero = 0
  for (let i = start; i < end; i++) {
    const v = hexValue(s.charCodeAt(i))
    if (v < 0) return -1
    nonZero |= v
  }
  return nonZero === 0 ? 0 : 1
}

/**
 * Parses a `traceparent` value. Returns `undefined` for anything invalid, so the caller
 * starts a new trace (§3.2.2.3: "vendors MUST ignore the entire header").
 *
 * - Version `00` must be exactly 55 characters; trailing data makes it invalid.
 * - Higher versions (`01`–`fe`, §3.2.4 "Versioning of traceparent") parse when they have at
 *   least the version-00 fields and, when longer, a `-` right after the flags; their extra
 *   fields are dropped. Version `ff` is invalid.
 * - Optional whitespace (SP/HTAB) around the value is ignored (RFC 9110 §5.5 field values
 *   exclude leading/trailing OWS); whitespace inside is invalid.
 * - `flags` keeps only the bits this version defines (sampled, random).
 *
 * @example
 * ```ts
 * parseTraceparent('00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01')
 * // { version: 0, traceId: '4bf92f3577b34da6a3ce929d0e0e4736', spanId: '00f067aa0ba902b7', flags: 1 }
 * ```
 */
export function parseTraceparent(value: string): ParsedTraceparent | undefined {
  if (typeof value !== 'string') return undefined
  let s = value
  let n = s.length
  if (n < LENGTH_00) return undefined
  // Trim OWS only when present, so the common case allocates nothing.
  let c = s.charCodeAt(0)
  let last = s.charCodeAt(n - 1)
  if (c === SPACE || c === TAB || last === SPACE || last === TAB) {
    let a = 0
    let b = n
    while (a < b && ((c = s.charCodeAt(a)) === SPACE || c === TAB)) a++
    while (b > a && ((last = s.charCodeAt(b - 1)) === SPACE || last === TAB)) b--
    s = s.slice(a, b)
    n = s.length
    if (n < LENGTH_00) return undefined
  }

  const v1 = hexValue(s.charCodeAt(0))
  const v2 = hexValue(s.charCodeAt(1))
  if (v1 < 0 || v2 < 0) return undefined
  const version = (v1 << 4) | v2
  if (version === 0xff) return undefined // §3.2.2.1: version ff is forbidden
  if (version === 0 ? n !== LENGTH_00 : n > LENGTH_00 && s.charCodeAt(LENGTH_00) !== DASH) return undefined

  if (
    s.charCodeAt(2) !== DASH ||
    s.charCodeAt(SPAN_ID_START - 1) !== DASH ||
    s.charCodeAt(FLAGS_START - 1) !== DASH
  ) {
    return undefined
  }
  if (scanId(s, TRACE_ID_START, SPAN_ID_START - 1) !== 1) return undefined
  if (scanId(s, SPAN_ID_START, FLAGS_START - 1) !== 1) return undefined
  const f1 = hexValue(s.charCodeAt(FLAGS_START))
  const f2 = hexValue(s.charCodeAt(FLAGS_START + 1))
  if (f1 < 0 || f2 < 0) return undefined

  return {
    traceId: s.slice(TRACE_ID_START, SPAN_ID_START - 1),
    spanId: s.slice(SPAN_ID_START, FLAGS_START - 1),
    flags: ((f1 << 4) | f2) & KNOWN_FLAGS,
    version,
  }
}

const FLAG_SUFFIX = ['-00', '-01', '-02', '-03'] as const

/**
 * Writes a version-`00` `traceparent`. Only the sampled and random bits are written (other
 * flags are reserved and MUST be zero, §3.2.2.5.3). The ids are written as given: they
 * must already be valid lowercase hex (ids from `src/ids.ts` or a parsed header are).
 *
 * @example
 * ```ts
 * formatTraceparent('4bf92f3577b34da6a3ce929d0e0e4736', '00f067aa0ba902b7', 0x03)
 * // '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-03'
 * ```
 */
export function formatTraceparent(traceId: string, spanId: string, flags: number): string {
  return `00-${traceId}-${spanId}${FLAG_SUFFIX[flags & KNOWN_FLAGS]!}`
}
