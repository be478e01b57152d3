/**
 * The demo's entry for the gateway Worker in workerd: the example (examples/gateway-worker,
 * `main` of the root wrangler.toml) as it is, plus `GET /__tracehop/stats`, this isolate's
 * tracer counters, answered outside the instrumented handler so that reading them adds
 * nothing to them.
 */
import { type ExecutionContextLike, traceOf } from '../../adapters/cloudflare/index.js'
import type { Tracer, TracerStats } from '../../src/index.js'
import gateway, { type Env } from '../gateway-worker/index.js'

// The tracers this isolate's requests ran with (one per env object; in practice one).
const tracers = new Set<Tracer>()

export default {
  async fetch(request: Request, env: Env, ctx: ExecutionContextLike): Promise<Response> {
    if (new URL(request.url).pathname === '/__tracehop/stats') {
      const stats: TracerStats[] = []
      for (const t of tracers) stats.push(t.stats())
      return Response.json(stats)
    }
    try {
      return await gateway.fetch!(request, env, ctx)
    } finally {
      // instrument() bound the invocation's context to its server span.
      try {
        tracers.add(traceOf(ctx).scope.tracer)
      } catch {
        // Not traced (cannot happen with instrument()): no counters to read.
      }
    }
  },
}
