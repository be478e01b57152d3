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
 *
 * Any web page can send requests to it, so (docs/dev-collector.md): requests with an
 * `Origin` that is not loopback or configured are refused (origins.ts), Host names other
 * than loopback ones are refused, memory is bounded by `limits` (limits.ts), and what it
 * prints or logs is made terminal-safe (terminal-text.ts).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { TracehopError } from '../src/errors.js'
import { type BodyCounters, readDecodedBody } from './body.js'
import { createGate } from './gate.js'
import { HttpError, hostName, LOOPBACK_HOST, requestPath, sendJson } from './http.js'
import { type JsonLines, openJsonLines } from './json-lines.js'
import { handleLangSmith } from './langsmith-route.js'
import { type CollectorLimits, formatBytes, resolveLimits } from './limits.js'
import { listen } from './listen.js'
import { createOriginPolicy } from './origins.js'
import { handleOtlp, OTLP_PATHS } from './otlp-route.js'
import { limitSpan } from './span-limits.js'
import { terminalSafe } from './terminal-text.js'
import { createTraceStore } from './trace-store.js'
import type { CollectedSpan, CollectedTrace } from './types.js'
import { handleUi, normalizeTraceId } from './ui-route.js'
import { createWaiters } from './wait-for.js'

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
  /**
   * One line per notable event (a rejected request, a file error, an eviction), without
   * escape sequences or control characters. Default: silent.
   */
  readonly log?: (line: string) => void
  /** Oldest traces are evicted beyond this many (default 1000; same as `limits.maxTraces`). */
  readonly maxTraces?: number
  /** Memory and concurrency limits; each defaults to `DEFAULT_LIMITS`. */
  readonly limits?: Partial<CollectorLimits>
  /**
   * Browser origins allowed to send spans besides loopback ones (`http://localhost:*`,
   * `http://127.0.0.1:*`, `http://[::1]:*`), e.g. `https://app.example.com`. Requests
   * with any other `Origin` are refused with 403 and get no CORS headers.
   */
  readonly corsOrigins?: readonly string[]
}

/** What the collector refused, cut and evicted to stay within its limits, since it started. */
export interface CollectorStats {
  /** Request bodies being read or decoded now, and the most at once so far. */
  readonly activeBodies: number
  readonly peakActiveBodies: number
  /** Requests waiting for a turn now, and the most at once so far. */
  readonly queuedBodies: number
  readonly peakQueuedBodies: number
  /** Requests answered 503 because `maxConcurrentBodies` were busy and the queue was full. */
  readonly busyRejections: number
  /** Requests refused with 413 (`maxBodyBytes` or `maxDecodedBytes`). */
  readonly tooLarge: number
  /** Bytes produced by decompression, all requests together. */
  readonly decodedBytes: number
  /** String values cut to `maxAttributeLength`. */
  readonly truncatedValues: number
  /** Traces and spans evicted by `maxTraces` / `maxStoredBytes`. */
  readonly evictedTraces: number
  readonly evictedSpans: number
  /** Estimated size of the stored spans. */
  readonly storedBytes: number
}

export { type CollectorLimits, DEFAULT_LIMITS, MAX_BODY_BYTES } from './limits.js'
export type { TraceSummary } from './ui-route.js'

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
  /** The limits in force. */
  readonly limits: CollectorLimits
  stats(): CollectorStats
  /** Reports unfinished traces (onTrace), stops the server and closes the JSON file. */
  close(): Promise<void>
}

const DEFAULT_QUIET_MS = 1500

