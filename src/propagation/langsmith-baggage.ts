/**
 * The LangSmith members of the W3C `baggage` header, as the `langsmith` SDKs write them
 * next to `langsmith-trace` (JS `RunTree.toHeaders()` / class `Baggage`, Python
 * `RunTree.to_headers()` / `_Baggage`):
 *
 *     langsmith-metadata=<encoded JSON object>,langsmith-tags=<encoded tags joined by ','>,
 *     langsmith-project=<encoded name>[,langsmith-address=<encoded LRN>]
 *
 * Both SDKs join members with a bare `,`, emit a member only when it is non-empty, and
 * percent-encode each value as a whole (JS `encodeURIComponent`; Python `urllib.parse.quote`,
 * which leaves `/` and encodes `!'()*`; the decoded values are the same). Reading, the SDKs
 * split on `,` and `=`, percent-decode, and `JSON.parse` the metadata; the JS SDK throws on
 * bad percent-encoding or JSON, the Python one stops at the first bad member. Here nothing
 * throws: a bad member is skipped and the others are kept.
 *
 * Tags are joined with `,` inside one value and split on `,` again when read (both SDKs), so a
 * tag containing a comma arrives as two tags; that is the format, not a choice made here.
 */
import { charClass, decodeUtf8, hexValue, OWS } from '../chars.js'
import type { Baggage, BaggageMember } from '../trace-context.js'

export const LANGSMITH_METADATA_KEY = 'langsmith-metadata'
export const LANGSMITH_TAGS_KEY = 'langsmith-tags'
export const LANGSMITH_PROJECT_KEY = 'langsmith-project'
/** Where runs go (an LRN, JS SDK). Passed through untouched. */
export const LANGSMITH_ADDRESS_KEY = 'langsmith-address'
/**
 * Replica projects (a JSON list). Never passed on: both SDKs stopped writing it and strip
 * endpoints and API keys from an inbound one ("inbound baggage must not be allowed to
 * redirect writes or inject auth"); forwarding it would carry a caller's credentials and
 * URLs to every service after us. Dropping it is what an SDK hop does.
 */
export const LANGSMITH_REPLICAS_KEY = 'langsmith-replicas'

/** Longest raw `baggage` header {@link parseLangSmithBaggageHeader} reads (members past it are ignored). */
export const LANGSMITH_BAGGAGE_MAX_LENGTH = 65_536

/** What the LangSmith members of `baggage` carry. Absent fields were absent or malformed. */
export interface LangSmithBaggage {
  readonly project?: string
  readonly tags?: readonly string[]
  readonly metadata?: Readonly<Record<string, unknown>>
  /** `langsmith-address`, kept as received (value decoded). */
  readonly passthrough?: readonly BaggageMember[]
}

interface Builder {
  project?: string
  tags?: readonly string[]
  metadata?: Readonly<Record<string, unknown>>
  passthrough?: BaggageMember[]
}

const EMPTY: LangSmithBaggage = Object.freeze({})

/**
 * Deepest metadata nesting accepted. A hostile header can nest 30,000 levels in 64 KB; the
 * object would parse, then overflow the stack in every later `JSON.stringify` (exporters).
 */
export const LANGSMITH_METADATA_MAX_DEPTH = 64

/** A JSON object (not an array, not null) nested at most 64 deep, or undefined. */
function parseMetadata(json: string): Record<string, unknown> | undefined {
  // The brackets' depth, strings skipped: checked before parsing.
  let depth = 0
  for (let i = 0; i < json.length; i++) {
    const c = json[i]
    if (c === '"') while (++i < json.length && json[i] !== '"') if (json[i] === '\\') i++
    if (c === '{' || c === '[') {
      if (++depth > LANGSMITH_METADATA_MAX_DEPTH) return undefined
    } else if (c === '}' || c === ']') depth--
  }
  try {
    const v: unknown = JSON.parse(json)
    return typeof v === 'object' && v !== null && !Array.isArray(v)
      ? (v as Record<string, unknown>)
      : undefined
  } catch {
    return undefined
  }
}

/** Applies one decoded LangSmith member; returns false when it was malformed. */
function apply(b: Builder, member: BaggageMember): boolean {
  const { key, value } = member
  if (key === LANGSMITH_METADATA_KEY) {
    const metadata = parseMetadata(value)
    if (metadata === undefined) return false
    b.metadata = metadata
  } else if (key === LANGSMITH_TAGS_KEY) {
    // Split on `,`; each tag is trimmed of spaces/tabs, empty ones are dropped.
    const tags = value.split(',').map(trimOws).filter(Boolean)
    if (tags.length === 0) delete b.tags
    else b.tags = tags
  } else if (key === LANGSMITH_PROJECT_KEY) {
    if (value === '') delete b.project
    else b.project = value
  } else if (key === LANGSMITH_ADDRESS_KEY) {
    // One member per key, the last one wins (as in both SDKs).
    b.passthrough = (b.passthrough ?? []).filter((m) => m.key !== key)
    b.passthrough.push(member)
  }
  // Another `langsmith-*` key is not ours: ignored.
  return true
}

