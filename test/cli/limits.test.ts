// `tracehop dev` under a hostile page's POSTs: bodies that inflate past the limit, huge
// attributes, more traces than memory allows and more bodies at once than the collector
// decodes. Each attack against a real collector on 127.0.0.1, with small limits so the
// attacks stay small; the collector's own counters say what it did.
import { request } from 'node:http'
import { brotliCompressSync, constants, deflateSync, gzipSync } from 'node:zlib'
import { afterAll, describe, expect, it } from 'vitest'
import { type Collector, type CollectorOptions, startCollector } from '../../cli/collector.js'
import { TRUNCATED_ATTRIBUTE, truncationMark } from '../../cli/span-limits.js'
import { post } from './helpers.js'

const KiB = 1024
const MiB = 1024 * KiB
const open: Collector[] = []
afterAll(async () => {
  await Promise.all(open.map((c) => c.close()))
})

async function start(options: CollectorOptions): Promise<Collector> {
  const c = await startCollector({ port: 0, quietMs: 60_000, ...options })
  open.push(c)
  return c
}

/** One OTLP/JSON request: a span per trace id, each with `attributes`. */
function otlp(traceIds: string[], attributes: Record<string, string> = {}, name = 'work'): string {
  return JSON.stringify({
    resourceSpans: [
      {
        resource: { attributes: [{ key: 'service.name', value: { stringValue: 'svc' } }] },
        scopeSpans: [
          {
            spans: traceIds.map((traceId, i) => ({
              traceId,
              spanId: `${(i + 1).toString(16).padStart(16, '0')}`,
              name,
              startTimeUnixNano: '1700000000000000000',
              endTimeUnixNano: '1700000001000000000',
              attributes: Object.entries(attributes).map(([key, v]) => ({ key, value: { stringValue: v } })),
            })),
          },
        ],
      },
    ],
  })
}

const traceId = (n: number): string => n.toString(16).padStart(32, '0')
const GZIP_JSON = { 'content-type': 'application/json', 'content-encoding': 'gzip' }

