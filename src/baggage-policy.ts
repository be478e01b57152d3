import { type DestinationRule, isAllowedDestination, normalizeRule } from './destinations.js'
import { TracehopError } from './errors.js'
import { LANGSMITH_REPLICAS_KEY } from './propagation/langsmith-baggage.js'
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
  const keys = config?.keys
  const allowed = keys && new Set<string>()
  for (const entry of keys ?? []) {
    const key = typeof entry === 'string' ? entry : entry?.key
    if (typeof key !== 'string' || (typeof entry !== 'string' && !Array.isArray(entry.to))) {
      throw new TracehopError(
        `propagation.baggage.keys entries must be a key or { key, to: [destinations] }, got ${JSON.stringify(entry)}`,
      )
    }
    allowed!.add(key)
    if (typeof entry !== 'string') routes.set(key, entry.to.map(normalizeRule))
  }
  const a = config?.attributes
  return {
    allowed,
    routes,
    attributes: a === true ? 'all' : Array.isArray(a) ? new Set<string>(a) : undefined,
  }
}

/**
 * Drops incoming members whose key is not allowed, and always `langsmith-replicas` (another
 * party's API URLs and keys: neither recorded nor passed on, as the `langsmith` SDKs do).
 */
export function filterIncoming(baggage: Baggage | undefined, policy: BaggagePolicy): Baggage | undefined {
  const allowed = policy.allowed
  if (baggage === undefined) return undefined
  if (allowed) return nonEmpty(baggage.filter((m) => allowed.has(m.key) && m.key !== LANGSMITH_REPLICAS_KEY))
  return baggage.some((m) => m.key === LANGSMITH_REPLICAS_KEY)
    ? nonEmpty(baggage.filter((m) => m.key !== LANGSMITH_REPLICAS_KEY))
    : baggage
}

/**
 * Members that may travel to `destination` (undefined: ours by construction — bindings,
 * queues; null: a destination nobody named, which gets no routed key).
 */
export function filterOutgoing(
  baggage: Baggage | undefined,
  policy: BaggagePolicy,
  destination: URL | null | undefined,
): Baggage | undefined {
  if (baggage === undefined || policy.routes.size === 0 || destination === undefined) return baggage
  return nonEmpty(
    baggage.filter((m) => {
      const to = policy.routes.get(m.key)
      return (
        to === undefined ||
        (destination !== null &&
          isAllowedDestination(destination, { allow: to, sameOrigin: false }, undefined))
      )
    }),
  )
}

function nonEmpty(baggage: Baggage): Baggage | undefined {
  return baggage.length > 0 ? baggage : undefined
}

/** The span attributes the scope's baggage becomes. */
export function baggageAttributes(
  baggage: Baggage | undefined,
  policy: BaggagePolicy,
): Attributes | undefined {
  const which = policy.attributes
  let out: Attributes | undefined
  if (which)
    for (const m of baggage ?? []) if (which === 'all' || which.has(m.key)) (out ??= {})[m.key] = m.value
  return out
}
