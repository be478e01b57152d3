/**
 * The LangSmith ingestion API as the `langsmith` SDKs use it: `GET /info`,
 * `POST /runs/multipart`, `POST /runs/batch`, `POST /runs`, `PATCH /runs/<id>` (the
 * caller strips an `/api/v1` prefix).
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import { VERSION } from '../src/version.js'
import { HttpError, sendJson } from './http.js'
import { batchRuns, multipartRuns, type RunBatch, runToSpan, singleRun } from './langsmith-ingest.js'
import { boundaryOf, parseMultipart } from './multipart.js'
import type { CollectedSpan } from './types.js'

export interface LangSmithRouteDeps {
  /** The request body, read and decoded within the collector's limits. */
  readonly readBody: (req: IncomingMessage) => Promise<Buffer>
  /** Told to the SDKs in `GET /info`, so they batch below it. */
  readonly maxBodyBytes: number
  readonly ingest: (spans: readonly CollectedSpan[]) => void
  readonly log: (line: string) => void
  /** The stored span for a run id, so a patch merges over its post. */
  readonly findRun: (runId: string) => CollectedSpan | undefined
}

// What `GET /info` answers: enough for the langsmith SDKs to batch, use multipart and gzip.
const info = (maxBodyBytes: number) => ({
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
    size_limit_bytes: maxBodyBytes,
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
})

const RUN_PATH = /^\/runs\/([0-9a-fA-F-]{36})$/

function applyRuns(batch: RunBatch, res: ServerResponse, deps: LangSmithRouteDeps): void {
  if (!batch.ok) {
    deps.log(`tracehop dev: rejected LangSmith request: ${batch.error}`)
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
    previous ??= id ? deps.findRun(id) : undefined
    const span = runToSpan(run, previous)
    if (span) spans.push(span)
    else invalid++
  }
  deps.ingest(spans)
  if (invalid > 0)
    deps.log(`tracehop dev: ${invalid} LangSmith run(s) without a usable id, trace or start time`)
  sendJson(res, 202, {})
}

/** Answers a LangSmith route; false when `path` is none of them. */
export async function handleLangSmith(
  path: string,
  req: IncomingMessage,
  res: ServerResponse,
  deps: LangSmithRouteDeps,
): Promise<boolean> {
  const method = req.method ?? 'GET'
  if (path === '/info') {
    if (method !== 'GET') throw new HttpError(405, 'use GET')
    sendJson(res, 200, info(deps.maxBodyBytes))
    return true
  }
  if (path === '/runs/multipart') {
    if (method !== 'POST') throw new HttpError(405, 'use POST')
    const boundary = boundaryOf(req.headers['content-type'])
    if (!boundary) throw new HttpError(400, 'Content-Type must be multipart/form-data with a boundary')
    const parts = parseMultipart(await deps.readBody(req), boundary)
    if (!parts) throw new HttpError(400, 'body is not well-formed multipart/form-data')
    applyRuns(multipartRuns(parts), res, deps)
    return true
  }
  if (path === '/runs/batch') {
    if (method !== 'POST') throw new HttpError(405, 'use POST')
    applyRuns(batchRuns(await deps.readBody(req)), res, deps)
    return true
  }
  if (path === '/runs') {
    if (method !== 'POST') throw new HttpError(405, 'use POST')
    applyRuns(singleRun(await deps.readBody(req), 'post'), res, deps)
    return true
  }
  const m = RUN_PATH.exec(path)
  if (m) {
    if (method !== 'PATCH') throw new HttpError(405, 'use PATCH')
    applyRuns(singleRun(await deps.readBody(req), 'patch', m[1]), res, deps)
    return true
  }
  return false
}
