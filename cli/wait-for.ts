/** `collector.waitFor`: a predicate over the stored traces, checked after every change. */
import type { CollectedTrace } from './types.js'

export interface Waiters {
  /** Re-checks every pending predicate (call after each change to the store). */
  notify(): void
  waitFor(
    predicate: (traces: readonly CollectedTrace[]) => boolean,
    timeoutMs: number,
  ): Promise<CollectedTrace[]>
}

export function createWaiters(list: () => CollectedTrace[]): Waiters {
  const waiters = new Set<() => void>()
  return {
    notify() {
      for (const w of [...waiters]) w()
    },
    waitFor(predicate, timeoutMs) {
      return new Promise<CollectedTrace[]>((resolve, reject) => {
        let timer: ReturnType<typeof setTimeout> | undefined
        const check = (): void => {
          let ok: boolean
          const traces = list()
          try {
            ok = predicate(traces)
          } catch (e) {
            waiters.delete(check)
            clearTimeout(timer)
            reject(e)
            return
          }
          if (!ok) return
          waiters.delete(check)
          clearTimeout(timer)
          resolve(traces)
        }
        waiters.add(check)
        timer = setTimeout(() => {
          waiters.delete(check)
          const traces = list()
          reject(
            new Error(
              `tracehop dev: waitFor timed out after ${timeoutMs} ms with ${traces.length} trace(s): ${traces
                .map((t) => `${t.name} (${t.spans.length} spans: ${t.services.join(', ')})`)
                .join('; ')}`,
            ),
          )
        }, timeoutMs)
        check()
      })
    },
  }
}
