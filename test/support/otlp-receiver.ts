// A real OTLP/HTTP receiver on 127.0.0.1 (ephemeral port) for the runtime tests: JSON bodies
// are read with JSON.parse, protobuf bodies with the OpenTelemetry JS SDK's own generated
// decoder (the reference, not ours), gzip bodies are inflated first. It records each span
// once its request has been answered, and can hold its answers back to show that an export
// finishes after the user's response.
import { createRequire } from 'node:module'
import { gunzipSync } from 'node:zlib'
import { type Recorded, startReceiver } from './http-receiver.js'

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
  }) as { resourceSpans: { scopeSpans: { spans: OtlpSpan[] }[] }[] }
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

export type AttributeValue = string | number | boolean | readonly AttributeValue[] | undefined
export type AttributeMap = Record<string, AttributeValue>

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
  /** The exact OTLP nanoseconds, for comparisons finer than a ms double keeps. */
  readonly startNs: bigint
  readonly endNs: bigint
  readonly attributes: AttributeMap
  readonly events: readonly { name: string; attributes: AttributeMap }[]
  readonly links: readonly { traceId: string; spanId: string }[]
  /** OTLP status code: 0 unset, 1 ok, 2 error. */
  readonly status: number
  readonly statusMessage: string | undefined
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
  /** The spans of the answered requests, in arrival order. */
  readonly spans: ReceivedSpan[]
  /** The answered requests. */
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
  arrayValue?: { values?: OtlpValue[] }
}
interface OtlpKeyValue {
  key: string
  value: OtlpValue
}
interface OtlpSpan {
  traceId: string
  spanId: string
  parentSpanId?: string
  name: string
  kind: number
  startTimeUnixNano: string
  endTimeUnixNano: string
  attributes?: OtlpKeyValue[]
  events?: { name: string; attributes?: OtlpKeyValue[] }[]
  links?: { traceId: string; spanId: string }[]
  status?: { code?: number; message?: string }
}

function value(v: OtlpValue | undefined): AttributeValue {
  if (v === undefined) return undefined
  if (v.stringValue !== undefined) return v.stringValue
  if (v.intValue !== undefined) return Number(v.intValue)
  if (v.doubleValue !== undefined) return v.doubleValue
  if (v.boolValue !== undefined) return v.boolValue
  if (v.arrayValue !== undefined) return (v.arrayValue.values ?? []).map(value)
  return undefined
}

function attrs(list: readonly OtlpKeyValue[] | undefined): AttributeMap {
  const out: AttributeMap = {}
  for (const kv of list ?? []) out[kv.key] = value(kv.value)
  return out
}

const nsToMs = (ns: bigint): number => Number(ns / 1000n) / 1000

function decode(body: string): ReceivedSpan[] {
  const out: ReceivedSpan[] = []
  const doc = JSON.parse(body) as {
    resourceSpans?: { resource?: { attributes?: OtlpKeyValue[] }; scopeSpans?: { spans?: OtlpSpan[] }[] }[]
  }
  for (const rs of doc.resourceSpans ?? []) {
    const service = String(attrs(rs.resource?.attributes)['service.name'] ?? '')
    for (const ss of rs.scopeSpans ?? []) {
      for (const s of ss.spans ?? []) {
        const startNs = BigInt(s.startTimeUnixNano)
        const endNs = BigInt(s.endTimeUnixNano)
        out.push({
          service,
          traceId: s.traceId,
          spanId: s.spanId,
          parentSpanId: s.parentSpanId || undefined,
          name: s.name,
          kind: s.kind,
          startMs: nsToMs(startNs),
          endMs: nsToMs(endNs),
          startNs,
          endNs,
          attributes: attrs(s.attributes),
          events: (s.events ?? []).map((e) => ({ name: e.name, attributes: attrs(e.attributes) })),
          links: (s.links ?? []).map((l) => ({ traceId: l.traceId, spanId: l.spanId })),
          status: s.status?.code ?? 0,
          statusMessage: s.status?.message || undefined,
        })
      }
    }
  }
  return out
}

function decodeRequest(req: Recorded): ReceivedSpan[] {
  const body = req.headers['content-encoding'] === 'gzip' ? gunzipSync(req.body) : req.body
  const protobuf = String(req.headers['content-type'] ?? '').includes('protobuf')
  return decode(protobuf ? protobufToJson(body) : body.toString('utf8'))
}

export async function startOtlpReceiver(): Promise<OtlpReceiver> {
  const spans: ReceivedSpan[] = []
  const posts: ReceivedPost[] = []
  const receiver = {
    delayMs: 0,
    spans,
    posts,
    async waitFor(pred: (spans: readonly ReceivedSpan[]) => boolean, timeoutMs = 10_000): Promise<void> {
      const until = Date.now() + timeoutMs
      while (!pred(spans)) {
        if (Date.now() > until) {
          throw new Error(`OTLP receiver: condition not met within ${timeoutMs} ms (${spans.length} spans)`)
        }
        await new Promise((r) => setTimeout(r, 10))
      }
    },
    clear(): void {
      spans.length = 0
      posts.length = 0
    },
  }
  const http = await startReceiver((req, res) => {
    let decoded: ReceivedSpan[]
    try {
      decoded = decodeRequest(req)
    } catch {
      res.writeHead(400).end()
      return
    }
    const post: ReceivedPost = {
      receivedAt: req.at,
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
  return Object.assign(receiver, { url: `${http.url}/v1/traces`, close: () => http.close() })
}

/** OTLP span kinds. */
export const KIND = { INTERNAL: 1, SERVER: 2, CLIENT: 3, PRODUCER: 4, CONSUMER: 5 } as const
