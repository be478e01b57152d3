// tracehop/hono against Hono's real routing and error semantics (hono 4.13, on Node, through
// app.request / app.fetch), judged by the OpenTelemetry HTTP semantic conventions
// (semantic-conventions docs/http/http-spans.md, "Name", "Status", "HTTP server span"):
// - name `{method} {http.route}`, or `{method}` when no low-cardinality route is available;
//   "Instrumentation MUST NOT default to using URI path as a {target}";
// - status ERROR for 5xx only: "For HTTP status codes in the 4xx range span status MUST be
//   left unset in case of SpanKind.SERVER";
// - `error.type` Conditionally Required "If request has ended with an error";
// - unknown methods: `http.request.method` `_OTHER`, `{method}` `HTTP`.
// Hono facts used below are from hono's docs (hono.dev/docs/helpers/route, /api/hono,
// /api/exception) and its dist source (hono-base.js, compose.js, helper/streaming).
// `it.fails` marks a case where tracehop currently disagrees with those sources.
import { Hono } from 'hono'
import { HTTPException } from 'hono/http-exception'
import { stream, streamSSE, streamText } from 'hono/streaming'
import { describe, expect, it } from 'vitest'
import { type HonoConfig, type TracehopVariables, tracehop } from '../../adapters/hono/index.js'
import { type Exporter, type MemoryExporter, memoryExporter, SpanKind, StatusCode } from '../../src/index.js'
import type { SpanRecord } from '../../src/span-record.js'

type App = Hono<{ Variables: TracehopVariables }>

function config(memory: MemoryExporter, extra?: Partial<HonoConfig>): HonoConfig {
  return { service: 'hono-sem', exporters: [memory], flush: { windowMs: 0 }, ...extra }
}

function setup(extra?: Partial<HonoConfig>): { app: App; memory: MemoryExporter } {
  const memory = memoryExporter()
  const app: App = new Hono<{ Variables: TracehopVariables }>()
  app.use(tracehop(config(memory, extra)))
  return { app, memory }
}

function serverSpans(memory: MemoryExporter): SpanRecord[] {
  return memory.spans().filter((s) => s.kind === SpanKind.SERVER)
}

/** The one SERVER span of the one request made: asserts there is exactly one. */
function onlyServer(memory: MemoryExporter): SpanRecord {
  const spans = serverSpans(memory)
  expect(spans).toHaveLength(1)
  return spans[0]!
}

/** Streamed bodies flush in the background on Node: wait (bounded) for the server span. */
async function serverSpanEventually(memory: MemoryExporter, timeoutMs = 3000): Promise<SpanRecord> {
  const deadline = Date.now() + timeoutMs
  while (serverSpans(memory).length === 0 && Date.now() < deadline) await sleep(10)
  return onlyServer(memory)
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms))
}

function exceptions(span: SpanRecord): readonly NonNullable<SpanRecord['events'][number]['attributes']>[] {
  return span.events.filter((e) => e.name === 'exception').map((e) => e.attributes ?? {})
}