function trimOws(s: string): string {
  let a = 0
  let e = s.length
  while (charClass(s.charCodeAt(a)) & OWS) a++
  while (e > a && charClass(s.charCodeAt(e - 1)) & OWS) e--
  return s.slice(a, e)
}

function done(b: Builder): LangSmithBaggage {
  for (const _ in b) return b
  return EMPTY
}

/**
 * Reads the LangSmith members out of already-parsed W3C baggage (values percent-decoded by
 * `parseBaggage`). A metadata member that is not a JSON object, or nests deeper than
 * {@link LANGSMITH_METADATA_MAX_DEPTH}, is skipped; on repeated keys the last good one wins;
 * other keys are ignored. Never throws.
 *
 * @example
 * ```ts
 * readLangSmithBaggage(parseBaggage('langsmith-project=checkout,langsmith-tags=a%2Cb,userId=7'))
 * // { project: 'checkout', tags: ['a', 'b'] }
 * ```
 */
export function readLangSmithBaggage(members: Baggage | undefined): LangSmithBaggage {
  if (!Array.isArray(members)) return EMPTY
  const b: Builder = {}
  for (const m of members as readonly (BaggageMember | undefined)[]) {
    if (typeof m?.key === 'string' && typeof m.value === 'string' && m.key.startsWith('langsmith-'))
      apply(b, m)
  }
  return done(b)
}

// Percent-decoding as Python's urllib.parse.unquote does it: valid `%XX` become bytes, a `%`
// not followed by two hex digits stays as it is, and bytes that are not UTF-8 become U+FFFD.
function lenientDecode(s: string): string {
  if (s.indexOf('%') < 0) return s
  try {
    return decodeURIComponent(s)
  } catch {
    // Malformed: fall through to the byte-wise decoder.
  }
  const raw = new TextEncoder().encode(s) // non-ASCII characters (not allowed, but seen) as UTF-8
  let n = 0
  for (let i = 0; i < raw.length; i++) {
    const byte = raw[i] === 0x25 ? (hexValue(raw[i + 1] ?? 0) << 4) | hexValue(raw[i + 2] ?? 0) : -1
    if (byte >= 0) i += 2
    raw[n++] = byte >= 0 ? byte : raw[i]!
  }
  return decodeUtf8(raw.subarray(0, n))
}

function trimEnd(raw: string): string {
  let end = raw.length
  while (end > 0 && charClass(raw.charCodeAt(end - 1)) & OWS) end--
  return raw.slice(0, end)
}

/**
 * Applies one raw `key=value` (value not yet decoded, properties already cut). `base` is how
 * much of `raw` came before any `,`-continuation: when the joined value is malformed
 * (metadata that is no longer JSON), the member is read again without the continuation.
 */
function flush(b: Builder, key: string, raw: string, base: number): void {
  if (apply(b, { key, value: lenientDecode(trimEnd(raw)) }) || base === raw.length) return
  apply(b, { key, value: lenientDecode(trimEnd(raw.slice(0, base))) })
}

/**
 * Reads the LangSmith members straight from a raw `baggage` header, as leniently as the
 * SDKs do and more: optional whitespace around `,` `=` and keys (what proxies and Python
 * clients joining headers with `, ` produce), W3C `;` properties cut off the value, bad
 * percent-encoding decoded like Python's `unquote` (kept literally), bad JSON skipped, and a
 * list item without `=` right after a LangSmith member taken as the rest of that member's
 * value (a producer that left the `,` of `langsmith-tags=a,b` unencoded). Only the first
 * {@link LANGSMITH_BAGGAGE_MAX_LENGTH} characters are read. Never throws.
 *
 * @example
 * ```ts
 * parseLangSmithBaggageHeader('langsmith-metadata=%7B%22a%22%3A%201%7D, langsmith-tags=a,b')
 * // { metadata: { a: 1 }, tags: ['a', 'b'] }
 * ```
 */
