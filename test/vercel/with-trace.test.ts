import fc from 'fast-check'
import { afterEach, describe, expect, it } from 'vitest'
import { findWaitUntil, traceOf, withTrace } from '../../adapters/vercel/index.js'
import { createTracer, type Exporter, memoryExporter, StatusCode, TracehopError } from '../../src/index.js'

type Ctx = { waitUntil(p: Promise<unknown>): void }

const REQUEST_CONTEXT = Symbol.for('@vercel/request-context')
const g = globalThis as Record<symbol, unknown>

afterEach(() => {
  delete g[REQUEST_CONTEXT]
})

function setup() {
  const memory = memoryExporter()
  const tracer = createTracer({ service: 'vercel-unit', exporters: [memory], flush: { windowMs: 0 } })
  return { memory, tracer }
}

function collector() {
  const pending: Promise<unknown>[] = []
  return { pending, waitUntil: (p: Promise<unknown>) => void pending.push(p) }
}

describe('findWaitUntil', () => {
  it('prefers the Vercel request context over the second argument, as @vercel/functions does', async () => {
    const fromContext = collector()
    const fromEvent = collector()
    g[REQUEST_CONTEXT] = { get: () => ({ waitUntil: fromContext.waitUntil }) }
    findWaitUntil({ waitUntil: fromEvent.waitUntil })?.(Promise.resolve(1))
    expect(fromContext.pending).toHaveLength(1)
    expect(fromEvent.pending).toHaveLength(0)
  })

  it("falls back to the event's or context's waitUntil, calling it as a method", () => {
    const event = {
      calls: 0,
      waitUntil(this: { calls: number }, _p: Promise<unknown>) {
        this.calls++
      },
    }
    findWaitUntil(event)?.(Promise.resolve())
    expect(event.calls).toBe(1)
  })

  it('returns undefined when there is none (App Router { params }, or off Vercel)', () => {
    expect(findWaitUntil({ params: Promise.resolve({}) })).toBeUndefined()
    expect(findWaitUntil(undefined)).toBeUndefined()
    g[REQUEST_CONTEXT] = { get: () => undefined }
    expect(findWaitUntil()).toBeUndefined()
  })

  it('never throws, whatever the globals and arguments hold', () => {
    fc.assert(
      fc.property(fc.anything(), fc.anything(), (holder, second) => {
        g[REQUEST_CONTEXT] = holder
        findWaitUntil(second)
      }),
    )
    g[REQUEST_CONTEXT] = {
      get() {
        throw new Error('outside a request')
      },
    }
    expect(findWaitUntil()).toBeUndefined()
  })
})

