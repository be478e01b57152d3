// Shared by the Lambda tests: event fixtures (fixtures/events/, sources in SOURCES.md), a
// Lambda context double, and a real OTLP/HTTP JSON receiver on 127.0.0.1 (ephemeral port).
import { readFileSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { LambdaContextLike } from '../../adapters/lambda/index.js'
import { createMemoryExporter, type MemoryExporter, type SpanRecord } from '../../src/index.js'

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
  const memory = createMemoryExporter()
  return { memory, config: { service: 'lambda-test', exporters: [memory], ...extra } }
}

export function byName(spans: readonly SpanRecord[], name: string): SpanRecord {
  const s = spans.find((x) => x.name === name)
  if (!s) throw new Error(`no span ${name}: ${spans.map((x) => x.name).join(', ')}`)
  return s
}

/** A span as an OTLP/JSON receiver sees it. */
export interface ReceivedSpan {
  readonly service: string
  readonly traceId: string
  readonly spanId: string
  readonly parentSpanId: string
  readonly name: string
  readonly kind: number
  readonly attributes: Record<string, unknown>
  readonly links: readonly { traceId: string; spanId: string }[]
  readonly status: { code?: number; message?: string }
}

export interface OtlpReceiver {
  readonly url: string
  readonly spans: ReceivedSpan[]
  requests: number
  /** Resolves when `pred` holds, or rejects after `ms`. */
  waitFor(pred: (spans: readonly ReceivedSpan[]) => boolean, ms: number): Promise<void>
  close(): Promise<void>
}

function attrValue(v: any): unknown {
  if (v === undefined || v === null) return undefined
  if ('stringValue' in v) return v.stringValue
  if ('boolValue' in v) return v.boolValue
  if ('intValue' in v) return Number(v.intValue)
  if ('doubleValue' in v) return v.doubleValue
  if ('arrayValue' in v) return (v.arrayValue.values ?? []).map(attrValue)
  return undefined
}

/** A real OTLP/HTTP JSON receiver on 127.0.0.1 (exporters must use `encoding: 'json'`). */
export async function startOtlpReceiver(): Promise<OtlpReceiver> {
  const spans: ReceivedSpan[] = []
  const state = { requests: 0 }
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      state.requests++
      try {
        const doc = JSON.parse(Buffer.concat(chunks).toString('utf8'))
        for (const rs of doc.resourceSpans ?? []) {
          const service = String(
            attrValue(rs.resource?.attributes?.find((a: any) => a.key === 'service.name')?.value) ?? '',
          )
          for (const ss of rs.scopeSpans ?? []) {
            for (const s of ss.spans ?? []) {
              const attributes: Record<string, unknown> = {}
              for (const a of s.attributes ?? []) attributes[a.key] = attrValue(a.value)
              spans.push({
                service,
                traceId: s.traceId,
                spanId: s.spanId,
                parentSpanId: s.parentSpanId ?? '',
                name: s.name,
                kind: s.kind,
                attributes,
                links: (s.links ?? []).map((l: any) => ({ traceId: l.traceId, spanId: l.spanId })),
                status: s.status ?? {},
              })
            }
          }
        }
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}')
      } catch {
        res.writeHead(400).end()
      }
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}/v1/traces`,
    spans,
    get requests() {
      return state.requests
    },
    set requests(n: number) {
      state.requests = n
    },
    async waitFor(pred, ms) {
      const until = Date.now() + ms
      while (!pred(spans)) {
        if (Date.now() > until) throw new Error(`timed out; spans: ${spans.map((s) => s.name).join(', ')}`)
        await new Promise((r) => setTimeout(r, 20))
      }
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
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
