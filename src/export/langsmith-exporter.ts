/**
 * LangSmith-native exporter: finished spans as run creates, posted the way the `langsmith`
 * SDK's `Client` posts them (`POST /runs/multipart`, one `post.<id>` part per run plus its
 * `.inputs`/`.outputs`/`.events`/`.extra`/`.error` parts), falling back to `/runs/batch`
 * where multipart is not available. Spans are finished, so each run is sent once, complete:
 * no patch.
 */
import { TracehopError } from '../errors.js'
import type { ExportBatch } from '../span-record.js'
import { VERSION } from '../version.js'
import { exportFetch } from './export-fetch.js'
import type { DropReason, Exporter, ExportResult } from './exporter.js'
import { type LangSmithRun, spanToRun, validateRun } from './langsmith-runs.js'
import { type FetchLike, sendWithRetry } from './retry.js'

export interface LangSmithExporterOptions {
  /** `x-api-key`; omit only for a local receiver that needs none. */
  readonly apiKey?: string
  /** Default `https://api.smith.langchain.com`. */
  readonly apiUrl?: string
  /** Project for traces that did not bring one in `langsmith-project` baggage. */
  readonly project?: string
  /** `x-tenant-id`, for API keys that span several workspaces. */
  readonly workspaceId?: string
  /** As `OtlpExporterOptions.fetch`: the platform's by default (tracehop/lambda's `node:http` on Lambda). */
  readonly fetch?: FetchLike
  /** Timeout per attempt (ms); the flush deadline still bounds the whole export. Default 10 000. */
  readonly timeoutMs?: number
}

export const DEFAULT_LANGSMITH_API_URL = 'https://api.smith.langchain.com'

interface IngestConfig {
  readonly multipart: boolean
  readonly maxBytes: number
  readonly maxRuns: number
}

// The langsmith SDK's defaults when `/info` is unavailable (lib/client.js
// DEFAULT_UNCOMPRESSED_BATCH_SIZE_LIMIT_BYTES, DEFAULT_BATCH_SIZE_LIMIT).
const DEFAULTS: IngestConfig = { multipart: true, maxBytes: 24 * 1024 * 1024, maxRuns: 100 }
const INFO_TIMEOUT_MS = 2_000
// Multipart is not there (older self-hosted servers, proxies): use /runs/batch.
const NO_MULTIPART: ReadonlySet<number> = new Set([404, 405, 415])
const PART_FIELDS = ['inputs', 'outputs', 'events', 'extra', 'error'] as const

const encoder = /* @__PURE__ */ new TextEncoder()
const CRLF = /* @__PURE__ */ Uint8Array.of(13, 10)

function positive(v: unknown, fallback: number): number {
  return typeof v === 'number' && v > 0 ? v : fallback
}

/** A run's multipart parts, each prefixed by its boundary line and headers. */
function runParts(run: LangSmithRun, boundary: string): Uint8Array[] {
  const { inputs, outputs, events, extra, error, ...main } = run
  const fields: Record<(typeof PART_FIELDS)[number], unknown> = { inputs, outputs, events, extra, error }
  const chunks: Uint8Array[] = []
  const part = (name: string, value: unknown): void => {
    const body = encoder.encode(JSON.stringify(value))
    // lib/client.js `_serializeRunParts`: `application/json; length=<bytes>`.
    chunks.push(
      encoder.encode(
        `--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\nContent-Type: application/json; length=${body.length}\r\n\r\n`,
      ),
      body,
      CRLF,
    )
  }
  part(`post.${run.id}`, main)
  for (const f of PART_FIELDS) if (fields[f] !== undefined) part(`post.${run.id}.${f}`, fields[f])
  return chunks
}

function concat(chunks: readonly Uint8Array[], size: number): Uint8Array {
  const out = new Uint8Array(size)
  let at = 0
  for (const c of chunks) {
    out.set(c, at)
    at += c.length
  }
  return out
}

function randomBoundary(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(12))
  let s = '----tracehop'
  for (const b of bytes) s += b.toString(16).padStart(2, '0')
  return s
}

/**
 * Creates a LangSmith exporter. `GET /info` is read once per exporter (short timeout; the
 * SDK's defaults if it fails) for `batch_ingest_config` limits and whether multipart is on.
 * Runs LangSmith would reject are dropped and counted as `invalid`, never sent: the server
 * rejects a whole batch for one bad run.
 *
 * @example
 * const tracer = createTracer({
 *   service: 'orchestrator',
 *   exporters: [createLangSmithExporter({ apiKey: env.LANGSMITH_API_KEY, project: 'agents' })],
 * })
 */
