import { type DestinationRule, isAllowedDestination, normalizeRule } from './destinations.js'
import { TracehopError } from './errors.js'
import type { Attributes } from './span-record.js'
import type { Baggage } from './trace-context.js'

/**
 * Identity baggage (session, user, conversation ids), allow-listed by destination.
 *
 * @example
 * propagation: {
 *   baggage: {
 *     // session.id may go to our own services only; user.id only to the retrieval service
 *     keys: ['session.id', { key: 'user.id', to: ['https://retrieval.internal'] }],
 *     attributes: ['session.id'], // becomes an attribute of every span of the scope
 *   },
 * }
 */
export interface BaggageConfig {
  /**
   * Keys that may be received, recorded and forwarded. A key not listed is dropped on the
   * way in: neither sent nor recorded. A key with `to` travels only to those destinations
   * (and to service bindings and queues, which are ours). Default: every key, under the
   * general destination policy.
   */
  readonly keys?: readonly (string | { readonly key: string; readonly to: readonly DestinationRule[] })[]
  /** Incoming allowed keys copied onto every span of the scope as attributes (`true`: all). */
  readonly attributes?: boolean | readonly string[]
}

export interface BaggagePolicy {
  readonly allowed: ReadonlySet<string> | undefined
  readonly routes: ReadonlyMap<string, readonly DestinationRule[]>
  readonly attributes: ReadonlySet<string> | 'all' | undefined
}

export function resolveBaggagePolicy(config: BaggageConfig | undefined): BaggagePolicy {
  const routes = new Map<string, readonly DestinationRule[]>()
  let allowed: Set<string> | undefined
  if (config?.keys !== undefined) {
    allowed = new Set()
    for (const entry of config.keys) {
      if (typeof entry === 'string') allowed.add(entry)
      else if (entry && typeof entry.key === 'string' && Array.isArray(entry.to)) {
        allowed.add(entry.key)
        routes.set(entry.key, entry.to.map(normalizeRule))
      } else {
        throw new TracehopError(
          `propagation.baggage.keys entries must be a key or { key, to: [destinations] }, got ${JSON.stringify(entry)}`,
        )
      }
    }
  }
  const a = config?.attributes
  const attributes = a === true ? 'all' : Array.isArray(a) ? new Set<string>(a) : undefined
  return { allowed, routes, attributes }
}

/** Drops incoming members whose key is not allowed. */
export function filterIncoming(baggage: Baggage | undefined, policy: BaggagePolicy): Baggage | undefined {
  if (baggage === undefined || policy.allowed === undefined) return baggage
  const kept = baggage.filter((m) => policy.allowed!.has(m.key))
  return kept.length > 0 ? kept : undefined
}

/** Members that may travel to `destination` (undefined: ours by construction — bindings, queues). */
export function filterOutgoing(
  baggage: Baggage | undefined,
  policy: BaggagePolicy,
  destination: URL | undefined,
): Baggage | undefined {
  if (baggage === undefined || policy.routes.size === 0 || destination === undefined) return baggage
  const kept = baggage.filter((m) => {
    const to = policy.routes.get(m.key)
    return to === undefined || isAllowedDestination(destination, { allow: to, sameOrigin: false }, undefined)
  })
  return kept.length > 0 ? kept : undefined
}

/** The span attributes the scope's baggage becomes. */
export function baggageAttributes(
  baggage: Baggage | undefined,
  policy: BaggagePolicy,
): Attributes | undefined {
  if (baggage === undefined || policy.attributes === undefined) return undefined
  let out: Attributes | undefined
  for (const m of baggage) {
    if (policy.attributes === 'all' || policy.attributes.has(m.key)) (out ??= {})[m.key] = m.value
  }
  return out
}
