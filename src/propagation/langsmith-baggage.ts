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
import type { Baggage, BaggageMember } from '../trace-context.js'

export const LANGSMITH_METADATA_KEY = 'langsmith-metadata'
export const LANGSMITH_TAGS_KEY = 'langsmith-tags'
export const LANGSMITH_PROJECT_KEY = 'langsmith-project'
/** Where runs go (an LRN, JS SDK). Passed through untouched. */
export const LANGSMITH_ADDRESS_KEY = 'langsmith-address'
/** Replica projects (JSON list, read by both SDKs, no longer written). Passed through. */
export const LANGSMITH_REPLICAS_KEY = 'langsmith-replicas'

/** Longest raw `baggage` header {@link parseLangSmithBaggageHeader} reads (members past it are ignored). */
export const LANGSMITH_BAGGAGE_MAX_LENGTH = 65_536

/** What the LangSmith members of `baggage` carry. Absent fields were absent or malformed. */
export interface LangSmithBaggage {
  readonly project?: string
  readonly tags?: readonly string[]
  readonly metadata?: Readonly<Record<string, unknown>>
  /** `langsmith-address` / `langsmith-replicas`, kept as received (value decoded). */
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

/** Whether the brackets of a JSON text nest at most `max` deep (strings skipped). */
function depthWithin(json: string, max: number): boolean {
  let depth = 0
  const n = json.length
  for (let i = 0; i < n; i++) {
    const c = json.charCodeAt(i)
    if (c === 0x22 /* " */) {
      for (i++; i < n; i++) {
        const d = json.charCodeAt(i)
        if (d === 0x5c /* \ */) i++
        else if (d === 0x22) break
      }
    } else if (c === 0x7b || c === 0x5b) {
      if (++depth > max) return false
    } else if (c === 0x7d || c === 0x5d) depth--
  }
  return true
}

/** A JSON object (not an array, not null) nested at most 64 deep, or undefined. */
function parseMetadata(json: string): Record<string, unknown> | undefined {
  if (!depthWithin(json, LANGSMITH_METADATA_MAX_DEPTH)) return undefined
  let v: unknown
  try {
    v = JSON.parse(json)
  } catch {
    return undefined
  }
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined
}

function isOws(c: number): boolean {
  return c === 0x20 || c === 0x09
}

/** Splits on `,`; each tag is trimmed of spaces/tabs, empty ones are dropped. */
function splitTags(value: string): string[] | undefined {
  let tags: string[] | undefined
  let i = 0
  const n = value.length
  while (i <= n) {
    let end = value.indexOf(',', i)
    if (end < 0) end = n
    let s = i
    let e = end
    while (s < e && isOws(value.charCodeAt(s))) s++
    while (e > s && isOws(value.charCodeAt(e - 1))) e--
    if (e > s) {
      const tag = s === 0 && e === n ? value : value.slice(s, e)
      if (tags === undefined) tags = [tag]
      else tags.push(tag)
    }
    i = end + 1
  }
  return tags
}

/** Applies one decoded LangSmith member; returns false when it was malformed. */
function apply(b: Builder, member: BaggageMember): boolean {
  switch (member.key) {
    case LANGSMITH_METADATA_KEY: {
      const metadata = parseMetadata(member.value)
      if (metadata === undefined) return false
      b.metadata = metadata
      return true
    }
    case LANGSMITH_TAGS_KEY: {
      const tags = splitTags(member.value)
      if (tags === undefined) delete b.tags
      else b.tags = tags
      return true
    }
    case LANGSMITH_PROJECT_KEY:
      if (member.value === '') delete b.project
      else b.project = member.value
      return true
    case LANGSMITH_ADDRESS_KEY:
    case LANGSMITH_REPLICAS_KEY:
      if (b.passthrough === undefined) b.passthrough = [member]
      else {
        // One member per key, the last one wins (as in both SDKs).
        for (let i = 0; i < b.passthrough.length; i++) {
          if (b.passthrough[i]!.key === member.key) b.passthrough.splice(i--, 1)
        }
        b.passthrough.push(member)
      }
      return true
    default:
      return true // not ours (another `langsmith-*` key): ignored
  }
}

function done(b: Builder): LangSmithBaggage {
  return b.project === undefined &&
    b.tags === undefined &&
    b.metadata === undefined &&
    b.passthrough === undefined
    ? EMPTY
    : b
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
  if (members === undefined || !Array.isArray(members)) return EMPTY
  const b: Builder = {}
  for (let i = 0; i < members.length; i++) {
    const m = members[i] as BaggageMember | undefined
    if (m === undefined || m === null || typeof m.key !== 'string' || typeof m.value !== 'string') continue
    if (m.key.startsWith('langsmith-')) apply(b, m)
  }
  return done(b)
}

// Percent-decoding as Python's urllib.parse.unquote does it: valid `%XX` become bytes, a `%`
// not followed by two hex digits stays as it is, and bytes that are not UTF-8 become U+FFFD.
const utf8 = new TextDecoder('utf-8', { ignoreBOM: true })
const utf8Encoder = new TextEncoder()

function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30
  const l = c | 0x20
  return l >= 0x61 && l <= 0x66 ? l - 0x61 + 10 : -1
}

