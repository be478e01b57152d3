/**
 * W3C Baggage (the `baggage` header): `key=value;prop1;prop2=v` list members separated by
 * `,`, with optional whitespace (OWS) around every delimiter.
 *
 * Parsing is lenient, as the spec's "Mutating baggage" section allows: a malformed member is
 * skipped and reported, the others are kept. Keys are RFC 7230 tokens and are not encoded;
 * values are percent-decoded on the way in and percent-encoded on the way out; properties are
 * checked against the grammar and otherwise kept opaque, re-emitted exactly as received.
 */
import type { Baggage, BaggageMember } from '../trace-context.js'

/** The header name (W3C Baggage §"Header Name"). */
export const BAGGAGE_HEADER = 'baggage'

/**
 * W3C Baggage §"Limits": a platform MUST propagate up to 64 list members and 8192 bytes,
 * and MAY drop members beyond that. We cap at exactly those minimums, on parse and on
 * format, counting bytes of the header we would send (commas included, no OWS).
 */
export const BAGGAGE_LIMITS: { readonly maxMembers: 64; readonly maxBytes: 8192 } = {
  maxMembers: 64,
  maxBytes: 8192,
}

/** Why a member was left out; passed to `onDrop`. */
export type BaggageDropReason =
  | 'invalid member'
  | 'invalid percent-encoding'
  | 'too many members'
  | 'too many bytes'

const COMMA = 0x2c
const SEMI = 0x3b
const EQUALS = 0x3d
const PERCENT = 0x25
const SPACE = 0x20
const TAB = 0x09

// Char classes (0..127): bit 1 = RFC 7230 tchar, bit 2 = baggage-octet
// (%x21 / %x23-2B / %x2D-3A / %x3C-5B / %x5D-7E), bit 4 = written unencoded in a value
// (a baggage-octet other than `%`, which MUST be encoded).
const CLASS = new Uint8Array(128)
for (let c = 0x30; c <= 0x39; c++) CLASS[c]! |= 1
for (let c = 0x41; c <= 0x5a; c++) CLASS[c]! |= 1
for (let c = 0x61; c <= 0x7a; c++) CLASS[c]! |= 1
for (const ch of "!#$%&'*+-.^_`|~") CLASS[ch.charCodeAt(0)]! |= 1
for (let c = 0x21; c <= 0x7e; c++) {
  if (c !== 0x22 && c !== COMMA && c !== SEMI && c !== 0x5c) CLASS[c]! |= c === PERCENT ? 2 : 2 | 4
}

function charClass(c: number): number {
  return c < 128 ? CLASS[c]! : 0
}

// `%XX` for every byte, uppercase hex (RFC 3986 §2.1: producers SHOULD use uppercase).
const PCT: string[] = []
for (let b = 0; b < 256; b++) PCT.push(`%${b.toString(16).toUpperCase().padStart(2, '0')}`)

/** Hex digit value in either case (RFC 3986 §2.1: case-insensitive), or -1. */
function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30
  const l = c | 0x20
  if (l >= 0x61 && l <= 0x66) return l - 0x61 + 10
  return -1
}

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
  const n = key.length
  if (n === 0) return false
  for (let i = 0; i < n; i++) if ((charClass(key.charCodeAt(i)) & 1) === 0) return false
  return true
}

function isOws(c: number): boolean {
  return c === SPACE || c === TAB
}

/**
 * Checks `s[p, end)` is a property list `1*( OWS ";" OWS property ) OWS` where
 * `property = key OWS [ "=" OWS value OWS ]`, `key` a token and `value` baggage-octets.
 */
function isPropertyList(s: string, p: number, end: number): boolean {
  if (p >= end) return false
  while (p < end) {
    while (p < end && isOws(s.charCodeAt(p))) p++
    if (p >= end || s.charCodeAt(p) !== SEMI) return false
    p++
    while (p < end && isOws(s.charCodeAt(p))) p++
    const keyStart = p
    while (p < end && (charClass(s.charCodeAt(p)) & 1) !== 0) p++
    if (p === keyStart) return false
    while (p < end && isOws(s.charCodeAt(p))) p++
    if (p < end && s.charCodeAt(p) === EQUALS) {
      p++
      while (p < end && isOws(s.charCodeAt(p))) p++
      while (p < end && (charClass(s.charCodeAt(p)) & 2) !== 0) p++
      while (p < end && isOws(s.charCodeAt(p))) p++
    }
  }
  return true
}

