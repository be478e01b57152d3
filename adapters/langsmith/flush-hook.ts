import type { Scope } from '../../src/index.js'

/** What a scope awaits from the `langsmith` SDK at its end: the SDK's queued run batches. */
export interface PendingBatches {
  awaitPendingTraceBatches(): Promise<unknown>
}

const registered = new WeakMap<Scope, Set<PendingBatches>>()

/**
 * Makes the scope's flush also wait for the SDK client's pending batches (`langsmith` runs
 * posted by `traceable` children), inside the same `waitUntil` and flush budget as the
 * scope's own export. After a streamed body (`until`), the SDK is awaited once the body has
 * ended, so runs that end during the stream are included. Once per client and scope.
 *
 * @example
 * awaitOnScopeEnd(span.scope, client)
 */
export function awaitOnScopeEnd(scope: Scope, client: PendingBatches): void {
  let clients = registered.get(scope)
  if (clients === undefined) registered.set(scope, (clients = new Set()))
  if (clients.has(client)) return
  clients.add(client)
  scope.defer(() => client.awaitPendingTraceBatches())
}
