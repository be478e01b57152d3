import type { FlushReport, InvocationResult, Scope, WaitUntil } from '../../src/index.js'

/** What a scope awaits from the `langsmith` SDK at its end: the SDK's queued run batches. */
export interface PendingBatches {
  awaitPendingTraceBatches(): Promise<unknown>
}

type End = Scope['end']

interface Hooked {
  readonly clients: Set<PendingBatches>
  combined: Promise<FlushReport> | undefined
}

const hooked = new WeakMap<Scope, Hooked>()

function settleWithin(work: Promise<unknown>, ms: number): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined
  const timeout = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, Math.max(0, ms))
  })
  return Promise.race([work.then(noop, noop), timeout]).then(() => clearTimeout(timer))
}

function noop(): void {}

/**
 * Makes `scope.end()` also wait for the SDK client's pending batches (`langsmith` runs
 * posted by `traceable` children), inside the same `waitUntil` and the same flush budget
 * as the scope's own export. After a streamed body (`until`), the SDK is awaited once the
 * body has ended, so runs that end during the stream are included.
 *
 * Interim: the core has no "before flush" hook yet, so this shadows `end` on the scope
 * instance and reads the scope's `waitUntil` and flush budget. It becomes one call to the
 * core's `scope.defer(() => client.awaitPendingTraceBatches())` once that exists.
 *
 * @example
 * awaitOnScopeEnd(span.scope, client)
 */
export function awaitOnScopeEnd(scope: Scope, client: PendingBatches): void {
  const existing = hooked.get(scope)
  if (existing !== undefined) {
    existing.clients.add(client)
    return
  }
  const state: Hooked = { clients: new Set([client]), combined: undefined }
  hooked.set(scope, state)
  const internals = scope as unknown as { readonly waitUntil?: WaitUntil; readonly flushBudgetMs?: number }
  const end: End = scope.end
  const hookedEnd = function endAfterLangSmith(
    this: Scope,
    result?: InvocationResult,
    options?: { readonly until?: Promise<unknown> },
  ): Promise<FlushReport> {
    if (state.combined !== undefined) return state.combined
    const budget = internals.flushBudgetMs ?? scope.tracer.config.flush.budgetMs
    const deadline = Date.now() + budget
    const flushing = end.call(scope, result, options)
    const bodyDone = options?.until !== undefined ? options.until.then(noop, noop) : Promise.resolve()
    const sdk = bodyDone.then(() => {
      const waits: Promise<unknown>[] = []
      for (const c of state.clients) {
        try {
          waits.push(Promise.resolve(c.awaitPendingTraceBatches()))
        } catch {
          // A client that throws synchronously: nothing to wait for.
        }
      }
      return settleWithin(Promise.all(waits), deadline - Date.now())
    })
    const combined = Promise.all([flushing, sdk]).then(([report]) => report)
    state.combined = combined
    const waitUntil = internals.waitUntil
    if (typeof waitUntil === 'function') {
      try {
        waitUntil(combined)
      } catch {
        // A waitUntil that throws (context already finished): the promise still runs.
      }
    }
    return combined
  }
  Object.defineProperty(scope, 'end', { value: hookedEnd, configurable: true, writable: true })
}
