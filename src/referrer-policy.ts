/**
 * The referrer a redirect hop of `span.fetch` is sent with. `fetch` following a redirect itself
 * (Fetch, HTTP-redirect fetch and main fetch) takes the redirect's `Referrer-Policy` header as
 * the request's policy from then on, and carries forward the referrer each hop was sent, not
 * the caller's: what one hop's policy cut (a path, the whole referrer) never comes back on a
 * later hop, whatever a later policy allows. Sections are those of the W3C Referrer Policy
 * Candidate Recommendation (https://www.w3.org/TR/referrer-policy/).
 */

// §8.3 "Determine request's referrer", as a table: what each §3 policy (an exact string) sends
// to the same origin, to another origin, and on a downgrade (see `referrerFor`): 0 nothing,
// 1 the referrer's origin, 2 the referrer stripped (§8.4).
const CUTS: Readonly<Record<string, string>> = {
  'no-referrer': '000',
  origin: '111',
  'unsafe-url': '222',
  'strict-origin': '110',
  'strict-origin-when-cross-origin': '210',
  'same-origin': '200',
  'origin-when-cross-origin': '211',
  'no-referrer-when-downgrade': '220',
}
// Fetch, main fetch: a request with no policy gets the default one.
const DEFAULT_POLICY = 'strict-origin-when-cross-origin'

/**
 * §8.1 "Parse a referrer policy from a Referrer-Policy header": the last comma-separated
 * token that is a policy, or '' (no change) when none is. Unknown tokens are skipped (§11.1:
 * a new policy is deployed before an older fallback). Tokens are matched exactly, case
 * included: a policy is one of the §3 strings, as Node's fetch (undici) matches them;
 * Chromium and WebKit also take other cases.
 */
export function parseReferrerPolicyHeader(value: string | null): string {
  let policy = ''
  // Fetch's header-list values are trimmed of HTTP tab or space only.
  for (const token of value?.split(/[\t ]*,[\t ]*/) ?? []) if (Object.hasOwn(CUTS, token)) policy = token
  return policy
}

/**
 * §8.3 "Determine request's referrer", for a request `fetch` options describe (`referrer` as
 * `Request.referrer` gives it: '' for none, `about:client` for the runtime's own): the
 * referrer a request to `url` may send under `policy`, '' for none. `about:client` is
 * returned as it is: only the runtime knows what it stands for. A server runtime has no
 * client: the request's origin is taken to be the referrer's. Only http(s) referrers are
 * sent (§8.4 drops local schemes; another scheme's origin is opaque): never more than the
 * spec sends.
 */
export function referrerFor(referrer: string, policy: string, url: URL): string {
  // Own keys only: a string that is no policy (one named like an `Object.prototype` member
  // included) gets the default, never more than it.
  const cuts = CUTS[Object.hasOwn(CUTS, policy) ? policy : DEFAULT_POLICY]!
  if (referrer === '' || referrer === 'about:client') return referrer
  // Any other `Request.referrer` is a URL the runtime parsed and serialized.
  const source = new URL(referrer)
  if (source.protocol !== 'http:' && source.protocol !== 'https:') return ''
  // §8.4 "Strip url for use as a referrer": no userinfo, no fragment.
  source.username = source.password = source.hash = ''
  const origin = `${source.origin}/`
  // §8.3 step 6: a referrer longer than 4096 characters is sent as its origin.
  const full = source.href.length > 4096 ? origin : source.href
  const downgrade = isTrustworthy(source) && !isTrustworthy(url)
  const cut = cuts[source.origin === url.origin ? 0 : downgrade ? 2 : 1]
  return cut === '0' ? '' : cut === '1' ? origin : full
}

const LOOPBACK_IPV4 = /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/

/**
 * Secure Contexts §3.1 "potentially trustworthy", for an http(s) URL: https, or a loopback
 * host (`localhost`, `*.localhost`, 127.0.0.0/8, `[::1]`). Leaving one for a URL that is not
 * is a downgrade (§8.3), whatever the scheme says.
 */
function isTrustworthy(url: URL): boolean {
  if (url.protocol === 'https:') return true
  const host = url.hostname
  return host === 'localhost' || host.endsWith('.localhost') || host === '[::1]' || LOOPBACK_IPV4.test(host)
}
