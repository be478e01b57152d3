/**
 * The `tracehop dev` collector as a library: an HTTP server on 127.0.0.1 that takes
 * OTLP/HTTP traces (JSON and protobuf, gzip too) and LangSmith run ingestion (as the
 * `langsmith` SDKs send it), keeps the spans by trace, reports each trace once it has
 * been quiet for `quietMs`, and serves a waterfall page at `/`.
 *
 * Routes:
 * - `POST /v1/traces` (also `/otel/v1/traces`, LangSmith's OTLP path): OTLP/HTTP.
 * - `GET /info`, `POST /runs/multipart`, `POST /runs/batch`, `POST /runs`,
 *   `PATCH /runs/<id>` (also under `/api/v1`): LangSmith ingestion.
 * - `GET /` (the page), `GET /api/traces`, `GET /api/traces/<id>`, `DELETE /api/traces`.
 */
import { type FileHandle, open } from 'node:fs/promises'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { promisify } from 'node:util'
import * as zlib from 'node:zlib'
import { TracehopError } from '../src/errors.js'
import { VERSION } from '../src/version.js'
import { batchRuns, multipartRuns, type RunBatch, runToSpan, singleRun } from './langsmith-ingest.js'
import { boundaryOf, parseMultipart } from './multipart.js'
import { decodeOtlpJson, decodeOtlpProtobuf, otlpResponse, otlpStatus } from './otlp-decode.js'
import { pageHtml } from './page.js'
import { createTraceStore } from './trace-store.js'
import type { CollectedSpan, CollectedTrace } from './types.js'

export type {
  CollectedEvent,
  CollectedLink,
  CollectedSpan,
  CollectedSpanKind,
  CollectedStatusCode,
  CollectedTrace,
} from './types.js'
export type { WaterfallOptions, WaterfallRow } from './waterfall.js'
export { formatDuration, renderWaterfall, slowestHop, waterfallRows } from './waterfall.js'

export interface CollectorOptions {
  /** Default 4318 (the OTLP/HTTP port); 0 picks a free one. */
  readonly port?: number
  /** Default 127.0.0.1. */
  readonly host?: string
  /** Appends every received span (as stored, after merging) as one JSON line. */
  readonly jsonFile?: string
  /** Called when a trace has been quiet for `quietMs` (again after late spans). */
  readonly onTrace?: (trace: CollectedTrace) => void
  /** Default 1500 ms. */
  readonly quietMs?: number
  /** One line per notable event (a rejected request, a file error). Default: silent. */
  readonly log?: (line: string) => void
  /** Oldest traces are forgotten beyond this many (default 1000). */
  readonly maxTraces?: number
}

/** A trace summary as `GET /api/traces` lists it. */
export type TraceSummary = Omit<CollectedTrace, 'spans'> & { readonly spanCount: number }

export interface Collector {
  /** `http://127.0.0.1:PORT`: the OTLP endpoint base and the LangSmith API URL. */
  readonly url: string
  readonly port: number
  /** Newest first (by first arrival). */
  traces(): CollectedTrace[]
  /** By trace id, hex (32 digits) or LangSmith UUID spelling. */
  trace(id: string): CollectedTrace | undefined
  /** Every stored span, trace by trace in arrival order. */
  spans(): CollectedSpan[]
  /**
   * Resolves with the traces once `predicate` holds (checked now and after every
   * change); rejects after `timeoutMs` (default 10 s) with what was collected so far.
   */
  waitFor(
    predicate: (traces: readonly CollectedTrace[]) => boolean,
    timeoutMs?: number,
  ): Promise<CollectedTrace[]>
  /** Forgets every trace. */
  clear(): void
  /** Reports unfinished traces (onTrace), stops the server and closes the JSON file. */
  close(): Promise<void>
}

/** OTLP/HTTP and LangSmith bodies above this are refused with 413. */
export const MAX_BODY_BYTES: number = 10 * 1024 * 1024
// A decompressed body may be larger than the wire limit, within reason.
const MAX_INFLATED_BYTES = 100 * 1024 * 1024
const DEFAULT_QUIET_MS = 1500

