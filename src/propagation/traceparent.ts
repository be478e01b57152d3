/**
 * W3C Trace Context `traceparent` (Level 2, §3.2): `version-traceid-parentid-flags`.
 *
 * Parsing is a single pass over char codes: no regex, no split, and one object per valid
 * header. Malformed input returns `undefined`; nothing here throws.
 */

import { charClass, HEX_LC, hexValue, isHexId, OWS } from '../chars.js'

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
/**
 * Longest value read at all (later versions may append fields; no real one comes near):
 * a longer one is dropped before any character is looked at, so its size costs nothing.
 */
export const TRACEPARENT_MAX_INPUT = 4096
// Flags this version of the spec defines; others are reserved and MUST be zero when sent.
const KNOWN_FLAGS = 0x03

/**
 * A version-00 header with nothing around it (55 characters), read in one pass with no
 * call per character; `undefined` when it is invalid, `null` when it is not in that form
 * (another version, OWS, uppercase hex): the general parser decides those.
 */
function parseVersion00(s: string): ParsedTraceparent | undefined | null {
  if (
    s.charCodeAt(0) !== 0x30 ||
    s.charCodeAt(1) !== 0x30 ||
    s.charCodeAt(2) !== 0x2d ||
    s.charCodeAt(35) !== 0x2d ||
    s.charCodeAt(52) !== 0x2d
  )
    return null
  let traceBits = 0
  let spanBits = 0
  for (let i = 3; i < 35; i++) {
    const c = s.charCodeAt(i)
    if ((c - 0x30) >>> 0 > 9 && (c - 0x61) >>> 0 > 5) return null
    traceBits |= c ^ 0x30
  }
  for (let i = 36; i < 52; i++) {
    const c = s.charCodeAt(i)
    if ((c - 0x30) >>> 0 > 9 && (c - 0x61) >>> 0 > 5) return null
    spanBits |= c ^ 0x30
  }
  const flags = lcByte(s, 53)
  if (flags < 0) return null
  // §3.2.2.3, §3.2.2.4: an all-zero trace or parent id is invalid.
  if (traceBits === 0 || spanBits === 0) return undefined
  return { traceId: s.slice(3, 35), spanId: s.slice(36, 52), flags: flags & KNOWN_FLAGS, version: 0 }
}

/** The byte written as two lowercase hex digits at `s[i]` (§3.2.2, HEXDIGLC), or -1. */
function lcByte(s: string, i: number): number {
  const a = s.charCodeAt(i)
  const b = s.charCodeAt(i + 1)
  return charClass(a) & charClass(b) & HEX_LC ? (hexValue(a) << 4) | hexValue(b) : -1
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
 * - Trace and span ids are lowercase hex and not all zero (§3.2.2.3, §3.2.2.4).
 *
 * @example
 * ```ts
 * parseTraceparent('00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01')
 * // { version: 0, traceId: '4bf92f3577b34da6a3ce929d0e0e4736', spanId: '00f067aa0ba902b7', flags: 1 }
 * ```
 */
export function parseTraceparent(value: string): ParsedTraceparent | undefined {
  if (typeof value !== 'string' || value.length > TRACEPARENT_MAX_INPUT) return undefined
  // The form nearly every header has: version 00, nothing around it, in one pass.
  if (value.length === LENGTH_00) {
    const parsed = parseVersion00(value)
    if (parsed !== null) return parsed
  }
  // Trim OWS, allocating nothing when there is none.
  let a = 0
  let b = value.length
  while (charClass(value.charCodeAt(a)) & OWS) a++
  while (b > a && charClass(value.charCodeAt(b - 1)) & OWS) b--
  const s = a > 0 || b < value.length ? value.slice(a, b) : value
  const n = s.length
  if (n < LENGTH_00) return undefined
  const version = lcByte(s, 0)
  const flags = lcByte(s, 53)
  if (
    version < 0 ||
    version === 0xff || // §3.2.2.1: version ff is forbidden
    (version === 0 ? n !== LENGTH_00 : n > LENGTH_00 && s.charCodeAt(LENGTH_00) !== 0x2d) ||
    s.charCodeAt(2) !== 0x2d ||
    s.charCodeAt(35) !== 0x2d ||
    s.charCodeAt(52) !== 0x2d ||
    flags < 0 ||
    !isHexId(s, 3, 35, HEX_LC) ||
    !isHexId(s, 36, 52, HEX_LC)
  ) {
    return undefined
  }
  return { traceId: s.slice(3, 35), spanId: s.slice(36, 52), flags: flags & KNOWN_FLAGS, version }
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