describe('tracehop() under Hono routing: http.route and the span name are the route template', () => {
  it('app.route("/api", sub): the template includes the mount prefix', async () => {
    const { app, memory } = setup()
    const sub = new Hono().get('/users/:id', (c) => c.json({ id: c.req.param('id') }))
    app.route('/api', sub)
    const res = await app.request('/api/users/42')
    expect(await res.json()).toEqual({ id: '42' })
    const server = onlyServer(memory)
    // hono.dev/docs/helpers/route: routePath is the registered pattern; route() merges the prefix.
    expect(server.name).toBe('GET /api/users/:id')
    expect(server.attributes['http.route']).toBe('/api/users/:id')
    expect(server.attributes['url.path']).toBe('/api/users/42')
    expect(server.attributes['http.response.status_code']).toBe(200)
    expect(server.status.code).toBe(StatusCode.UNSET)
  })

  it('basePath("/v1"): the template includes the base path', async () => {
    const memory = memoryExporter()
    const app = new Hono().basePath('/v1')
    app.use(tracehop(config(memory)))
    app.get('/users/:id', (c) => c.text(`user ${c.req.param('id')}`))
    const res = await app.request('/v1/users/7')
    expect(await res.text()).toBe('user 7')
    const server = onlyServer(memory)
    expect(server.name).toBe('GET /v1/users/:id')
    expect(server.attributes['http.route']).toBe('/v1/users/:id')
  })

  it('app.mount("/legacy", fetch): the route is the mount pattern /legacy/*, the mounted response is untouched', async () => {
    const { app, memory } = setup()
    // hono-base.js mount(): registers ALL mergePath(path, '*') and hands the app a request with the prefix stripped.
    app.mount(
      '/legacy',
      (req: Request) => new Response(`legacy saw ${new URL(req.url).pathname}`, { status: 202 }),
    )
    const res = await app.request('/legacy/orders/9')
    expect(res.status).toBe(202)
    expect(await res.text()).toBe('legacy saw /orders/9')
    const server = onlyServer(memory)
    expect(server.name).toBe('GET /legacy/*')
    expect(server.attributes['http.route']).toBe('/legacy/*')
    expect(server.attributes['http.response.status_code']).toBe(202)
  })

  it('a wildcard route keeps its * in the template, not the matched rest of the path', async () => {
    const { app, memory } = setup()
    app.get('/files/*', (c) => c.text(c.req.path))
    const res = await app.request('/files/a/b/c.txt')
    expect(await res.text()).toBe('/files/a/b/c.txt')
    const server = onlyServer(memory)
    expect(server.name).toBe('GET /files/*')
    expect(server.attributes['http.route']).toBe('/files/*')
  })

  it('regex and optional params are reported in Hono’s own template syntax', async () => {
    const { app, memory } = setup()
    app.get('/posts/:date{[0-9]{8}}/:slug{[a-z-]+}', (c) =>
      c.text(`${c.req.param('date')} ${c.req.param('slug')}`),
    )
    app.get('/animals/:type?', (c) => c.text(c.req.param('type') ?? 'all'))
    expect(await (await app.request('/posts/20240131/hello-world')).text()).toBe('20240131 hello-world')
    expect(await (await app.request('/animals')).text()).toBe('all')
    expect(await (await app.request('/animals/cat')).text()).toBe('cat')
    const names = serverSpans(memory).map((s) => [s.name, s.attributes['http.route']])
    // semconv http.route example `/users/:userID?`: "the path template in the format used by the framework".
    expect(names).toEqual([
      ['GET /posts/:date{[0-9]{8}}/:slug{[a-z-]+}', '/posts/:date{[0-9]{8}}/:slug{[a-z-]+}'],
      ['GET /animals/:type?', '/animals/:type?'],
      ['GET /animals/:type?', '/animals/:type?'],
    ])
  })

  it('HEAD on a GET route: Hono answers with the GET handler; the span says HEAD and the route', async () => {
    const { app, memory } = setup()
    let ran = 0
    app.get('/users/:id', (c) => {
      ran++
      return c.json({ id: c.req.param('id') })
    })
    const res = await app.request('/users/3', { method: 'HEAD' })
    expect(res.status).toBe(200)
    expect(await res.text()).toBe('')
    expect(ran).toBe(1)
    const server = onlyServer(memory)
    expect(server.name).toBe('HEAD /users/:id')
    expect(server.attributes['http.request.method']).toBe('HEAD')
    expect(server.attributes['http.route']).toBe('/users/:id')
  })

  it('a handler’s own c.notFound() (a missing entity) keeps the matched route and is not an error', async () => {
    const { app, memory } = setup()
    app.get('/users/:id', (c) => (c.req.param('id') === '1' ? c.text('one') : c.notFound()))
    const res = await app.request('/users/999')
    expect(res.status).toBe(404)
    expect(await res.text()).toBe('404 Not Found')
    const server = onlyServer(memory)
    expect(server.name).toBe('GET /users/:id')
    expect(server.attributes['http.route']).toBe('/users/:id')
    expect(server.attributes['http.response.status_code']).toBe(404)
    expect(server.status.code).toBe(StatusCode.UNSET)
  })

  it('an unmatched path with a custom app.notFound: the response is untouched, no http.route, not an error', async () => {
    const { app, memory } = setup()
    app.get('/users/:id', (c) => c.text('user'))
    app.notFound((c) => c.json({ error: 'no such route', path: c.req.path }, 404))
    const res = await app.request('/nope/123')
    expect(res.status).toBe(404)
    expect(await res.json()).toEqual({ error: 'no such route', path: '/nope/123' })
    const server = onlyServer(memory)
    expect(server.attributes['http.route']).toBeUndefined()
    expect(server.attributes['http.response.status_code']).toBe(404)
    expect(server.status.code).toBe(StatusCode.UNSET)
  })

  // BUG: the span keeps its start name `GET /no/such/thing/<id>`. semconv http-spans.md "Name":
  // without a low-cardinality target the name SHOULD be `{method}`, and "Instrumentation MUST NOT
  // default to using URI path as a {target}" (every scanner probe becomes its own span name).
  // test/hono/hono-workerd.test.ts currently asserts the raw-path name for this case.
  it('an unmatched path (default 404) is named by the method alone, never by the raw path', async () => {
    const { app, memory } = setup()
    app.get('/users/:id', (c) => c.text('user'))
    const res = await app.request('/no/such/thing/8f14e45f')
    expect(res.status).toBe(404)
    expect(await res.text()).toBe('404 Not Found')
    const server = onlyServer(memory)
    expect(server.attributes['http.route']).toBeUndefined()
    expect(server.name).toBe('GET')
  })

  // BUG: `app.get('*', spa)` is a real route, but matchedRoute() discards `*` as "no route" and the
  // name stays `GET /<raw path>`. Expected (semconv "Name"): `GET *` with http.route `*`, or at
  // least `GET`; never the URI path.
  it('a catch-all app.get("*") handler (SPA fallback) does not name the span by the raw path', async () => {
    const { app, memory } = setup()
    app.get('/api/health', (c) => c.text('ok'))
    app.get('*', (c) => c.html('<div id="app"></div>'))
    const res = await app.request('/dashboard/projects/5f2b')
    expect(await res.text()).toBe('<div id="app"></div>')
    const server = onlyServer(memory)
    expect(server.name).not.toContain('/dashboard')
    expect(['GET', 'GET *']).toContain(server.name)
  })

  // BUG: any middleware under a prefix that calls next() (cors, logger, auth on '/api/*') is the
  // last route Hono dispatched before its notFound handler, so matchedRoute() reports the
  // middleware pattern `/api/*` as http.route of a request no route answered. Expected: no
  // http.route and name `GET`, as for any unmatched path (the adapter's own doc: "unless the
  // answer came from no route at all"). The same happens under basePath(), where even
  // `app.use(mw)` registers as `/<base>/*`.
  it('an unmatched path behind a prefix middleware gets no http.route (the middleware pattern is not a route)', async () => {
    const { app, memory } = setup()
    app.use('/api/*', async (c, next) => {
      await next()
      c.header('x-api', '1')
    })
    app.get('/api/users/:id', (c) => c.text('user'))
    const res = await app.request('/api/nothing/here')
    expect(res.status).toBe(404)
    expect(res.headers.get('x-api')).toBe('1')
    const server = onlyServer(memory)
    expect(server.attributes['http.route']).toBeUndefined()
    expect(server.name).toBe('GET')
  })

  // BUG: same root cause under basePath(): `app.use(mw)` there registers as `/v1/*`, which
  // matchedRoute() does not recognise as "no route" (it only skips `*` and `/*`).
  it('basePath app: an unmatched path behind a plain app.use(mw) gets no http.route', async () => {
    const memory = memoryExporter()
    const app = new Hono().basePath('/v1')
    app.use(tracehop(config(memory)))
    app.use(async (c, next) => {
      await next()
      c.header('x-request-id', 'r1')
    })
    app.get('/users/:id', (c) => c.text('user'))
    const res = await app.request('/v1/orders/123')
    expect(res.status).toBe(404)
    expect(res.headers.get('x-request-id')).toBe('r1')
    const server = onlyServer(memory)
    expect(server.attributes['http.route']).toBeUndefined()
    expect(server.name).toBe('GET')
  })

  // BUG: `PURGE` is kept as is. semconv "HTTP server span" note [1]: a method not in RFC 9110
  // (+ PATCH) MUST be recorded as http.request.method `_OTHER` with http.request.method_original,
  // and "Name": `{method}` MUST then be `HTTP`.
  it('a custom method registered with app.on("PURGE", …) is recorded as _OTHER with the original kept', async () => {
    const { app, memory } = setup()
    app.on('PURGE', '/cache/:key', (c) => c.text(`purged ${c.req.param('key')}`))
    const res = await app.request('/cache/home', { method: 'PURGE' })
    expect(await res.text()).toBe('purged home')
    const server = onlyServer(memory)
    expect(server.attributes['http.request.method']).toBe('_OTHER')
    expect(server.attributes['http.request.method_original']).toBe('PURGE')
    expect(server.name).toBe('HTTP /cache/:key')
  })
})