describe('withTrace', () => {
  it('throws a configuration error when the handler is wrapped, not on a request', () => {
    expect(() => withTrace(async () => new Response(), { service: '' })).toThrow(TracehopError)
  })

  it('traceOf(request) throws a TracehopError naming the fix for an unwrapped request', () => {
    expect(() => traceOf(new Request('https://x.example/'))).toThrow(/withTrace/)
  })

  it('hands the flush to waitUntil and does not await it', async () => {
    const { memory, tracer } = setup()
    const c = collector()
    const handler = withTrace(
      async (request: Request, _c: Ctx) => Response.json({ id: traceOf(request).spanId }),
      tracer,
    )
    const res = await handler(new Request('https://app.example/api/x', { method: 'POST' }), c)
    const body = (await res.json()) as { id: string }
    expect(c.pending).toHaveLength(1)
    await Promise.all(c.pending)
    const root = memory.spans().find((s) => s.spanId === body.id)
    expect(root?.name).toBe('POST')
    expect(root?.attributes).toMatchObject({
      'http.request.method': 'POST',
      'url.path': '/api/x',
      'http.response.status_code': 200,
    })
  })

  it('awaits the flush before returning when there is no waitUntil', async () => {
    const delivered: string[] = []
    const slow: Exporter = {
      name: 'slow',
      async export(batch) {
        await new Promise((r) => setTimeout(r, 30))
        for (const s of batch.spans) delivered.push(s.name)
        return { exported: batch.spans.length, dropped: 0, attempts: 1 }
      },
    }
    const tracer = createTracer({ service: 'vercel-unit', exporters: [slow], flush: { windowMs: 0 } })
    const handler = withTrace(async () => new Response(null, { status: 204 }), tracer, { route: '/ping' })
    const res = await handler(new Request('https://app.example/ping'))
    expect(res.status).toBe(204)
    expect(delivered).toEqual(['GET /ping'])
  })

  it("rethrows the handler's own error unchanged and records it (5xx-free error marks the span)", async () => {
    const { memory, tracer } = setup()
    const boom = new RangeError('nope')
    const handler = withTrace(async () => {
      throw boom
    }, tracer)
    await expect(handler(new Request('https://app.example/'))).rejects.toBe(boom)
    const root = memory.spans()[0]
    expect(root?.status.code).toBe(StatusCode.ERROR)
    expect(root?.events[0]?.attributes?.['exception.type']).toBe('RangeError')
  })

  it('marks a 5xx response as an error and leaves a 4xx unset (OTel HTTP server semantics)', async () => {
    const { memory, tracer } = setup()
    const h = withTrace(
      async (r: Request) => new Response('x', { status: Number(new URL(r.url).searchParams.get('s')) }),
      tracer,
    )
    await (await h(new Request('https://a.example/?s=503'))).text()
    await (await h(new Request('https://a.example/?s=404'))).text()
    await new Promise((r) => setTimeout(r, 20))
    const [a, b] = memory.spans()
    expect(a?.status.code).toBe(StatusCode.ERROR)
    expect(b?.status.code).toBe(StatusCode.UNSET)
  })

  it('keeps a streamed body byte-for-byte, with status and headers, and the span open until it ends', async () => {
    const { memory, tracer } = setup()
    const c = collector()
    const chunks = ['a', 'bb', 'ccc']
    const handler = withTrace(
      async (_r: Request, _c: Ctx) =>
        new Response(
          new ReadableStream<Uint8Array>({
            async pull(ctrl) {
              const next = chunks.shift()
              if (next === undefined) return ctrl.close()
              await new Promise((r) => setTimeout(r, 30))
              ctrl.enqueue(new TextEncoder().encode(next))
            },
          }),
          { status: 201, statusText: 'Made', headers: { 'x-custom': '1' } },
        ),
      tracer,
    )
    const started = Date.now()
    const res = await handler(new Request('https://a.example/'), c)
    expect([res.status, res.statusText, res.headers.get('x-custom')]).toEqual([201, 'Made', '1'])
    expect(memory.spans()).toHaveLength(0)
    expect(await res.text()).toBe('abbccc')
    const elapsed = Date.now() - started
    await Promise.all(c.pending)
    const root = memory.spans()[0]!
    expect(root.endTime - root.startTime).toBeGreaterThanOrEqual(80)
    expect(root.endTime - root.startTime).toBeLessThanOrEqual(elapsed + 20)
    expect(root.attributes['http.response.body.size']).toBe(6)
  })

  it('a stream that fails mid-way: the client sees the same error and the span records it', async () => {
    const { memory, tracer } = setup()
    const c = collector()
    const failure = new Error('upstream reset')
    let sent = false
    const handler = withTrace(
      async (_r: Request, _c: Ctx) =>
        new Response(
          new ReadableStream<Uint8Array>({
            pull(ctrl) {
              if (sent) return ctrl.error(failure)
              sent = true
              ctrl.enqueue(new Uint8Array([1]))
            },
          }),
        ),
      tracer,
    )
    const res = await handler(new Request('https://a.example/'), c)
    await expect(res.arrayBuffer()).rejects.toBe(failure)
    await Promise.all(c.pending)
    const root = memory.spans()[0]
    expect(root?.status).toEqual({ code: StatusCode.ERROR, message: 'upstream reset' })
  })

  it('a client that cancels the stream ends the span and cancels the source', async () => {
    const { memory, tracer } = setup()
    const c = collector()
    let cancelled: unknown
    const handler = withTrace(
      async (_r: Request, _c: Ctx) =>
        new Response(
          new ReadableStream<Uint8Array>({
            pull(ctrl) {
              ctrl.enqueue(new Uint8Array([1, 2]))
            },
            cancel(reason) {
              cancelled = reason
            },
          }),
        ),
      tracer,
    )
    const res = await handler(new Request('https://a.example/'), c)
    const reader = res.body!.getReader()
    await reader.read()
    await reader.cancel('client went away')
    await Promise.all(c.pending)
    expect(cancelled).toBe('client went away')
    const root = memory.spans()[0]
    expect(root?.events.map((e) => e.name)).toContain('http.response.body.cancelled')
    expect(root?.attributes['tracehop.force_ended']).toBeUndefined()
  })

  it('does not wait for a HEAD response body the platform never reads', async () => {
    const { memory, tracer } = setup()
    const h = withTrace(
      async () => new Response('ignored body', { headers: { 'content-length': '12' } }),
      tracer,
    )
    const res = await h(new Request('https://a.example/', { method: 'HEAD' }))
    expect(res.headers.get('content-length')).toBe('12')
    expect(memory.spans()[0]?.attributes['http.response.status_code']).toBe(200)
  })

  it('passes every argument through and keeps NextRequest-like subclasses', async () => {
    const { tracer } = setup()
    class NextRequestLike extends Request {
      readonly nextUrl = new URL(this.url)
    }
    const seen: unknown[] = []
    const handler = withTrace(async (request: NextRequestLike, ctx: { params: Promise<{ id: string }> }) => {
      seen.push(request.nextUrl.pathname, await ctx.params)
      return new Response(null, { status: 204 })
    }, tracer)
    await handler(new NextRequestLike('https://a.example/users/9'), { params: Promise.resolve({ id: '9' }) })
    expect(seen).toEqual(['/users/9', { id: '9' }])
  })
})