const REPLACEMENT = '\uFFFD'

/**
 * Set by {@link decodeValue} for its caller, which reads it right after the call: whether the
 * text decoded was already the canonical encoding of the result (what
 * {@link encodeBaggageValue} would write), so it can be re-sent as is. A synchronous
 * out-parameter, not state: it never outlives the call that reads it.
 */
let decodedCanonical = false

/**
 * Percent-decodes `s[start, end)` and decodes the bytes as UTF-8, replacing sequences that
 * are not UTF-8 with U+FFFD exactly as the WHATWG UTF-8 decoder (and so `TextDecoder`) does,
 * which is what W3C Baggage §value requires. Written out rather than calling `TextDecoder`:
 * values are short, and the call alone costs more than decoding one here.
 * `undefined` when a `%` is not followed by two hex digits: that is not a percent-encoding,
 * and the member is dropped rather than guessed at.
 */
function decodeValue(s: string, start: number, end: number): string | undefined {
  decodedCanonical = true
  let out = ''
  let run = start // start of the raw (unescaped ASCII) text not yet copied to `out`
  let needed = 0
  let seen = 0
  let cp = 0
  let lower = 0x80
  let upper = 0xbf
  let i = start
  while (i < end) {
    let b = s.charCodeAt(i)
    let next = i + 1
    if (b === PERCENT) {
      if (i + 2 >= end) return undefined
      const h = hexValue(s.charCodeAt(i + 1))
      const l = hexValue(s.charCodeAt(i + 2))
      if (h < 0 || l < 0) return undefined
      b = (h << 4) | l
      next = i + 3
      // Canonical: uppercase hex, and only for a byte that must be encoded.
      if (s.charCodeAt(i + 1) >= 0x61 || s.charCodeAt(i + 2) >= 0x61 || (b < 0x80 && (CLASS[b]! & 4) !== 0)) {
        decodedCanonical = false
      }
    } else if (needed === 0) {
      i = next // raw ASCII outside a sequence: stays in the run
      continue
    }
    if (needed === 0) {
      out += s.slice(run, i)
      if (b < 0x80) out += String.fromCharCode(b)
      else if (b >= 0xc2 && b <= 0xdf) {
        needed = 1
        cp = b & 0x1f
      } else if (b >= 0xe0 && b <= 0xef) {
        if (b === 0xe0) lower = 0xa0
        else if (b === 0xed) upper = 0x9f // no UTF-16 surrogates
        needed = 2
        cp = b & 0x0f
      } else if (b >= 0xf0 && b <= 0xf4) {
        if (b === 0xf0) lower = 0x90
        else if (b === 0xf4) upper = 0x8f // nothing above U+10FFFF
        needed = 3
        cp = b & 0x07
      } else {
        out += REPLACEMENT
        decodedCanonical = false
      }
      i = run = next
      continue
    }
    if (b < lower || b > upper) {
      // Not a continuation byte: the sequence so far becomes one U+FFFD, and this byte is
      // processed again from the start state (WHATWG Encoding, UTF-8 decoder step 4).
      needed = seen = cp = 0
      lower = 0x80
      upper = 0xbf
      out += REPLACEMENT
      decodedCanonical = false
      run = i
      continue
    }
    lower = 0x80
    upper = 0xbf
    cp = (cp << 6) | (b & 0x3f)
    if (++seen === needed) {
      out +=
        cp < 0x10000
          ? String.fromCharCode(cp)
          : String.fromCharCode(0xd800 + ((cp - 0x10000) >> 10), 0xdc00 + ((cp - 0x10000) & 0x3ff))
      needed = seen = cp = 0
    }
    i = run = next
  }
  if (needed !== 0) {
    out += REPLACEMENT // a truncated sequence at the end
    decodedCanonical = false
  }
  return run < end ? out + s.slice(run, end) : out
}

/** UTF-8 byte count of the code point at `i` (lone surrogates count as U+FFFD: 3 bytes). */
function utf8Length(value: string, i: number, c: number): number {
  if (c < 0x80) return 1
  if (c < 0x800) return 2
  if (c >= 0xd800 && c <= 0xdbff && i + 1 < value.length) {
    const d = value.charCodeAt(i + 1)
    if (d >= 0xdc00 && d <= 0xdfff) return 4
  }
  return 3
}