describe('tracehop() under Hono error handling: only 5xx is a server error', () => {
  it('a 4xx returned by the handler is not an error', async () => {
    const { app, memory } = setup()
    app.post('/orders', (c) => c.json({ error: 'invalid' }, 422))
    const res = await app.request('/orders', { method: 'POST' })
    expect(res.status).toBe(422)
    const server = onlyServer(memory)
    expect(server.name).toBe('POST /orders')
    expect(server.attributes['http.response.status_code']).toBe(422)
    expect(server.status.code).toBe(StatusCode.UNSET)
    expect(exceptions(server)).toHaveLength(0)
  })

  it('a thrown Error turned into a custom 500 by app.onError: body untouched, ERROR, one exception event', async () => {
    const { app, memory } = setup()
    app.onError((err, c) => c.json({ failed: err.message }, 500))
    app.get('/reports/:id', () => {
      throw new TypeError('db down')
    })
    const res = await app.request('/reports/1')
    expect(res.status).toBe(500)
    expect(await res.json()).toEqual({ failed: 'db down' })
    const server = onlyServer(memory)
    expect(server.name).toBe('GET /reports/:id')
    expect(server.attributes['http.route']).toBe('/reports/:id')
    expect(server.attributes['http.response.status_code']).toBe(500)
    expect(server.status.code).toBe(StatusCode.ERROR)
    const ex = exceptions(server)
    expect(ex).toHaveLength(1)
    expect(ex[0]!['exception.type']).toBe('TypeError')
    expect(ex[0]!['exception.message']).toBe('db down')
  })

  it('a thrown HTTPException(503) is a server error with Hono’s response kept', async () => {
    const { app, memory } = setup()
    app.get('/ready', () => {
      throw new HTTPException(503, { message: 'warming up' })
    })
    const res = await app.request('/ready')
    expect(res.status).toBe(503)
    expect(await res.text()).toBe('warming up')
    const server = onlyServer(memory)
    expect(server.name).toBe('GET /ready')
    expect(server.attributes['http.response.status_code']).toBe(503)
    expect(server.status.code).toBe(StatusCode.ERROR)
  })

  // BUG: Hono's compose() sets c.error for EVERY thrown Error it hands to onError, including an
  // HTTPException(401) that the app answers deliberately; the middleware then calls
  // span.error(c.error), which sets status ERROR and marks the scope failed (so always-keep-errors
  // exports every 401). semconv "Status": 4xx on a SERVER span MUST leave the status unset.
  it('an HTTPException(401) answered by app.onError with a custom 401 is not a server error', async () => {
    const { app, memory } = setup()
    app.onError((err, c) => {
      if (err instanceof HTTPException) return c.json({ error: err.message }, err.status)
      return c.json({ error: 'internal' }, 500)
    })
    app.get('/me', () => {
      throw new HTTPException(401, { message: 'login required' })
    })
    const res = await app.request('/me')
    expect(res.status).toBe(401)
    expect(await res.json()).toEqual({ error: 'login required' })
    const server = onlyServer(memory)
    expect(server.name).toBe('GET /me')
    expect(server.attributes['http.response.status_code']).toBe(401)
    expect(server.status.code).toBe(StatusCode.UNSET)
  })

  // BUG: same root cause, through Hono's default error handler (err.getResponse()).
  it('an HTTPException carrying its own 401 Response: the response is Hono’s and the span is not an error', async () => {
    const { app, memory } = setup()
    app.get('/admin', () => {
      const res = new Response('go away', {
        status: 401,
        headers: { 'www-authenticate': 'Bearer realm="x"' },
      })
      throw new HTTPException(401, { res })
    })
    const res = await app.request('/admin')
    expect(res.status).toBe(401)
    expect(res.headers.get('www-authenticate')).toBe('Bearer realm="x"')
    expect(await res.text()).toBe('go away')
    const server = onlyServer(memory)
    expect(server.attributes['http.response.status_code']).toBe(401)
    expect(server.status.code).toBe(StatusCode.UNSET)
  })

  // BUG (gap): no error.type on failed server spans. semconv "HTTP server span": error.type is
  // Conditionally Required "If request has ended with an error"; note [4]: the status code as a
  // string, or the exception type if one was thrown.
  it('a 5xx server span carries error.type (the exception type, or the status code)', async () => {
    const { app, memory } = setup()
    app.onError((_err, c) => c.text('failed', 500))
    app.get('/throw', () => {
      throw new RangeError('bad')
    })
    app.get('/unavailable', (c) => c.text('later', 503))
    await app.request('/throw')
    await app.request('/unavailable')
    const [thrown, returned] = serverSpans(memory)
    expect(['RangeError', '500']).toContain(thrown!.attributes['error.type'])
    expect(returned!.attributes['error.type']).toBe('503')
  })

  it('a thrown non-Error escapes Hono (no onError for it): the request rejects with it and the span fails', async () => {
    const { app, memory } = setup()
    const thrown = { code: 'E_PLAIN' }
    app.get('/plain/:id', () => {
      throw thrown
    })
    // compose.js rethrows non-Errors; hono-base #handleError rethrows them too.
    await expect(app.request('/plain/1')).rejects.toBe(thrown)
    const server = onlyServer(memory)
    expect(server.name).toBe('GET /plain/:id')
    expect(server.status.code).toBe(StatusCode.ERROR)
    expect(server.attributes['http.response.status_code']).toBeUndefined()
    expect(exceptions(server)).toHaveLength(1)
  })
})

