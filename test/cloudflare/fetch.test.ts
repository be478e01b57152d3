// instrument() fetch handlers in the real Workers runtime (workerd via miniflare), without
// nodejs_compat, exporting OTLP/JSON over real HTTP to a receiver on 127.0.0.1.
import fc from 'fast-check'
import { Miniflare } from 'miniflare'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { KIND, type OtlpReceiver, type ReceivedSpan, startOtlpReceiver } from '../support/otlp-receiver.js'
import { bundleWorker, nodeImports } from '../support/workerd-bundle.js'
import { startEchoServer } from './helpers/echo-server.js'

interface Stats {
  invalid: { traceparent?: number; tracestate?: number; baggage?: number }
}

const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736'
const PARENT_ID = '00f067aa0ba902b7'

let mf: Miniflare
let url: URL
let receiver: OtlpReceiver
let upstream: Awaited<ReturnType<typeof startEchoServer>>
let other: Awaited<ReturnType<typeof startEchoServer>>
let script: string

async function get(path: string, init?: RequestInit): Promise<Response> {
  return fetch(new URL(path, url), init)
}

async function getFrom(worker: string, path: string, init?: RequestInit): Promise<Response> {
  const w = await mf.getWorker(worker)
  return (await w.fetch(`http://worker.test${path}`, init as never)) as unknown as Response
}

function trace(id: string): ReceivedSpan[] {
  return receiver.spans.filter((s) => s.traceId === id)
}

async function waitTrace(id: string, count: number): Promise<ReceivedSpan[]> {
  await receiver.waitFor(() => trace(id).length >= count)
  return trace(id)
}

function root(spans: readonly ReceivedSpan[]): ReceivedSpan {
  const r = spans.find((s) => s.kind === KIND.SERVER)
  if (r === undefined) throw new Error('no server span')
  return r
}

beforeAll(async () => {
  receiver = await startOtlpReceiver()
  upstream = await startEchoServer()
  other = await startEchoServer()
  script = await bundleWorker('test/cloudflare/workers/basic.ts')
  const bindings = { OTLP_URL: receiver.url, UPSTREAM: upstream.origin, OTHER: other.origin }
  mf = new Miniflare({
    workers: [
      // No compatibilityFlags: nodejs_compat is off.
      { name: 'basic', modules: true, script, compatibilityDate: '2025-01-01', bindings },
      {
        name: 'sampled0',
        modules: true,
        script,
        compatibilityDate: '2025-01-01',
        bindings: { ...bindings, SERVICE: 'sampled0', RATIO: '0' },
      },
      {
        name: 'gzipped',
        modules: true,
        script,
        compatibilityDate: '2025-01-01',
        bindings: { ...bindings, SERVICE: 'gzipped', GZIP: '1' },
      },
    ],
  })
  url = await mf.ready
})

afterAll(async () => {
  await mf?.dispose()
  await receiver?.close()
  await upstream?.close()
  await other?.close()
})

