/**
 * What an adapter does when a configuration function (`(env) => config`, resolved at the
 * first request) throws: a missing secret must not turn every response into a 500.
 */
import { TracehopError } from './errors.js'
import { createTracer, type Tracer } from './tracer.js'

/**
 * `untraced` (default): log the error once, count it in `stats().configErrors`, and serve
 * requests without exporting anything. `throw`: the request fails with the error, as if
 * the handler had thrown it (strict; for tests and staging).
 */
export type OnConfigError = 'untraced' | 'throw'

/** Checks an `onConfigError` option at wrap time. */
export function checkOnConfigError(mode: unknown): OnConfigError {
  if (mode === undefined || mode === 'untraced') return 'untraced'
  if (mode === 'throw') return 'throw'
  throw new TracehopError(`onConfigError must be 'untraced' or 'throw', got ${JSON.stringify(mode)}`)
}

/**
 * A tracer that exports nothing (no exporters, nothing head-sampled, errors not kept):
 * handlers still find their span with `traceOf` and incoming context is still passed on.
 */
function untracedTracer(error: unknown): Tracer {
  const message = (error instanceof Error ? error.message : String(error)).replace(/^tracehop: /, '')
  console.error(
    `tracehop: the tracer configuration failed, so requests are served untraced until it is fixed: ${message} (onConfigError: 'throw' fails requests instead)`,
  )
  const tracer = createTracer({
    service: 'unconfigured',
    sampling: { ratio: 0, keepErrors: false },
    // Nothing is kept, so nothing reaches it; were anything to, it is counted, not lost.
    exporters: [
      {
        name: 'unconfigured',
        export: async (batch) => ({
          exported: 0,
          dropped: batch.spans.length,
          reason: 'invalid',
          detail: 'the tracer configuration failed',
          attempts: 0,
        }),
      },
    ],
    log: () => {},
  })
  tracer.statsRecorder.configErrors++
  return tracer
}

/**
 * Runs `build` (a configuration function and what the adapter makes of its result); when
 * it throws, `untraced` answers with a tracer that exports nothing, `throw` rethrows.
 * The caller caches the result, so the error is logged once per configuration.
 */
export function buildOrUntraced<T>(build: () => T, mode: OnConfigError, untraced: (tracer: Tracer) => T): T {
  try {
    return build()
  } catch (error) {
    if (mode === 'throw') throw error
    return untraced(untracedTracer(error))
  }
}
