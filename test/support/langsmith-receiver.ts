/**
 * A local stand-in for the LangSmith API on 127.0.0.1: answers `GET /info`, records the
 * runs sent to `/runs/multipart`, `/runs/batch`, `POST /runs` and `PATCH /runs/<id>`
 * (creates and patches), per first path segment, so two clients (the SDK and tracehop's
 * exporter) can be told apart.
 */
import { startReceiver } from './http-receiver.js'

export interface ReceivedRun {
  readonly op: 'post' | 'patch'
  /** The first path segment the client used (`/sdk/runs/multipart` → `sdk`). */
  readonly source: string
  readonly id: string
  readonly name?: string
  readonly run_type?: string
  readonly trace_id?: string
  readonly dotted_order?: string
  readonly parent_run_id?: string | null
  readonly session_name?: string
  readonly inputs?: unknown
  readonly outputs?: unknown
  readonly extra?: { metadata?: Record<string, unknown> }
  readonly [k: string]: unknown
}

export interface LangSmithReceiver {
  /** Base URL for a client: `${base}/<source>`. */
  readonly base: string
  runs(): readonly ReceivedRun[]
  /** Requests per endpoint, e.g. `sdk GET /info`, `sdk POST /runs/multipart`. */
  requests(): readonly string[]
  /** Holds every ingest answer for a source back this long (ms). */
  setDelay(source: string, ms: number): void
  clear(): void
  close(): Promise<void>
}

const INFO = {
  version: '0.10.0',
  batch_ingest_config: {
    use_multipart_endpoint: true,
    size_limit: 100,
    size_limit_bytes: 20_971_520,
    scale_up_qsize_trigger: 1000,
    scale_up_nthreads_limit: 16,
    scale_down_nempty_trigger: 4,
  },
  instance_flags: { gzip_body_enabled: false, zstd_compression_enabled: false },
}

async function parseMultipart(body: Buffer, contentType: string, source: string): Promise<ReceivedRun[]> {
  const form = await new Request('http://receiver/', {
    method: 'POST',
    headers: { 'content-type': contentType },
    body: new Uint8Array(body),
  }).formData()
  const runs = new Map<string, Record<string, unknown>>()
  for (const [name, value] of form.entries()) {
    const text = typeof value === 'string' ? value : await value.text()
    const [op, id, field] = name.split('.')
    if ((op !== 'post' && op !== 'patch') || id === undefined) continue
    const key = `${op}.${id}`
    const run = runs.get(key) ?? { op, source, id }
    if (field === undefined) Object.assign(run, JSON.parse(text))
    else run[field] = JSON.parse(text)
    runs.set(key, run)
  }
  return [...runs.values()] as ReceivedRun[]
}

export async function startLangSmithReceiver(): Promise<LangSmithReceiver> {
  let runs: ReceivedRun[] = []
  let requests: string[] = []
  const delays = new Map<string, number>()
  const http = await startReceiver(async (req, res) => {
    const url = new URL(req.path, 'http://receiver')
    const [, source = '', ...rest] = url.pathname.split('/')
    const path = `/${rest.join('/')}`
    requests.push(`${source} ${req.method} ${path}`)
    const body = req.body
    if (req.method === 'GET' && path === '/info') {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(INFO))
      return
    }
    try {
      if (req.method === 'POST' && path === '/runs/multipart') {
        runs.push(...(await parseMultipart(body, String(req.headers['content-type']), source)))
      } else if (req.method === 'POST' && path === '/runs/batch') {
        const batch = JSON.parse(body.toString('utf8')) as { post?: object[]; patch?: object[] }
        for (const r of batch.post ?? []) runs.push({ ...(r as ReceivedRun), op: 'post', source })
        for (const r of batch.patch ?? []) runs.push({ ...(r as ReceivedRun), op: 'patch', source })
      } else if (req.method === 'POST' && path === '/runs') {
        runs.push({ ...(JSON.parse(body.toString('utf8')) as ReceivedRun), op: 'post', source })
      } else if (req.method === 'PATCH' && path.startsWith('/runs/')) {
        const id = path.slice('/runs/'.length)
        runs.push({ ...(JSON.parse(body.toString('utf8')) as ReceivedRun), id, op: 'patch', source })
      } else {
        res.writeHead(404).end()
        return
      }
    } catch (err) {
      res.writeHead(422).end(String(err))
      return
    }
    const delay = delays.get(source) ?? 0
    const answer = () => res.writeHead(202, { 'content-type': 'application/json' }).end('{}')
    if (delay > 0) setTimeout(answer, delay)
    else answer()
  })
  return {
    base: http.url,
    runs: () => runs,
    requests: () => requests,
    setDelay: (source, ms) => void delays.set(source, ms),
    clear() {
      runs = []
      requests = []
    },
    close: () => http.close(),
  }
}
