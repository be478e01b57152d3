/**
 * tracehop/vercel inside Vercel's `edge-runtime` VM: the handler is bundled with esbuild
 * into one script and evaluated in the VM, served by `runServer`, and exports over real
 * HTTP (OTLP/JSON) to a receiver on 127.0.0.1.
 */
import { fileURLToPath } from 'node:url'
import { EdgeRuntime, runServer } from 'edge-runtime'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { bundleForEdge } from '../support/edge-script.js'
import { type OtlpReceiver, type ReceivedSpan, startOtlpReceiver } from '../support/otlp-receiver.js'

const FIXTURE = fileURLToPath(new URL('./fixtures/edge-app.ts', import.meta.url))
const SERVER = 2 // OTLP SpanKind: API kind + 1
const ERROR = 2

type Server = Awaited<ReturnType<typeof runServer>>

let code: string
let receiver: OtlpReceiver

async function bundle(): Promise<string> {
  return bundleForEdge(FIXTURE)
}

async function startEdge(
  extend?: (ctx: Record<string, unknown>) => void,
): Promise<{ runtime: EdgeRuntime; server: Server }> {
  const runtime = new EdgeRuntime({
    initialCode: `globalThis.__CONFIG__ = ${JSON.stringify({ otlpUrl: receiver.url })};\n${code}`,
    ...(extend
      ? {
          extend: (ctx) => {
            extend(ctx as unknown as Record<string, unknown>)
            return ctx
          },
        }
      : {}),
  })
  const server = await runServer({ runtime, port: 0, host: '127.0.0.1' })
  return { runtime, server }
}

function traceSpans(traceId: string): ReceivedSpan[] {
  return receiver.spans.filter((s) => s.traceId === traceId)
}

function rootOf(traceId: string): ReceivedSpan | undefined {
  return traceSpans(traceId).find((s) => s.kind === SERVER)
}

let edge: { runtime: EdgeRuntime; server: Server }

beforeAll(async () => {
  receiver = await startOtlpReceiver()
  code = await bundle()
  edge = await startEdge()
})

afterAll(async () => {
  await edge?.server.close()
  await receiver?.close()
})