export function createLangSmithExporter(options: LangSmithExporterOptions = {}): Exporter {
  let apiUrl = options.apiUrl ?? DEFAULT_LANGSMITH_API_URL
  while (apiUrl.endsWith('/')) apiUrl = apiUrl.slice(0, -1)
  try {
    new URL(apiUrl)
  } catch {
    throw new TracehopError(
      `langsmith.apiUrl must be an absolute URL such as ${DEFAULT_LANGSMITH_API_URL}, got ${JSON.stringify(apiUrl)}`,
    )
  }
  const headers: Record<string, string> = { 'User-Agent': `tracehop/${VERSION}` }
  if (options.apiKey) headers['x-api-key'] = options.apiKey
  if (options.workspaceId) headers['x-tenant-id'] = options.workspaceId
  const fetchFn = options.fetch ?? exportFetch
  const timeout = options.timeoutMs !== undefined ? { attemptTimeoutMs: options.timeoutMs } : {}
  let info: Promise<IngestConfig> | undefined
  let multipartOff = false

  async function loadInfo(deadline: number): Promise<IngestConfig> {
    const r = await sendWithRetry(
      `${apiUrl}/info`,
      { method: 'GET', headers: { ...headers, Accept: 'application/json' } },
      { fetch: fetchFn, deadline: Math.min(deadline, Date.now() + INFO_TIMEOUT_MS), maxAttempts: 1 },
    )
    if (!r.ok || !r.body) return DEFAULTS
    try {
      const cfg = JSON.parse(new TextDecoder().decode(r.body))?.batch_ingest_config
      return {
        multipart: cfg?.use_multipart_endpoint !== false,
        maxBytes: positive(cfg?.size_limit_bytes, DEFAULTS.maxBytes),
        maxRuns: positive(cfg?.size_limit, DEFAULTS.maxRuns),
      }
    } catch {
      return DEFAULTS
    }
  }

  async function send(
    runs: readonly LangSmithRun[],
    parts: readonly Uint8Array[],
    size: number,
    boundary: string,
    cfg: IngestConfig,
    deadline: number,
  ): Promise<{ ok: boolean; attempts: number; reason?: DropReason; detail?: string }> {
    let attempts = 0
    if (cfg.multipart && !multipartOff) {
      const end = encoder.encode(`--${boundary}--\r\n`)
      const body = concat([...parts, end], size + end.length)
      const r = await sendWithRetry(
        `${apiUrl}/runs/multipart`,
        {
          method: 'POST',
          headers: { ...headers, 'Content-Type': `multipart/form-data; boundary=${boundary}` },
          body: body as BodyInit,
        },
        { fetch: fetchFn, deadline, ...timeout },
      )
      if (r.ok || r.status === undefined || !NO_MULTIPART.has(r.status)) return r
      multipartOff = true
      attempts = r.attempts
    }
    const r = await sendWithRetry(
      `${apiUrl}/runs/batch`,
      {
        method: 'POST',
        headers: { ...headers, 'Content-Type': 'application/json', Accept: 'application/json' },
        body: JSON.stringify({ post: runs, patch: [] }),
      },
      { fetch: fetchFn, deadline, ...timeout },
    )
    return { ...r, attempts: attempts + r.attempts }
  }

  return {
    name: 'langsmith',
    async export(batch: ExportBatch, deadline: number): Promise<ExportResult> {
      const n = batch.spans.length
      if (n === 0) return { exported: 0, dropped: 0, attempts: 0 }
      let exported = 0
      let dropped = 0
      let attempts = 0
      let reason: DropReason | undefined
      let detail: string | undefined
      try {
        const runs: LangSmithRun[] = []
        for (const span of batch.spans) {
          const run = spanToRun(span, batch.resource, options.project)
          const why = validateRun(run)
          if (why === undefined) runs.push(run)
          else {
            dropped++
            reason ??= 'invalid'
            detail ??= `run ${run.id} (${span.name}): ${why}`
          }
        }
        if (runs.length > 0) {
          const cfg = await (info ??= loadInfo(deadline))
          const boundary = randomBoundary()
          // Requests within the server's limits: at most maxRuns runs and maxBytes each.
          let chunkRuns: LangSmithRun[] = []
          let chunkParts: Uint8Array[] = []
          let chunkSize = 0
          const flush = async (): Promise<void> => {
            if (chunkRuns.length === 0) return
            const r = await send(chunkRuns, chunkParts, chunkSize, boundary, cfg, deadline)
            attempts += r.attempts
            if (r.ok) exported += chunkRuns.length
            else {
              dropped += chunkRuns.length
              // A failed send says more than an invalid run did.
              if (reason === undefined || reason === 'invalid') {
                reason = r.reason ?? 'network'
                detail = r.detail
              }
            }
            chunkRuns = []
            chunkParts = []
            chunkSize = 0
          }
          for (const run of runs) {
            const parts = runParts(run, boundary)
            let size = 0
            for (const p of parts) size += p.length
            if (chunkRuns.length >= cfg.maxRuns || (chunkRuns.length > 0 && chunkSize + size > cfg.maxBytes))
              await flush()
            chunkRuns.push(run)
            for (const p of parts) chunkParts.push(p)
            chunkSize += size
          }
          await flush()
        }
      } catch (err) {
        // Serializing a run failed (e.g. a value JSON cannot encode): nothing more was sent.
        dropped = n - exported
        reason = 'encode'
        detail = err instanceof Error ? err.message : String(err)
      }
      return {
        exported,
        dropped,
        attempts,
        ...(reason !== undefined ? { reason } : {}),
        ...(detail !== undefined ? { detail } : {}),
      }
    },
  }
}

/**
 * The LangSmith exporter under its short name, for configuration.
 *
 * @example
 * createTracer({ service: 'api', exporters: [langsmith({ apiKey: env.LANGSMITH_API_KEY })] })
 */
export function langsmith(options?: LangSmithExporterOptions): Exporter {
  return createLangSmithExporter(options)
}
