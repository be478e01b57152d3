/**
 * Who may receive our trace headers. Trace ids and baggage leak identity and internal
 * topology, so outgoing injection is opt-in per destination: the service's own origin
 * (where the platform vouches for it, or as configured), plus an allow-list. Service
 * bindings and queues are ours by construction and do not go through this check.
 */

/** An origin (`https://retrieval.internal`), a `RegExp` on the full URL, or a predicate. */
export type DestinationRule = string | RegExp | ((url: URL) => boolean)

export interface DestinationPolicy {
  readonly allow: readonly DestinationRule[]
  /** Whether the service's own origin is allowed (default true). */
  readonly sameOrigin: boolean
  /** The service's own origins, from `propagation.origin`: same origin in every scope. */
  readonly origins?: readonly string[]
  /**
   * Whether a request URL built from client headers (`Host`, `X-Forwarded-Host`: Node
   * servers, ALB) counts as the service's own origin. Default false.
   */
  readonly trustHostHeader?: boolean
}

/**
 * Normalizes an origin rule once at configuration time (`https://a.b/` → `https://a.b`). A
 * named destination of a scheme without origins (`mcp://search`) keeps scheme and host.
 */
export function normalizeRule(rule: DestinationRule): DestinationRule {
  if (typeof rule !== 'string') return rule
  if (rule === '*') return rule
  try {
    const key = destinationKey(new URL(rule))
    return key === '' ? rule : key
  } catch {
    return rule
  }
}

/**
 * What an origin rule is compared with: the URL's origin, or for a scheme without origins
 * (`mcp://search/x`, whose origin is the opaque `null`) its scheme and host (`mcp://search`),
 * so that two named destinations never match each other. `''` when there is no host.
 */
export function destinationKey(url: URL): string {
  const origin = url.origin
  if (origin !== 'null') return origin
  return url.host === '' ? '' : `${url.protocol}//${url.host}`
}

/** True when `url` may receive trace headers under `policy`, for a scope whose own origin is `origin`. */
export function isAllowedDestination(
  url: URL,
  policy: DestinationPolicy,
  origin: string | undefined,
): boolean {
  if (policy.sameOrigin && (url.origin === origin || policy.origins?.includes(url.origin))) return true
  let key: string | undefined
  for (const rule of policy.allow) {
    if (typeof rule === 'string') {
      if (rule === '*') return true
      key ??= destinationKey(url)
      if (key !== '' && rule === key) return true
    } else if (rule instanceof RegExp) {
      rule.lastIndex = 0
      // Without userinfo: `https://api.allowed.com@evil.example/` must not match a rule
      // written for api.allowed.com (workerd accepts such URLs in a redirect).
      if (rule.test(hrefWithoutUserinfo(url))) return true
    } else {
      try {
        if (rule(url)) return true
      } catch {
        // A throwing user predicate denies: headers stay home.
      }
    }
  }
  return false
}

function hrefWithoutUserinfo(url: URL): string {
  if (url.username === '' && url.password === '') return url.href
  return `${url.protocol}//${url.host}${url.pathname}${url.search}${url.hash}`
}