/** Length of `value` once percent-encoded by {@link encodeBaggageValue}. */
function encodedLength(value: string): number {
  let len = 0
  const n = value.length
  for (let i = 0; i < n; i++) {
    const c = value.charCodeAt(i)
    if ((charClass(c) & 4) !== 0) len++
    else {
      const bytes = utf8Length(value, i, c)
      len += 3 * bytes
      if (bytes === 4) i++
    }
  }
  return len
}

/**
 * Percent-encodes a baggage value: every code point outside `baggage-octet`, and `%`
 * itself, as UTF-8 bytes in uppercase `%XX` (W3C Baggage §value). Other characters are
 * written as they are, so values made of them are returned unchanged.
 *
 * @example
 * ```ts
 * encodeBaggageValue('DF 28') // 'DF%2028'
 * encodeBaggageValue('Amélie') // 'Am%C3%A9lie'
 * ```
 */
export function encodeBaggageValue(value: string): string {
  const n = value.length
  let i = 0
  while (i < n && (charClass(value.charCodeAt(i)) & 4) !== 0) i++
  if (i === n) return value
  let out = value.slice(0, i)
  for (; i < n; i++) {
    let c = value.charCodeAt(i)
    if ((charClass(c) & 4) !== 0) {
      out += value[i]
      continue
    }
    if (c < 0x80) {
      out += PCT[c]
      continue
    }
    if (c < 0x800) {
      out += PCT[0xc0 | (c >> 6)]! + PCT[0x80 | (c & 0x3f)]!
      continue
    }
    if (c >= 0xd800 && c <= 0xdfff) {
      const d = i + 1 < n ? value.charCodeAt(i + 1) : 0
      if (c <= 0xdbff && d >= 0xdc00 && d <= 0xdfff) {
        const cp = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00)
        out +=
          PCT[0xf0 | (cp >> 18)]! +
          PCT[0x80 | ((cp >> 12) & 0x3f)]! +
          PCT[0x80 | ((cp >> 6) & 0x3f)]! +
          PCT[0x80 | (cp & 0x3f)]!
        i++
        continue
      }
      c = 0xfffd // a lone surrogate is not UTF-8-encodable: U+FFFD, as TextEncoder does
    }
    out += PCT[0xe0 | (c >> 12)]! + PCT[0x80 | ((c >> 6) & 0x3f)]! + PCT[0x80 | (c & 0x3f)]!
  }
  return out
}

/**
 * A member minted by {@link parseBaggage}: its key and properties are known valid, and when
 * the received value text was already canonical (no `%`, or only the escapes
 * {@link encodeBaggageValue} writes) it is kept to be re-sent as is. It remembers what was
 * checked; if its (readonly) fields are written anyway, it is checked again like any plain
 * `{ key, value }` object (from a queue envelope, say).
 */
