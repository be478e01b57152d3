/**
 * LangSmith-native exporter: finished spans as run creates, posted the way the `langsmith`
 * SDK's `Client` posts them (`POST /runs/multipart`, one `post.<id>` part per run plus its
 * `.inputs`/`.outputs`/`.events`/`.extra`/`.error` parts), falling back to `/runs/batch`
 * where multipart is not available. Spans are finished, so each run is sent once, complete:
 * no patch.
 */
import { checkNumber, describeValue, isLoopback, requireHttpUrl } from '../config-values.js'
import { TracehopError } from '../errors.js'
import type { ExportBatch } from '../span-record.js'
import { VERSION } from '../version.js'
import { exportFetch } from './export-fetch.js'
import type { DropReason, Exporter, ExportMeter, ExportResult } from './exporter.js'
import { type LangSmithRun, spanToRun, validateRun } from './langsmith-runs.js'
import { type FetchLike, sendWithRetry } from './retry.js'

export interface LangSmithExporterOptions {
  /**
   * `x-api-key`. Required (creating the exporter throws without it) unless `apiUrl` is a
   * loopback address: `tracehop dev` and local receivers need none.
   */
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
  /** Requests in flight at once when a batch needs several (100 runs each). Default 5, as the SDK's Client. */
  readonly concurrency?: number
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
// lib/client.js `traceBatchConcurrency`.
const DEFAULT_CONCURRENCY = 5
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
 *   exporters: [langsmith({ apiKey: env.LANGSMITH_API_KEY, project: 'agents' })],
 * })
 */
export function langsmith(options: LangSmithExporterOptions = {}): Exporter {
  if (options === null || typeof options !== 'object') {
    throw new TracehopError(`langsmith() takes options such as { apiKey }, got ${describeValue(options)}`)
  }
  const endpoint = requireHttpUrl(
    'langsmith.apiUrl',
    options.apiUrl ?? DEFAULT_LANGSMITH_API_URL,
    DEFAULT_LANGSMITH_API_URL,
  )
  let apiUrl = options.apiUrl ?? DEFAULT_LANGSMITH_API_URL
  while (apiUrl.endsWith('/')) apiUrl = apiUrl.slice(0, -1)
  if (options.apiKey !== undefined && typeof options.apiKey !== 'string') {
    throw new TracehopError(`langsmith.apiKey: expected a string, got ${describeValue(options.apiKey)}`)
  }
  // LangSmith answers 401 to every request without a key: say so now, not per dropped batch.
  // A loopback endpoint (`tracehop dev`, a local receiver) needs none.
  if (!options.apiKey && !isLoopback(endpoint)) {
    throw new TracehopError(
      `langsmith.apiKey is ${options.apiKey === '' ? 'empty' : 'missing'}: LangSmith at ${endpoint.origin} rejects runs without one. Pass langsmith({ apiKey: env.LANGSMITH_API_KEY }) (only a loopback apiUrl such as http://127.0.0.1:1984 needs none).`,
    )
  }
  for (const key of ['timeoutMs', 'concurrency'] as const) {
    if (options[key] !== undefined) checkNumber(`langsmith.${key}`, options[key], (n) => n >= 1, 'at least 1')
  }
  const headers: Record<string, string> = { 'User-Agent': `tracehop/${VERSION}` }
  if (options.apiKey) headers['x-api-key'] = options.apiKey
  if (options.workspaceId) headers['x-tenant-id'] = options.workspaceId
  const fetchFn = options.fetch ?? exportFetch
  const concurrency = options.concurrency ?? DEFAULT_CONCURRENCY
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
    c: Chunk,
    cfg: IngestConfig,
    deadline: number,
    meter: ExportMeter | undefined,
  ): Promise<{ ok: boolean; attempts: number; reason?: DropReason; detail?: string }> {
    let attempts = 0
    const metered = meter ? { meter } : {}
    if (cfg.multipart && !multipartOff) {
      const end = encoder.encode(`--${c.boundary}--\r\n`)
      const body = concat([...c.parts, end], c.size + end.length)
      const r = await sendWithRetry(
        `${apiUrl}/runs/multipart`,
        {
          method: 'POST',
          headers: { ...headers, 'Content-Type': `multipart/form-data; boundary=${c.boundary}` },
          body: body as BodyInit,
        },
        { fetch: fetchFn, deadline, ...timeout, ...metered },
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
        body: JSON.stringify({ post: c.runs, patch: [] }),
      },
      { fetch: fetchFn, deadline, ...timeout, ...metered },
    )
    return { ...r, attempts: attempts + r.attempts }
  }

  return {
    name: 'langsmith',
    async export(batch: ExportBatch, deadline: number, meter?: ExportMeter): Promise<ExportResult> {
      const n = batch.spans.length
      if (n === 0) return { exported: 0, dropped: 0, attempts: 0 }
      const tally = new DropTally()
      let exported = 0
      let attempts = 0
      const runs: LangSmithRun[] = []
      let chunks: Chunk[] = []
      try {
        for (const span of batch.spans) {
          const run = spanToRun(span, batch.resource, options.project)
          const why = validateRun(run)
          if (why === undefined) runs.push(run)
          else tally.add('invalid', 1, `run ${run.id} (${span.name}): ${why}`)
        }
        if (runs.length > 0) {
          // /info may take at most a quarter of the budget left: the runs need the rest.
          const cfg = await (info ??= loadInfo(Date.now() + (deadline - Date.now()) / 4))
          chunks = toChunks(runs, cfg, randomBoundary())
          const sendChunk = async (c: Chunk): Promise<void> => {
            const r = await send(c, cfg, deadline, meter)
            attempts += r.attempts
            if (r.ok) exported += c.runs.length
            // A chunk the budget left no time for was never attempted: `budget`, not its neighbours' reason.
            else tally.add(r.reason ?? 'network', c.runs.length, r.detail)
          }
          // Like the SDK's Client (traceBatchConcurrency 5): a few requests at once, so one
          // slow response does not leave the other chunks waiting past the budget.
          let next = 0
          const worker = async (): Promise<void> => {
            while (next < chunks.length) await sendChunk(chunks[next++]!)
          }
          await Promise.all(Array.from({ length: Math.min(concurrency, chunks.length) }, worker))
        }
      } catch (err) {
        // Serializing a run failed (e.g. a value JSON cannot encode): runs not yet settled are dropped.
        const settled = tally.dropped + exported
        tally.add('encode', n - settled, err instanceof Error ? err.message : String(err))
      }
      return { exported, attempts, ...tally.result() }
    },
  }
}

