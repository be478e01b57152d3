/**
 * The demo's entry for the retrieval Lambda: the example's own `handler`
 * (examples/retrieval-lambda/handler.ts, configured from the environment the repository
 * root's serverless.yml sets), plus a way to read this Lambda instance's tracer counters.
 * `npm run demo` bundles it to `examples/demo/dist/retrieval.mjs` and runs the root
 * serverless.yml with `--param="handler=examples/demo/dist/retrieval.handler"`.
 *
 * The counters are read with a direct invocation (`Lambda.Invoke`, serverless-offline's
 * `--lambdaPort`) whose payload is `{ "tracehop": "stats" }`, answered outside the traced
 * handler so that reading them adds nothing to them, and needing no HTTP route in the
 * deployable serverless.yml. Everything else goes to the example's handler unchanged.
 */
import type { Tracer, TracerStats } from '../../src/index.js'
import { findSpan } from '../../src/internal.js'
import { handler as retrieval } from '../retrieval-lambda/handler.js'

/** The direct-invocation payload that asks for the counters. */
export const STATS_EVENT = { tracehop: 'stats' } as const

/** What the counters invocation answers. */
export interface RetrievalStats {
  /** This Lambda instance (execution environment); invocations reuse it, and its tracer. */
  readonly instance: string
  /** `[tracer.stats()]`, or `[]` before the first traced invocation. */
  readonly stats: TracerStats[]
}

const instance = Math.random().toString(16).slice(2, 10)
let tracer: Tracer | undefined

function isStatsEvent(event: unknown): boolean {
  return (
    event !== null &&
    typeof event === 'object' &&
    (event as Record<string, unknown>)['tracehop'] === STATS_EVENT.tracehop
  )
}

/**
 * The Lambda handler serverless-offline runs.
 *
 * @example
 * // node node_modules/serverless/bin/serverless.js offline start --param="handler=examples/demo/dist/retrieval.handler"
 */
export async function handler(event: unknown, context: object): Promise<unknown> {
  if (isStatsEvent(event)) {
    return { instance, stats: tracer === undefined ? [] : [tracer.stats()] } satisfies RetrievalStats
  }
  try {
    return await retrieval(event, context)
  } finally {
    // The invocation's span stays bound to its context: its scope knows the tracer.
    tracer ??= findSpan(context)?.scope.tracer
  }
}
