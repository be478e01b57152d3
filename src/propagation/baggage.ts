/**
 * W3C Baggage (the `baggage` header): `key=value;prop1;prop2=v` list members separated by
 * `,`, with optional whitespace (OWS) around every delimiter.
 *
 * Parsing is lenient, as the spec's "Mutating baggage" section allows: a malformed member is
 * skipped and reported, the others are kept. Keys are RFC 7230 tokens and are not encoded;
 * values are percent-decoded on the way in and percent-encoded on the way out; properties are
 * checked against the grammar and otherwise kept opaque, re-emitted exactly as received.
 */
import { charClass, HEX, hasKey, headerValue, hexValue, OCTET, OWS, SAFE, skip, TOKEN } from '../chars.js'
import type { Baggage, BaggageMember } from '../trace-context.js'

/** The header name (W3C Baggage §"Header Name"). */
export const BAGGAGE_HEADER = 'baggage'

/**
 * W3C Baggage §"Limits": a platform MUST propagate up to 64 list members and 8192 bytes,
 * and MAY drop members beyond that (or define higher limits). By default we cap at exactly
 * those minimums, on parse and on format, counting bytes of the header we would send
 * (commas included, no OWS); `limits.baggageMembers` / `limits.baggageBytes` change them.
 */
export const BAGGAGE_LIMITS: { readonly maxMembers: 64; readonly maxBytes: 8192 } = {
  maxMembers: 64,
  maxBytes: 8192,
}

/**
 * @internal A reusable `onDrop` for the hot paths (no closure per call): parsing and
 * formatting are synchronous, so read {@link dropTally} right after the call.
 * Bit 1: a malformed member; bit 2: a member cut by a limit.
 */
export const dropTally = { bits: 0 }
/** @internal */
export function tallyDrop(reason: BaggageDropReason): void {
  dropTally.bits |= reason === 'too many members' || reason === 'too many bytes' ? 2 : 1
}

/**
 * How much of a `baggage` value is read at all: four times the byte limit (room for OWS and
 * for `%XX` escapes that decode shorter), at least 4 KiB. The rest could never fit the
 * header we re-send; it is cut at the last `,` before the bound, unscanned, and reported
 * as `too many bytes`, so a value's size never costs more than the limit's.
 */
export function baggageReadBound(limits: BaggageLimits): number {
  return Math.max(4 * limits.maxBytes, 4096)
}

/** Caps on one `baggage` header: members and bytes. */
export interface BaggageLimits {
  readonly maxMembers: number
  readonly maxBytes: number
}

/** Why a member was left out; passed to `onDrop`. */
export type BaggageDropReason =
  | 'invalid member'
  | 'invalid percent-encoding'
  | 'too many members'
  | 'too many bytes'

const SEMI = 0x3b

// `%XX` for every byte, uppercase hex (RFC 3986 §2.1: producers SHOULD use uppercase).
const PCT = HEX.map((h) => `%${h.toUpperCase()}`)

/**
 * Whether `key` is a valid baggage key: an RFC 7230 §3.2.6 token.
 *
 * @example
 * ```ts
 * isBaggageKey('userId') // true
 * isBaggageKey('user id') // false
 * ```
 */
export function isBaggageKey(key: string): boolean {
  return key.length > 0 && skip(key, 0, key.length, TOKEN) === key.length
}

/**
 * Checks `s[p, end)` is a property list `1*( OWS ";" OWS property ) OWS` where
 * `property = key OWS [ "=" OWS value OWS ]`, `key` a token and `value` baggage-octets.
 */
function isPropertyList(s: string, p: number, end: number): boolean {
  if (p >= end) return false
  while (p < end) {
    p = skip(s, p, end, OWS)
    if (p >= end || s.charCodeAt(p) !== SEMI) return false
    const key = skip(s, p + 1, end, OWS)
    p = skip(s, key, end, TOKEN)
    if (p === key) return false
    p = skip(s, p, end, OWS)
    if (p < end && s.charCodeAt(p) === 0x3d /* = */)
      p = skip(s, skip(s, skip(s, p + 1, end, OWS), end, OCTET), end, OWS)
  }
  return true
}

