/**
 * The orchestrator as one fetch handler for a runtime without file-based routing (Vercel's
 * `edge-runtime`, see edge-entry.ts): `POST /chat`, where the gateway example forwards, and
 * `POST /api/agent`, the path of the Next.js route (route.ts). One tracer serves both routes,
 * so the isolate has one set of counters and one export queue.
 */
import { traceOf } from '../../adapters/vercel/index.js'
import { createTracer, type Tracer } from '../../src/index.js'
import {
  AGENT_ROUTE,
  CHAT_ROUTE,
  createOrchestrator,
  type OrchestratorConfig,
  tracerConfig,
} from './orchestrator.js'

// Ref: @vercel/functions / edge-runtime FetchEvent waitUntil.
interface WaitUntilLike {
  waitUntil(promise: Promise<unknown>): void
}

/** The orchestrator's routes behind one `fetch`, and the tracer they share. */
export interface OrchestratorApp {
  /** Answers `POST /chat` and `POST /api/agent`; 404 otherwise; 500 when the agent fails. */
  fetch(request: Request, context?: WaitUntilLike): Promise<Response>
  /** The tracer of both routes (`tracer.stats()` for its counters). */
  readonly tracer: Tracer
}

/**
 * Builds the orchestrator's routes over one tracer.
 *
 * @example
 * const app = createOrchestratorApp(configFromEnv(process.env))
 * addEventListener('fetch', (event) => event.respondWith(app.fetch(event.request, event)))
 */
export function createOrchestratorApp(config: OrchestratorConfig): OrchestratorApp {
  const tracer = createTracer(tracerConfig(config))
  const routes = new Map([
    [CHAT_ROUTE, createOrchestrator(config, { route: CHAT_ROUTE, tracer })],
    [AGENT_ROUTE, createOrchestrator(config, { route: AGENT_ROUTE, tracer })],
  ])
  return {
    tracer,
    async fetch(request, context) {
      const route = routes.get(new URL(request.url).pathname)
      if (route === undefined || request.method !== 'POST') {
        return new Response(`POST ${CHAT_ROUTE} or POST ${AGENT_ROUTE}`, { status: 404 })
      }
      try {
        return await route(request, context)
      } catch {
        // What a platform answers for an unhandled error, plus the trace to look at: the
        // error is on it (withTrace recorded it on the server span before rethrowing it), and
        // failed traces are always kept.
        const traceId = traceIdOf(request)
        return Response.json(
          { error: 'the agent failed' },
          { status: 500, headers: traceId !== undefined ? { 'x-trace-id': traceId } : {} },
        )
      }
    },
  }
}

/** The trace of a request `withTrace` saw; undefined when it never got that far. */
function traceIdOf(request: Request): string | undefined {
  try {
    return traceOf(request).traceId
  } catch {
    return undefined
  }
}