describe("withTrace's after option (Next's after from next/server)", () => {
  it('hands the flush to after, ahead of the request context, and does not await it', async () => {
    const { memory, tracer } = setup()
    const fromContext = collector()
    g[REQUEST_CONTEXT] = { get: () => ({ waitUntil: fromContext.waitUntil }) }
    const tasks: Promise<unknown>[] = []
    const handler = withTrace(
      (request: Request) => {
        traceOf(request).child('work', () => 1)
        return new Response('ok')
      },
      tracer,
      { after: (task) => void tasks.push(task) },
    )
    const response = await handler(new Request('https://app.example/api/x'))
    expect(await response.text()).toBe('ok')
    expect(tasks).toHaveLength(1)
    expect(fromContext.pending).toHaveLength(0)
    await Promise.all(tasks)
    expect(
      memory
        .spans()
        .map((s) => s.name)
        .sort(),
    ).toEqual(['GET', 'work'])
  })

  it('falls back to the usual lookup when after throws outside a request scope', async () => {
    const { memory, tracer } = setup()
    const handler = withTrace(() => new Response('ok'), tracer, {
      after: () => {
        throw new Error('`after` was called outside a request scope')
      },
    })
    const response = await handler(new Request('https://app.example/api/x'))
    // No waitUntil anywhere: the flush is awaited before the body closes.
    expect(await response.text()).toBe('ok')
    expect(memory.spans()).toHaveLength(1)
  })

  it('rejects an after that is not a function when the handler is wrapped', () => {
    expect(() => withTrace(() => new Response(), setup().tracer, { after: 'later' as never })).toThrow(
      /options.after must be a function/,
    )
  })
})

describe('same origin on Vercel and on next start', () => {
  const handler = (tracer: ReturnType<typeof setup>['tracer']) =>
    withTrace((request: Request) => {
      const may = traceOf(request).mayReceive(new URL('/x', request.url))
      return Response.json({ may })
    }, tracer)

  it('off Vercel (next start) the request URL is built from the client Host: not same origin', async () => {
    const res = await handler(setup().tracer)(new Request('https://attacker.example/api/chat'))
    expect(await res.json()).toEqual({ may: false })
  })

  it('on Vercel (its request context is there) the platform vouches for the URL: same origin', async () => {
    g[REQUEST_CONTEXT] = { get: () => ({ waitUntil: () => {} }) }
    const res = await handler(setup().tracer)(new Request('https://app.example/api/chat'))
    expect(await res.json()).toEqual({ may: true })
  })

  it('off Vercel, propagation.origin names the service’s own origin', async () => {
    const tracer = createTracer({ service: 'next', propagation: { origin: 'https://app.example' } })
    const res = await handler(tracer)(new Request('https://app.example/api/chat'))
    expect(await res.json()).toEqual({ may: true })
  })
})

describe("withTrace's after option: work after the flush", () => {
  it('a span started after the flush goes out in a follow-up export held by after too', async () => {
    const { memory, tracer } = setup()
    const tasks: Promise<unknown>[] = []
    let request: Request | undefined
    const handler = withTrace(
      (r: Request) => {
        request = r
        return new Response('ok')
      },
      tracer,
      { after: (task) => void tasks.push(task) },
    )
    const response = await handler(new Request('https://app.example/api/x'))
    await response.text()
    await Promise.all(tasks)
    // The user's own after-work, once the first flush is done.
    traceOf(request!).child('later', () => 1)
    expect(tasks).toHaveLength(2)
    await Promise.all(tasks)
    expect(memory.spans().map((s) => s.name)).toContain('later')
  })
})