/**
 * Percent-encodes a baggage value: every code point outside `baggage-octet`, and `%`
 * itself, as UTF-8 bytes in uppercase `%XX` (W3C Baggage §value); a lone surrogate as
 * U+FFFD, as `TextEncoder` does. Other characters are written as they are, so values made
 * of them are returned unchanged.
 *
 * @example
 * ```ts
 * encodeBaggageValue('DF 28') // 'DF%2028'
 * encodeBaggageValue('Amélie') // 'Am%C3%A9lie'
 * ```
 */
export function encodeBaggageValue(value: string): string {
  const n = value.length
  let i = skip(value, 0, n, SAFE)
  if (i === n) return value
  let out = value.slice(0, i)
  for (; i < n; i++) {
    let c = value.codePointAt(i)!
    if (charClass(c) & SAFE) out += value[i]
    else if (c < 0x80) out += PCT[c]
    else if (c < 0x800) out += PCT[0xc0 | (c >> 6)]! + PCT[0x80 | (c & 63)]!
    else if (c > 0xffff) {
      out +=
        PCT[0xf0 | (c >> 18)]! +
        PCT[0x80 | ((c >> 12) & 63)]! +
        PCT[0x80 | ((c >> 6) & 63)]! +
        PCT[0x80 | (c & 63)]!
      i++
    } else {
      if (c >= 0xd800 && c <= 0xdfff) c = 0xfffd // a lone surrogate: U+FFFD, as TextEncoder writes it
      out += PCT[0xe0 | (c >> 12)]! + PCT[0x80 | ((c >> 6) & 63)]! + PCT[0x80 | (c & 63)]!
    }
  }
  return out
}

/**
 * Set by {@link decodeValue} for its caller, which reads it right after the call: whether the
 * text decoded was already the canonical encoding of the result (what
 * {@link encodeBaggageValue} would write), so it can be re-sent as is. A synchronous
 * out-parameter, not state: it never outlives the call that reads it.
 */
let canonical = false

/**
 * Percent-decodes `s`, then decodes the bytes as UTF-8 the way the WHATWG decoder
 * (`TextDecoder`) does, as W3C Baggage §value requires: a sequence that is not UTF-8 becomes
 * U+FFFD. `undefined` when a `%` is not followed by two hex digits: that is not a
 * percent-encoding, and the member is dropped rather than guessed at. By hand: for the short
 * values baggage carries this beats `decodeURIComponent` with a `TextDecoder` fallback.
 */
function decodeValue(s: string): string | undefined {
  canonical = true
  let out = ''
  let cp = 0
  let need = 0 // continuation bytes still expected
  let lo = 0x80
  let hi = 0xbf
  for (let i = 0; i < s.length; i++) {
    let b = s.charCodeAt(i)
    if (b === 0x25) {
      const x = s.charCodeAt(++i)
      const y = s.charCodeAt(++i)
      b = (hexValue(x) << 4) | hexValue(y)
      if (b < 0) return undefined
      // Canonical: uppercase hex, and only for a byte that must be encoded.
      if (x > 0x60 || y > 0x60 || charClass(b) & SAFE) canonical = false
    }
    if (need > 0) {
      if (b >= lo && b <= hi) {
        lo = 0x80
        hi = 0xbf
        cp = (cp << 6) | (b & 63)
        if (--need === 0) out += String.fromCodePoint(cp)
        continue
      }
      // Not a continuation byte: U+FFFD for the sequence so far, then this byte starts anew.
      need = 0
      lo = 0x80
      hi = 0xbf
      out += '\ufffd'
      canonical = false
    }
    if (b < 0x80) out += String.fromCharCode(b)
    else if (b < 0xc2 || b > 0xf4) {
      out += '\ufffd'
      canonical = false
    } else {
      need = b < 0xe0 ? 1 : b < 0xf0 ? 2 : 3
      cp = b & (0x3f >> need)
      // No overlong forms, no UTF-16 surrogates, nothing above U+10FFFF.
      if (b === 0xe0) lo = 0xa0
      else if (b === 0xed) hi = 0x9f
      else if (b === 0xf0) lo = 0x90
      else if (b === 0xf4) hi = 0x8f
    }
  }
  if (need === 0) return out
  canonical = false
  return `${out}\ufffd`
}