interface Chunk {
  readonly runs: LangSmithRun[]
  readonly parts: Uint8Array[]
  size: number
  readonly boundary: string
}

/** Requests within the server's limits: at most `maxRuns` runs and `maxBytes` each. */
function toChunks(runs: readonly LangSmithRun[], cfg: IngestConfig, boundary: string): Chunk[] {
  const chunks: Chunk[] = []
  let c: Chunk | undefined
  for (const run of runs) {
    const parts = runParts(run, boundary)
    let size = 0
    for (const p of parts) size += p.length
    if (
      c === undefined ||
      c.runs.length >= cfg.maxRuns ||
      (c.runs.length > 0 && c.size + size > cfg.maxBytes)
    ) {
      c = { runs: [], parts: [], size: 0, boundary }
      chunks.push(c)
    }
    c.runs.push(run)
    for (const p of parts) c.parts.push(p)
    c.size += size
  }
  return chunks
}

/** Dropped spans by reason, in the order the reasons first came up. */
class DropTally {
  readonly #drops: { reason: DropReason; count: number; detail?: string }[] = []
  dropped = 0

  add(reason: DropReason, count: number, detail: string | undefined): void {
    if (!(count > 0)) return
    this.dropped += count
    const d = this.#drops.find((x) => x.reason === reason)
    if (d) d.count += count
    else this.#drops.push(detail === undefined ? { reason, count } : { reason, count, detail })
  }

  result(): Pick<ExportResult, 'dropped' | 'reason' | 'detail' | 'drops'> {
    const drops = this.#drops
    if (drops.length === 0) return { dropped: 0 }
    // The headline reason: a failed send says more than an invalid run did.
    const main = drops.find((d) => d.reason !== 'invalid') ?? drops[0]!
    return {
      dropped: this.dropped,
      reason: main.reason,
      ...(main.detail !== undefined && { detail: main.detail }),
      ...(drops.length > 1 && { drops }),
    }
  }
}
