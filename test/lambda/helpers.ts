// Shared by the Lambda tests: event fixtures (fixtures/events/, sources in SOURCES.md), a
// Lambda context double, and environment helpers. The OTLP receiver is test/support's.
import { readFileSync } from 'node:fs'
import type { LambdaContextLike } from '../../adapters/lambda/index.js'
import { type MemoryExporter, memoryExporter, type SpanRecord } from '../../src/index.js'

// Resolve from this file, not the cwd.
const FIXTURES = new URL('./fixtures/events/', import.meta.url)

/** A fresh deep copy of a fixture (tests add trace context to it). */
export function fixture<T = any>(name: string): T {
  return JSON.parse(readFileSync(new URL(name, FIXTURES), 'utf8')) as T
}

export const TRACE_ID = '0af7651916cd43dd8448eb211c80319c'
export const PARENT_ID = 'b7ad6b7169203331'
export const TRACEPARENT = `00-${TRACE_ID}-${PARENT_ID}-01`

let requestCounter = 0

/** A Lambda context as the Node runtime builds it, with a deadline `timeoutMs` from now. */
export function lambdaContext(
  timeoutMs = 3000,
  extra: Partial<LambdaContextLike> = {},
): LambdaContextLike & {
  awsRequestId: string
} {
  const deadline = Date.now() + timeoutMs
  requestCounter++
  return {
    awsRequestId: `c6af9ac6-7b61-11e6-9a41-93e8125${String(requestCounter).padStart(5, '0')}`,
    functionName: 'retrieval',
    functionVersion: '$LATEST',
    invokedFunctionArn: 'arn:aws:lambda:eu-west-1:123456789012:function:retrieval:live',
    memoryLimitInMB: '512',
    logStreamName: '2024/06/17/[$LATEST]abcdef',
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    ...extra,
  }
}

/** The exporter tests read, with the tracer config the adapter tests use. */
export function memoryConfig(extra: Record<string, unknown> = {}): {
  memory: MemoryExporter
  config: { service: string; exporters: MemoryExporter[] } & Record<string, unknown>
} {
  const memory = memoryExporter()
  return { memory, config: { service: 'lambda-test', exporters: [memory], ...extra } }
}

export function byName(spans: readonly SpanRecord[], name: string): SpanRecord {
  const s = spans.find((x) => x.name === name)
  if (!s) throw new Error(`no span ${name}: ${spans.map((x) => x.name).join(', ')}`)
  return s
}

/** Sets environment variables for the duration of a test; returns the restore function. */
export function setEnv(vars: Record<string, string | undefined>): () => void {
  const saved: Record<string, string | undefined> = {}
  for (const [k, v] of Object.entries(vars)) {
    saved[k] = process.env[k]
    if (v === undefined) delete process.env[k]
    else process.env[k] = v
  }
  return () => {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k]
      else process.env[k] = v
    }
  }
}