/**
 * A member minted by {@link parseBaggage}: its key and properties are known valid, and its
 * value's canonical encoding is known (the received text itself when it was canonical). It
 * remembers what was checked; if its (readonly) fields are written anyway, it is checked
 * again like any plain `{ key, value }` object (from a queue envelope, say).
 */
class Member implements BaggageMember {
  readonly key: string
  readonly value: string
  declare readonly properties?: string
  readonly #key: string
  readonly #value: string
  readonly #properties: string | undefined
  readonly #encoded: string
  constructor(key: string, value: string, properties: string | undefined, encoded: string) {
    this.key = this.#key = key
    this.value = this.#value = value
    if (properties !== undefined) this.properties = properties
    this.#properties = properties
    this.#encoded = encoded
  }
  /** The encoded value if `m` is an intact parsed member, else `undefined` (check it). */
  static encoded(m: BaggageMember): string | undefined {
    return #key in m && m.key === m.#key && m.value === m.#value && m.properties === m.#properties
      ? m.#encoded
      : undefined
  }
}

/**
 * Parses a `baggage` value (or the values of several `baggage` fields: the limits apply to
 * their combination). A malformed member is skipped and reported through `onDrop`; empty
 * list members are skipped silently. Members past `limits.maxMembers` (64), or that would
 * take the header we re-send past `limits.maxBytes` (8192), are dropped and reported; only
 * the first {@link baggageReadBound} characters are read. Values are percent-decoded (sequences
 * that are not UTF-8 become U+FFFD); duplicate keys are kept, in order. Returns `undefined`
 * when no member is kept.
 *
 * @example
 * ```ts
 * parseBaggage('userId=alice, serverNode = DF%2028;zone;dc=eu')
 * // [{ key: 'userId', value: 'alice' }, { key: 'serverNode', value: 'DF 28', properties: ';zone;dc=eu' }]
 * ```
 */
export function parseBaggage(
  value: string | readonly string[],
  onDrop?: (reason: BaggageDropReason) => void,
  limits: BaggageLimits = BAGGAGE_LIMITS,
): Baggage | undefined {
  let s = headerValue(value)
  if (s === undefined) return undefined
  const bound = baggageReadBound(limits)
  if (s.length > bound) {
    // Whole members only: a member cut in two would be a different value.
    s = s.slice(0, Math.max(0, s.lastIndexOf(',', bound)))
    onDrop?.('too many bytes')
  }
  const n = s.length
  let members: BaggageMember[] | undefined
  let bytes = 0
  let entries = 0
  let i = 0
  while (i < n) {
    let end = s.indexOf(',', i)
    if (end < 0) end = n
    let p = skip(s, i, end, OWS)
    i = end + 1
    if (p === end) continue // empty or blank list member
    // Malformed members count too: thousands of them are no list anyone sent in good faith.
    if ((members?.length ?? 0) >= limits.maxMembers || ++entries > 4 * limits.maxMembers) {
      onDrop?.('too many members')
      break
    }
    // key OWS "=" OWS value OWS [ properties ]
    const keyStart = p
    const keyEnd = skip(s, p, end, TOKEN)
    p = skip(s, keyEnd, end, OWS)
    if (keyEnd === keyStart || s.charCodeAt(p) !== 0x3d /* = */ || p === end) {
      onDrop?.('invalid member')
      continue
    }
    const valueStart = (p = skip(s, p + 1, end, OWS))
    let percent = false
    for (let c: number; p < end && (c = charClass(s.charCodeAt(p))) & OCTET; p++)
      if (!(c & SAFE)) percent = true
    const valueEnd = p
    p = skip(s, p, end, OWS)
    let propsEnd = end
    if (p < end) {
      while (charClass(s.charCodeAt(propsEnd - 1)) & OWS) propsEnd--
      if (!isPropertyList(s, p, propsEnd)) {
        onDrop?.('invalid member')
        continue
      }
    }
    let encoded = s.slice(valueStart, valueEnd)
    let decoded: string | undefined = encoded
    if (percent) {
      decoded = decodeValue(encoded)
      if (decoded === undefined) {
        onDrop?.('invalid percent-encoding')
        continue
      }
      if (!canonical) encoded = encodeBaggageValue(decoded)
    }
    const props = p < end ? s.slice(p, propsEnd) : undefined
    const size =
      (members === undefined ? 0 : 1) + keyEnd - keyStart + 1 + encoded.length + (props?.length ?? 0)
    if (bytes + size > limits.maxBytes) {
      onDrop?.('too many bytes')
      continue
    }
    bytes += size
    const member = new Member(s.slice(keyStart, keyEnd), decoded, props, encoded)
    if (members === undefined) members = [member]
    else members.push(member)
  }
  return members
}

