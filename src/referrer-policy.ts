/**
 * The referrer a redirect hop of `span.fetch` is sent with. `fetch` following a redirect itself
 * (Fetch, HTTP-redirect fetch and main fetch) takes the redirect's `Referrer-Policy` header as
 * the request's policy from then on, and carries forward the referrer each hop was sent, not
 * the caller's: what one hop's policy cut (a path, the whole referrer) never comes back on a
 * later hop, whatever a later policy allows. Sections are those of the W3C Referrer Policy
 * Candidate Recommendation (https://www.w3.org/TR/referrer-policy/).
 */

// §3: the referrer policies, as exact strings (the empty string, "no policy", aside).
const POLICIES = new Set([
  'no-referrer',
  'no-referrer-when-downgrade',
  'same-origin',
  'origin',
  'strict-origin',
  'origin-when-cross-origin',
  'strict-origin-when-cross-origin',
  'unsafe-url',
])
// Fetch, main fetch: a request with no policy gets the default one.
const DEFAULT_POLICY = 'strict-origin-when-cross-origin'
// URL Standard, local schemes: a referrer on one of them is no referrer (§8.4).
const LOCAL_SCHEMES = new Set(['about:', 'blob:', 'data:'])

/**
 * §8.1 "Parse a referrer policy from a Referrer-Policy header": the last comma-separated
 * token that is a policy, or '' (no change) when none is. Unknown tokens are skipped (§11.1:
 * a new policy is deployed before an older fallback). Tokens are matched exactly, case
 * included: a policy is one of the §3 strings, as Node's fetch (undici) matches them;
 * Chromium and WebKit also take other cases.
 */
export function parseReferrerPolicyHeader(value: string | null): string {
  let policy = ''
  if (value === null) return policy
  for (const token of value.split(',')) {
    // Fetch's header-list values are trimmed of HTTP tab or space only.
    const trimmed = token.replace(/^[\t ]+|[\t ]+$/g, '')
    if (POLICIES.has(trimmed)) policy = trimmed
  }
  return policy
}

/**
 * §8.3 "Determine request's referrer", for a request `fetch` options describe (`referrer` as
 * `Request.referrer` gives it: '' for none, `about:client` for the runtime's own): the
 * referrer a request to `url` may send under `policy`, '' for none. `about:client` is left
 * to the runtime, which decides it alike on every hop. Without a client (server runtimes)
 * the request's origin is the referrer's, and a downgrade is judged on the URLs, as Node's
 * fetch does: never more than the spec would send.
 */
export function referrerFor(referrer: string, policy: string, url: URL): string {
  if (referrer === '' || referrer === 'about:client') return referrer
  let source: URL
  try {
    source = new URL(referrer)
  } catch {
    return referrer
  }
  // §8.4 "Strip url for use as a referrer".
  if (LOCAL_SCHEMES.has(source.protocol)) return ''
  source.username = ''
  source.password = ''
  source.hash = ''
  const full = source.href
  const origin = `${source.origin}/`
  const sameOrigin = source.origin === url.origin
  const downgrade = isTrustworthy(source) && !isTrustworthy(url)
  switch (policy || DEFAULT_POLICY) {
    case 'no-referrer':
      return ''
    case 'origin':
      return origin
    case 'unsafe-url':
      return full
    case 'strict-origin':
      return downgrade ? '' : origin
    case 'strict-origin-when-cross-origin':
      return sameOrigin ? full : downgrade ? '' : origin
    case 'same-origin':
      return sameOrigin ? full : ''
    case 'origin-when-cross-origin':
      return sameOrigin ? full : origin
    case 'no-referrer-when-downgrade':
      return downgrade ? '' : full
    default:
      return referrer
  }
}

/** Secure Contexts, "potentially trustworthy URL", for the URLs a hop can have or name. */
function isTrustworthy(url: URL): boolean {
  const host = url.hostname
  return (
    url.protocol === 'https:' ||
    url.protocol === 'wss:' ||
    url.protocol === 'file:' ||
    host === 'localhost' ||
    host.endsWith('.localhost') ||
    host === '[::1]' ||
    /^127\.\d+\.\d+\.\d+$/.test(host)
  )
}