/** Answers a route's error (HttpError status, else 500) unless the answer has begun. */
function answerError(
  e: unknown,
  req: IncomingMessage,
  res: ServerResponse,
  log: (line: string) => void,
): void {
  const status = e instanceof HttpError ? e.status : 500
  const message = e instanceof Error ? e.message : String(e)
  if (e instanceof HttpError && !res.headersSent)
    for (const [name, value] of Object.entries(e.headers)) res.setHeader(name, value)
  if (!(e instanceof HttpError)) log(`tracehop dev: ${req.method} ${req.url} failed: ${message}`)
  else if (status !== 404) log(`tracehop dev: ${req.method} ${req.url} → ${status}: ${message}`)
  if (res.headersSent) {
    res.destroy()
    return
  }
  // A refused body is not read to its end: close the connection after answering.
  const unread = !req.complete
  if (unread) res.setHeader('connection', 'close')
  sendJson(res, status, { detail: message })
  if (unread) res.on('finish', () => req.destroy())
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
  // Log lines quote what clients sent (paths, part names, encodings): made terminal-safe here.
  const userLog = options.log
  const log = (line: string): void => userLog?.(terminalSafe(line))
  const limits = resolveLimits({
    ...(options.maxTraces !== undefined ? { maxTraces: options.maxTraces } : {}),
    ...options.limits,
  })

  let origins: ReturnType<typeof createOriginPolicy>
  try {
    origins = createOriginPolicy(options.corsOrigins)
  } catch (e) {
    throw new TracehopError(`collector corsOrigins: ${(e as Error).message}`)
  }
  const file: JsonLines | undefined =
    options.jsonFile !== undefined ? await openJsonLines(options.jsonFile, log) : undefined
  let version = 0
  const waiters = createWaiters(() => store.list())
  const store = createTraceStore({
    quietMs,
    maxTraces: limits.maxTraces,
    maxStoredBytes: limits.maxStoredBytes,
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
      waiters.notify()
    },
    onEvicted: (traces, spans) =>
      log(
        `tracehop dev: evicted the ${traces} oldest trace(s) (${spans} spans) to stay within ${limits.maxTraces} traces and ${formatBytes(limits.maxStoredBytes)}`,
      ),
  })
  const bodies: BodyCounters = { decodedBytes: 0, tooLarge: 0 }
  const gate = createGate(limits.maxConcurrentBodies, limits.maxQueuedBodies)
  let truncatedValues = 0
  const ingest = (spans: readonly CollectedSpan[]): void => {
    const limited = spans.map((s) => {
      const { span, cut } = limitSpan(s, limits.maxAttributeLength)
      truncatedValues += cut
      return span
    })
    const stored = store.add(limited)
    file?.append(stored)
  }
  const ingestDeps = {
    ingest,
    log,
    findRun: (id: string) => store.findRun(id),
    readBody: (req: IncomingMessage) => readDecodedBody(req, limits, bodies),
    maxBodyBytes: limits.maxBodyBytes,
  }
  const loopbackOnly = LOOPBACK_HOST.test(host)
  const uiDeps = { store, version: () => version, limits }
  // Reading, decoding and storing a body holds memory: only so many at once.
  const takesBody = (req: IncomingMessage): boolean => req.method === 'POST' || req.method === 'PATCH'

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = requestPath(req)
    // DNS rebinding guard: a page must not reach this collector through a name it controls
    // that resolves to 127.0.0.1. OTLP and LangSmith clients send the loopback name they use.
    if (loopbackOnly && !LOOPBACK_HOST.test(hostName(String(req.headers.host ?? ''))))
      throw new HttpError(403, 'this collector answers to localhost names only (Host header)')
    if (handleUi(path, req, res, uiDeps)) return
    // The page and its API stay same-origin; ingestion is for the developer's own pages.
    if (origins.answer(req, res)) return
    const route = async (): Promise<void> => {
      if (OTLP_PATHS.includes(path)) return handleOtlp(req, res, ingestDeps)
      // The LangSmith API is also reachable under /api/v1 (self-hosted LANGSMITH_ENDPOINT style).
      const lsPath = path.startsWith('/api/v1/') ? path.slice(7) : path
      if (await handleLangSmith(lsPath, req, res, ingestDeps)) return
      throw new HttpError(404, `no route for ${req.method} ${path}`)
    }
    return takesBody(req) ? gate.run(req, route) : route()
  }

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((e: unknown) => answerError(e, req, res, log))
  })
  server.keepAliveTimeout = 5000
  await listen(server, requestedPort, host).catch(async (e: unknown) => {
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
    waitFor: (predicate, timeoutMs = 10_000) => waiters.waitFor(predicate, timeoutMs),
    clear: () => store.clear(),
    limits,
    stats: () => ({
      activeBodies: gate.counters.active,
      peakActiveBodies: gate.counters.peakActive,
      queuedBodies: gate.counters.queued,
      peakQueuedBodies: gate.counters.peakQueued,
      busyRejections: gate.counters.busy,
      tooLarge: bodies.tooLarge,
      decodedBytes: bodies.decodedBytes,
      truncatedValues,
      evictedTraces: store.evicted().traces,
      evictedSpans: store.evicted().spans,
      storedBytes: store.storedBytes(),
    }),
    close() {
      closed ??= (async () => {
        store.finishAll()
        await new Promise<void>((resolve) => {
          server.close(() => resolve())
          server.closeAllConnections()
        })
        await file?.close()
      })()
      return closed
    },
  }
}
