/**
 * A minimal OTLP/HTTP JSON receiver on 127.0.0.1 for runtime tests: records every span it
 * is sent, when each request arrived and when it was answered, and can hold its answers
 * back to show that an export finishes after the user's response.
 */
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'

export interface ReceivedSpan {
  readonly traceId: string
  readonly spanId: string
  readonly parentSpanId?: string
  readonly name: string
  readonly kind: number
  readonly startNs: bigint
  readonly endNs: bigint
  readonly attributes: Record<string, unknown>
  readonly events: readonly { name: string }[]
  readonly status: { code?: number; message?: string }
  readonly service: string
}

export interface OtlpReceiver {
  readonly url: string
  spans(): readonly ReceivedSpan[]
  /** `answeredAt` is when the receiver finished its response (ms since epoch). */
  requests(): readonly { arrivedAt: number; answeredAt: number; spans: number }[]
  /** Holds every answer back this long (ms). */
  setDelay(ms: number): void
  /** Resolves when `pred` holds, polling every 10 ms; rejects after `ms`. */
  waitFor(pred: (spans: readonly ReceivedSpan[]) => boolean, ms: number): Promise<void>
  clear(): void
  close(): Promise<void>
}

interface AnyValue {
  stringValue?: string
  intValue?: number | string
  doubleValue?: number
  boolValue?: boolean
  arrayValue?: { values?: AnyValue[] }
}

function value(v: AnyValue | undefined): unknown {
  if (v === undefined) return undefined
  if (v.stringValue !== undefined) return v.stringValue
  if (v.intValue !== undefined) return Number(v.intValue)
  if (v.doubleValue !== undefined) return v.doubleValue
  if (v.boolValue !== undefined) return v.boolValue
  if (v.arrayValue !== undefined) return (v.arrayValue.values ?? []).map(value)
  return undefined
}

function attrs(list: { key: string; value: AnyValue }[] | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const kv of list ?? []) out[kv.key] = value(kv.value)
  return out
}

export async function startOtlpReceiver(): Promise<OtlpReceiver> {
  let spans: ReceivedSpan[] = []
  let requests: { arrivedAt: number; answeredAt: number; spans: number }[] = []
  let delay = 0
  const server: Server = createServer((req, res) => {
    const arrivedAt = Date.now()
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      let n = 0
      try {
        const body = JSON.parse(Buffer.concat(chunks).toString('utf8'))
        for (const rs of body.resourceSpans ?? []) {
          const service = String(attrs(rs.resource?.attributes)['service.name'] ?? '')
          for (const ss of rs.scopeSpans ?? []) {
            for (const s of ss.spans ?? []) {
              n++
              spans.push({
                traceId: s.traceId,
                spanId: s.spanId,
                ...(s.parentSpanId ? { parentSpanId: s.parentSpanId } : {}),
                name: s.name,
                kind: s.kind,
                startNs: BigInt(s.startTimeUnixNano),
                endNs: BigInt(s.endTimeUnixNano),
                attributes: attrs(s.attributes),
                events: s.events ?? [],
                status: s.status ?? {},
                service,
              })
            }
          }
        }
      } catch {
        res.writeHead(400).end()
        return
      }
      const answer = (): void => {
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}')
        requests.push({ arrivedAt, answeredAt: Date.now(), spans: n })
      }
      if (delay > 0) setTimeout(answer, delay)
      else answer()
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as AddressInfo).port
  return {
    url: `http://127.0.0.1:${port}/v1/traces`,
    spans: () => spans,
    requests: () => requests,
    setDelay: (ms) => {
      delay = ms
    },
    async waitFor(pred, ms) {
      const until = Date.now() + ms
      while (!pred(spans)) {
        if (Date.now() > until)
          throw new Error(`receiver: condition not met within ${ms} ms (${spans.length} spans)`)
        await new Promise((r) => setTimeout(r, 10))
      }
    },
    clear() {
      spans = []
      requests = []
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}
