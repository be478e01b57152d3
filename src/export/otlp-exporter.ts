/**
 * OTLP/HTTP trace exporter (OTLP spec, "OTLP/HTTP"): one POST per batch to a collector or
 * any OTLP backend, including LangSmith's OpenTelemetry endpoint.
 */
import { checkNumber, describeValue, requireHttpUrl } from '../config-values.js'
import { TracehopError } from '../errors.js'
import type { ExportBatch } from '../span-record.js'
import { exportFetch } from './export-fetch.js'
import type { Exporter, ExportMeter, ExportResult } from './exporter.js'
import { encodeOtlpJson } from './otlp-json.js'
import { encodeOtlpProto } from './otlp-proto.js'
import { type FetchLike, sendWithRetry } from './retry.js'

export interface OtlpExporterOptions {
  /** The full traces URL, e.g. `http://127.0.0.1:4318/v1/traces`: nothing is appended. */
  readonly url: string
  /**
   * `protobuf` (default) or `json`. Protobuf is the OTLP/HTTP default every collector and
   * OTLP backend accepts (`http/protobuf` is the SDKs' default protocol), and its bodies
   * are about half the size of JSON's (binary ids and times, no field names): less egress
   * and less time in the isolate. Use `json` for receivers that only read JSON.
   */
  readonly encoding?: 'json' | 'protobuf'
  /** Extra request headers (an API key, `x-honeycomb-team`, ...). */
  readonly headers?: Readonly<Record<string, string>>
  /** Timeout per attempt (ms); the flush deadline still bounds the whole export. Default 10 000. */
  readonly timeoutMs?: number
  /**
   * The `fetch` to send with. Default: the platform's, resolved at call time (on Lambda,
   * tracehop/lambda's `node:http` transport, unless `globalThis.fetch` was replaced).
   */
  readonly fetch?: FetchLike
  /**
   * `gzip` compresses each request body (`Content-Encoding: gzip`, which every OTLP/HTTP
   * receiver must accept) with the platform's native `CompressionStream`: about 3x less
   * egress for a little CPU. Where the runtime has no `CompressionStream` (the
   * `edge-runtime` dev VM), bodies go out uncompressed rather than failing. Default `none`.
   */
  readonly compression?: 'gzip' | 'none'
}

// OTLP spec, "Failures": only these are retryable; all other 4xx/5xx MUST NOT be retried.
function otlpRetryable(status: number): boolean {
  return status === 429 || status === 502 || status === 503 || status === 504
}

const decoder = /* @__PURE__ */ new TextDecoder()

/** gzip with the platform's native stream (workerd, Vercel Edge, Node 18+). */
// Read through globalThis: Next.js warns at build time about any bare `CompressionStream`
// in Edge code, although this one is guarded.
async function gzip(body: string | Uint8Array): Promise<Uint8Array> {
  const stream = new Blob([body as BlobPart]).stream().pipeThrough(new globalThis.CompressionStream('gzip'))
  return new Uint8Array(await new Response(stream).arrayBuffer())
}

// RFC 9110 §5.1 field-name token; a field value (§5.5) is bytes without CR, LF or NUL,
// trimmed of spaces and tabs, as the Fetch spec's `Headers` does.
const HEADER_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/
const HEADER_VALUE = /^[^\r\n\0\u0100-\uffff]*$/
const EDGE_WHITESPACE = /^[\t ]+|[\t ]+$/g

/**
 * The request headers as a plain record with lower-case names: no `Headers` object at
 * creation, because touching that global makes Node load its whole `fetch` stack (undici,
 * ~20 ms of a Lambda cold start) before anything is exported. Names and values are checked
 * here, as `new Headers` would, so a bad one still fails at creation and not at every export.
 *
 * @example
 * requestHeaders({ 'Content-Type': 'text/plain', 'X-Team': 'a' }, 'application/json', false)
 * // { 'x-team': 'a', 'content-type': 'application/json' }
 */
export function requestHeaders(
  extra: Readonly<Record<string, string>> | undefined,
  contentType: string,
  gzipped: boolean,
): Record<string, string> {
  const out: Record<string, string> = {}
  for (const [name, raw] of Object.entries(extra ?? {})) {
    const value = String(raw).replace(EDGE_WHITESPACE, '')
    if (!HEADER_NAME.test(name) || !HEADER_VALUE.test(value)) {
      throw new TracehopError(`otlp.headers has an invalid header: ${JSON.stringify(name)}`)
    }
    const key = name.toLowerCase()
    out[key] = key in out ? `${out[key]}, ${value}` : value
  }
  out['content-type'] = contentType
  if (gzipped) out['content-encoding'] = 'gzip'
  else delete out['content-encoding']
  return out
}