// What `GET /info` answers: enough for the langsmith SDKs to batch, use multipart and gzip.
const INFO = {
  // At or above every minimum the langsmith JS SDK 0.12 checks (0.18.0), so it never warns.
  version: '0.18.0',
  license_expiration_time: null,
  tenant_handle: 'tracehop-dev',
  batch_ingest_config: {
    use_multipart_endpoint: true,
    scale_up_qsize_trigger: 1000,
    scale_up_nthreads_limit: 16,
    scale_down_nempty_trigger: 4,
    size_limit: 100,
    size_limit_bytes: MAX_BODY_BYTES,
  },
  instance_flags: {
    gzip_body_enabled: true,
    zstd_compression_enabled: false,
    dataset_examples_multipart_enabled: false,
    examples_multipart_enabled: false,
    generate_ai_query_enabled: false,
    org_creation_disabled: true,
    show_ttl_ui: false,
    trace_tier_duration_days: { longlived: 400, shortlived: 14 },
    workspace_scope_org_invites: false,
  },
  customer_info: null,
  tracehop: { collector: 'tracehop dev', version: VERSION },
} as const

const RUN_PATH = /^\/runs\/([0-9a-fA-F-]{36})$/
const TRACE_PATH = /^\/api\/traces\/([0-9a-fA-F-]{32,36})$/
const LOOPBACK_HOST = /^(localhost|[^.]+\.localhost|127(?:\.\d{1,3}){3}|\[::1\]|::1)$/i

const gunzip = promisify(zlib.gunzip)
const inflate = promisify(zlib.inflate)
const brotli = promisify(zlib.brotliDecompress)

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message)
  }
}

/** Reads a request body, refusing (413) beyond `MAX_BODY_BYTES`. */
function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length'])
    if (declared > MAX_BODY_BYTES) {
      reject(new HttpError(413, `body of ${declared} bytes exceeds the ${MAX_BODY_BYTES} byte limit`))
      return
    }
    const chunks: Buffer[] = []
    let size = 0
    req.on('data', (chunk: Buffer) => {
      size += chunk.length
      if (size > MAX_BODY_BYTES) {
        reject(new HttpError(413, `body exceeds the ${MAX_BODY_BYTES} byte limit`))
        req.pause()
        return
      }
      chunks.push(chunk)
    })
    req.on('end', () => resolve(Buffer.concat(chunks)))
    req.on('error', reject)
  })
}

/** The body with its Content-Encoding undone. */
async function decoded(req: IncomingMessage, body: Buffer): Promise<Buffer> {
  const encoding = String(req.headers['content-encoding'] ?? 'identity')
    .trim()
    .toLowerCase()
  const opts = { maxOutputLength: MAX_INFLATED_BYTES }
  try {
    if (encoding === 'identity' || encoding === '') return body
    if (encoding === 'gzip' || encoding === 'x-gzip') return await gunzip(body, opts)
    if (encoding === 'deflate') return await inflate(body, opts)
    if (encoding === 'br') return await brotli(body, opts)
    // Node ≥ 22.15 decompresses zstd; older ones answer 415 (and /info never offers it).
    const zstd = (zlib as unknown as { zstdDecompressSync?: (b: Buffer, o: object) => Buffer })
      .zstdDecompressSync
    if (encoding === 'zstd' && zstd) return zstd(body, opts)
  } catch (e) {
    if ((e as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE')
      throw new HttpError(413, `decompressed body exceeds ${MAX_INFLATED_BYTES} bytes`)
    throw new HttpError(400, `body is not valid ${encoding}`)
  }
  throw new HttpError(415, `unsupported Content-Encoding: ${encoding}`)
}

function mediaType(req: IncomingMessage): string {
  return String(req.headers['content-type'] ?? '')
    .split(';')[0]!
    .trim()
    .toLowerCase()
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body))
}

function summaryOf(t: CollectedTrace): TraceSummary {
  const { spans, ...rest } = t
  return { ...rest, spanCount: spans.length }
}

function normalizeTraceId(id: string): string {
  return id.replaceAll('-', '').toLowerCase()
}

/**
 * Starts a collector. Rejects with a `TracehopError` when the port is taken or the JSON
 * file cannot be opened.
 *
 * @example
 * const collector = await startCollector({ port: 0, onTrace: (t) => console.log(renderWaterfall(t)) })
 * // OTLP: `${collector.url}/v1/traces`; LangSmith: new Client({ apiUrl: collector.url, apiKey: 'dev' })
 * await collector.close()
 */
