// tracehop/lambda's export transport (node:http) against real receivers on 127.0.0.1: what
// arrives (method, path, headers, bytes), what the exporters read back (status, headers,
// body, decompressed), timeouts and aborts, redirects, and which `fetch` wins.
import { execFile } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { gunzipSync, gzipSync } from 'node:zlib'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { withTrace } from '../../adapters/lambda/index.js'
import { nodeHttpFetch } from '../../adapters/lambda/node-fetch.js'
import { otlp } from '../../src/index.js'
import { type Receiver, refusedUrl, startReceiver } from '../support/http-receiver.js'
import { bundleForNode } from '../support/node-bundle.js'
import { lambdaContext } from './helpers.js'

let rx: Receiver
beforeAll(async () => {
  rx = await startReceiver()
})
afterAll(() => rx.close())
afterEach(() => {
  rx.requests.length = 0
  rx.handle((_, res) => res.writeHead(200, { 'content-type': 'application/json' }).end('{}'))
})

describe('nodeHttpFetch', () => {
  it('sends the method, path, headers and bytes, and reads status, headers and body', async () => {
    rx.handle((_, res) =>
      res.writeHead(201, 'Made', { 'x-out': 'o', 'content-type': 'text/plain' }).end('hello'),
    )
    const body = Uint8Array.of(0, 1, 2, 255)
    const res = await nodeHttpFetch(`${rx.url}/v1/traces?q=1`, {
      method: 'post',
      headers: { 'Content-Type': 'application/x-protobuf', authorization: 'Bearer t' },
      body,
    })
    expect([res.status, res.ok, res.statusText]).toEqual([201, true, 'Made'])
    expect(res.headers.get('X-Out')).toBe('o')
    expect(res.headers.get('absent')).toBeNull()
    expect(new TextDecoder().decode(await res.arrayBuffer())).toBe('hello')
    const [req] = rx.requests
    expect(req?.method).toBe('POST')
    expect(req?.path).toBe('/v1/traces?q=1')
    expect(req?.headers['content-type']).toBe('application/x-protobuf')
    expect(req?.headers.authorization).toBe('Bearer t')
    expect(req?.headers['content-length']).toBe('4')
    expect([...req!.body]).toEqual([0, 1, 2, 255])
  })

  it('sends a string body as UTF-8 with its byte length, and Headers or pairs as headers', async () => {
    await nodeHttpFetch(rx.url, { method: 'POST', headers: new Headers({ 'x-a': '1' }), body: 'é{}' })
    await nodeHttpFetch(rx.url, { method: 'POST', headers: [['x-b', '2']], body: '' })
    expect(rx.requests[0]?.body.toString()).toBe('é{}')
    expect(rx.requests[0]?.headers['content-length']).toBe('4')
    expect(rx.requests[0]?.headers['x-a']).toBe('1')
    expect(rx.requests[1]?.headers['x-b']).toBe('2')
  })

  it('reports 4xx/5xx as not ok with their body, and decodes gzip responses as fetch does', async () => {
    rx.handle((_, res) => res.writeHead(503, { 'retry-after': '1' }).end('busy'))
    const busy = await nodeHttpFetch(rx.url, { method: 'POST', body: 'x' })
    expect([busy.status, busy.ok, busy.headers.get('retry-after')]).toEqual([503, false, '1'])
    expect(await busy.text()).toBe('busy')
    rx.handle((_, res) =>
      res.writeHead(200, { 'content-encoding': 'gzip' }).end(gzipSync('{"partialSuccess":{}}')),
    )
    const zipped = await nodeHttpFetch(rx.url, { method: 'POST', body: 'x' })
    expect(await zipped.text()).toBe('{"partialSuccess":{}}')
  })

  it('rejects when the signal aborts while the receiver hangs, or was aborted before', async () => {
    rx.handle(() => undefined)
    const controller = new AbortController()
    const pending = nodeHttpFetch(rx.url, { method: 'POST', body: 'x', signal: controller.signal })
    setTimeout(() => controller.abort(), 50)
    await expect(pending).rejects.toMatchObject({ name: 'AbortError' })
    await expect(
      nodeHttpFetch(rx.url, { method: 'POST', body: 'x', signal: AbortSignal.abort() }),
    ).rejects.toMatchObject({ name: 'AbortError' })
  })

  it('rejects when nothing listens (a network error, as fetch)', async () => {
    await expect(nodeHttpFetch(await refusedUrl(), { method: 'POST', body: 'x' })).rejects.toThrow()
  })

  it('follows a redirect through the platform fetch, as fetch would', async () => {
    rx.handle((req, res) =>
      req.path === '/old'
        ? res.writeHead(307, { location: '/new' }).end()
        : res.writeHead(200).end(`at ${req.path}: ${req.body.toString()}`),
    )
    const res = await nodeHttpFetch(`${rx.url}/old`, { method: 'POST', body: 'payload' })
    expect(await res.text()).toBe('at /new: payload')
  })
})