/**
 * Serializes baggage: `key=value` with the value percent-encoded, then the member's
 * `properties` (a `;…` suffix) as they are. A member whose key is not a token or whose
 * properties are not valid property syntax is left out; so are members past
 * `limits.maxMembers` (64) and members that would take the header past `limits.maxBytes`
 * (8192): no member is ever cut (W3C Baggage §Limits).
 * `undefined` when nothing remains.
 *
 * @example
 * ```ts
 * formatBaggage([{ key: 'userId', value: 'Amélie' }, { key: 'isProduction', value: 'false' }])
 * // 'userId=Am%C3%A9lie,isProduction=false'
 * ```
 */
export function formatBaggage(
  baggage: Baggage,
  onDrop?: (reason: BaggageDropReason) => void,
  limits: BaggageLimits = BAGGAGE_LIMITS,
): string | undefined {
  let out = ''
  let kept = 0
  for (const m of baggage) {
    if (kept >= limits.maxMembers) {
      onDrop?.('too many members')
      break
    }
    let value = typeof m === 'object' && m !== null ? Member.encoded(m) : undefined
    const props = m?.properties
    if (value === undefined) {
      if (
        typeof m?.key !== 'string' ||
        typeof m.value !== 'string' ||
        !isBaggageKey(m.key) ||
        (props !== undefined &&
          props !== '' &&
          (typeof props !== 'string' || !isPropertyList(props, 0, props.length)))
      ) {
        onDrop?.('invalid member')
        continue
      }
      value = encodeBaggageValue(m.value)
    }
    const size = (kept === 0 ? 0 : 1) + m.key.length + 1 + value.length + (props?.length ?? 0)
    if (out.length + size > limits.maxBytes) {
      onDrop?.('too many bytes')
      continue
    }
    if (kept++ > 0) out += ','
    out += m.key
    out += '='
    out += value
    if (props !== undefined) out += props
  }
  return kept === 0 ? undefined : out
}

/**
 * Merges two baggage lists: a key present in `extra` takes `extra`'s member(s), in the
 * position of that key's first member in `base`; `base` keeps its order, and `extra`'s new
 * keys follow in their order. `undefined` when both are empty.
 *
 * @example
 * ```ts
 * mergeBaggage(parseBaggage('a=1,b=2'), parseBaggage('b=3,c=4'))
 * // [{ key: 'a', value: '1' }, { key: 'b', value: '3' }, { key: 'c', value: '4' }]
 * ```
 */
export function mergeBaggage(base: Baggage | undefined, extra: Baggage | undefined): Baggage | undefined {
  if (!extra?.length) return base?.length ? base : undefined
  if (!base?.length) return extra
  const out: BaggageMember[] = []
  base.forEach((m, i) => {
    if (!hasKey(extra, extra.length, m?.key)) out.push(m)
    else if (!hasKey(base, i, m.key)) for (const e of extra) if (e?.key === m.key) out.push(e)
  })
  for (const m of extra) if (!hasKey(base, base.length, m?.key)) out.push(m)
  return out
}
