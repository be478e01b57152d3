// The collector as a whole: when a trace counts as finished, the --json file, the page and
// its API, the DNS-rebinding guard, waitFor, and the errors people hit (port in use).
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { request } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { JsonTraceSerializer } from '@opentelemetry/otlp-transformer'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type CollectedTrace, type Collector, startCollector } from '../../cli/collector.js'
import { TracehopError } from '../../src/errors.js'
import { post, threeServiceTrace } from './helpers.js'

const JSON_HEADERS = { 'content-type': 'application/json' }
const open: Collector[] = []
let dir: string

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tracehop-collector-'))
})
afterAll(async () => {
  await Promise.all(open.map((c) => c.close()))
  await rm(dir, { recursive: true, force: true })
})

async function start(options: Parameters<typeof startCollector>[0] = {}): Promise<Collector> {
  const c = await startCollector({ port: 0, ...options })
  open.push(c)
  return c
}

function otlpBody(t = threeServiceTrace()): Uint8Array {
  return JsonTraceSerializer.serializeRequest(t.spans)!
}

function span(traceId: string, spanId: string, startNs: string): object {
  return {
    resourceSpans: [
      {
        resource: { attributes: [{ key: 'service.name', value: { stringValue: 'svc' } }] },
        scopeSpans: [
          {
            spans: [
              { traceId, spanId, name: `s${spanId}`, startTimeUnixNano: startNs, endTimeUnixNano: startNs },
            ],
          },
        ],
      },
    ],
  }
}

/** GET with an explicit Host header (fetch does not let one set it). */
function getWithHost(url: string, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(url, { headers: { host } }, (res) => {
      res.resume()
      resolve(res.statusCode ?? 0)
    })
    req.on('error', reject)
    req.end()
  })
}

describe('finishing traces', () => {
  it('reports a trace once no span arrived for quietMs, then again after a late span', async () => {
    const finished: CollectedTrace[] = []
    // A quiet period long enough that a loaded machine never closes the trace between the
    // two requests below (the gap between them is 200 ms plus a round trip).
    const c = await start({ quietMs: 1000, onTrace: (t) => finished.push(t) })
    const t = threeServiceTrace()
    await post(`${c.url}/v1/traces`, JsonTraceSerializer.serializeRequest(t.spans.slice(0, 2))!, JSON_HEADERS)
    await new Promise((r) => setTimeout(r, 200))
    const second = Date.now()
    await post(`${c.url}/v1/traces`, JsonTraceSerializer.serializeRequest(t.spans.slice(2))!, JSON_HEADERS)
    expect(c.trace(t.traceId)!.finished).toBe(false)
    await c.waitFor(() => finished.length === 1, 5000)
    // The quiet period restarted with the second request.
    expect(Date.now() - second).toBeGreaterThanOrEqual(1000 - 5)
    expect(finished[0]).toMatchObject({ traceId: t.traceId, finished: true })
    expect(finished[0]!.spans).toHaveLength(4)

    const late = span(t.traceId, 'aaaaaaaaaaaaaaaa', '1700000002000000000')
    await post(`${c.url}/v1/traces`, JSON.stringify(late), JSON_HEADERS)
    expect(c.trace(t.traceId)!.finished).toBe(false)
    await c.waitFor(() => finished.length === 2, 5000)
    expect(finished[1]!.spans).toHaveLength(5)
    expect(finished[1]!.orphans).toBe(0)
  })

  it('reports unfinished traces on close', async () => {
    const finished: string[] = []
    const c = await startCollector({ port: 0, quietMs: 60_000, onTrace: (t) => finished.push(t.traceId) })
    const t = threeServiceTrace()
    await post(`${c.url}/v1/traces`, otlpBody(t), JSON_HEADERS)
    expect(finished).toEqual([])
    await c.close()
    expect(finished).toEqual([t.traceId])
  })

  it('forgets the oldest traces beyond maxTraces', async () => {
    const c = await start({ quietMs: 60_000, maxTraces: 2 })
    for (const id of ['1', '2', '3'])
      await post(
        `${c.url}/v1/traces`,
        JSON.stringify(span(id.repeat(32), id.repeat(16), '1700000000000000000')),
        JSON_HEADERS,
      )
    expect(c.traces().map((t) => t.traceId)).toEqual(['3'.repeat(32), '2'.repeat(32)])
  })
})

describe('--json file', () => {
  it('appends every received span as one JSON line', async () => {
    const file = join(dir, 'spans.jsonl')
    const c = await startCollector({ port: 0, jsonFile: file })
    const t = threeServiceTrace()
    await post(`${c.url}/v1/traces`, otlpBody(t), JSON_HEADERS)
    await post(
      `${c.url}/v1/traces`,
      JSON.stringify(span('b'.repeat(32), 'c'.repeat(16), '1700000000000000000')),
      JSON_HEADERS,
    )
    await c.close()
    const lines = (await readFile(file, 'utf8')).split('\n')
    expect(lines.at(-1)).toBe('') // every line ends with \n
    const spans = lines.slice(0, -1).map((l) => JSON.parse(l))
    expect(spans).toHaveLength(5)
    expect(spans.map((s) => s.name).sort()).toEqual(
      ['POST /chat', 'agent.run', 'llm.chat', `s${'c'.repeat(16)}`, 'search'].sort(),
    )
    expect(spans.find((s) => s.name === 'search')).toMatchObject({
      traceId: t.traceId,
      spanId: t.ids.search,
      parentSpanId: t.ids.agent,
      service: 'retrieval',
      status: { code: 'error', message: 'index timeout' },
      source: 'otlp',
    })
  })

  it('appends to an existing file rather than truncating it', async () => {
    const file = join(dir, 'append.jsonl')
    for (let i = 0; i < 2; i++) {
      const c = await startCollector({ port: 0, jsonFile: file })
      await post(
        `${c.url}/v1/traces`,
        JSON.stringify(span('d'.repeat(32), `${i + 1}`.repeat(16), '1700000000000000000')),
        JSON_HEADERS,
      )
      await c.close()
    }
    expect((await readFile(file, 'utf8')).trim().split('\n')).toHaveLength(2)
  })

  it('refuses to start when the file cannot be opened', async () => {
    await expect(startCollector({ port: 0, jsonFile: join(dir, 'no/such/dir/x.jsonl') })).rejects.toThrow(
      /cannot open .*x\.jsonl for --json/,
    )
  })
})