describe('tracehop() and the order of Hono middleware', () => {
  it('an auth middleware after tracehop that answers 401 early: one span, 401, no error, a template name', async () => {
    const { app, memory } = setup()
    let reached = false
    app.use('/admin/*', async (c, next) => {
      if (c.req.header('authorization') === undefined) return c.text('unauthorized', 401)
      await next()
    })
    app.get('/admin/users/:id', (c) => {
      reached = true
      return c.text('secret')
    })
    const res = await app.request('/admin/users/77')
    expect(res.status).toBe(401)
    expect(await res.text()).toBe('unauthorized')
    expect(reached).toBe(false)
    const server = onlyServer(memory)
    expect(server.attributes['http.response.status_code']).toBe(401)
    expect(server.status.code).toBe(StatusCode.UNSET)
    // Either the answering middleware's pattern or the handler route Hono matched; never the raw path.
    expect(['GET /admin/*', 'GET /admin/users/:id']).toContain(server.name)
  })

  it('an auth middleware registered before tracehop that answers early: tracehop never runs, no span', async () => {
    const memory = memoryExporter()
    const app = new Hono()
    app.use(async (c, next) => {
      if (c.req.header('authorization') === undefined) return c.text('unauthorized', 401)
      await next()
    })
    app.use(tracehop(config(memory)))
    app.get('/x', (c) => c.text('x'))
    const res = await app.request('/x')
    expect(res.status).toBe(401)
    expect(memory.spans()).toHaveLength(0)
    await app.request('/x', { headers: { authorization: 'Bearer t' } })
    expect(onlyServer(memory).name).toBe('GET /x')
  })

  it('tracehop registered twice on one app: the second reuses the first span, one server span per request', async () => {
    const memory = memoryExporter()
    const app = new Hono()
    app.use(tracehop(config(memory)))
    app.use(tracehop(config(memory)))
    app.get('/ok/:id', (c) => c.text('ok'))
    const res = await app.request('/ok/1')
    expect(await res.text()).toBe('ok')
    const server = onlyServer(memory)
    expect(server.name).toBe('GET /ok/:id')
    expect(server.attributes['http.route']).toBe('/ok/:id')
  })

  // BUG: both registrations see c.error (the second through its findSpan() "outer" branch, the
  // first in its own path) and each calls span.error(c.error): one thrown error, two `exception`
  // events on the one span. Expected: one exception event per thrown error.
  it('tracehop registered twice on one app: one thrown error is one exception event', async () => {
    const memory = memoryExporter()
    const app = new Hono()
    app.use(tracehop(config(memory)))
    app.use(tracehop(config(memory)))
    app.onError((_err, c) => c.text('oops', 500))
    app.get('/boom', () => {
      throw new Error('boom')
    })
    const res = await app.request('/boom')
    expect(await res.text()).toBe('oops')
    const failed = onlyServer(memory)
    expect(failed.status.code).toBe(StatusCode.ERROR)
    expect(exceptions(failed)).toHaveLength(1)
  })

  it('a sub-app with its own tracehop, attached with app.route(): one server span, exported by the outer config', async () => {
    const outer = memoryExporter()
    const inner = memoryExporter()
    const sub = new Hono<{ Variables: TracehopVariables }>()
    sub.use(tracehop(config(inner)))
    sub.get('/items/:id', (c) => c.text(`item ${c.req.param('id')}`))
    const app = new Hono()
    app.use(tracehop(config(outer)))
    app.route('/shop', sub)
    const res = await app.request('/shop/items/5')
    expect(await res.text()).toBe('item 5')
    expect(serverSpans(inner)).toHaveLength(0)
    const server = onlyServer(outer)
    expect(server.name).toBe('GET /shop/items/:id')
  })

  // BUG: mount() hands the mounted app a NEW Request (utils/mount.js createMountedRequest), so the
  // inner tracehop cannot find the outer span bound to the original request and starts a second,
  // unrelated trace: two SERVER spans with different trace ids for one HTTP request.
  it.fails('a Hono app with its own tracehop attached with app.mount(): one server span for one request', async () => {
    const outer = memoryExporter()
    const inner = memoryExporter()
    const legacy = new Hono<{ Variables: TracehopVariables }>()
    legacy.use(tracehop(config(inner)))
    legacy.get('/orders/:id', (c) => c.text(`order ${c.req.param('id')}`))
    const app = new Hono()
    app.use(tracehop(config(outer)))
    app.mount('/legacy', legacy.fetch)
    const res = await app.request('/legacy/orders/9')
    expect(await res.text()).toBe('order 9')
    const all = [...serverSpans(outer), ...serverSpans(inner)]
    expect(new Set(all.map((s) => s.traceId)).size).toBe(1)
    expect(all).toHaveLength(1)
  })
})