export async function startCollector(options: CollectorOptions = {}): Promise<Collector> {
  const host = options.host ?? '127.0.0.1'
  const requestedPort = options.port ?? 4318
  if (!Number.isInteger(requestedPort) || requestedPort < 0 || requestedPort > 65535)
    throw new TracehopError(`collector port must be an integer within [0, 65535], got ${requestedPort}`)
  const quietMs = options.quietMs ?? DEFAULT_QUIET_MS
  if (!(quietMs >= 0)) throw new TracehopError(`collector quietMs must be >= 0, got ${quietMs}`)
  const log = options.log ?? ((): void => {})
  const loopbackOnly = LOOPBACK_HOST.test(host)

  let file: FileHandle | undefined
  if (options.jsonFile !== undefined) {
    try {
      file = await open(options.jsonFile, 'a')
    } catch (e) {
      throw new TracehopError(`cannot open ${options.jsonFile} for --json: ${(e as Error).message}`, {
        cause: e,
      })
    }
  }
  let writes: Promise<void> = Promise.resolve()
  let fileFailed = false
  function writeLines(spans: readonly CollectedSpan[]): void {
    if (!file || spans.length === 0) return
    let text = ''
    for (const s of spans) text += `${JSON.stringify(s)}\n`
    const fh = file
    writes = writes
      .then(async () => {
        await fh.write(text)
      })
      .catch((e: unknown) => {
        if (!fileFailed) log(`tracehop dev: writing ${options.jsonFile} failed: ${(e as Error).message}`)
        fileFailed = true
      })
  }

  let version = 0
  const waiters = new Set<() => void>()
  const store = createTraceStore({
    quietMs,
    maxTraces: options.maxTraces ?? 1000,
    maxSpansPerTrace: 10_000,
    onFinished: (trace) => {
      try {
        options.onTrace?.(trace)
      } catch (e) {
        log(`tracehop dev: onTrace threw: ${(e as Error).message}`)
      }
    },
    onChange: () => {
      version++
      for (const w of [...waiters]) w()
    },
  })

  function ingest(spans: readonly CollectedSpan[]): number {
    const stored = store.add(spans)
    writeLines(stored)
    return stored.length
  }

  function applyRuns(batch: RunBatch, res: ServerResponse): void {
    if (!batch.ok) {
      log(`tracehop dev: rejected LangSmith request: ${batch.error}`)
      sendJson(res, 400, { detail: batch.error })
      return
    }
    const spans: CollectedSpan[] = []
    let invalid = 0
    for (const { run } of batch.ops) {
      const { id: rawId } = run as { id?: unknown }
      const id = typeof rawId === 'string' ? rawId : ''
      // A run updated twice in one request: merge over the pending form, not the stored one.
      let previous: CollectedSpan | undefined
      for (let i = spans.length - 1; i >= 0 && previous === undefined; i--)
        if (spans[i]!.runId === id.toLowerCase()) previous = spans[i]
      previous ??= id ? store.findRun(id) : undefined
      const span = runToSpan(run, previous)
      if (span) spans.push(span)
      else invalid++
    }
    ingest(spans)
    if (invalid > 0) log(`tracehop dev: ${invalid} LangSmith run(s) without a usable id, trace or start time`)
    sendJson(res, 202, {})
  }

  async function handleOtlp(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const type = mediaType(req)
    const encoding =
      type === 'application/x-protobuf' ? 'protobuf' : type === 'application/json' ? 'json' : undefined
    const answer = (status: number, body: string | Uint8Array): void => {
      res
        .writeHead(status, {
          'content-type': encoding === 'protobuf' ? 'application/x-protobuf' : 'application/json',
        })
        .end(body)
    }
    if (!encoding) {
      answer(
        415,
        otlpStatus(
          'json',
          3,
          `unsupported Content-Type ${type || '(none)'}: use application/json or application/x-protobuf`,
        ),
      )
      return
    }
    const body = await decoded(req, await readBody(req))
    const result = encoding === 'json' ? decodeOtlpJson(body.toString('utf8')) : decodeOtlpProtobuf(body)
    if (!result) {
      log(`tracehop dev: rejected an OTLP ${encoding} request: not an ExportTraceServiceRequest`)
      answer(400, otlpStatus(encoding, 3, `body is not an OTLP ExportTraceServiceRequest (${encoding})`))
      return
    }
    ingest(result.spans)
    if (result.rejected > 0) log(`tracehop dev: rejected ${result.rejected} OTLP span(s): ${result.error}`)
    answer(200, otlpResponse(encoding, result.rejected, result.error))
  }

  async function handleLangSmith(path: string, req: IncomingMessage, res: ServerResponse): Promise<boolean> {
    const method = req.method ?? 'GET'
    if (path === '/info') {
      if (method !== 'GET') throw new HttpError(405, 'use GET')
      sendJson(res, 200, INFO)
      return true
    }
    if (path === '/runs/multipart') {
      if (method !== 'POST') throw new HttpError(405, 'use POST')
      const boundary = boundaryOf(req.headers['content-type'])
      if (!boundary) throw new HttpError(400, 'Content-Type must be multipart/form-data with a boundary')
      const parts = parseMultipart(await decoded(req, await readBody(req)), boundary)
      if (!parts) throw new HttpError(400, 'body is not well-formed multipart/form-data')
      applyRuns(multipartRuns(parts), res)
      return true
    }
    if (path === '/runs/batch') {
      if (method !== 'POST') throw new HttpError(405, 'use POST')
      applyRuns(batchRuns(await decoded(req, await readBody(req))), res)
      return true
    }
    if (path === '/runs') {
      if (method !== 'POST') throw new HttpError(405, 'use POST')
      applyRuns(singleRun(await decoded(req, await readBody(req)), 'post'), res)
      return true
    }
    const m = RUN_PATH.exec(path)
    if (m) {
      if (method !== 'PATCH') throw new HttpError(405, 'use PATCH')
      applyRuns(singleRun(await decoded(req, await readBody(req)), 'patch', m[1]), res)
      return true
    }
    return false
  }

  function handleUi(path: string, req: IncomingMessage, res: ServerResponse): boolean {
    const method = req.method ?? 'GET'
    if (path !== '/' && path !== '/index.html' && path !== '/api/traces' && !TRACE_PATH.test(path))
      return false
    // DNS rebinding guard: a page from elsewhere must not read local traces through a
    // hostname it controls that resolves to 127.0.0.1.
    if (loopbackOnly) {
      const hostHeader = String(req.headers.host ?? '')
      const name = hostHeader.startsWith('[')
        ? hostHeader.slice(0, hostHeader.indexOf(']') + 1)
        : hostHeader.split(':')[0]!
      if (!LOOPBACK_HOST.test(name))
        throw new HttpError(403, 'this collector serves its page on localhost only')
    }
    if (path === '/' || path === '/index.html') {
      if (method !== 'GET' && method !== 'HEAD') throw new HttpError(405, 'use GET')
      res
        .writeHead(200, {
          'content-type': 'text/html; charset=utf-8',
          'cache-control': 'no-store',
          'content-security-policy':
            "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; img-src 'self' data:",
        })
        .end(method === 'HEAD' ? undefined : pageHtml())
      return true
    }
    if (path === '/api/traces') {
      if (method === 'DELETE') {
        store.clear()
        sendJson(res, 200, {})
        return true
      }
      if (method !== 'GET') throw new HttpError(405, 'use GET or DELETE')
      sendJson(res, 200, { version, traces: store.list().map(summaryOf) })
      return true
    }
    const id = TRACE_PATH.exec(path)![1]!
    if (method !== 'GET') throw new HttpError(405, 'use GET')
    const trace = store.get(normalizeTraceId(id))
    if (trace) sendJson(res, 200, trace)
    else sendJson(res, 404, { detail: `no trace ${id}` })
    return true
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = req.url ?? '/'
    const q = url.indexOf('?')
    let path = q < 0 ? url : url.slice(0, q)
    if (path.length > 1 && path.endsWith('/')) path = path.slice(0, -1)
    // Browsers' OTLP exporters (and LangSmith from a page) post cross-origin; the page
    // and its API stay same-origin.
    const ui = path === '/' || path === '/index.html' || path.startsWith('/api/traces')
    if (!ui) {
      res.setHeader('access-control-allow-origin', '*')
      if (req.method === 'OPTIONS') {
        res
          .writeHead(204, {
            'access-control-allow-methods': 'GET, POST, PATCH, OPTIONS',
            'access-control-allow-headers': String(
              req.headers['access-control-request-headers'] ?? 'content-type',
            ),
            'access-control-max-age': '600',
          })
          .end()
        return
      }
    }
    if (path === '/v1/traces' || path === '/otel/v1/traces') {
      if (req.method !== 'POST') throw new HttpError(405, 'use POST')
      await handleOtlp(req, res)
      return
    }
    if (handleUi(path, req, res)) return
    // The LangSmith API is also reachable under /api/v1 (self-hosted LANGSMITH_ENDPOINT style).
    if (await handleLangSmith(path.startsWith('/api/v1/') ? path.slice(7) : path, req, res)) return
    throw new HttpError(404, `no route for ${req.method} ${path}`)
  }

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((e: unknown) => {
      const status = e instanceof HttpError ? e.status : 500
      const message = e instanceof Error ? e.message : String(e)
      if (status >= 500) log(`tracehop dev: ${req.method} ${req.url} failed: ${message}`)
      else if (status !== 404) log(`tracehop dev: ${req.method} ${req.url} → ${status}: ${message}`)
      if (res.headersSent) {
        res.destroy()
        return
      }
      // A refused body is not read to its end: close the connection after answering.
      if (status === 413) res.setHeader('connection', 'close')
      sendJson(res, status, { detail: message })
      if (status === 413) res.on('finish', () => req.destroy())
    })
  })
  server.keepAliveTimeout = 5000

  await new Promise<void>((resolve, reject) => {
    const onError = (e: NodeJS.ErrnoException): void => {
      server.off('listening', onListening)
      if (e.code === 'EADDRINUSE')
        reject(
          new TracehopError(
            `port ${requestedPort} on ${host} is already in use (another collector?); choose another with --port`,
            { cause: e },
          ),
        )
      else if (e.code === 'EADDRNOTAVAIL' || e.code === 'ENOTFOUND')
        reject(new TracehopError(`cannot listen on host ${host}: ${e.code}`, { cause: e }))
      else if (e.code === 'EACCES')
        reject(new TracehopError(`no permission to listen on ${host}:${requestedPort}`, { cause: e }))
      else reject(new TracehopError(`cannot listen on ${host}:${requestedPort}: ${e.message}`, { cause: e }))
    }
    const onListening = (): void => {
      server.off('error', onError)
      resolve()
    }
    server.once('error', onError)
    server.once('listening', onListening)
    server.listen(requestedPort, host)
  }).catch(async (e: unknown) => {
    await file?.close()
    throw e
  })

  const port = (server.address() as AddressInfo).port
  const urlHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host
  let closed: Promise<void> | undefined

  return {
    url: `http://${urlHost}:${port}`,
    port,
    traces: () => store.list(),
    trace: (id) => store.get(normalizeTraceId(id)),
    spans: () => store.spans(),
    waitFor(predicate, timeoutMs = 10_000) {
      return new Promise<CollectedTrace[]>((resolve, reject) => {
        let timer: ReturnType<typeof setTimeout> | undefined
        const check = (): void => {
          let ok: boolean
          const traces = store.list()
          try {
            ok = predicate(traces)
          } catch (e) {
            waiters.delete(check)
            clearTimeout(timer)
            reject(e)
            return
          }
          if (!ok) return
          waiters.delete(check)
          clearTimeout(timer)
          resolve(traces)
        }
        waiters.add(check)
        timer = setTimeout(() => {
          waiters.delete(check)
          const traces = store.list()
          reject(
            new Error(
              `tracehop dev: waitFor timed out after ${timeoutMs} ms with ${traces.length} trace(s): ${traces
                .map((t) => `${t.name} (${t.spans.length} spans: ${t.services.join(', ')})`)
                .join('; ')}`,
            ),
          )
        }, timeoutMs)
        check()
      })
    },
    clear: () => store.clear(),
    close() {
      closed ??= (async () => {
        store.finishAll()
        await new Promise<void>((resolve) => {
          server.close(() => resolve())
          server.closeAllConnections()
        })
        await writes
        await file?.close()
      })()
      return closed
    },
  }
}
