/**
 * The retrieval Lambda of the demo: `POST /retrieve` behind API Gateway (REST or HTTP API),
 * or a direct `Lambda.Invoke`, answering `{ documents }` for `{ query, k? }`. To show an
 * error deep in retrieval, send `"fail": true` in the body or the header
 * `x-retrieval-fail: 1`: `search index` throws, the API answers 500, and the trace keeps
 * the error on the span where it happened (errors are always exported).
 *
 * Configuration (environment; serverless.yml at the repository root sets each one):
 * - `OTLP_URL` (OTLP/HTTP traces endpoint; unset: no OTLP export), `OTLP_ENCODING` (`json`
 *   default, or `protobuf`).
 * - `SAMPLING_RATIO` (default 1, tracehop's own: every trace): head-sampling ratio in [0, 1]
 *   for traces this function starts; a trace continued from a caller follows the caller's
 *   decision. Errors are always kept.
 * - `LANGSMITH_ENDPOINT`: also send LangSmith runs there (self-hosted LangSmith, or
 *   `npx tracehop dev`); `LANGSMITH_API_KEY`: its key (set alone: runs go to the hosted API);
 *   `LANGSMITH_PROJECT`: project of traces that bring none in their baggage.
 * - `SERVICE_NAME` (default `retrieval`).
 */

import type { LambdaConfig } from '../../adapters/lambda/index.js'
import { traceOf, withTrace } from '../../adapters/lambda/index.js'
import { langsmith } from '../../src/export/langsmith-exporter.js'
import { otlp } from '../../src/export/otlp-exporter.js'
import { type Exporter, TracehopError } from '../../src/index.js'
import { type Document, IndexUnavailableError, type RetrievalRequest, retrieve } from './retrieval.js'

type Env = Readonly<Record<string, string | undefined>>

/** What the handler answers to an HTTP event. */
export interface HttpResult {
  readonly statusCode: number
  readonly headers: Record<string, string>
  readonly body: string
}

const FAIL_HEADER = 'x-retrieval-fail'

/**
 * `SAMPLING_RATIO` as a number; unset or empty: 1 (tracehop's default, every trace).
 * `Number('')` would be 0 (trace nothing), hence the explicit check.
 */
function samplingRatio(value: string | undefined): number {
  if (value === undefined || value.trim() === '') return 1
  const ratio = Number(value)
  if (!(ratio >= 0 && ratio <= 1)) {
    throw new TracehopError(`SAMPLING_RATIO must be a number within [0, 1], got ${JSON.stringify(value)}`)
  }
  return ratio
}

/**
 * The tracer configuration from the environment (see the module comment for the variables).
 * Throws a `TracehopError` naming the variable for a `SAMPLING_RATIO` outside [0, 1].
 *
 * @example
 * const handler = createRetrievalHandler(configFromEnv({ OTLP_URL: 'http://127.0.0.1:4318/v1/traces', SAMPLING_RATIO: '0.1' }))
 */
export function configFromEnv(env: Env): LambdaConfig {
  const exporters: Exporter[] = []
  const url = env['OTLP_URL']
  if (url) exporters.push(otlp({ url, encoding: env['OTLP_ENCODING'] === 'protobuf' ? 'protobuf' : 'json' }))
  const langsmithUrl = env['LANGSMITH_ENDPOINT']
  const langsmithKey = env['LANGSMITH_API_KEY']
  const project = env['LANGSMITH_PROJECT']
  if (langsmithUrl || langsmithKey) {
    exporters.push(
      langsmith({
        ...(langsmithUrl ? { apiUrl: langsmithUrl } : {}),
        ...(langsmithKey ? { apiKey: langsmithKey } : {}),
        ...(project ? { project } : {}),
      }),
    )
  }
  return {
    service: env['SERVICE_NAME'] || 'retrieval',
    sampling: { ratio: samplingRatio(env['SAMPLING_RATIO']), keepErrors: true },
    exporters,
    runType: 'chain',
  }
}

function header(headers: unknown, name: string): string | undefined {
  if (headers === null || typeof headers !== 'object') return undefined
  for (const [k, v] of Object.entries(headers))
    if (k.toLowerCase() === name && typeof v === 'string') return v
  return undefined
}

/** The request in an API Gateway (v1/v2) event or a direct invocation payload. */
export function readRequest(
  event: unknown,
): { request: RetrievalRequest; http: boolean } | { error: string; http: boolean } {
  const e = (event ?? {}) as Record<string, unknown>
  const http = typeof e['httpMethod'] === 'string' || typeof e['routeKey'] === 'string'
  let payload: unknown = e
  if (http) {
    const raw =
      typeof e['body'] === 'string'
        ? e['isBase64Encoded']
          ? Buffer.from(e['body'], 'base64').toString('utf8')
          : e['body']
        : '{}'
    try {
      payload = JSON.parse(raw)
    } catch {
      return { error: 'body must be JSON: { "query": "…" }', http }
    }
  }
  const p = (payload ?? {}) as Record<string, unknown>
  if (typeof p['query'] !== 'string' || p['query'] === '')
    return { error: 'query (a non-empty string) is required', http }
  const fail = p['fail'] === true || header(e['headers'], FAIL_HEADER) === '1'
  return {
    request: {
      query: p['query'],
      ...(typeof p['k'] === 'number' ? { k: p['k'] } : {}),
      ...(fail ? { fail } : {}),
    },
    http,
  }
}

function json(statusCode: number, body: unknown): HttpResult {
  return { statusCode, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }
}

/** The traced Lambda handler: an API Gateway result, or `{ documents }` for a direct invoke. */
export type RetrievalHandler = (
  event: unknown,
  context: object,
) => Promise<HttpResult | { documents: Document[] }>

/**
 * The handler, for any tracer configuration (`handler` below uses `configFromEnv`).
 *
 * @example
 * export const handler = createRetrievalHandler({ service: 'retrieval', exporters: [otlp({ url })] })
 */
export function createRetrievalHandler(config: LambdaConfig): RetrievalHandler {
  return withTrace(async (event: unknown, context: object) => {
    const read = readRequest(event)
    if ('error' in read) {
      if (read.http) return json(400, { error: read.error })
      throw new TypeError(read.error)
    }
    try {
      const documents = await retrieve(traceOf(context), read.request)
      return read.http ? json(200, { documents }) : { documents }
    } catch (err) {
      // The error is already on the span that threw; the API answers 500, a direct invoke fails.
      if (read.http && err instanceof IndexUnavailableError) return json(500, { error: err.message })
      throw err
    }
  }, config)
}

// Built on the first invocation, not when the module loads: code that imports this module for
// createRetrievalHandler / configFromEnv / readRequest (a test, another entry) builds no tracer
// it does not use, and is not bound to this process's environment.
let fromEnv: RetrievalHandler | undefined

/**
 * The Lambda entry point (`serverless.yml`: `examples/retrieval-lambda/dist/handler.handler`),
 * configured from `process.env` on its first invocation (one tracer per Lambda instance).
 *
 * @example
 * // serverless.yml: handler: examples/retrieval-lambda/dist/handler.handler
 */
export function handler(event: unknown, context: object): ReturnType<RetrievalHandler> {
  fromEnv ??= createRetrievalHandler(configFromEnv(process.env))
  return fromEnv(event, context)
}