describe('tracehop() with Hono streaming helpers', () => {
  it('streamText (chunked text/plain) keeps the span open for the whole stream; headers and body untouched', async () => {
    const { app, memory } = setup()
    app.get('/tokens', (c) => {
      c.header('x-model', 'm1')
      return streamText(c, async (s) => {
        for (const t of ['a', 'b', 'c']) {
          await s.write(t)
          await s.sleep(25)
        }
      })
    })
    const res = await app.request('/tokens')
    expect(res.headers.get('content-type')).toMatch(/^text\/plain/)
    expect(res.headers.get('x-model')).toBe('m1')
    expect(await res.text()).toBe('abc')
    const server = await serverSpanEventually(memory)
    expect(server.name).toBe('GET /tokens')
    expect(server.endTime - server.startTime).toBeGreaterThanOrEqual(60)
  })

  it('stream() sets no content type: ended at the return under "auto", held for the body under "always"', async () => {
    const slow = (app: App): void => {
      app.get('/raw', (c) =>
        stream(c, async (s) => {
          await s.sleep(80)
          await s.write(new TextEncoder().encode('done'))
        }),
      )
    }
    const auto = setup()
    slow(auto.app)
    const autoRes = await auto.app.request('/raw')
    // Not streamed under "auto": the flush was awaited before the response (Node, no waitUntil).
    expect(onlyServer(auto.memory).endTime - onlyServer(auto.memory).startTime).toBeLessThan(80)
    expect(await autoRes.text()).toBe('done')

    const always = setup({ streaming: 'always' })
    slow(always.app)
    const res = await always.app.request('/raw')
    expect(serverSpans(always.memory)).toHaveLength(0)
    expect(await res.text()).toBe('done')
    const server = await serverSpanEventually(always.memory)
    expect(server.endTime - server.startTime).toBeGreaterThanOrEqual(75)
  })

  it('an error inside streamSSE is swallowed by Hono; the user’s onError can still fail the open span', async () => {
    const { app, memory } = setup()
    app.get('/events', (c) =>
      streamSSE(
        c,
        async (s) => {
          await s.writeSSE({ data: 'first' })
          throw new Error('upstream died')
        },
        async (err) => {
          c.var.span.error(err)
        },
      ),
    )
    const res = await app.request('/events')
    expect(res.status).toBe(200)
    const text = await res.text()
    expect(text).toContain('data: first')
    // helper/streaming/sse.js run(): onError, then an `event: error` message, then close.
    expect(text).toContain('event: error')
    const server = await serverSpanEventually(memory)
    expect(server.attributes['http.response.status_code']).toBe(200)
    expect(server.status.code).toBe(StatusCode.ERROR)
    expect(exceptions(server).map((e) => e['exception.message'])).toEqual(['upstream died'])
  })

  // Questionable: Hono answers HEAD with `new Response(null, getResponse)` (hono-base.js #dispatch),
  // dropping the SSE body tracehop wrapped, so the body that would end the span is never read.
  // Expected: a body-less HEAD answer ends the span at the response, not at the flush budget.
  it('HEAD on an SSE route ends the span with the (body-less) response', async () => {
    const { app, memory } = setup({ flush: { windowMs: 0, budgetMs: 1500 } })
    app.get('/sse', (c) =>
      streamSSE(c, async (s) => {
        for (let i = 0; i < 3; i++) await s.writeSSE({ data: String(i) })
      }),
    )
    const res = await app.request('/sse', { method: 'HEAD' })
    expect(res.status).toBe(200)
    expect(await res.text()).toBe('')
    const server = await serverSpanEventually(memory, 3000)
    expect(server.attributes['tracehop.force_ended']).toBeUndefined()
    expect(server.endTime - server.startTime).toBeLessThan(500)
  })
})