describe('tracehop/vercel in edge-runtime', () => {
  it('runs in a VM without AsyncLocalStorage, and the bundle never references it', () => {
    expect(edge.runtime.evaluate('typeof AsyncLocalStorage')).toBe('undefined')
    expect(code).not.toMatch(/AsyncLocalStorage|async_hooks/)
  })

  it.each([
    ['(request) route handler, waitUntil from the Vercel request context', '/route', 'GET /route'],
    ['(request, context) web handler, context.waitUntil', '/web', 'GET /web'],
  ])('%s: the response returns first and the export completes after it', async (_label, path, name) => {
    receiver.clear()
    receiver.delayMs = 1000 // longer than any stall between the response and the checks below
    try {
      const res = await fetch(`${edge.server.url}${path.slice(1)}`)
      const body = (await res.json()) as { traceId: string; spanId: string; doubled: number }
      const respondedAt = Date.now()
      expect(body.doubled).toBe(42)
      // Nothing has been acknowledged yet: the export is still in flight (held by the receiver).
      expect(receiver.posts.filter((r) => r.respondedAt <= respondedAt)).toEqual([])
      await edge.server.waitUntil()
      const done = receiver.posts
      expect(done.length).toBeGreaterThan(0)
      for (const r of done) expect(r.respondedAt).toBeGreaterThan(respondedAt)
      const root = rootOf(body.traceId)
      expect(root?.name).toBe(name)
      expect(root?.spanId).toBe(body.spanId)
      expect(root?.attributes).toMatchObject({
        'http.request.method': 'GET',
        'http.route': path,
        'url.path': path,
      })
      const compute = traceSpans(body.traceId).find((s) => s.name === 'compute')
      expect(compute?.parentSpanId).toBe(body.spanId)
    } finally {
      receiver.delayMs = 0
    }
  })

  it('continues the incoming traceparent', async () => {
    receiver.clear()
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736'
    const res = await fetch(`${edge.server.url}web`, {
      headers: { traceparent: `00-${traceId}-00f067aa0ba902b7-01` },
    })
    const body = (await res.json()) as { traceId: string }
    await edge.server.waitUntil()
    expect(body.traceId).toBe(traceId)
    expect(rootOf(traceId)?.parentSpanId).toBe('00f067aa0ba902b7')
  })

  it('(request, event) middleware that continues: flushed through event.waitUntil, response untouched', async () => {
    receiver.clear()
    receiver.delayMs = 1000
    try {
      const res = await fetch(`${edge.server.url}middleware`)
      expect(res.headers.get('x-middleware-next')).toBe('1')
      expect(await res.text()).toBe('next')
      const respondedAt = Date.now()
      await edge.server.waitUntil()
      const root = receiver.spans.find((s) => s.name === 'GET /middleware')
      expect(root?.attributes['app.middleware']).toBe(true)
      for (const r of receiver.posts) expect(r.respondedAt).toBeGreaterThan(respondedAt)
    } finally {
      receiver.delayMs = 0
    }
  })

  it('with no waitUntil at all ({ params } second argument), the flush is awaited before the response', async () => {
    receiver.clear()
    receiver.delayMs = 150
    try {
      const res = await fetch(`${edge.server.url}params/7`)
      const body = (await res.json()) as { traceId: string }
      // Without waiting for any pending work: the spans have already been acknowledged.
      expect(rootOf(body.traceId)?.name).toBe('GET /params/[id]')
      expect(traceSpans(body.traceId)).toHaveLength(2)
    } finally {
      receiver.delayMs = 0
    }
  })

  it("a throwing handler: the runtime sees the handler's error (500) and the span records it", async () => {
    receiver.clear()
    const res = await fetch(`${edge.server.url}fail`)
    expect(res.status).toBe(500)
    await edge.server.waitUntil()
    const root = receiver.spans.find((s) => s.name === 'GET /fail')
    expect(root?.status).toBe(ERROR)
    const exception = root?.events.find((e) => e.name === 'exception') as { attributes?: unknown } | undefined
    expect(JSON.stringify(exception?.attributes)).toContain('TypeError')
    expect(receiver.spans.some((s) => s.name === 'step' && s.parentSpanId === root?.spanId)).toBe(true)
  })

  it('a streamed response keeps the server span open until the last token is sent', async () => {
    receiver.clear()
    const t0 = Date.now()
    const res = await fetch(`${edge.server.url}stream`)
    expect(res.headers.get('content-type')).toBe('text/event-stream')
    const text = await res.text()
    const streamMs = Date.now() - t0
    expect(text).toBe([0, 1, 2, 3, 4].map((i) => `data: token${i}\n\n`).join(''))
    await edge.server.waitUntil()
    const root = receiver.spans.find((s) => s.name === 'GET /stream')!
    const llm = receiver.spans.find((s) => s.name === 'llm.stream')!
    expect(llm.parentSpanId).toBe(root.spanId)
    const rootMs = Number(root.endNs - root.startNs) / 1e6
    expect(rootMs).toBeGreaterThanOrEqual(180) // 5 tokens, 40 ms apart
    expect(rootMs).toBeLessThanOrEqual(streamMs + 50)
    expect(root.endNs).toBeGreaterThanOrEqual(llm.endNs)
    expect(root.attributes['http.response.body.size']).toBe(new TextEncoder().encode(text).length)
    expect(root.attributes['http.response.status_code']).toBe(200)
  })

  it('a streamed response with no waitUntil: the flush rides on the stream, done when the body is', async () => {
    receiver.clear()
    const res = await fetch(`${edge.server.url}stream-nowait`)
    await res.text()
    // No server.waitUntil(): the body closed only after the spans were acknowledged.
    const root = receiver.spans.find((s) => s.name === 'GET /stream-nowait')
    expect(root).toBeDefined()
    expect(receiver.spans.find((s) => s.name === 'llm.stream')?.parentSpanId).toBe(root?.spanId)
  })

  it('loses nothing over 500 requests across the handler forms', async () => {
    const load = await startEdge()
    receiver.clear()
    try {
      const paths = ['route', 'web', 'params/7', 'middleware']
      const traceIds = new Set<string>()
      let next = 0
      const worker = async (): Promise<void> => {
        while (next < 500) {
          const i = next++
          const path = paths[i % paths.length]!
          const res = await fetch(`${load.server.url}${path}`)
          if (path === 'middleware') await res.text()
          else traceIds.add(((await res.json()) as { traceId: string }).traceId)
        }
      }
      await Promise.all(Array.from({ length: 20 }, worker))
      await load.server.waitUntil()
      const spans = receiver.spans
      const roots = spans.filter((s) => s.kind === SERVER)
      expect(roots).toHaveLength(500)
      expect(new Set(roots.map((s) => s.traceId)).size).toBe(500)
      expect(traceIds.size).toBe(375)
      for (const id of traceIds) {
        const root = rootOf(id)
        expect(root).toBeDefined()
        expect(traceSpans(id).some((s) => s.name === 'compute' && s.parentSpanId === root?.spanId)).toBe(true)
      }
      expect(spans).toHaveLength(500 + 375)
      const stats = (await (await fetch(`${load.server.url}stats`)).json()) as {
        scopes: { started: number }
        spans: { recorded: number; exported: number; dropped: Record<string, number>; forceEnded: number }
      }
      expect(stats.scopes.started).toBe(500)
      expect(stats.spans).toMatchObject({ recorded: 875, exported: 875, dropped: {}, forceEnded: 0 })
      // Concurrent flushes share export requests.
      expect(receiver.posts.length).toBeLessThan(500)
    } finally {
      await load.server.close()
    }
  }, 60_000)

  it('never reads AsyncLocalStorage, even when the runtime offers it', async () => {
    let reads = 0
    const trapped = await startEdge((ctx) => {
      Object.defineProperty(ctx, 'AsyncLocalStorage', {
        get() {
          reads++
          return class FakeAsyncLocalStorage {}
        },
        configurable: true,
      })
    })
    receiver.clear()
    try {
      for (const path of ['route', 'web', 'params/7', 'middleware', 'stream', 'stream-nowait']) {
        await (await fetch(`${trapped.server.url}${path}`)).text()
      }
      await trapped.server.waitUntil()
      expect(receiver.spans.filter((s) => s.kind === SERVER)).toHaveLength(6)
      expect(reads).toBe(0)
    } finally {
      await trapped.server.close()
    }
  })
})