describe('exporters on Lambda', () => {
  const invoke = async (exporter: ReturnType<typeof otlp>) => {
    const handler = withTrace(async () => ({ statusCode: 200 }), {
      service: 'fn',
      exporters: [exporter],
      log: () => {},
    })
    await handler({}, lambdaContext())
  }

  it('a gzip OTLP export arrives intact with its content type and encoding', async () => {
    await invoke(otlp({ url: `${rx.url}/v1/traces`, compression: 'gzip', headers: { 'x-team': 'a' } }))
    const [req] = rx.requests
    expect(req?.headers['content-type']).toBe('application/x-protobuf')
    expect(req?.headers['content-encoding']).toBe('gzip')
    expect(req?.headers['x-team']).toBe('a')
    expect(gunzipSync(req!.body).length).toBeGreaterThan(0)
  })

  it("an exporter's own fetch wins over the transport", async () => {
    const seen: string[] = []
    await invoke(
      otlp({
        url: `${rx.url}/v1/traces`,
        fetch: (input, init) => {
          seen.push(input)
          return fetch(input, init)
        },
      }),
    )
    expect(seen).toEqual([`${rx.url}/v1/traces`])
    expect(rx.requests).toHaveLength(1)
  })

  it('a fetch the user put on globalThis after start-up wins over the transport', async () => {
    const platform = globalThis.fetch
    const seen: string[] = []
    globalThis.fetch = (input, init) => {
      seen.push(String(input))
      return platform(input, init)
    }
    try {
      await invoke(otlp({ url: `${rx.url}/v1/traces` }))
    } finally {
      globalThis.fetch = platform
    }
    expect(seen).toEqual([`${rx.url}/v1/traces`])
  })
})

describe('a cold start on Lambda', () => {
  let bundle: { dir: string; remove(): void }
  let dir: string
  beforeAll(async () => {
    bundle = await bundleForNode('tracehop-node-fetch-')
    dir = bundle.dir
  })
  afterAll(() => bundle.remove())

  it('exports its first invocation without loading Node fetch (undici), and nothing is lost', async () => {
    const file = join(dir, 'cold.mjs')
    writeFileSync(
      file,
      `const { otlp } = await import('./index.js')
const { withTrace } = await import('./lambda.js')
const handler = withTrace(async () => ({ statusCode: 200 }), { service: 'fn', log: () => {},
  exporters: [otlp({ url: ${JSON.stringify(`${rx.url}/v1/traces`)} })] })
await handler({ version: '2.0', rawPath: '/r', headers: { traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' },
  requestContext: { http: { method: 'POST', path: '/r' }, domainName: 'a.example.com' } },
  { awsRequestId: 'r', getRemainingTimeInMillis: () => 5000 })
process.stdout.write(String(process.moduleLoadList.some((m) => m.includes('undici'))))`,
    )
    // Run asynchronously: the receiver lives in this process and must answer.
    const { stdout } = await promisify(execFile)(process.execPath, [file], { timeout: 20_000 })
    expect(stdout).toBe('false')
    expect(rx.requests).toHaveLength(1)
    expect(rx.requests[0]?.headers['content-type']).toBe('application/x-protobuf')
  })
})
