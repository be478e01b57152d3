import { TracehopError } from './errors.js'

/** What tracehop removes from URLs before they become span attributes. */
export interface RedactConfig {
  /**
   * Query parameters whose values are replaced by `REDACTED` in `url.full` and `url.query`,
   * on top of the default ones (OTel HTTP conventions: `AWSAccessKeyId`, `Signature`, `sig`,
   * `X-Goog-Signature`; AWS SigV4 presigned URLs: `X-Amz-Signature`, `X-Amz-Credential`,
   * `X-Amz-Security-Token`). Matched without regard to case.
   *
   * @example
   * redact: { queryParams: ['token', 'api_key'] }
   */
  readonly queryParams?: readonly string[]
}

/** @internal The query parameter names to redact, lower-cased, also grouped by length (a cheap first test). */
export interface ResolvedRedaction {
  readonly queryParams: ReadonlySet<string>
  readonly byLength: ReadonlyMap<number, readonly string[]>
}

/** The query parameters redacted by default (OTel HTTP semconv, plus AWS SigV4 presigned URLs). */
export const DEFAULT_REDACTED_QUERY_PARAMS: readonly string[] = Object.freeze([
  'AWSAccessKeyId',
  'Signature',
  'sig',
  'X-Goog-Signature',
  'X-Amz-Signature',
  'X-Amz-Credential',
  'X-Amz-Security-Token',
])

const REDACTED = 'REDACTED'

/** @internal Validates `config.redact` at configuration time; tells what to change. */
export function resolveRedaction(config: RedactConfig | undefined): ResolvedRedaction {
  if (config !== undefined && (config === null || typeof config !== 'object')) {
    throw new TracehopError("redact must be an object, e.g. redact: { queryParams: ['token'] }")
  }
  const extra = config?.queryParams ?? []
  if (!Array.isArray(extra) || extra.some((n) => typeof n !== 'string' || n === '')) {
    throw new TracehopError(
      "redact.queryParams must be an array of query parameter names, e.g. redact: { queryParams: ['token'] }",
    )
  }
  const names = new Set<string>()
  for (const n of DEFAULT_REDACTED_QUERY_PARAMS) names.add(n.toLowerCase())
  for (const n of extra) names.add(n.toLowerCase())
  const byLength = new Map<number, string[]>()
  for (const n of names) {
    const group = byLength.get(n.length)
    if (group === undefined) byLength.set(n.length, [n])
    else group.push(n)
  }
  return { queryParams: names, byLength }
}

const PERCENT = 37
const PLUS = 43

/** Whether `query[start, end)` holds an escape (`%xx` or `+`): its decoded length differs. */
function hasEscape(query: string, start: number, end: number): boolean {
  for (let i = start; i < end; i++) {
    const c = query.charCodeAt(i)
    if (c === PERCENT || c === PLUS) return true
  }
  return false
}

const UPPER_A = 65
const UPPER_Z = 90

/** Whether `query[start, start + name.length)` is `name` (lower-case) without regard to case. */
function sameName(query: string, start: number, name: string): boolean {
  for (let i = 0; i < name.length; i++) {
    let c = query.charCodeAt(start + i)
    if (c >= UPPER_A && c <= UPPER_Z) c += 32
    if (c !== name.charCodeAt(i)) return false
  }
  return true
}

/** Whether the key `query[start, end)` is one to redact (decoded, without regard to case). */
function isSensitive(query: string, start: number, end: number, redaction: ResolvedRedaction): boolean {
  if (hasEscape(query, start, end)) {
    // Rare: an encoded key is decoded before it is compared.
    let key = query.slice(start, end)
    try {
      key = decodeURIComponent(key.replaceAll('+', ' '))
    } catch {
      // A malformed escape: compared as written.
    }
    return redaction.queryParams.has(key.toLowerCase())
  }
  // No string is made: most keys differ in length from every name.
  const group = redaction.byLength.get(end - start)
  if (group === undefined) return false
  for (const name of group) if (sameName(query, start, name)) return true
  return false
}

/**
 * @internal A query string (without `?`) with the values of the listed parameters replaced
 * by `REDACTED`. The very same string comes back when nothing is redacted; a query with no
 * `=` costs one scan.
 */
export function redactQuery(query: string, redaction: ResolvedRedaction): string {
  if (query.indexOf('=') === -1) return query
  const n = query.length
  let out = ''
  let copied = 0 // query[0, copied) is in `out`
  // The next `=` is found again only once the scan has passed it: one pass over the query
  // however many `&` come before an `=` (`?&&&…&a=1` is linear, not quadratic).
  let eq = -1
  for (let start = 0; start <= n; ) {
    let end = query.indexOf('&', start)
    if (end === -1) end = n
    if (eq !== -2 && eq < start) {
      eq = query.indexOf('=', start)
      if (eq === -1) eq = -2 // none left
    }
    if (eq > start && eq < end && isSensitive(query, start, eq, redaction)) {
      out += `${query.slice(copied, eq + 1)}${REDACTED}`
      copied = end
    }
    start = end + 1
  }
  return copied === 0 ? query : out + query.slice(copied)
}

/**
 * @internal `url.full` without credentials (OTel HTTP semconv): userinfo becomes
 * `REDACTED:REDACTED@` and the values of sensitive query parameters `REDACTED`.
 */
export function redactUrl(url: URL, redaction: ResolvedRedaction): string {
  let href = url.href
  if (url.username !== '' || url.password !== '') {
    // Serialized userinfo is percent-encoded: the first `@` after `//` ends it.
    const from = url.protocol.length + 2
    href = `${href.slice(0, from)}${REDACTED}:${REDACTED}${href.slice(href.indexOf('@', from))}`
  }
  const search = url.search
  if (search.length < 2) return href
  const raw = search.slice(1)
  const query = redactQuery(raw, redaction)
  if (query === raw) return href
  // `href` ends with the search and the fragment: only the search is replaced.
  const tail = search.length + url.hash.length
  return `${href.slice(0, href.length - tail)}?${query}${url.hash}`
}