export function parseLangSmithBaggageHeader(header: string): LangSmithBaggage {
  if (typeof header !== 'string') return EMPTY
  let n = header.length
  if (n > LANGSMITH_BAGGAGE_MAX_LENGTH) {
    n = header.lastIndexOf(',', LANGSMITH_BAGGAGE_MAX_LENGTH)
    if (n < 0) return EMPTY
  }
  const b: Builder = {}
  // The LangSmith member being read: its key, raw value, and whether `;` properties ended it.
  let key: string | undefined
  let raw = ''
  let base = 0
  let closed = false
  let i = 0
  while (i < n) {
    let end = header.indexOf(',', i)
    if (end < 0 || end > n) end = n
    const itemStart = i
    i = end + 1
    let s = itemStart
    while (s < end && charClass(header.charCodeAt(s)) & OWS) s++
    if (s === end) continue // empty list member
    const eq = header.indexOf('=', s)
    if (eq < 0 || eq >= end) {
      // No `=`: the unencoded rest of the previous LangSmith member's value, if any.
      if (key !== undefined && !closed) raw += header.slice(itemStart - 1, end)
      continue
    }
    if (key !== undefined) flush(b, key, raw, base)
    key = undefined
    let ke = eq
    while (ke > s && charClass(header.charCodeAt(ke - 1)) & OWS) ke--
    if (ke - s <= 10 || !header.startsWith('langsmith-', s)) continue
    let v = eq + 1
    while (v < end && charClass(header.charCodeAt(v)) & OWS) v++
    // W3C properties (`;k=v`) are not part of the value; no SDK writes them.
    let semi = header.indexOf(';', v)
    closed = semi >= 0 && semi < end
    if (!closed) semi = end
    key = header.slice(s, ke)
    raw = header.slice(v, semi)
    base = raw.length
  }
  if (key !== undefined) flush(b, key, raw, base)
  return done(b)
}

// A UTF-16 surrogate without its other half: not encodable as UTF-8.
const LONE_SURROGATE = /\p{Cs}/gu

/** `encodeURIComponent`, except that a lone surrogate becomes U+FFFD instead of throwing. */
function encodeComponent(value: string): string {
  try {
    return encodeURIComponent(value)
  } catch {
    return encodeURIComponent(value.replace(LONE_SURROGATE, '\ufffd'))
  }
}

const encodeMember = (m: BaggageMember): string => `${m.key}=${encodeComponent(m.value)}`

/**
 * The LangSmith part of a `baggage` header, byte for byte what `langsmith` JS
 * `RunTree.toHeaders().baggage` emits for the same metadata, tags and project: members in
 * the order metadata, tags, project (then passthrough), joined by `,`, each value
 * `encodeURIComponent`-encoded; empty members left out, `''` when nothing is left. Where the
 * SDK would throw (metadata that `JSON.stringify` rejects, lone surrogates) this drops the
 * member or writes U+FFFD instead. Python's `quote` differs only in which safe characters it
 * escapes; both SDKs decode either.
 *
 * @example
 * ```ts
 * formatLangSmithBaggageHeader({ metadata: { a: 1 }, tags: ['x', 'y'], project: 'p' })
 * // 'langsmith-metadata=%7B%22a%22%3A1%7D,langsmith-tags=x%2Cy,langsmith-project=p'
 * ```
 */
export function formatLangSmithBaggageHeader(b: LangSmithBaggage): string {
  return langSmithBaggageMembers(b).map(encodeMember).join(',')
}

/**
 * The same members as {@link formatLangSmithBaggageHeader}, decoded, for the core to merge
 * with user baggage into one W3C `baggage` header. The core's encoder writes them (it may
 * leave characters such as `/` `:` `{` unencoded that `encodeURIComponent` would encode;
 * any percent-decoder reads the same values).
 *
 * @example
 * ```ts
 * langSmithBaggageMembers({ project: 'p', tags: ['a'] })
 * // [{ key: 'langsmith-tags', value: 'a' }, { key: 'langsmith-project', value: 'p' }]
 * ```
 */
export function langSmithBaggageMembers(b: LangSmithBaggage): BaggageMember[] {
  const out: BaggageMember[] = []
  if (b == null) return out
  const { metadata, tags, project, passthrough } = b
  // JSON of a non-empty object, as `RunTree.toHeaders()` writes it; nothing where
  // `JSON.stringify` throws (BigInt, cycles) or yields nothing.
  let json: unknown
  try {
    if (metadata != null && typeof metadata === 'object' && Object.keys(metadata).length > 0)
      json = JSON.stringify(metadata)
  } catch {}
  if (typeof json === 'string') out.push({ key: LANGSMITH_METADATA_KEY, value: json })
  if (Array.isArray(tags) && tags.length > 0) out.push({ key: LANGSMITH_TAGS_KEY, value: tags.join(',') })
  const hasProject = typeof project === 'string' && project !== ''
  if (hasProject) out.push({ key: LANGSMITH_PROJECT_KEY, value: project })
  // `langsmith-address` only without a project (the JS SDK refuses a header that names
  // both; a project wins).
  if (Array.isArray(passthrough)) {
    for (const m of passthrough as readonly (BaggageMember | undefined)[]) {
      if (typeof m?.value === 'string' && m.key === LANGSMITH_ADDRESS_KEY && !hasProject) out.push(m)
    }
  }
  return out
}
