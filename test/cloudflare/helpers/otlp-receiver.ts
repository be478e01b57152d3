// A real OTLP/HTTP receiver on 127.0.0.1 (ephemeral port) that the Workers export to:
// JSON bodies are read with JSON.parse, protobuf bodies with the OpenTelemetry JS SDK's own
// generated decoder (the reference, not ours).
import { createServer, type Server } from 'node:http'
import { createRequire } from 'node:module'
import type { AddressInfo } from 'node:net'
import { gunzipSync } from 'node:zlib'

interface ProtoRoot {
  opentelemetry: {
    proto: {
      collector: {
        trace: {
          v1: {
            ExportTraceServiceRequest: {
              decode(buf: Uint8Array): unknown
              toObject(msg: unknown, options: Record<string, unknown>): unknown
            }
          }
        }
      }
    }
  }
}
const protoRoot = createRequire(import.meta.url)(
  '@opentelemetry/otlp-transformer/build/src/generated/root.js',
) as ProtoRoot
const ExportTraceServiceRequest = protoRoot.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest

const b64hex = (v: unknown): string =>
  typeof v === 'string' && v !== '' ? Buffer.from(v, 'base64').toString('hex') : ''

/** Protobuf ExportTraceServiceRequest -> the OTLP/JSON document shape (hex ids, string nanos). */
function protobufToJson(body: Buffer): string {
  const doc = ExportTraceServiceRequest.toObject(ExportTraceServiceRequest.decode(body), {
    longs: String,
    enums: Number,
    bytes: String,
    defaults: false,
    arrays: true,
  }) as { resourceSpans: { scopeSpans: { spans: any[] }[] }[] }
  for (const rs of doc.resourceSpans) {
    for (const ss of rs.scopeSpans) {
      for (const s of ss.spans) {
        s.traceId = b64hex(s.traceId)
        s.spanId = b64hex(s.spanId)
        s.parentSpanId = b64hex(s.parentSpanId)
        for (const l of s.links ?? []) {
          l.traceId = b64hex(l.traceId)
          l.spanId = b64hex(l.spanId)
        }
      }
    }
  }
  return JSON.stringify(doc)
}

export type AttributeMap = Record<string, string | number | boolean | undefined>

export interface ReceivedSpan {
  readonly service: string
  readonly traceId: string
  readonly spanId: string
  readonly parentSpanId: string | undefined
  readonly name: string
  /** OTLP kind: 1 internal, 2 server, 3 client, 4 producer, 5 consumer. */
  readonly kind: number
  readonly startMs: number
  readonly endMs: number
  readonly attributes: AttributeMap
  readonly events: readonly { name: string; attributes: AttributeMap }[]
  readonly links: readonly { traceId: string; spanId: string }[]
  /** OTLP status code: 0 unset, 1 ok, 2 error. */
  readonly status: number
}

export interface ReceivedPost {
  readonly receivedAt: number
  /** When the response was sent: the export finished no earlier than this. */
  respondedAt: number
  readonly spans: readonly ReceivedSpan[]
  /** The request's `content-encoding` (`gzip` when the exporter compressed). */
  readonly contentEncoding: string | undefined
}

export interface OtlpReceiver {
  /** The traces endpoint, `http://127.0.0.1:<port>/v1/traces`. */
  readonly url: string
  readonly spans: ReceivedSpan[]
  readonly posts: ReceivedPost[]
  /** Delay before answering each POST (ms); changeable between tests. */
  delayMs: number
  /** Waits until `pred(spans)` holds, polling; throws after `timeoutMs`. */
  waitFor(pred: (spans: readonly ReceivedSpan[]) => boolean, timeoutMs?: number): Promise<void>
  clear(): void
  close(): Promise<void>
}

interface OtlpValue {
  stringValue?: string
  intValue?: string | number
  doubleValue?: number
  boolValue?: boolean
}
interface OtlpKeyValue {
  key: string
  value: OtlpValue
}