async function until(what: () => boolean, label: string, ms = 10_000): Promise<void> {
  const end = Date.now() + ms
  while (!what()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${label}`)
    await new Promise((r) => setTimeout(r, 10))
  }
}

describe('decompression is bounded', () => {
  it('refuses a gzip, deflate or brotli bomb with 413 after inflating no more than the limit', async () => {
    const c = await start({ limits: { maxDecodedBytes: 1 * MiB } })
    // 32 MiB of zeros: about 32 KiB on the wire.
    const zeros = Buffer.alloc(32 * MiB)
    const bombs = {
      gzip: gzipSync(zeros),
      deflate: deflateSync(zeros),
      br: brotliCompressSync(zeros, { params: { [constants.BROTLI_PARAM_QUALITY]: 4 } }),
    }
    for (const [encoding, body] of Object.entries(bombs)) {
      expect(body.length).toBeLessThan(64 * KiB)
      const before = c.stats().decodedBytes
      const res = await post(`${c.url}/v1/traces`, body, {
        'content-type': 'application/json',
        'content-encoding': encoding,
      })
      expect(res.status, encoding).toBe(413)
      expect(JSON.parse(res.body.toString()).detail).toBe('decompressed body exceeds the 1 MiB limit')
      // Inflating stopped at the limit (give or take the decoder's last chunks), not at 32 MiB.
      const inflated = c.stats().decodedBytes - before
      expect(inflated, encoding).toBeGreaterThan(1 * MiB)
      expect(inflated, encoding).toBeLessThan(2 * MiB)
    }
    expect(c.stats().tooLarge).toBe(3)
    // And it keeps working.
    const ok = await post(`${c.url}/v1/traces`, gzipSync(otlp([traceId(1)])), GZIP_JSON)
    expect(ok.status).toBe(200)
    expect(c.traces()).toHaveLength(1)
  })

  it('refuses a compressed body whose attribute alone is over the decoded limit (the 90 MB attack, scaled)', async () => {
    const c = await start({ limits: { maxDecodedBytes: 256 * KiB } })
    const res = await post(
      `${c.url}/v1/traces`,
      gzipSync(otlp([traceId(1)], { big: 'a'.repeat(MiB) })),
      GZIP_JSON,
    )
    expect(res.status).toBe(413)
    expect(c.traces()).toEqual([])
  })

  it('refuses a wire body over maxBodyBytes with 413 while it streams in', async () => {
    const c = await start({ limits: { maxBodyBytes: 64 * KiB } })
    const res = await post(`${c.url}/v1/traces`, otlp([traceId(1)], { big: 'a'.repeat(100 * KiB) }), {
      'content-type': 'application/json',
    })
    expect(res.status).toBe(413)
    expect(c.stats().tooLarge).toBe(1)
  })

  it('holds an uncompressed body to maxDecodedBytes too (it is its own decoded form)', async () => {
    const c = await start({ limits: { maxDecodedBytes: 64 * KiB } })
    const res = await post(`${c.url}/v1/traces`, otlp([traceId(1)], { big: 'a'.repeat(100 * KiB) }), {
      'content-type': 'application/json',
    })
    expect(res.status).toBe(413)
    expect(c.traces()).toEqual([])
  })
})

describe('stored values are bounded', () => {
  it('cuts long attribute values, names and error messages, marks them, and lists what was cut', async () => {
    const c = await start({ limits: { maxAttributeLength: 1000 } })
    const big = 'p'.repeat(50_000)
    const res = await post(
      `${c.url}/v1/traces`,
      gzipSync(otlp([traceId(7)], { 'gen_ai.prompt': big, small: 'ok' }, 'n'.repeat(5000))),
      GZIP_JSON,
    )
    expect(res.status).toBe(200)
    const span = c.trace(traceId(7))!.spans[0]!
    expect(span.attributes['gen_ai.prompt']).toBe(`${'p'.repeat(1000)}${truncationMark(50_000)}`)
    expect(span.attributes['small']).toBe('ok')
    expect(span.name).toBe(`${'n'.repeat(1000)}${truncationMark(5000)}`)
    expect(span.attributes[TRUNCATED_ATTRIBUTE]).toEqual(['attributes.gen_ai.prompt', 'name'])
    expect(c.stats().truncatedValues).toBe(2)
  })
})

describe('the store is bounded', () => {
  it('evicts the oldest traces beyond maxStoredBytes, counts them, logs it and reports it to the page', async () => {
    const lines: string[] = []
    const c = await start({ limits: { maxStoredBytes: 300 * KiB }, log: (l) => lines.push(l) })
    // Ten traces of about 100 KiB each (50 K characters at two bytes).
    for (let i = 1; i <= 10; i++) {
      const res = await post(`${c.url}/v1/traces`, otlp([traceId(i)], { blob: 'x'.repeat(50_000) }), {
        'content-type': 'application/json',
      })
      expect(res.status).toBe(200)
    }
    const kept = c.traces().map((t) => t.traceId)
    expect(kept.length).toBeGreaterThanOrEqual(2)
    expect(kept.length).toBeLessThan(4)
    expect(kept[0]).toBe(traceId(10)) // the newest stay
    const stats = c.stats()
    expect(stats.storedBytes).toBeLessThanOrEqual(300 * KiB)
    expect(stats.evictedTraces).toBe(10 - kept.length)
    expect(stats.evictedSpans).toBe(10 - kept.length)
    expect(
      lines.some((l) =>
        /evicted the 1 oldest trace\(s\) \(1 spans\) to stay within 1000 traces and 300 KiB/.test(l),
      ),
    ).toBe(true)
    const api = (await (await fetch(`${c.url}/api/traces`)).json()) as {
      evicted: { traces: number; spans: number }
      limits: { maxTraces: number; maxStoredBytes: number }
    }
    expect(api.evicted).toEqual({ traces: 10 - kept.length, spans: 10 - kept.length })
    expect(api.limits).toEqual({ maxTraces: 1000, maxStoredBytes: 300 * KiB })
  })
})

/** A POST whose body is sent in two halves: the second only when `finish()` is called. */
function heldPost(
  url: string,
  body: Buffer,
): { finish(): void; abort(): void; response: Promise<{ status: number; retryAfter?: string }> } {
  const req = request(`${url}/v1/traces`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'content-encoding': 'gzip',
      'content-length': body.length,
    },
  })
  const response = new Promise<{ status: number; retryAfter?: string }>((resolve, reject) => {
    req.on('response', (res) => {
      res.resume()
      const retryAfter = res.headers['retry-after']
      resolve({ status: res.statusCode ?? 0, ...(retryAfter !== undefined ? { retryAfter } : {}) })
    })
    req.on('error', reject)
  })
  response.catch(() => {}) // an aborted one is not awaited
  const half = Math.floor(body.length / 2)
  req.write(body.subarray(0, half))
  return {
    finish: () => req.end(body.subarray(half)),
    abort: () => req.destroy(),
    response,
  }
}

describe('concurrent bodies are bounded', () => {
  it('decodes at most maxConcurrentBodies at once, queues maxQueuedBodies, answers the rest 503 + Retry-After', async () => {
    const c = await start({ limits: { maxConcurrentBodies: 2, maxQueuedBodies: 3 } })
    const bodies = Array.from({ length: 8 }, (_, i) =>
      gzipSync(otlp([traceId(100 + i)], { pad: `${i}`.repeat(64 * KiB) })),
    )
    const held = bodies.map((b) => heldPost(c.url, b))
    // The answers as they arrive (the collector counts a rejection before the client reads it).
    const answered: { status: number; retryAfter?: string }[] = []
    for (const h of held) h.response.then((r) => answered.push(r)).catch(() => {})
    await until(() => c.stats().busyRejections === 3 && answered.length >= 3, 'three 503s')
    const s = c.stats()
    expect([s.activeBodies, s.queuedBodies]).toEqual([2, 3])
    // The five held bodies stay unanswered while their senders hold them.
    await new Promise((r) => setTimeout(r, 200))
    const refused = [...answered]
    expect(refused).toEqual([
      { status: 503, retryAfter: '1' },
      { status: 503, retryAfter: '1' },
      { status: 503, retryAfter: '1' },
    ])
    for (const h of held) h.finish()
    const answers = await Promise.all(held.map((h) => h.response.catch(() => ({ status: 0 }))))
    expect(answers.filter((a) => a.status === 200)).toHaveLength(5)
    expect(c.traces()).toHaveLength(5)
    const after = c.stats()
    expect(after.peakActiveBodies).toBe(2)
    expect(after.peakQueuedBodies).toBe(3)
    expect([after.activeBodies, after.queuedBodies]).toEqual([0, 0])
  })

  it('gives the turn of a client that goes away, mid-body or while waiting, to the next', async () => {
    const c = await start({ limits: { maxConcurrentBodies: 1, maxQueuedBodies: 2 } })
    const body = (i: number): Buffer => gzipSync(otlp([traceId(200 + i)], { pad: 'y'.repeat(64 * KiB) }))
    const first = heldPost(c.url, body(1))
    await until(() => c.stats().activeBodies === 1, 'the first body')
    const second = heldPost(c.url, body(2))
    const third = heldPost(c.url, body(3))
    await until(() => c.stats().queuedBodies === 2, 'two waiting')
    second.abort() // leaves the queue
    await until(() => c.stats().queuedBodies === 1, 'one waiting')
    first.abort() // leaves mid-body: its turn passes to the third
    await until(
      () => c.stats().queuedBodies === 0 && c.stats().activeBodies === 1,
      'the third takes the turn',
    )
    third.finish()
    expect((await third.response).status).toBe(200)
    await until(() => c.stats().activeBodies === 0, 'the turn returned')
    expect(c.traces().map((t) => t.traceId)).toEqual([traceId(203)])
  })
})
