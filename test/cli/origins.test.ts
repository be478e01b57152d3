// Only the developer's pages can send: requests carrying an Origin that is not loopback
// (or configured with corsOrigins / --cors-origin) are refused and get no CORS headers,
// including the simple requests a page can send without a preflight (form posts,
// `no-cors` fetches). Requests without Origin (SDKs, curl) are unaffected. The Host check
// (DNS rebinding) guards ingestion as well as the page. Real requests to a real collector.
import { type IncomingHttpHeaders, request } from 'node:http'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type Collector, startCollector } from '../../cli/collector.js'
import { parseOrigin } from '../../cli/origins.js'

interface Answer {
  readonly status: number
  readonly headers: IncomingHttpHeaders
}

/** A request with whatever Origin and Host a page, a rebinding attack or an SDK would send. */
/** Each of `origins` posting runs to `url` gets 403. */
async function expectRefused(url: string, origins: readonly string[]): Promise<void> {
  for (const origin of origins) {
    const res = await send(url, { headers: { origin, 'content-type': 'text/plain' }, body: runsBatch })
    expect(res.status, origin).toBe(403)
  }
}

function send(
  url: string,
  options: { method?: string; headers?: Record<string, string>; body?: string },
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: options.method ?? 'POST', headers: options.headers ?? {} }, (res) => {
      res.resume()
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers }))
    })
    req.on('error', reject)
    req.end(options.body)
  })
}

const RUN = '0190bbbb-0000-7000-8000-000000000001'
const forgedRun = {
  id: RUN,
  trace_id: RUN,
  dotted_order: `20240531T100100000000Z${RUN}`,
  name: 'forged',
  run_type: 'chain',
  start_time: 1_700_000_000_000,
}
const runsBatch = JSON.stringify({ post: [forgedRun] })
const BOUNDARY = '----formboundary'
// What a plain <form enctype="multipart/form-data"> on any web page can post without a preflight.
const formPost = `--${BOUNDARY}\r\nContent-Disposition: form-data; name="post.${RUN}"\r\n\r\n${JSON.stringify(forgedRun)}\r\n--${BOUNDARY}--\r\n`
const otlp = (traceId: string): string =>
  JSON.stringify({
    resourceSpans: [
      {
        scopeSpans: [
          {
            spans: [
              {
                traceId,
                spanId: '1'.repeat(16),
                name: 'x',
                startTimeUnixNano: '1700000000000000000',
                endTimeUnixNano: '1700000000100000000',
              },
            ],
          },
        ],
      },
    ],
  })

let c: Collector
let app: Collector
beforeAll(async () => {
  c = await startCollector({ port: 0, quietMs: 60_000 })
  app = await startCollector({ port: 0, quietMs: 60_000, corsOrigins: ['https://app.example.com'] })
})
afterAll(async () => {
  await c.close()
  await app.close()
})

describe('pages on other origins cannot send', () => {
  it.each([
    [
      'a form post (multipart/form-data) to /runs/multipart',
      '/runs/multipart',
      `multipart/form-data; boundary=${BOUNDARY}`,
      formPost,
    ],
    ['a no-cors text/plain fetch to /runs/batch', '/runs/batch', 'text/plain', runsBatch],
    ['a no-cors fetch to /api/v1/runs/batch', '/api/v1/runs/batch', 'text/plain', runsBatch],
    ['a JSON OTLP post to /v1/traces', '/v1/traces', 'application/json', otlp('a'.repeat(32))],
  ])('refuses %s from http://evil.example with 403 and no CORS headers', async (_, path, type, body) => {
    const res = await send(`${c.url}${path}`, {
      headers: { origin: 'http://evil.example', 'content-type': type },
      body,
    })
    expect(res.status).toBe(403)
    expect(res.headers['access-control-allow-origin']).toBeUndefined()
    expect(c.traces()).toEqual([])
  })

  it('refuses a preflight from another origin, and Origin: null (sandboxed frames, file: pages)', async () => {
    const pre = await send(`${c.url}/v1/traces`, {
      method: 'OPTIONS',
      headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' },
    })
    expect(pre.status).toBe(403)
    expect(pre.headers['access-control-allow-origin']).toBeUndefined()
    const nul = await send(`${c.url}/runs/batch`, {
      headers: { origin: 'null', 'content-type': 'text/plain' },
      body: runsBatch,
    })
    expect(nul.status).toBe(403)
    // Lookalikes of loopback are not loopback.
    await expectRefused(`${c.url}/runs/batch`, [
      'http://localhost.evil.example',
      'http://127.0.0.1.nip.io',
      'http://evil.example:4318',
    ])
    expect(c.traces()).toEqual([])
  })
})