function attrs(list: readonly OtlpKeyValue[] | undefined): AttributeMap {
  const out: AttributeMap = {}
  for (const kv of list ?? []) {
    const v = kv.value
    out[kv.key] =
      v.stringValue ??
      (v.intValue !== undefined ? Number(v.intValue) : undefined) ??
      v.doubleValue ??
      v.boolValue
  }
  return out
}

function decode(body: string): ReceivedSpan[] {
  const out: ReceivedSpan[] = []
  const doc = JSON.parse(body) as {
    resourceSpans: {
      resource: { attributes: OtlpKeyValue[] }
      scopeSpans: { spans: any[] }[]
    }[]
  }
  for (const rs of doc.resourceSpans) {
    const service = String(attrs(rs.resource.attributes)['service.name'])
    for (const ss of rs.scopeSpans) {
      for (const s of ss.spans) {
        out.push({
          service,
          traceId: s.traceId,
          spanId: s.spanId,
          parentSpanId: s.parentSpanId || undefined,
          name: s.name,
          kind: s.kind,
          startMs: Number(BigInt(s.startTimeUnixNano) / 1000n) / 1000,
          endMs: Number(BigInt(s.endTimeUnixNano) / 1000n) / 1000,
          attributes: attrs(s.attributes),
          events: (s.events ?? []).map((e: any) => ({ name: e.name, attributes: attrs(e.attributes) })),
          links: (s.links ?? []).map((l: any) => ({ traceId: l.traceId, spanId: l.spanId })),
          status: s.status?.code ?? 0,
        })
      }
    }
  }
  return out
}

export async function startOtlpReceiver(): Promise<OtlpReceiver> {
  const spans: ReceivedSpan[] = []
  const posts: ReceivedPost[] = []
  const receiver: OtlpReceiver = {
    url: '',
    spans,
    posts,
    delayMs: 0,
    async waitFor(pred, timeoutMs = 10_000) {
      const until = Date.now() + timeoutMs
      while (!pred(spans)) {
        if (Date.now() > until) throw new Error(`OTLP receiver: condition not met within ${timeoutMs} ms`)
        await new Promise((r) => setTimeout(r, 20))
      }
    },
    clear() {
      spans.length = 0
      posts.length = 0
    },
    close: () => Promise.resolve(),
  }
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const receivedAt = Date.now()
      let decoded: ReceivedSpan[]
      try {
        const raw = Buffer.concat(chunks)
        const body = req.headers['content-encoding'] === 'gzip' ? gunzipSync(raw) : raw
        const protobuf = String(req.headers['content-type'] ?? '').includes('protobuf')
        decoded = decode(protobuf ? protobufToJson(body) : body.toString('utf8'))
      } catch {
        res.writeHead(400).end()
        return
      }
      const post: ReceivedPost = {
        receivedAt,
        respondedAt: 0,
        spans: decoded,
        contentEncoding: req.headers['content-encoding'],
      }
      const respond = (): void => {
        post.respondedAt = Date.now()
        // Recorded only once answered: a span "arrives" when its export succeeded.
        posts.push(post)
        for (const s of decoded) spans.push(s)
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}')
      }
      if (receiver.delayMs > 0) setTimeout(respond, receiver.delayMs)
      else respond()
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return Object.assign(receiver, {
    url: `http://127.0.0.1:${port}/v1/traces`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  })
}

/** A URL on 127.0.0.1 where nothing listens: the port was bound, then released. */
export async function refusedUrl(): Promise<string> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return `http://127.0.0.1:${port}/v1/traces`
}

/** An upstream HTTP server that answers with the request headers it received, as JSON. */
export async function startEchoServer(delayMs = 0): Promise<{ origin: string; close(): Promise<void> }> {
  const server = createServer((req, res) => {
    const send = (): void => {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(req.headers))
    }
    const wait = Number(new URL(req.url ?? '/', 'http://x').searchParams.get('wait') ?? delayMs)
    if (wait > 0) setTimeout(send, wait)
    else send()
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    origin: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}

/** Server span kind in OTLP. */
export const KIND = { INTERNAL: 1, SERVER: 2, CLIENT: 3, PRODUCER: 4, CONSUMER: 5 } as const
