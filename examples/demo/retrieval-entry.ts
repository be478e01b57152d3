/**
 * The demo's entry for the retrieval Lambda (examples/retrieval-lambda): the example's
 * handler with the demo's tracer settings, bundled to `examples/demo/dist/retrieval.mjs`
 * and run by serverless-offline (`examples/demo/serverless.yml`).
 *
 * What it adds to the example, all from the environment:
 * - sampling `SAMPLING_RATIO` (errors always kept), and both exports at once: OTLP/HTTP
 *   protobuf to `OTLP_URL` and LangSmith runs to `LANGSMITH_ENDPOINT`;
 * - fault injection that survives the hops before it: the orchestrator forwards only the
 *   question (as `query`), so a query containing `FAULT_MARKER` is asked to fail
 *   (`"fail": true`, which makes `search index` throw and the API answer 500);
 * - `GET /__tracehop/stats`: this Lambda instance's tracer counters, answered outside the
 *   traced handler so that reading them adds nothing to them.
 */
import type { LambdaConfig } from '../../adapters/lambda/index.js'
import {
  createLangSmithExporter,
  createOtlpExporter,
  type Exporter,
  findSpan,
  type Tracer,
} from '../../src/index.js'
import { createRetrievalHandler, type HttpResult } from '../retrieval-lambda/handler.js'
import { FAULT_MARKER } from './fault.js'

type Env = Readonly<Record<string, string | undefined>>

function configOf(env: Env): LambdaConfig {
  const exporters: Exporter[] = []
  if (env['OTLP_URL']) exporters.push(createOtlpExporter({ url: env['OTLP_URL'], encoding: 'protobuf' }))
  if (env['LANGSMITH_ENDPOINT']) {
    exporters.push(
      createLangSmithExporter({
        apiUrl: env['LANGSMITH_ENDPOINT'],
        ...(env['LANGSMITH_API_KEY'] ? { apiKey: env['LANGSMITH_API_KEY'] } : {}),
        ...(env['LANGSMITH_PROJECT'] ? { project: env['LANGSMITH_PROJECT'] } : {}),
      }),
    )
  }
  return {
    service: env['SERVICE_NAME'] || 'retrieval',
    sampling: { ratio: Number(env['SAMPLING_RATIO'] ?? '1'), keepErrors: true },
    exporters,
    runType: 'chain',
  }
}

const retrieval = createRetrievalHandler(configOf(process.env))
// One Lambda instance (execution environment) runs one tracer; invocations reuse it.
const instance = Math.random().toString(16).slice(2, 10)
let tracer: Tracer | undefined

interface HttpEvent {
  readonly httpMethod?: string
  readonly path?: string
  readonly rawPath?: string
  readonly body?: string | null
}

/** The event with `"fail": true` added to its JSON body when the query carries the marker. */
function withFault(event: HttpEvent): HttpEvent {
  const body = event.body
  if (typeof body !== 'string' || !body.includes(FAULT_MARKER)) return event
  try {
    const parsed = JSON.parse(body) as Record<string, unknown>
    if (typeof parsed['query'] !== 'string' || !parsed['query'].includes(FAULT_MARKER)) return event
    return { ...event, body: JSON.stringify({ ...parsed, fail: true }) }
  } catch {
    return event
  }
}

/**
 * The Lambda handler serverless-offline runs.
 *
 * @example
 * // serverless.yml: handler: dist/retrieval.handler
 */
export async function handler(event: HttpEvent, context: object): Promise<unknown> {
  const path = event.rawPath ?? event.path ?? ''
  if (path.endsWith('/__tracehop/stats')) {
    const body = JSON.stringify({ instance, stats: tracer === undefined ? [] : [tracer.stats()] })
    return { statusCode: 200, headers: { 'content-type': 'application/json' }, body } satisfies HttpResult
  }
  try {
    return await retrieval(withFault(event), context)
  } finally {
    // The invocation's span stays bound to its context: its scope knows the tracer.
    tracer ??= findSpan(context)?.scope.tracer
  }
}