describe("the developer's pages can send", () => {
  it.each(['http://localhost:5173', 'http://127.0.0.1:3000', 'http://[::1]:8080', 'https://localhost'])(
    'answers the preflight and the POST of %s with CORS headers naming it',
    async (origin) => {
      const pre = await send(`${c.url}/v1/traces`, {
        method: 'OPTIONS',
        headers: {
          origin,
          'access-control-request-method': 'POST',
          'access-control-request-headers': 'content-type',
        },
      })
      expect(pre.status).toBe(204)
      expect(pre.headers['access-control-allow-origin']).toBe(origin)
      expect(pre.headers.vary).toBe('Origin')
      expect(pre.headers['access-control-allow-methods']).toContain('POST')
      const traceId = Buffer.from(origin).toString('hex').padEnd(32, '0').slice(0, 32)
      const res = await send(`${c.url}/v1/traces`, {
        headers: { origin, 'content-type': 'application/json' },
        body: otlp(traceId),
      })
      expect(res.status).toBe(200)
      expect(res.headers['access-control-allow-origin']).toBe(origin)
      expect(c.trace(traceId)).toBeDefined()
    },
  )

  it('accepts an origin given with corsOrigins (--cors-origin), with Private Network Access, and nothing that merely resembles it', async () => {
    const pre = await send(`${app.url}/runs/batch`, {
      method: 'OPTIONS',
      headers: {
        origin: 'https://app.example.com',
        'access-control-request-method': 'POST',
        'access-control-request-private-network': 'true',
      },
    })
    expect(pre.status).toBe(204)
    expect(pre.headers['access-control-allow-origin']).toBe('https://app.example.com')
    expect(pre.headers['access-control-allow-private-network']).toBe('true')
    const ok = await send(`${app.url}/runs/batch`, {
      headers: { origin: 'https://app.example.com', 'content-type': 'application/json' },
      body: runsBatch,
    })
    expect(ok.status).toBe(202)
    expect(app.traces()).toHaveLength(1)
    await expectRefused(`${app.url}/runs/batch`, [
      'http://app.example.com',
      'https://app.example.com:8443',
      'https://app.example.com.evil.example',
    ])
  })

  it('leaves requests without Origin (SDKs, curl) alone: accepted, no CORS headers', async () => {
    const res = await send(`${c.url}/v1/traces`, {
      headers: { 'content-type': 'application/json' },
      body: otlp('b'.repeat(32)),
    })
    expect(res.status).toBe(200)
    expect(res.headers['access-control-allow-origin']).toBeUndefined()
  })

  it('refuses a startup origin that is not an http(s) origin', async () => {
    await expect(startCollector({ port: 0, corsOrigins: ['app.example.com'] })).rejects.toThrow(
      /not an http\(s\) origin/,
    )
    expect(parseOrigin('https://App.Example.com/')).toBe('https://app.example.com')
    expect(parseOrigin('https://app.example.com/path')).toBeUndefined()
  })
})

describe('the Host check guards ingestion too (DNS rebinding)', () => {
  it('refuses ingest requests whose Host is not a loopback name, and accepts the names OTLP clients send', async () => {
    const body = otlp('c'.repeat(32))
    const headers = { 'content-type': 'application/json' }
    for (const host of ['evil.example', `evil.example:${c.port}`, `127.0.0.1.nip.io:${c.port}`]) {
      expect((await send(`${c.url}/v1/traces`, { headers: { ...headers, host }, body })).status, host).toBe(
        403,
      )
      expect((await send(`${c.url}/info`, { method: 'GET', headers: { host } })).status, host).toBe(403)
    }
    expect(c.trace('c'.repeat(32))).toBeUndefined()
    for (const host of [`127.0.0.1:${c.port}`, `localhost:${c.port}`, `[::1]:${c.port}`, 'localhost'])
      expect((await send(`${c.url}/v1/traces`, { headers: { ...headers, host }, body })).status, host).toBe(
        200,
      )
  })
})