describe('page and API', () => {
  let c: Collector
  const t = threeServiceTrace()
  beforeAll(async () => {
    c = await start({ quietMs: 60_000 })
    await post(`${c.url}/v1/traces`, otlpBody(t), JSON_HEADERS)
  })

  it('serves one self-contained HTML page at /', async () => {
    const res = await fetch(`${c.url}/`)
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8')
    expect(res.headers.get('content-security-policy')).toContain("default-src 'none'")
    const html = await res.text()
    expect(html).toContain('<script>')
    expect(html).toContain('<style>')
    // No CDN: nothing is loaded from anywhere else.
    expect(html).not.toMatch(/<(script|link|img)[^>]+(src|href)=/i)
    expect(html).not.toMatch(/https?:\/\/(?!127)/)
  })

  it('lists traces newest first with their summary at GET /api/traces', async () => {
    const body = (await (await fetch(`${c.url}/api/traces`)).json()) as { version: number; traces: object[] }
    expect(body.version).toBeGreaterThan(0)
    expect(body.traces).toEqual([
      expect.objectContaining({
        traceId: t.traceId,
        name: 'POST /chat',
        services: ['gateway', 'orchestrator', 'retrieval'],
        spanCount: 4,
        duration: 1240,
        errors: 1,
      }),
    ])
    expect(body.traces[0]).not.toHaveProperty('spans')
  })

  it('returns one trace with its spans at GET /api/traces/:id (hex or UUID), 404 otherwise', async () => {
    const one = (await (await fetch(`${c.url}/api/traces/${t.traceId}`)).json()) as CollectedTrace
    expect(one.spans).toHaveLength(4)
    const uuid = `${t.traceId.slice(0, 8)}-${t.traceId.slice(8, 12)}-${t.traceId.slice(12, 16)}-${t.traceId.slice(16, 20)}-${t.traceId.slice(20)}`
    expect((await fetch(`${c.url}/api/traces/${uuid}`)).status).toBe(200)
    expect((await fetch(`${c.url}/api/traces/${'f'.repeat(32)}`)).status).toBe(404)
  })

  it('answers the page and API only to loopback Host names (DNS rebinding)', async () => {
    expect(await getWithHost(`${c.url}/api/traces`, 'evil.example:4318')).toBe(403)
    expect(await getWithHost(`${c.url}/`, 'evil.example')).toBe(403)
    expect(await getWithHost(`${c.url}/api/traces`, `localhost:${c.port}`)).toBe(200)
    expect(await getWithHost(`${c.url}/api/traces`, `[::1]:${c.port}`)).toBe(200)
    // Ingestion is guarded the same way (test/cli/origins.test.ts covers it in full).
    expect(await getWithHost(`${c.url}/info`, 'evil.example')).toBe(403)
    expect(await getWithHost(`${c.url}/info`, `127.0.0.1:${c.port}`)).toBe(200)
  })

  it('does not offer CORS on the API', async () => {
    const res = await fetch(`${c.url}/api/traces`, { headers: { origin: 'http://evil.example' } })
    expect(res.headers.get('access-control-allow-origin')).toBeNull()
  })

  it('answers 404 for unknown routes', async () => {
    expect((await fetch(`${c.url}/nope`)).status).toBe(404)
  })
})

describe('waitFor', () => {
  it('resolves as soon as the predicate holds', async () => {
    const c = await start({ quietMs: 60_000 })
    const waiting = c.waitFor((ts) => ts.some((t) => t.spans.length === 4), 2000)
    await post(`${c.url}/v1/traces`, otlpBody(), JSON_HEADERS)
    expect((await waiting)[0]!.spans).toHaveLength(4)
  })

  it('rejects after the timeout, saying what it has', async () => {
    const c = await start({ quietMs: 60_000 })
    await post(`${c.url}/v1/traces`, otlpBody(), JSON_HEADERS)
    await expect(c.waitFor(() => false, 50)).rejects.toThrow(
      /timed out after 50 ms with 1 trace\(s\): POST \/chat \(4 spans: gateway, orchestrator, retrieval\)/,
    )
  })
})

describe('startup errors', () => {
  it('says the port is in use', async () => {
    const c = await start()
    const error = await startCollector({ port: c.port }).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(TracehopError)
    expect((error as Error).message).toBe(
      `tracehop: port ${c.port} on 127.0.0.1 is already in use (another collector?); choose another with --port`,
    )
  })

  it('refuses a port outside [0, 65535]', async () => {
    await expect(startCollector({ port: 70_000 })).rejects.toThrow(
      /port must be an integer within \[0, 65535\]/,
    )
  })
})
