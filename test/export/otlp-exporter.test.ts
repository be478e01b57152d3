// The OTLP exporter against a real node:http receiver on 127.0.0.1: what arrives is decoded
// with the official OTLP proto definitions (otlp-transformer's generated code).
import { createRequire } from 'node:module'
import { gunzipSync } from 'node:zlib'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { TracehopError } from '../../src/errors.js'
import { otlp, rejectedSpans } from '../../src/export/otlp-exporter.js'
import { type Receiver, refusedUrl, startReceiver } from '../support/http-receiver.js'
import { batchOf, childSpan, realisticTrace, rootSpan } from './helpers.js'

const root = createRequire(import.meta.url)('@opentelemetry/otlp-transformer/build/src/generated/root.js')
const v1 = root.opentelemetry.proto.collector.trace.v1

function spansIn(body: Buffer, contentType: string | undefined): number {
  const req = contentType?.includes('json')
    ? JSON.parse(body.toString())
    : v1.ExportTraceServiceRequest.decode(body)
  let n = 0
  for (const rs of req.resourceSpans ?? []) for (const ss of rs.scopeSpans ?? []) n += (ss.spans ?? []).length
  return n
}

let rx: Receiver
beforeAll(async () => {
  rx = await startReceiver()
})
afterAll(() => rx.close())

function reset(handler?: Parameters<Receiver['handle']>[0]): void {
  rx.requests.length = 0
  rx.handle(handler ?? ((_, res) => res.writeHead(200).end()))
}

function trace(n = 3) {
  return batchOf(realisticTrace(n).map((b) => b.record))
}

