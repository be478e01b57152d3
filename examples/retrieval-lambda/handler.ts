/**
 * The retrieval Lambda of the demo: `POST /retrieve` behind API Gateway (REST or HTTP API),
 * or a direct `Lambda.Invoke`, answering `{ documents }` for `{ query, k? }`. To show an
 * error deep in retrieval, send `"fail": true` in the body or the header
 * `x-retrieval-fail: 1`: `search index` throws, the API answers 500, and the trace keeps
 * the error on the span where it happened (errors are always exported).
 *
 * Configuration (environment): `OTLP_URL` (OTLP/HTTP traces endpoint), `OTLP_ENCODING`
 * (`json` default, or `protobuf`), `SERVICE_NAME` (default `retrieval`).
 */

import type { LambdaConfig } from '../../adapters/lambda/index.js'
import { traceOf, withTrace } from '../../adapters/lambda/index.js'
import { createOtlpExporter } from '../../src/export/otlp-exporter.js'
import type { Exporter } from '../../src/index.js'
import { type Document, IndexUnavailableError, type RetrievalRequest, retrieve } from './retrieval.js'

type Env = Readonly<Record<string, string | undefined>>

/** What the handler answers to an HTTP event. */
export interface HttpResult {
  readonly statusCode: number
  readonly headers: Record<string, string>
  readonly body: string
}

const FAIL_HEADER = 'x-retrieval-fail'

/** The tracer configuration from the environment. */
export function configFromEnv(env: Env): LambdaConfig {
  const exporters: Exporter[] = []
  const url = env['OTLP_URL']
  if (url)
    exporters.push(
      createOtlpExporter({ url, encoding: env['OTLP_ENCODING'] === 'protobuf' ? 'protobuf' : 'json' }),
    )
  return { service: env['SERVICE_NAME'] || 'retrieval', exporters, runType: 'chain' }
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

/**
 * The handler, for any tracer configuration (the demo passes its own exporters).
 *
 * @example
 * export const handler = createRetrievalHandler({ service: 'retrieval', exporters: [otlp({ url })] })
 */
export function createRetrievalHandler(
  config: LambdaConfig,
): (event: unknown, context: object) => Promise<HttpResult | { documents: Document[] }> {
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

/** The Lambda entry point (`serverless.yml`: `examples/retrieval-lambda/dist/handler.handler`). */
export const handler: (event: unknown, context: object) => Promise<HttpResult | { documents: Document[] }> =
  createRetrievalHandler(configFromEnv(process.env))