describe('instrument(): fetch in workerd', () => {
  it('bundles without node: imports and runs with nodejs_compat off', async () => {
    expect(nodeImports(script)).toEqual([])
    const res = await get('/')
    expect(res.status).toBe(200)
    expect(await res.text()).toBe('ok')
  })

  it('exports a server span named GET /path with HTTP semantic conventions', async () => {
    const res = await get('/child?n=7', { headers: { 'user-agent': 'tracehop-test/1' } })
    expect(res.status).toBe(200)
    const id = res.headers.get('x-trace-id')!
    const spans = await waitTrace(id, 2)
    const server = root(spans)
    expect(server.service).toBe('basic')
    expect(server.name).toBe('GET /child')
    expect(server.parentSpanId).toBeUndefined()
    expect(server.attributes).toMatchObject({
      'http.request.method': 'GET',
      'url.path': '/child',
      'url.scheme': 'http',
      'http.response.status_code': 200,
      'user_agent.original': 'tracehop-test/1',
    })
    expect(String(server.attributes['url.full'])).toMatch(/\/child\?n=7$/)
    expect(typeof server.attributes['server.address']).toBe('string')
    const work = spans.find((s) => s.name === 'work')!
    expect(work.parentSpanId).toBe(server.spanId)
    expect(work.attributes['test.n']).toBe(7)
  })

  it('traceOf(ctx) and traceOf(request) give the same server span', async () => {
    const res = await get('/')
    expect(res.headers.get('x-same-span')).toBe('true')
  })

  it('continues an incoming traceparent', async () => {
    const res = await get('/', { headers: { traceparent: `00-${TRACE_ID}-${PARENT_ID}-01` } })
    expect(res.headers.get('x-trace-id')).toBe(TRACE_ID)
    const server = root(await waitTrace(TRACE_ID, 1))
    expect(server.parentSpanId).toBe(PARENT_ID)
  })

  it('500 sequential requests: every span arrives, and each response arrives before its export finished', async () => {
    // The receiver answers each POST 1 s after it arrives: far longer than a response takes,
    // even on a loaded 2-core CI machine, so "response before export finished" is not a race.
    receiver.delayMs = 1000
    try {
      const respondedAt = new Map<string, number>()
      const latencies: number[] = []
      for (let i = 0; i < 500; i++) {
        const t0 = Date.now()
        const res = await get(`/child?n=${i}`)
        await res.arrayBuffer()
        const t1 = Date.now()
        expect(res.status).toBe(200)
        respondedAt.set(res.headers.get('x-trace-id')!, t1)
        latencies.push(t1 - t0)
      }
      expect(respondedAt.size).toBe(500)
      const ours = (spans: readonly ReceivedSpan[]): ReceivedSpan[] =>
        spans.filter((s) => respondedAt.has(s.traceId))
      await receiver.waitFor((spans) => ours(spans).length >= 1000, 20_000)
      // 0 lost: 2 spans per request (server + child), each exactly once.
      const received = ours(receiver.spans)
      expect(received.length).toBe(1000)
      expect(new Set(received.map((s) => s.spanId)).size).toBe(1000)
      // The export of each request finished (its POST was answered, 1 s after arrival)
      // after that request's response had arrived: nothing awaited the exporter.
      for (const post of receiver.posts) {
        for (const s of post.spans) {
          const t = respondedAt.get(s.traceId)
          if (t !== undefined) expect(t).toBeLessThan(post.respondedAt)
        }
      }
      latencies.sort((a, b) => a - b)
      expect(latencies[Math.floor(latencies.length * 0.99)]!).toBeLessThan(1000)
    } finally {
      receiver.delayMs = 0
    }
  }, 60_000)

  it('records a thrown error on the server span and rethrows it (the runtime answers 500)', async () => {
    const before = receiver.spans.length
    const res = await get('/error')
    expect(res.status).toBe(500)
    await receiver.waitFor((spans) => spans.slice(before).some((s) => s.name === 'GET /error'))
    const server = receiver.spans.slice(before).find((s) => s.name === 'GET /error')!
    expect(server.status).toBe(2)
    const exception = server.events.find((e) => e.name === 'exception')!
    expect(exception.attributes['exception.message']).toBe('boom')
    expect(exception.attributes['exception.type']).toBe('Error')
  })

  it('marks a 5xx response as an error', async () => {
    const res = await get('/500')
    const server = root(await waitTrace(res.headers.get('x-trace-id')!, 1))
    expect(server.attributes['http.response.status_code']).toBe(500)
    expect(server.status).toBe(2)
  })

  it('exports failed invocations even when not head-sampled, and drops the others', async () => {
    const ok = await getFrom('sampled0', '/')
    const okId = ok.headers.get('x-trace-id')!
    const failed = await getFrom('sampled0', '/500')
    const failedId = failed.headers.get('x-trace-id')!
    const server = root(await waitTrace(failedId, 1))
    expect(server.service).toBe('sampled0')
    expect(server.status).toBe(2)
    const stats = (await (await getFrom('sampled0', '/stats')).json()) as { scopes: { keptForError: number } }
    expect(stats.scopes.keptForError).toBeGreaterThanOrEqual(1)
    // Flushes run in order and the failed one has arrived: the unsampled one never will.
    await new Promise((r) => setTimeout(r, 100))
    expect(trace(okId)).toEqual([])
  })

  it("gzips OTLP bodies with workerd's CompressionStream when compression is 'gzip'", async () => {
    const res = await getFrom('gzipped', '/child?n=3')
    const id = res.headers.get('x-trace-id')!
    const spans = await waitTrace(id, 2)
    expect(root(spans).service).toBe('gzipped')
    const post = receiver.posts.find((p) => p.spans.some((s) => s.traceId === id))
    expect(post?.contentEncoding).toBe('gzip')
    // The plain Worker of the same script sends identity bodies.
    const plain = receiver.posts.find((p) => p.spans.some((s) => s.service === 'basic'))
    expect(plain?.contentEncoding).toBeUndefined()
  })

  it('keeps interleaved requests in one isolate apart (no per-request module state)', async () => {
    const n = 20
    const responses = await Promise.all(
      Array.from({ length: n }, (_, i) => get(`/interleave?i=${i}&wait=${(i * 37) % 60}`)),
    )
    const ids = new Set<string>()
    for (let i = 0; i < n; i++) {
      const res = responses[i]!
      expect(res.status).toBe(200)
      expect(await res.text()).toBe(String(i))
      ids.add(res.headers.get('x-trace-id')!)
    }
    expect(ids.size).toBe(n)
    for (const id of ids) {
      const spans = await waitTrace(id, 3)
      const server = root(spans)
      const call = spans.find((s) => s.name === 'upstream call')!
      const client = spans.find((s) => s.kind === KIND.CLIENT)!
      expect(call.parentSpanId).toBe(server.spanId)
      expect(client.parentSpanId).toBe(call.spanId)
      expect(call.attributes['test.i']).toBe(server.attributes['test.i'])
    }
    // The cold-start flag lives in the tracer (one per isolate and env): set once.
    const cold = receiver.spans.filter(
      (s) => s.service === 'basic' && s.attributes['faas.coldstart'] === true,
    )
    expect(cold.length).toBe(1)
  })

  it('sends trace headers to allowed destinations only, merging outgoing baggage', async () => {
    const res = await get('/baggage', {
      headers: {
        traceparent: `00-${TRACE_ID.replace('4b', '5c')}-${PARENT_ID}-01`,
        baggage: 'session.id=abc',
      },
    })
    type Echo = { traceparent?: string; baggage?: string; 'langsmith-trace'?: string }
    const body = (await res.json()) as { allowed: Echo; other: Echo }
    expect(body.allowed.traceparent).toMatch(/^00-5cf92f3577b34da6a3ce929d0e0e4736-[0-9a-f]{16}-01$/)
    const members = body.allowed.baggage!.split(',').map((m) => m.trim())
    expect(members).toContain('user.tier=gold')
    expect(members).toContain('session.id=abc')
    expect(body.other.traceparent).toBeUndefined()
    expect(body.other.baggage).toBeUndefined()
    expect(body.other['langsmith-trace']).toBeUndefined()
  })

  it('keeps spans that end inside the user’s own waitUntil work', async () => {
    const res = await get('/waituntil')
    const spans = await waitTrace(res.headers.get('x-trace-id')!, 2)
    const background = spans.find((s) => s.name === 'background')!
    expect(background.parentSpanId).toBe(root(spans).spanId)
    expect(background.attributes['tracehop.force_ended']).toBeUndefined()
  })

  it('keeps the server span open until a streamed body has been sent', async () => {
    const res = await get('/stream?chunks=5', { headers: { 'accept-encoding': 'identity' } })
    // When each chunk arrives: a body held back until the span ended would come all at once.
    const arrivals: number[] = []
    let text = ''
    const decoder = new TextDecoder()
    const reader = res.body!.getReader()
    for (let read = await reader.read(); !read.done; read = await reader.read()) {
      arrivals.push(Date.now())
      text += decoder.decode(read.value, { stream: true })
    }
    expect(text.match(/token/g)?.length).toBe(5)
    expect(res.headers.get('content-type')).toBe('text/event-stream')
    const spans = await waitTrace(res.headers.get('x-trace-id')!, 2)
    const server = root(spans)
    const gen = spans.find((s) => s.name === 'generate')!
    expect(gen.parentSpanId).toBe(server.spanId)
    // Six pulls 40 ms apart: the span covers the stream, not just the handler.
    expect(server.endMs - server.startMs).toBeGreaterThanOrEqual(200)
    expect(server.endMs).toBeGreaterThanOrEqual(gen.endMs)
    // Streamed: the first chunk came well before the last (pulls 40 ms apart; a buffered body
    // arrives in one read). A loaded machine only stretches this gap.
    expect(arrivals.at(-1)! - arrivals[0]!).toBeGreaterThanOrEqual(60)
    expect(server.status).not.toBe(2)
  })

  it('ends the server span when the client cancels a stream, without marking it failed', async () => {
    const ac = new AbortController()
    const res = await get('/stream?chunks=1000', {
      signal: ac.signal,
      headers: { 'accept-encoding': 'identity' },
    })
    const id = res.headers.get('x-trace-id')!
    const reader = res.body!.getReader()
    await reader.read()
    ac.abort()
    const spans = await waitTrace(id, 2)
    const server = root(spans)
    expect(server.events.map((e) => e.name)).toContain('http.response.body.cancelled')
    expect(server.status).not.toBe(2)
    expect(server.endMs - server.startMs).toBeLessThan(5000)
  })

  it('malformed traceparent: the handler runs, a fresh trace starts, the problem is counted', async () => {
    const before = (await (await get('/stats')).json()) as Stats
    const res = await get('/', { headers: { traceparent: `00-${TRACE_ID}-zzzzzzzzzzzzzzzz-01` } })
    expect(res.status).toBe(200)
    const id = res.headers.get('x-trace-id')!
    expect(id).not.toBe(TRACE_ID)
    expect(root(await waitTrace(id, 1)).parentSpanId).toBeUndefined()
    const after = (await (await get('/stats')).json()) as Stats
    expect((after.invalid.traceparent ?? 0) - (before.invalid.traceparent ?? 0)).toBe(1)
  })

  it('malformed tracestate and baggage: the handler runs and each problem is counted', async () => {
    const before = (await (await get('/stats')).json()) as Stats
    const a = await get('/', {
      headers: { traceparent: `00-${TRACE_ID.replace('4b', '6d')}-${PARENT_ID}-01`, tracestate: '=,==;;' },
    })
    expect(a.status).toBe(200)
    const b = await get('/', { headers: { baggage: '=;;=,%%%' } })
    expect(b.status).toBe(200)
    const after = (await (await get('/stats')).json()) as Stats
    expect((after.invalid.tracestate ?? 0) - (before.invalid.tracestate ?? 0)).toBe(1)
    expect((after.invalid.baggage ?? 0) - (before.invalid.baggage ?? 0)).toBeGreaterThanOrEqual(1)
  })

  it('never fails a request whatever the trace headers hold (property, in workerd)', async () => {
    const headerValue = fc.string({
      unit: fc.constantFrom(...' !"#$%&\'()*+,-./0123456789:;<=>?@ABCDEFabcdefz_~'.split('')),
      maxLength: 80,
    })
    await fc.assert(
      fc.asyncProperty(headerValue, headerValue, headerValue, async (traceparent, tracestate, baggage) => {
        const res = await get('/', { headers: { traceparent, tracestate, baggage } })
        await res.arrayBuffer()
        return res.status === 200
      }),
      { numRuns: 40 },
    )
  })
})