describe('tracehop() and c.executionCtx', () => {
  it('on Node (no executionCtx): user code still sees Hono’s throwing getter; spans are out when fetch resolves', async () => {
    const { app, memory } = setup()
    app.get('/ctx', (c) => {
      try {
        void c.executionCtx
        return c.text('has ctx')
      } catch {
        return c.text('no ctx')
      }
    })
    const res = await app.fetch(new Request('http://localhost/ctx'))
    expect(onlyServer(memory).name).toBe('GET /ctx')
    expect(await res.text()).toBe('no ctx')
  })

  it('with an executionCtx passed to app.fetch: the flush goes to its waitUntil and does not delay the response', async () => {
    const memory = memoryExporter()
    // A real exporter that takes 150 ms per batch: awaiting the flush would hold the response that long.
    const slow: Exporter = {
      name: 'slow',
      async export(batch, deadline) {
        await sleep(150)
        return memory.export(batch, deadline)
      },
    }
    const app = new Hono()
    app.use(tracehop({ service: 'hono-sem', exporters: [slow], flush: { windowMs: 0 } }))
    app.get('/ctx', (c) => c.text('ok'))
    const pending: Promise<unknown>[] = []
    const ctx = {
      waitUntil(p: Promise<unknown>): void {
        pending.push(p)
      },
      passThroughOnException(): void {},
      props: {},
    }
    const started = Date.now()
    const res = await app.fetch(new Request('http://localhost/ctx'), undefined, ctx)
    expect(Date.now() - started).toBeLessThan(100)
    expect(await res.text()).toBe('ok')
    expect(memory.spans()).toHaveLength(0)
    expect(pending).toHaveLength(1)
    await Promise.all(pending)
    expect(onlyServer(memory).name).toBe('GET /ctx')
  })
})