/**
 * `ExportTraceServiceResponse.partial_success.rejected_spans` (OTLP spec, "Partial
 * Success"): the spans a 200 response says it dropped. 0 when absent or unreadable.
 *
 * @example
 * rejectedSpans(new TextEncoder().encode('{"partialSuccess":{"rejectedSpans":"2"}}'), 'application/json') // 2
 */
export function rejectedSpans(body: Uint8Array, contentType: string | null): number {
  if (body.length === 0) return 0
  if (contentType?.includes('json')) {
    try {
      const n = Number(JSON.parse(decoder.decode(body))?.partialSuccess?.rejectedSpans ?? 0)
      return Number.isFinite(n) && n > 0 ? n : 0
    } catch {
      return 0
    }
  }
  // Protobuf: field 1 (partial_success, LEN) holds field 1 (rejected_spans, varint).
  let p = 0
  let end = body.length
  let inPartial = false
  const varint = (): number => {
    let n = 0
    for (let scale = 1, b = 128; b & 128 && p < end; scale *= 128) {
      b = body[p++]!
      n += (b & 127) * scale
    }
    return n
  }
  while (p < end) {
    const tag = varint()
    const wire = tag & 7
    const n = wire === 0 || wire === 2 ? varint() : wire === 1 ? 8 : wire === 5 ? 4 : -1
    if (n < 0) return 0
    if (inPartial && tag === 8) return n
    if (!inPartial && tag === 10) {
      inPartial = true
      end = Math.min(end, p + n)
    } else if (wire !== 0) p += n
  }
  return 0
}

/**
 * Creates an OTLP/HTTP exporter. It never throws from `export` and never outlives the
 * deadline: it retries 429/502/503/504 and network errors with backoff inside it.
 *
 * @example
 * const tracer = createTracer({
 *   service: 'gateway',
 *   exporters: [otlp({ url: 'https://otel.example.com/v1/traces', headers: { authorization: `Bearer ${env.OTEL_TOKEN}` } })],
 * })
 */
export function otlp(options: OtlpExporterOptions): Exporter {
  if (options === null || typeof options !== 'object') {
    throw new TracehopError(
      `otlp() needs options such as { url: 'http://127.0.0.1:4318/v1/traces' }, got ${describeValue(options)}`,
    )
  }
  const { url, encoding = 'protobuf' } = options
  requireHttpUrl('otlp.url', url, 'http://127.0.0.1:4318/v1/traces')
  if (options.timeoutMs !== undefined)
    checkNumber('otlp.timeoutMs', options.timeoutMs, (n) => n > 0, 'above 0 (ms)')
  if (encoding !== 'json' && encoding !== 'protobuf') {
    throw new TracehopError(`otlp.encoding must be 'protobuf' or 'json', got ${JSON.stringify(encoding)}`)
  }
  const compression = options.compression ?? 'none'
  if (compression !== 'gzip' && compression !== 'none') {
    throw new TracehopError(`otlp.compression must be 'gzip' or 'none', got ${JSON.stringify(compression)}`)
  }
  const gzipped = compression === 'gzip' && typeof globalThis.CompressionStream === 'function'
  const json = encoding === 'json'
  const headers = requestHeaders(
    options.headers,
    json ? 'application/json' : 'application/x-protobuf',
    gzipped,
  )
  const retry = {
    fetch: options.fetch ?? exportFetch,
    retryable: otlpRetryable,
    ...(options.timeoutMs !== undefined && { attemptTimeoutMs: options.timeoutMs }),
  }
  return {
    name: 'otlp',
    async export(batch: ExportBatch, deadline: number, meter?: ExportMeter): Promise<ExportResult> {
      const n = batch.spans.length
      if (n === 0) return { exported: 0, dropped: 0, attempts: 0 }
      let body: string | Uint8Array
      try {
        body = json ? encodeOtlpJson(batch) : encodeOtlpProto(batch)
        if (gzipped) body = await gzip(body)
      } catch (err) {
        return { exported: 0, dropped: n, reason: 'encode', detail: String(err), attempts: 0 }
      }
      const r = await sendWithRetry(
        url,
        { method: 'POST', headers, body: body as BodyInit },
        { ...retry, deadline, ...(meter && { meter }) },
      )
      const attempts = r.attempts
      if (!r.ok) {
        return {
          exported: 0,
          dropped: n,
          reason: r.reason ?? 'network',
          attempts,
          ...(r.detail && { detail: r.detail }),
        }
      }
      const rejected = Math.min(
        n,
        rejectedSpans(r.body ?? new Uint8Array(0), r.headers?.get('content-type') ?? null),
      )
      return rejected === 0
        ? { exported: n, dropped: 0, attempts }
        : {
            exported: n - rejected,
            dropped: rejected,
            reason: 'invalid',
            detail: `the receiver rejected ${rejected} of ${n} spans (partial success)`,
            attempts,
          }
    },
  }
}
