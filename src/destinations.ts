/**
 * Who may receive our trace headers. Trace ids and baggage leak identity and internal
 * topology, so outgoing injection is opt-in per destination: same origin as the incoming
 * request, plus an allow-list. Service bindings and queues are ours by construction and
 * do not go through this check.
 */

/** An origin (`https://retrieval.internal`), a `RegExp` on the full URL, or a predicate. */
export type DestinationRule = string | RegExp | ((url: URL) => boolean)

export interface DestinationPolicy {
  readonly allow: readonly DestinationRule[]
  /** Whether the incoming request's own origin is allowed (default true). */
  readonly sameOrigin: boolean
}

/** Normalizes an origin rule once at configuration time (`https://a.b/` → `https://a.b`). */
export function normalizeRule(rule: DestinationRule): DestinationRule {
  if (typeof rule !== 'string') return rule
  if (rule === '*') return rule
  try {
    return new URL(rule).origin
  } catch {
    return rule
  }
}

/** True when `url` may receive trace headers under `policy`, for a scope whose own origin(s) are `origin`. */
export function isAllowedDestination(
  url: URL,
  policy: DestinationPolicy,
  origin: string | readonly string[] | undefined,
): boolean {
  if (policy.sameOrigin && origin !== undefined) {
    if (typeof origin === 'string' ? url.origin === origin : origin.includes(url.origin)) return true
  }
  for (const rule of policy.allow) {
    if (typeof rule === 'string') {
      if (rule === '*' || rule === url.origin) return true
    } else if (rule instanceof RegExp) {
      rule.lastIndex = 0
      if (rule.test(url.href)) return true
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
