// tracehop/cloudflare pieces that need no runtime: configuration errors, the handler's
// shape, the entrypoint wrapper's argument handling, and the streamed-body rule.
import { describe, expect, it } from 'vitest'
import { instrument, traced, traceOf } from '../../adapters/cloudflare/index.js'
import { looksStreamed } from '../../adapters/http/streamed-body.js'
import { callMarker } from '../../src/envelope.js'
import { createTracer, memoryExporter, TracehopError } from '../../src/index.js'

type FetchOnly = { fetch(request: Request, env: object, ctx: object): Promise<Response> }

const makeCtx = () => {
  const pending: Promise<unknown>[] = []
  return {
    pending,
    waitUntil: (p: Promise<unknown>) => void pending.push(p),
    passThroughOnException() {},
    props: {},
  }
}

describe('instrument(): configuration and shape', () => {
  it('rejects a bad config object when the Worker module loads, naming the fix', () => {
    expect(() => instrument({ fetch: () => new Response() }, { service: '' })).toThrow(TracehopError)
    expect(() => instrument({ fetch: () => new Response() }, null as never)).toThrow(/needs a config/)
    expect(() => instrument({}, { service: 'x', streaming: 'sometimes' as never })).toThrow(/streaming/)
  })

  it('names the server span by the method, or by the route the config says matched', async () => {
    const memory = memoryExporter()
    const routes: (string | undefined)[] = []
    const handler = instrument(
      { fetch: () => new Response('ok') },
      {
        service: 'x',
        exporters: [memory],
        flush: { windowMs: 0 },
        route: (request: Request) => {
          const path = new URL(request.url).pathname
          if (path === '/boom') throw new Error('route function bug')
          routes.push(path.startsWith('/users/') ? '/users/:id' : undefined)
          return routes.at(-1)
        },
      },
    ) as unknown as FetchOnly
    for (const path of ['/users/42', '/elsewhere', '/boom']) {
      const ctx = makeCtx()
      expect((await handler.fetch(new Request(`http://x${path}`), {}, ctx)).status).toBe(200)
      await Promise.all(ctx.pending)
    }
    const spans = memory.spans()
    expect(spans.map((s) => s.name)).toEqual(['GET /users/:id', 'GET', 'GET'])
    expect(spans[0]?.attributes['http.route']).toBe('/users/:id')
    expect(spans[1]?.attributes['http.route']).toBeUndefined()
    expect(spans.every((s) => s.attributes['faas.trigger'] === 'http')).toBe(true)
    expect(() => instrument({}, { service: 'x', route: '/users/:id' as never })).toThrow(
      /route must be a function/,
    )
  })

  it('resolves a config function once per env object', async () => {
    let calls = 0
    const handler = instrument({ fetch: () => new Response('ok') }, () => {
      calls++
      return { service: 'x' }
    }) as unknown as FetchOnly
    const env = {}
    await handler.fetch(new Request('http://x/'), env, makeCtx())
    await handler.fetch(new Request('http://x/'), env, makeCtx())
    expect(calls).toBe(1)
    await handler.fetch(new Request('http://x/'), {}, makeCtx())
    expect(calls).toBe(2)
  })

  it('keeps handlers it does not trace, bound to the handler object', async () => {
    class Handler {
      seen: unknown[] = []
      email(message: unknown): void {
        this.seen.push(message)
      }
      fetch(): Response {
        return new Response('ok')
      }
    }
    const h = new Handler()
    const out = instrument(h, { service: 'x' }) as unknown as { email(m: unknown): void; fetch: unknown }
    out.email('m1')
    expect(h.seen).toEqual(['m1'])
    expect(typeof out.fetch).toBe('function')
  })

  it('rethrows the user’s error unchanged and still flushes through waitUntil', async () => {
    const memory = memoryExporter()
    const boom = new Error('boom')
    const handler = instrument(
      {
        fetch: () => {
          throw boom
        },
      },
      { service: 'x', exporters: [memory], flush: { windowMs: 0 } },
    ) as unknown as FetchOnly
    const c = makeCtx()
    await expect(handler.fetch(new Request('http://x/a'), {}, c)).rejects.toBe(boom)
    expect(c.pending.length).toBe(1)
    await Promise.all(c.pending)
    expect(memory.spans()[0]!.status.code).toBe(2)
  })
})

describe('traced(): misuse is a configuration error', () => {
  const span = createTracer({ service: 'x' }).start().root

  it('needs a span', () => {
    expect(() => traced({ fetch: () => Promise.resolve(new Response()) }, undefined as never)).toThrow(
      TracehopError,
    )
  })

  it('needs a service binding, Durable Object stub, Queue or Workflow', () => {
    expect(() => traced({ get: () => undefined }, span)).toThrow(
      /service bindings, Durable Object stubs, Queues and Workflows/,
    )
  })

  it('traceOf() on an object no wrapped handler received names the fix', () => {
    expect(() => traceOf({})).toThrow(/instrument\(handler, config\)/)
  })
})

describe('instrument(class): Workers RPC methods', () => {
  // Stands in for cloudflare:workers' WorkerEntrypoint: it keeps ctx and env.
  class FakeEntrypoint {
    constructor(
      protected readonly ctx: ReturnType<typeof makeCtx>,
      protected readonly env: object,
    ) {}
  }

  it('strips the trailing marker, keeps `this`, and does not trace calls to itself', async () => {
    const memory = memoryExporter()
    class Api extends FakeEntrypoint {
      count = 0
      async add(a: number, b: number): Promise<{ sum: number; argc: number; self: boolean }> {
        this.count++
        // biome-ignore lint/complexity/noArguments: the test checks the marker was stripped.
        const argc = arguments.length
        return { sum: await this.double(a + b), argc, self: this instanceof Api }
      }
      async double(x: number): Promise<number> {
        return x * 2
      }
    }
    const Traced = instrument(Api, { service: 'api', exporters: [memory], flush: { windowMs: 0 } })
    expect(Traced.name).toBe('Api')
    const c = makeCtx()
    const api = new Traced(c, {})
    const caller = createTracer({ service: 'caller' }).start().root.startChild('api/add')
    const result = await (api.add as (...a: unknown[]) => Promise<unknown>)(
      1,
      2,
      structuredClone(callMarker(caller)),
    )
    expect(result).toEqual({ sum: 6, argc: 2, self: true })
    expect(api.count).toBe(1)
    await Promise.all(c.pending)
    const spans = memory.spans()
    expect(spans.map((s) => s.name)).toEqual(['Api/add'])
    expect(spans[0]!.parentSpanId).toBe(caller.spanId)
    expect(spans[0]!.traceId).toBe(caller.traceId)
  })
})

describe('which responses count as streamed (streaming: auto)', () => {
  it.each([
    ['text/event-stream', true],
    ['text/event-stream; charset=utf-8', true],
    ['application/x-ndjson', true],
    ['application/jsonl', true],
    ['application/json', false],
    ['text/plain;charset=UTF-8', false],
    ['text/html', false],
  ])('%s -> %s', (type, expected) => {
    expect(looksStreamed(new Headers({ 'content-type': type }))).toBe(expected)
  })

  it('an explicit transfer-encoding: chunked counts as streamed', () => {
    expect(looksStreamed(new Headers({ 'transfer-encoding': 'chunked' }))).toBe(true)
  })
})