class Member implements BaggageMember {
  readonly key: string
  readonly value: string
  declare readonly properties?: string
  readonly #key: string
  readonly #value: string
  readonly #properties: string | undefined
  readonly #encoded: string | undefined
  constructor(key: string, value: string, properties: string | undefined, encoded: string | undefined) {
    this.key = this.#key = key
    this.value = this.#value = value
    if (properties !== undefined) this.properties = properties
    this.#properties = properties
    this.#encoded = encoded
  }
  /** The encoded value if `m` is an intact parsed member, else `undefined` (check it). */
  static encoded(m: BaggageMember): string | undefined {
    if (#key in m && m.key === m.#key && m.value === m.#value && m.properties === m.#properties) {
      return m.#encoded ?? encodeBaggageValue(m.value)
    }
    return undefined
  }
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
 * Parses a `baggage` value (or the values of several `baggage` fields: the limits apply to
 * their combination). A malformed member is skipped and reported through `onDrop`; empty
 * list members are skipped silently. Members past 64, or that would take the header we
 * re-send past 8192 bytes, are dropped and reported. Values are percent-decoded (sequences
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
): Baggage | undefined {
  const s = typeof value === 'string' ? value : Array.isArray(value) ? joinValues(value) : undefined
  if (s === undefined) return undefined
  const n = s.length
  let members: BaggageMember[] | undefined
  let bytes = 0
  let i = 0
  while (i < n) {
    let end = s.indexOf(',', i)
    if (end < 0) end = n
    const memberStart = i
    i = end + 1
    let p = memberStart
    while (p < end && isOws(s.charCodeAt(p))) p++
    if (p === end) continue // empty or blank list member
    if (members !== undefined && members.length === BAGGAGE_LIMITS.maxMembers) {
      onDrop?.('too many members')
      break
    }
    // key OWS "=" OWS value OWS [ properties ]
    const keyStart = p
    while (p < end && (charClass(s.charCodeAt(p)) & 1) !== 0) p++
    const keyEnd = p
    while (p < end && isOws(s.charCodeAt(p))) p++
    if (keyEnd === keyStart || p === end || s.charCodeAt(p) !== EQUALS) {
      onDrop?.('invalid member')
      continue
    }
    p++
    while (p < end && isOws(s.charCodeAt(p))) p++
    const valueStart = p
    let percent = false
    let c = 0
    while (p < end && ((c = charClass(s.charCodeAt(p))) & 2) !== 0) {
      if ((c & 4) === 0) percent = true
      p++
    }
    const valueEnd = p
    while (p < end && isOws(s.charCodeAt(p))) p++
    let propsEnd = end
    if (p < end) {
      while (isOws(s.charCodeAt(propsEnd - 1))) propsEnd--
      if (s.charCodeAt(p) !== SEMI || !isPropertyList(s, p, propsEnd)) {
        onDrop?.('invalid member')
        continue
      }
    }
    let decoded: string | undefined
    let encoded: string | undefined
    let size: number
    if (percent) {
      decoded = decodeValue(s, valueStart, valueEnd)
      if (decoded === undefined) {
        onDrop?.('invalid percent-encoding')
        continue
      }
      if (decodedCanonical) {
        encoded = s.slice(valueStart, valueEnd)
        size = valueEnd - valueStart
      } else size = encodedLength(decoded)
    } else {
      decoded = encoded = s.slice(valueStart, valueEnd)
      size = valueEnd - valueStart
    }
    size += keyEnd - keyStart + 1 + (p < end ? propsEnd - p : 0) + (members === undefined ? 0 : 1)
    if (bytes + size > BAGGAGE_LIMITS.maxBytes) {
      onDrop?.('too many bytes')
      continue
    }
    bytes += size
    const key = s.slice(keyStart, keyEnd)
    const member = new Member(key, decoded, p < end ? s.slice(p, propsEnd) : undefined, encoded)
    if (members === undefined) members = [member]
    else members.push(member)
  }
  return members
}

/**
 * Serializes baggage: `key=value` with the value percent-encoded, then the member's
 * `properties` (a `;…` suffix) as they are. A member whose key is not a token or whose
 * properties are not valid property syntax is left out; so are members past 64 and members
 * that would take the header past 8192 bytes (no member is ever cut, W3C Baggage §Limits).
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
): string | undefined {
  let out = ''
  let kept = 0
  for (let i = 0; i < baggage.length; i++) {
    const m = baggage[i]!
    if (kept === BAGGAGE_LIMITS.maxMembers) {
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
    const size =
      (kept === 0 ? 0 : 1) + m.key.length + 1 + value.length + (props === undefined ? 0 : props.length)
    if (out.length + size > BAGGAGE_LIMITS.maxBytes) {
      onDrop?.('too many bytes')
      continue
    }
    if (kept > 0) out += ','
    out += m.key
    out += '='
    out += value
    if (props !== undefined) out += props
    kept++
  }
  return kept === 0 ? undefined : out
}

function hasKey(baggage: Baggage, end: number, key: string | undefined): boolean {
  if (key === undefined) return false
  for (let i = 0; i < end; i++) if (baggage[i]?.key === key) return true
  return false
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
  if (extra === undefined || extra.length === 0)
    return base !== undefined && base.length > 0 ? base : undefined
  if (base === undefined || base.length === 0) return extra
  const out: BaggageMember[] = []
  for (let i = 0; i < base.length; i++) {
    const m = base[i]!
    if (!hasKey(extra, extra.length, m?.key)) out.push(m)
    else if (!hasKey(base, i, m.key)) {
      for (let j = 0; j < extra.length; j++) if (extra[j]?.key === m.key) out.push(extra[j]!)
    }
  }
  for (let j = 0; j < extra.length; j++) {
    const m = extra[j]!
    if (!hasKey(base, base.length, m?.key)) out.push(m)
  }
  return out
}