function lenientDecode(s: string): string {
  if (s.indexOf('%') < 0) return s
  try {
    return decodeURIComponent(s)
  } catch {
    // Malformed: fall through to the byte-wise decoder.
  }
  const raw = utf8Encoder.encode(s) // non-ASCII characters (not allowed, but seen) as UTF-8
  const out = new Uint8Array(raw.length)
  let n = 0
  for (let i = 0; i < raw.length; i++) {
    const c = raw[i]!
    if (c === 0x25 && i + 2 < raw.length) {
      const h = hexValue(raw[i + 1]!)
      const l = hexValue(raw[i + 2]!)
      if (h >= 0 && l >= 0) {
        out[n++] = (h << 4) | l
        i += 2
        continue
      }
    }
    out[n++] = c
  }
  return utf8.decode(out.subarray(0, n))
}

function trimEnd(raw: string): string {
  let end = raw.length
  while (end > 0 && isOws(raw.charCodeAt(end - 1))) end--
  return end === raw.length ? raw : raw.slice(0, end)
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
    while (s < end && isOws(header.charCodeAt(s))) s++
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
    while (ke > s && isOws(header.charCodeAt(ke - 1))) ke--
    if (ke - s <= 10 || !header.startsWith('langsmith-', s)) continue
    let v = eq + 1
    while (v < end && isOws(header.charCodeAt(v))) v++
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

/** `encodeURIComponent`, except that a lone surrogate becomes U+FFFD instead of throwing. */
function encodeComponent(value: string): string {
  try {
    return encodeURIComponent(value)
  } catch {
    let fixed = ''
    for (let i = 0; i < value.length; i++) {
      const c = value.charCodeAt(i)
      if (c >= 0xd800 && c <= 0xdbff) {
        const d = i + 1 < value.length ? value.charCodeAt(i + 1) : 0
        if (d >= 0xdc00 && d <= 0xdfff) {
          fixed += value[i]! + value[i + 1]!
          i++
        } else fixed += '\ufffd'
      } else if (c >= 0xdc00 && c <= 0xdfff) fixed += '\ufffd'
      else fixed += value[i]
    }
    return encodeURIComponent(fixed)
  }
}

function hasOwnKey(o: object): boolean {
  for (const k in o) if (Object.hasOwn(o, k)) return true
  return false
}

/** `JSON.stringify`, or undefined where it throws (BigInt, cycles) or yields nothing. */
function stringifyMetadata(metadata: Readonly<Record<string, unknown>>): string | undefined {
  try {
    const json: unknown = JSON.stringify(metadata)
    return typeof json === 'string' ? json : undefined
  } catch {
    return undefined
  }
}

/** The metadata member's value: JSON of a non-empty object, as `RunTree.toHeaders()` writes it. */
function metadataValue(metadata: LangSmithBaggage['metadata']): string | undefined {
  return metadata != null && typeof metadata === 'object' && hasOwnKey(metadata)
    ? stringifyMetadata(metadata)
    : undefined
}

function tagsValue(tags: LangSmithBaggage['tags']): string | undefined {
  return tags != null && Array.isArray(tags) && tags.length > 0 ? tags.join(',') : undefined
}

function projectValue(project: LangSmithBaggage['project']): string | undefined {
  return typeof project === 'string' && project !== '' ? project : undefined
}

/**
 * Whether a passthrough member is written: `langsmith-replicas` always, `langsmith-address`
 * only without a project (the JS SDK refuses a header that names both; a project wins).
 */
function keepPassthrough(m: BaggageMember | undefined, project: string | undefined): m is BaggageMember {
  if (m == null || typeof m.value !== 'string') return false
  return m.key === LANGSMITH_REPLICAS_KEY || (m.key === LANGSMITH_ADDRESS_KEY && project === undefined)
}

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
  if (b == null) return ''
  let out = ''
  const metadata = metadataValue(b.metadata)
  if (metadata !== undefined) out = `${LANGSMITH_METADATA_KEY}=${encodeComponent(metadata)}`
  const tags = tagsValue(b.tags)
  if (tags !== undefined) out += `${out === '' ? '' : ','}${LANGSMITH_TAGS_KEY}=${encodeComponent(tags)}`
  const project = projectValue(b.project)
  if (project !== undefined)
    out += `${out === '' ? '' : ','}${LANGSMITH_PROJECT_KEY}=${encodeComponent(project)}`
  const passthrough = b.passthrough
  if (passthrough != null && Array.isArray(passthrough)) {
    for (let i = 0; i < passthrough.length; i++) {
      const m = passthrough[i]
      if (keepPassthrough(m, project)) out += `${out === '' ? '' : ','}${m.key}=${encodeComponent(m.value)}`
    }
  }
  return out
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
  const metadata = metadataValue(b.metadata)
  if (metadata !== undefined) out.push({ key: LANGSMITH_METADATA_KEY, value: metadata })
  const tags = tagsValue(b.tags)
  if (tags !== undefined) out.push({ key: LANGSMITH_TAGS_KEY, value: tags })
  const project = projectValue(b.project)
  if (project !== undefined) out.push({ key: LANGSMITH_PROJECT_KEY, value: project })
  const passthrough = b.passthrough
  if (passthrough != null && Array.isArray(passthrough)) {
    for (let i = 0; i < passthrough.length; i++) {
      const m = passthrough[i]
      if (keepPassthrough(m, project)) out.push(m)
    }
  }
  return out
}