describe('otlp', () => {
  it('POSTs protobuf by default with the content type and the configured headers', async () => {
    reset()
    const exporter = otlp({
      url: `${rx.url}/v1/traces`,
      headers: { authorization: 'Bearer t', 'x-team': 'a' },
    })
    const r = await exporter.export(trace(5), Date.now() + 5000)
    expect(r).toEqual({ exported: 5, dropped: 0, attempts: 1 })
    const [req] = rx.requests
    expect(req?.method).toBe('POST')
    expect(req?.path).toBe('/v1/traces')
    expect(req?.headers['content-type']).toBe('application/x-protobuf')
    expect(req?.headers.authorization).toBe('Bearer t')
    expect(req?.headers['x-team']).toBe('a')
    expect(spansIn(req!.body, req!.headers['content-type'])).toBe(5)
  })

  it('sends JSON when asked, and a user header cannot override the content type', async () => {
    reset()
    const exporter = otlp({
      url: `${rx.url}/v1/traces`,
      encoding: 'json',
      headers: { 'Content-Type': 'text/plain' },
    })
    await exporter.export(trace(2), Date.now() + 5000)
    const [req] = rx.requests
    expect(req?.headers['content-type']).toBe('application/json')
    expect(spansIn(req!.body, 'json')).toBe(2)
  })

  it('sends header names case-insensitively merged and values trimmed, as Headers would', async () => {
    reset()
    await otlp({
      url: `${rx.url}/v1/traces`,
      headers: { 'X-Team': ' a\t', 'x-team': 'b', 'CONTENT-ENCODING': 'br' },
    }).export(trace(1), Date.now() + 5000)
    const [req] = rx.requests
    expect(req?.headers['x-team']).toBe('a, b')
    expect(req?.headers['content-encoding']).toBeUndefined()
  })

  it('rejects an invalid header name or value at creation with a TracehopError', () => {
    const url = `${rx.url}/v1/traces`
    expect(() => otlp({ url, headers: { 'bad name': 'x' } })).toThrow(TracehopError)
    expect(() => otlp({ url, headers: { ok: 'a\r\nx-injected: 1' } })).toThrow(TracehopError)
    expect(() => otlp({ url, headers: { ok: 'caf\u20ac' } })).toThrow(TracehopError)
  })

  it('retries a 503 and then succeeds, counting the attempts', async () => {
    let n = 0
    reset((_, res) => res.writeHead(n++ === 0 ? 503 : 200).end())
    const r = await otlp({ url: rx.url }).export(trace(), Date.now() + 5000)
    expect(r).toEqual({ exported: 3, dropped: 0, attempts: 2 })
    expect(rx.requests).toHaveLength(2)
  })

  it('honours Retry-After on a 429', async () => {
    let n = 0
    reset((_, res) =>
      n++ === 0 ? res.writeHead(429, { 'retry-after': '1' }).end() : res.writeHead(200).end(),
    )
    const r = await otlp({ url: rx.url }).export(trace(), Date.now() + 5000)
    expect(r.exported).toBe(3)
    expect(rx.requests[1]!.at - rx.requests[0]!.at).toBeGreaterThanOrEqual(950)
  })

  it('does not retry a 400: the spans are dropped as http-4xx', async () => {
    reset((_, res) => res.writeHead(400).end('bad payload'))
    const r = await otlp({ url: rx.url }).export(trace(), Date.now() + 5000)
    expect(r).toMatchObject({ exported: 0, dropped: 3, reason: 'http-4xx', attempts: 1 })
    expect(r.detail).toContain('bad payload')
  })

  it('does not retry a 500: the OTLP spec retries only 429, 502, 503 and 504', async () => {
    reset((_, res) => res.writeHead(500).end())
    const r = await otlp({ url: rx.url }).export(trace(), Date.now() + 5000)
    expect(r).toMatchObject({ dropped: 3, reason: 'http-5xx', attempts: 1 })
  })

  it('resolves by the deadline with reason timeout when the receiver is slow', async () => {
    reset(() => {}) // accepts the request, never answers
    const t0 = Date.now()
    const r = await otlp({ url: rx.url }).export(trace(), t0 + 500)
    expect(Date.now() - t0).toBeLessThan(800)
    expect(r).toMatchObject({ exported: 0, dropped: 3, reason: 'timeout' })
  })

  it('drops with reason network when the connection is refused, and never throws', async () => {
    const url = await refusedUrl()
    const r = await otlp({ url }).export(trace(), Date.now() + 500)
    expect(r).toMatchObject({ exported: 0, dropped: 3, reason: 'network' })
  })

  it('counts the spans a partial-success response rejected (protobuf response)', async () => {
    // ExportTraceServiceResponse { partial_success { rejected_spans: 2, error_message: "x" } }
    const body = v1.ExportTraceServiceResponse.encode({
      partialSuccess: { rejectedSpans: 2, errorMessage: 'x' },
    }).finish()
    reset((_, res) => res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end(Buffer.from(body)))
    const r = await otlp({ url: rx.url }).export(trace(5), Date.now() + 5000)
    expect(r).toMatchObject({ exported: 3, dropped: 2, reason: 'invalid' })
  })

  it('counts the spans a partial-success response rejected (JSON response)', async () => {
    reset((_, res) =>
      res
        .writeHead(200, { 'content-type': 'application/json' })
        .end('{"partialSuccess":{"rejectedSpans":"1"}}'),
    )
    const r = await otlp({ url: rx.url, encoding: 'json' }).export(trace(5), Date.now() + 5000)
    expect(r).toMatchObject({ exported: 4, dropped: 1 })
  })

  it('reads no rejection from an empty or unrelated response body', () => {
    expect(rejectedSpans(new Uint8Array(0), 'application/x-protobuf')).toBe(0)
    expect(rejectedSpans(new Uint8Array([0x12, 0x01, 0x00]), 'application/x-protobuf')).toBe(0)
    expect(rejectedSpans(new TextEncoder().encode('{}'), 'application/json')).toBe(0)
    expect(rejectedSpans(new TextEncoder().encode('not json'), 'application/json')).toBe(0)
  })

  it('sends nothing for an empty batch', async () => {
    reset()
    const r = await otlp({ url: rx.url }).export(batchOf([]), Date.now() + 1000)
    expect(r).toEqual({ exported: 0, dropped: 0, attempts: 0 })
    expect(rx.requests).toHaveLength(0)
  })

  it('rejects a relative URL, an unknown encoding or compression at configuration time', () => {
    expect(() => otlp({ url: '/v1/traces' })).toThrow(TracehopError)
    expect(() => otlp({ url: 'http://c/v1/traces', encoding: 'xml' as never })).toThrow(/encoding/)
    expect(() => otlp({ url: 'http://c/v1/traces', compression: 'br' as never })).toThrow(/compression/)
  })
})

