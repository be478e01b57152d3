/**
 * Character-level helpers shared by the header parsers and encoders (W3C traceparent,
 * tracestate, baggage, X-Ray, LangSmith, ids): one char-class table, one hex table, one
 * UTF-8 decoder, so each format does not carry its own copy.
 */

/** RFC 7230 §3.2.6 `tchar`: a baggage key character. */
export const TOKEN = 1
/** W3C Baggage `baggage-octet`: %x21 / %x23-2B / %x2D-3A / %x3C-5B / %x5D-7E. */
export const OCTET = 2
/** A baggage-octet written unencoded in a baggage value (every one but `%`). */
export const SAFE = 4
/** W3C tracestate: first key character (lcalpha / DIGIT). */
export const TS_KEY_FIRST = 8
/** W3C tracestate `keychar` (lcalpha / DIGIT / `_` `-` `*` `/` `@`). */
export const TS_KEY = 16
/** W3C tracestate `nblk-chr` (%x21-2B / %x2D-3C / %x3E-7E). */
export const TS_VALUE = 32
/** A lowercase hex digit (`HEXDIGLC`). */
export const HEX_LC = 64
/** A hex digit of either case. */
export const HEX_ANY = 128
/** Optional whitespace (RFC 9110 OWS): SP and HTAB. */
export const OWS = 256
/** W3C tracestate `chr` (SP / nblk-chr). */
export const TS_CHR = 512
/** An OpenTelemetry `ot` sub-key value character (ALPHA / DIGIT / `.` / `_` / `-`). */
export const OT_VALUE = 1024

// Built once from the grammars' own wording; looked up by char code on the hot paths.
const CLASS = new Uint16Array(128)
for (let c = 0; c < 128; c++) {
  const ch = String.fromCharCode(c)
  CLASS[c] =
    (/[\w!#$%&'*+.^`|~-]/.test(ch) ? TOKEN : 0) |
    (c > 32 && c < 127 && !'",;\\'.includes(ch) ? (c === 37 ? OCTET : OCTET | SAFE) : 0) |
    (/[\da-z]/.test(ch) ? TS_KEY_FIRST : 0) |
    (/[\da-z_*/@-]/.test(ch) ? TS_KEY : 0) |
    (c > 32 && c < 127 && c !== 44 && c !== 61 ? TS_VALUE | TS_CHR : 0) |
    (c === 32 ? TS_CHR : 0) |
    (/[\da-f]/.test(ch) ? HEX_LC : 0) |
    (/[\da-fA-F]/.test(ch) ? HEX_ANY : 0) |
    (c === 32 || c === 9 ? OWS : 0) |
    (/[\w.-]/.test(ch) ? OT_VALUE : 0)
}

/** The class bits of char code `c` (0 outside ASCII, and for NaN past a string's end). */
export function charClass(c: number): number {
  return c < 128 ? CLASS[c]! : 0
}

/** The first index in `[p, end)` whose character lacks every bit of `bits`, or `end`. */
export function skip(s: string, p: number, end: number, bits: number): number {
  while (p < end && (charClass(s.charCodeAt(p)) & bits) !== 0) p++
  return p
}

/** Whether `s[start, end)` is all hex digits (`HEX_LC` or `HEX_ANY`) and not all zeros. */
export function isHexId(
  s: string,
  start: number,
  end: number,
  bits: typeof HEX_LC | typeof HEX_ANY,
): boolean {
  // Range checks instead of the class table: ids are read on every request, and this loop
  // (no call, no table load) is about twice as fast in V8.
  const upper = bits === HEX_ANY ? 32 : 0 // `| 32` lowercases A–F only when either case is allowed
  if (end > s.length) return false
  let any = 0
  for (let i = start; i < end; i++) {
    const c = s.charCodeAt(i)
    const l = c | upper
    if ((c - 48) >>> 0 > 9 && (l - 97) >>> 0 > 5) return false
    any |= c ^ 48
  }
  return any !== 0
}

/** Hex digit value of a char code, either case (RFC 3986 §2.1), or -1. */
export function hexValue(c: number): number {
  return (charClass(c) & HEX_ANY) === 0 ? -1 : c < 58 ? c - 48 : (c | 32) - 87
}

/** Two lowercase hex digits for every byte value: `HEX[0x0f] === '0f'`. */
export const HEX: readonly string[] = Array.from({ length: 256 }, (_, i) => (i + 256).toString(16).slice(1))

let decoder: TextDecoder | undefined
/**
 * Bytes as UTF-8, sequences that are not UTF-8 replaced by U+FFFD (the WHATWG decoder's
 * rule); a leading BOM is kept, as `decodeURIComponent` keeps it.
 */
export function decodeUtf8(bytes: Uint8Array): string {
  decoder ??= new TextDecoder('utf-8', { ignoreBOM: true })
  return decoder.decode(bytes)
}

/** Values of a repeated field joined at most; no platform delivers a tenth as many. */
const MAX_JOINED_VALUES = 1000
/** Joining stops past this length: every format drops or cuts a value this long anyway. */
const MAX_JOINED_CHARS = 1 << 20

/**
 * A header value as one string: the values of a repeated field joined with `,` (RFC 9110
 * §5.3), non-strings skipped; `undefined` when nothing is left. A hostile array (a million
 * values) is joined only up to {@link MAX_JOINED_VALUES} values or
 * {@link MAX_JOINED_CHARS} characters: what is left out could never be read.
 */
export function headerValue(value: unknown): string | undefined {
  if (typeof value === 'string') return value
  let out: string | undefined
  if (Array.isArray(value)) {
    const n = Math.min(value.length, MAX_JOINED_VALUES)
    for (let i = 0; i < n && (out === undefined || out.length <= MAX_JOINED_CHARS); i++) {
      const v: unknown = value[i]
      if (typeof v === 'string') out = out === undefined ? v : `${out},${v}`
    }
  }
  return out
}

/** Whether one of the first `end` members of `list` has `key`. */
export function hasKey(
  list: readonly ({ readonly key: string } | undefined)[],
  end: number,
  key: unknown,
): boolean {
  for (let i = 0; i < end; i++) if (key !== undefined && list[i]?.key === key) return true
  return false
}