describe('gzip compression', () => {
  for (const encoding of ['protobuf', 'json'] as const) {
    it(`gzips ${encoding} bodies with Content-Encoding: gzip; gunzipped, the reference decoder reads every span`, async () => {
      reset()
      const batch = trace(40)
      await otlp({ url: rx.url, encoding }).export(batch, Date.now() + 5000)
      await otlp({ url: rx.url, encoding, compression: 'gzip' }).export(batch, Date.now() + 5000)
      const [plain, zipped] = rx.requests
      expect(plain?.headers['content-encoding']).toBeUndefined()
      expect(zipped?.headers['content-encoding']).toBe('gzip')
      const body = gunzipSync(zipped!.body)
      expect(spansIn(body, zipped!.headers['content-type'])).toBe(40)
      // The exact bytes the uncompressed exporter sent, a fraction of the size on the wire.
      expect(body.equals(plain!.body)).toBe(true)
      expect(zipped!.body.length).toBeLessThan(plain!.body.length / 2)
    })
  }

  it('never claims an encoding it did not apply: a user Content-Encoding header is replaced', async () => {
    reset()
    const headers = { 'content-encoding': 'br' }
    await otlp({ url: rx.url, headers }).export(trace(2), Date.now() + 5000)
    await otlp({ url: rx.url, headers, compression: 'gzip' }).export(trace(2), Date.now() + 5000)
    const [plain, zipped] = rx.requests
    expect(plain?.headers['content-encoding']).toBeUndefined()
    expect(spansIn(plain!.body, plain!.headers['content-type'])).toBe(2)
    expect(zipped?.headers['content-encoding']).toBe('gzip')
    expect(spansIn(gunzipSync(zipped!.body), zipped!.headers['content-type'])).toBe(2)
  })

  it('sends uncompressed bodies where the runtime has no CompressionStream', async () => {
    reset()
    const original = globalThis.CompressionStream
    Reflect.deleteProperty(globalThis, 'CompressionStream')
    try {
      const r = await otlp({ url: rx.url, compression: 'gzip' }).export(trace(3), Date.now() + 5000)
      expect(r).toEqual({ exported: 3, dropped: 0, attempts: 1 })
    } finally {
      globalThis.CompressionStream = original
    }
    const [req] = rx.requests
    expect(req?.headers['content-encoding']).toBeUndefined()
    expect(spansIn(req!.body, req!.headers['content-type'])).toBe(3)
  })
})

describe('1,000 scopes through one OTLP exporter', () => {
  function scopes(): ReturnType<typeof batchOf>[] {
    const out: ReturnType<typeof batchOf>[] = []
    for (let i = 0; i < 1000; i++) {
      const r = rootSpan({ name: `req ${i}` })
      const spans = [r, childSpan(r, { name: 'a' }), childSpan(r, { name: 'b' })]
      if (i % 2 === 0) spans.push(childSpan(spans[1]!, { name: 'c' }))
      out.push(batchOf(spans.map((s) => s.record)))
    }
    return out
  }

  it('delivers every span: none lost on arrival', async () => {
    let arrived = 0
    reset((req, res) => {
      arrived += spansIn(req.body, req.headers['content-type'])
      res.writeHead(200).end()
    })
    const exporter = otlp({ url: `${rx.url}/v1/traces` })
    const batches = scopes()
    const sent = batches.reduce((n, b) => n + b.spans.length, 0)
    let exported = 0
    // Waves of 100 concurrent flushes, as overlapping requests in one isolate would do.
    for (let i = 0; i < batches.length; i += 100) {
      const results = await Promise.all(
        batches.slice(i, i + 100).map((b) => exporter.export(b, Date.now() + 10_000)),
      )
      for (const r of results) exported += r.exported
    }
    expect(rx.requests).toHaveLength(1000)
    expect(arrived).toBe(sent)
    expect(exported).toBe(sent)
  })

  it('counts every span as dropped when the receiver is down, and nothing throws', async () => {
    const exporter = otlp({ url: `${await refusedUrl()}/v1/traces` })
    const batches = scopes()
    const sent = batches.reduce((n, b) => n + b.spans.length, 0)
    const deadline = Date.now() + 1500
    const results = await Promise.all(batches.map((b) => exporter.export(b, deadline)))
    expect(Date.now()).toBeLessThan(deadline + 500)
    expect(results.reduce((n, r) => n + r.dropped, 0)).toBe(sent)
    expect(results.reduce((n, r) => n + r.exported, 0)).toBe(0)
    expect(new Set(results.map((r) => r.reason))).toEqual(new Set(['network']))
  })
})
