/**
 * tracehop/vercel against Vercel Edge / Next.js handler semantics and the OTel HTTP server
 * (and FaaS) semantic conventions, inside Vercel's real `edge-runtime` VM. The app below is
 * bundled with esbuild from source held in this file, served by edge-runtime's `createHandler`
 * (what `runServer` uses) on 127.0.0.1,
 * and exports OTLP/JSON to a receiver on 127.0.0.1.
 *
 * Refs: OTel semconv `http/http-spans.md` (HTTP server span: name, method, status, error.type),
 * `faas/faas-spans.md` (incoming invocations), Next.js route handlers / middleware
 * (`NextResponse.next()` answers with `x-middleware-next: 1`).
 */
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { fileURLToPath } from 'node:url'
import { createHandler, EdgeRuntime } from 'edge-runtime'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { bundleForEdge } from '../support/edge-script.js'
import { type OtlpReceiver, type ReceivedSpan, startOtlpReceiver } from '../support/otlp-receiver.js'

const HERE = fileURLToPath(new URL('.', import.meta.url))
const SERVER = 2 // OTLP SpanKind: API kind + 1
const ERROR = 2
const UNSET = 0
const BUDGET_MS = 1_500 // the app tracer's flush budget: spans still open wait ~1 000 ms of it

// Evaluated in the VM; `__CONFIG__` is defined before it runs. Kept as source so the test
// owns one file; esbuild resolves the imports from this directory.
const APP = `
import { traceOf, withTrace } from '../../adapters/vercel/index.js'
import { otlp } from '../../src/export/otlp-exporter.js'
import { createTracer } from '../../src/index.js'

const exporters = [otlp({ url: __CONFIG__.otlpUrl, encoding: 'json' })]
const flush = { windowMs: 5, budgetMs: ${BUDGET_MS} }
const tracer = createTracer({ service: 'semantics', exporters, flush })
// Ratio 0: only a followed (trusted) sampled flag, or an error, gets a trace exported.
const unsampled = createTracer({ service: 'semantics-r0', exporters, flush, sampling: { ratio: 0 } })
const encoder = new TextEncoder()
const sleep = (ms) => new Promise((r) => setTimeout(r, ms))
const probe = (globalThis.__PROBE__ = { cancelled: [], streamCancelled: 0 })

const thrownError = new TypeError('handler failed')
const thrownString = 'plain string failure'
const VALUE = { notAResponse: true }

const echo = (request) => {
  const span = traceOf(request)
  return Response.json({ traceId: span.traceId, spanId: span.spanId, parentSpanId: span.parentSpanId ?? null, headers: span.headers() })
}

// A token stream whose llm child span ends when the body is fully read or cancelled.
function tokens(request, count, gapMs) {
  const llm = traceOf(request).startChild('llm.stream', { runType: 'llm' })
  let i = 0
  return new Response(new ReadableStream({
    async pull(ctrl) {
      if (i === count) { llm.end(); ctrl.close(); return }
      await sleep(gapMs)
      ctrl.enqueue(encoder.encode('data: t' + i++ + '\\n\\n'))
    },
    cancel(reason) { probe.streamCancelled++; llm.event('cancelled').end() },
  }), { headers: { 'content-type': 'text/event-stream' } })
}

const h = {
  redirect: withTrace(() => Response.redirect('https://app.example/next', 307), tracer, { route: '/redirect' }),
  mw: withTrace((_r, _event) => new Response(null, { headers: { 'x-middleware-next': '1' } }), tracer, { route: '/mw' }),
  missing: withTrace(() => new Response('not found', { status: 404 }), tracer, { route: '/missing' }),
  throwError: withTrace(async (_r, _event) => { throw thrownError }, tracer, { route: '/throw-error' }),
  throwString: withTrace(async (_r, _event) => { throw thrownString }, tracer, { route: '/throw-string' }),
  value: withTrace(async (_r, _event) => VALUE, tracer, { route: '/value' }),
  stream: withTrace((r, _event) => tokens(r, 5, 40), tracer, { route: '/stream' }),
  streamFail: withTrace((_r, _event) => {
    let sent = false
    return new Response(new ReadableStream({
      async pull(ctrl) {
        if (sent) { await sleep(5); ctrl.error(new RangeError('upstream reset')); return }
        sent = true
        ctrl.enqueue(encoder.encode('data: first\\n\\n'))
      },
    }))
  }, tracer, { route: '/stream-fail' }),
  streamForever: withTrace((_r, _event) => new Response(new ReadableStream({
    async pull(ctrl) { await sleep(20); ctrl.enqueue(encoder.encode('data: tick\\n\\n')) },
    cancel(reason) { probe.cancelled.push(String(reason)) },
  })), tracer, { route: '/stream-forever' }),
  purge: withTrace((_r, _event) => new Response('purged'), tracer),
  purgeRoute: withTrace((_r, _event) => new Response('purged'), tracer, { route: '/x' }),
  users: withTrace((_r, _event) => new Response('user'), tracer, { route: '/users/[id]' }),
  plain: withTrace((_r, _event) => new Response('plain'), tracer),
  trusted: withTrace((r, _event) => echo(r), unsampled),
  untrusted: withTrace((r, _event) => echo(r), unsampled, { ingress: 'untrusted' }),
  echo: withTrace((r, _event) => echo(r), tracer, { route: '/echo' }),
}

async function dispatch(event) {
  const request = event.request
  const path = new URL(request.url).pathname
  switch (path) {
    case '/redirect': return h.redirect(request)
    case '/mw': return h.mw(request, event)
    case '/missing': return h.missing(request)
    case '/throw-error':
    case '/throw-string': {
      const expected = path === '/throw-error' ? thrownError : thrownString
      try {
        await (path === '/throw-error' ? h.throwError : h.throwString)(request, event)
        return Response.json({ threw: false })
      } catch (e) {
        return Response.json({ threw: true, same: e === expected }, { status: 500 })
      }
    }
    case '/value': {
      const v = await h.value(request, event)
      return Response.json({ same: v === VALUE })
    }
    case '/stream': return h.stream(request, event)
    case '/stream-fail': return h.streamFail(request, event)
    case '/stream-forever': return h.streamForever(request, event)
    case '/purge': return h.purge(request, event)
    case '/x': return h.purgeRoute(request, event)
    case '/users/42': return h.users(request, event)
    case '/plain/abc-123': return h.plain(request, event)
    case '/trusted': return h.trusted(request, event)
    case '/untrusted': return h.untrusted(request, event)
    case '/echo': return h.echo(request, event)
    case '/stats': return Response.json(tracer.stats())
    default: return new Response('no such test route', { status: 404 })
  }
}

globalThis.addEventListener('fetch', (event) => event.respondWith(dispatch(event)))
`

let receiver: OtlpReceiver
let runtime: EdgeRuntime
let server: Server
let base: string
let waitUntil: () => Promise<unknown>
/** Errors the runtime's handler rejected with (a body stream that failed mid-way). */
const handlerErrors: string[] = []

beforeAll(async () => {
  receiver = await startOtlpReceiver()
  const code = await bundleForEdge({ contents: APP, resolveDir: HERE, sourcefile: 'vercel-semantics-app.ts' })
  runtime = new EdgeRuntime({
    initialCode: `globalThis.__CONFIG__ = ${JSON.stringify({ otlpUrl: receiver.url })};\n${code}`,
  })
  // runServer's request listener lets a failed body stream become an unhandled rejection;
  // here it is caught and recorded, and the connection dropped.
  const edge = createHandler({ runtime })
  waitUntil = edge.waitUntil
  server = createServer((req, res) => {
    edge.handler(req, res).catch((err: unknown) => {
      handlerErrors.push(err instanceof Error ? `${err.name}: ${err.message}` : String(err))
      res.destroy()
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
})

afterAll(async () => {
  if (server) {
    await waitUntil()
    server.closeAllConnections()
    await new Promise<void>((resolve) => server.close(() => resolve()))
  }
  await receiver?.close()
})

/** Waits (bounded) for the server span named `name` and returns it. */
async function root(name: string, ms = 3_000): Promise<ReceivedSpan> {
  await receiver.waitFor((spans) => spans.some((s) => s.kind === SERVER && s.name === name), ms)
  return receiver.spans.find((s) => s.kind === SERVER && s.name === name)!
}

function hasEvent(span: ReceivedSpan, name: string): boolean {
  return span.events.some((e) => e.name === name)
}

interface Stats {
  invalid: Record<string, number>
  limits: Record<string, number>
}

async function stats(): Promise<Stats> {
  return (await (await fetch(`${base}/stats`)).json()) as Stats
}

describe('tracehop/vercel: Next.js / Vercel Edge semantics in edge-runtime', () => {
  it('Response.redirect() (307): response untouched, span UNSET with the 3xx status (3xx is not an error)', async () => {
    receiver.clear()
    const res = await fetch(`${base}/redirect`, { redirect: 'manual' })
    expect(res.status).toBe(307)
    expect(res.headers.get('location')).toBe('https://app.example/next')
    const span = await root('GET /redirect')
    expect(span.status).toBe(UNSET)
    expect(span.attributes['http.response.status_code']).toBe(307)
    expect(span.attributes['error.type']).toBeUndefined()
  })

  it('middleware passthrough (NextResponse.next(): x-middleware-next: 1, null body): header kept, span UNSET 200', async () => {
    receiver.clear()
    const res = await fetch(`${base}/mw`)
    expect(res.status).toBe(200)
    expect(res.headers.get('x-middleware-next')).toBe('1')
    expect(await res.text()).toBe('')
    const span = await root('GET /mw')
    expect(span.status).toBe(UNSET)
    expect(span.attributes['http.response.status_code']).toBe(200)
  })

  it('a 404 response: body kept, span UNSET, no error.type (4xx is the client’s error on a server span)', async () => {
    receiver.clear()
    const res = await fetch(`${base}/missing`)
    expect([res.status, await res.text()]).toEqual([404, 'not found'])
    const span = await root('GET /missing')
    expect(span.status).toBe(UNSET)
    expect(span.attributes['http.response.status_code']).toBe(404)
    expect(span.attributes['error.type']).toBeUndefined()
  })

  it('a thrown Error is rethrown as the same object; span ERROR with error.type = its class name', async () => {
    receiver.clear()
    const res = await fetch(`${base}/throw-error`)
    expect(await res.json()).toEqual({ threw: true, same: true })
    const span = await root('GET /throw-error')
    expect(span.status).toBe(ERROR)
    expect(span.statusMessage).toBe('handler failed')
    expect(span.attributes['error.type']).toBe('TypeError')
    expect(hasEvent(span, 'exception')).toBe(true)
  })

  it('a thrown non-Error (a string) is rethrown unchanged; span ERROR with a non-empty error.type', async () => {
    receiver.clear()
    const res = await fetch(`${base}/throw-string`)
    expect(await res.json()).toEqual({ threw: true, same: true })
    const span = await root('GET /throw-string')
    expect(span.status).toBe(ERROR)
    expect(span.statusMessage).toBe('plain string failure')
    expect(typeof span.attributes['error.type']).toBe('string')
    expect(span.attributes['error.type']).not.toBe('')
  })

  it('a handler returning a non-Response value gets that same value back; the span ends without a status code', async () => {
    receiver.clear()
    const res = await fetch(`${base}/value`)
    expect(await res.json()).toEqual({ same: true })
    const span = await root('GET /value')
    expect(span.status).toBe(UNSET)
    expect(span.attributes['http.response.status_code']).toBeUndefined()
  })

  it('HEAD on a streaming route: the server span ends at once and the export is not held to the flush budget', async () => {
    receiver.clear()
    const t0 = Date.now()
    const res = await fetch(`${base}/stream`, { method: 'HEAD' })
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toBe('text/event-stream')
    const span = await root('HEAD /stream')
    const exportedAfterMs = Date.now() - t0
    expect(Number(span.endNs - span.startNs) / 1e6).toBeLessThan(100)
    // Held, it would arrive after ~1 000 ms (budget minus the export's share) with the
    // never-read stream's child span force-ended.
    expect(exportedAfterMs).toBeLessThan(BUDGET_MS / 2)
    const inTrace = (s: ReceivedSpan): boolean => s.traceId === span.traceId && s.kind !== SERVER
    await receiver.waitFor((spans) => spans.some(inTrace), 3_000)
    const children = receiver.spans.filter(inTrace)
    expect(children.map((c) => c.name)).toEqual(['llm.stream'])
    for (const c of children) expect(c.attributes['tracehop.force_ended']).toBeUndefined()
  })

  it('a body whose source errors mid-stream: span ERROR with error.type, not recorded as a client cancel', async () => {
    receiver.clear()
    const res = await fetch(`${base}/stream-fail`)
    expect(res.status).toBe(200)
    // edge-runtime's handler ends the response in its `finally` before rethrowing: the client
    // gets the body cut after the first chunk, and the runtime got the source's own error.
    expect(await res.text().catch(() => 'aborted')).toMatch(/^(data: first\n\n|aborted)$/)
    expect(handlerErrors).toContain('RangeError: upstream reset')
    const span = await root('GET /stream-fail')
    expect(span.status).toBe(ERROR)
    expect(span.statusMessage).toBe('upstream reset')
    expect(span.attributes['error.type']).toBe('RangeError')
    expect(hasEvent(span, 'http.response.body.cancelled')).toBe(false)
    expect(span.attributes['tracehop.force_ended']).toBeUndefined()
  })

  it('a client that cancels mid-stream: source cancelled, span ends with http.response.body.cancelled, not force-ended', async () => {
    receiver.clear()
    const before = (runtime.evaluate('__PROBE__.cancelled.length') as number) ?? 0
    const controller = new AbortController()
    const res = await fetch(`${base}/stream-forever`, { signal: controller.signal })
    const reader = res.body!.getReader()
    await reader.read()
    controller.abort()
    await reader.closed.catch(() => {})
    const span = await root('GET /stream-forever')
    expect(hasEvent(span, 'http.response.body.cancelled')).toBe(true)
    expect(span.status).toBe(UNSET)
    expect(span.attributes['tracehop.force_ended']).toBeUndefined()
    expect(runtime.evaluate('__PROBE__.cancelled.length') as number).toBeGreaterThan(before)
  })

  // Input: `PURGE /purge` (no route option). Expected (semconv http-spans.md, "HTTP server
  // span" + "Name"): `http.request.method` is `_OTHER` for a method outside the known set,
  // with the original in `http.request.method_original`, and the span named `HTTP`.
  // Before the fix: `http.request.method: 'PURGE'`, no `method_original`, span named `PURGE`:
  // adapters/vercel/with-trace.ts:65 copies `request.method` verbatim into both (and :84).
  it('custom method PURGE without a route: http.request.method _OTHER + method_original, span named HTTP', async () => {
    receiver.clear()
    expect((await fetch(`${base}/purge`, { method: 'PURGE' })).status).toBe(200)
    await receiver.waitFor((spans) => spans.some((s) => s.kind === SERVER), 3_000)
    const span = receiver.spans.find((s) => s.kind === SERVER)!
    expect(span.name).toBe('HTTP')
    expect(span.attributes['http.request.method']).toBe('_OTHER')
    expect(span.attributes['http.request.method_original']).toBe('PURGE')
  })

  // Same cause as above: with `{ route: '/x' }` the name is `PURGE /x`, semconv asks `HTTP /x`.
  it('custom method PURGE with { route: "/x" }: span named "HTTP /x"', async () => {
    receiver.clear()
    expect((await fetch(`${base}/x`, { method: 'PURGE' })).status).toBe(200)
    await receiver.waitFor((spans) => spans.some((s) => s.kind === SERVER), 3_000)
    const span = receiver.spans.find((s) => s.kind === SERVER)!
    expect(span.name).toBe('HTTP /x')
    expect(span.attributes['http.route']).toBe('/x')
    expect(span.attributes['http.request.method']).toBe('_OTHER')
  })

  it('route with a Next.js dynamic segment names the span "GET /users/[id]"; without a route, the method alone', async () => {
    receiver.clear()
    await (await fetch(`${base}/users/42`)).text()
    await (await fetch(`${base}/plain/abc-123`)).text()
    const users = await root('GET /users/[id]')
    expect(users.attributes).toMatchObject({ 'http.route': '/users/[id]', 'url.path': '/users/42' })
    const plain = await root('GET')
    expect(plain.attributes['url.path']).toBe('/plain/abc-123')
    expect(plain.attributes['http.route']).toBeUndefined()
    expect(receiver.spans.some((s) => s.name.includes('/plain/') || s.name.includes('/users/42'))).toBe(false)
  })

  it('a sampled client traceparent: trusted (default) ingress follows it; untrusted keeps the trace id but not the decision', async () => {
    receiver.clear()
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736'
    const headers = { traceparent: `00-${traceId}-00f067aa0ba902b7-01`, baggage: 'tenant=acme' }
    // The tracer behind both routes samples at ratio 0: only a followed flag exports.
    const trusted = (await (await fetch(`${base}/trusted`, { headers })).json()) as {
      traceId: string
      spanId: string
      parentSpanId: string
      headers: Record<string, string>
    }
    expect(trusted.traceId).toBe(traceId)
    expect(trusted.parentSpanId).toBe('00f067aa0ba902b7')
    expect(trusted.headers['traceparent']).toMatch(new RegExp(`^00-${traceId}-[0-9a-f]{16}-01$`))
    expect(trusted.headers['baggage']).toContain('tenant=acme')
    const untrusted = (await (await fetch(`${base}/untrusted`, { headers })).json()) as typeof trusted
    expect(untrusted.traceId).toBe(traceId)
    // The client's sampled flag is not believed (ratio 0 decides), nor its baggage.
    expect(untrusted.headers['traceparent']).toMatch(/-00$/)
    expect(untrusted.headers['baggage']).toBeUndefined()
    await receiver.waitFor((spans) => spans.some((s) => s.spanId === trusted.spanId), 3_000)
    await new Promise((r) => setTimeout(r, 100))
    expect(receiver.spans.some((s) => s.spanId === untrusted.spanId)).toBe(false)
  })

  // Input: any request through withTrace (Vercel Functions are FaaS). Expected (semconv
  // faas/faas-spans.md, `faas.trigger`: "For the server/consumer span on the incoming side,
  // faas.trigger MUST be set"; `http` for an HTTP trigger). Before the fix: no faas.* attribute;
  // adapters/vercel/with-trace.ts:65-80 builds the attributes without it (the Cloudflare
  // adapter sets it: adapters/cloudflare/handlers.ts:36).
  it('sets faas.trigger = "http" on the incoming server span', async () => {
    receiver.clear()
    await (await fetch(`${base}/echo`)).text()
    const span = await root('GET /echo')
    expect(span.attributes['faas.trigger']).toBe('http')
  })

  it('a malformed traceparent and an oversized baggage: the handler runs, a fresh trace, both counted in stats()', async () => {
    receiver.clear()
    const before = await stats()
    const bad = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0x'
    const baggage = Array.from({ length: 80 }, (_, i) => `k${i}=${'v'.repeat(100)}`).join(',')
    const res = await fetch(`${base}/echo`, { headers: { traceparent: bad, baggage } })
    expect(res.status).toBe(200)
    const body = (await res.json()) as { traceId: string; parentSpanId: string | null }
    expect(body.traceId).toMatch(/^[0-9a-f]{32}$/)
    expect(body.traceId).not.toBe('4bf92f3577b34da6a3ce929d0e0e4736')
    expect(body.parentSpanId).toBeNull()
    const after = await stats()
    expect((after.invalid['traceparent'] ?? 0) - (before.invalid['traceparent'] ?? 0)).toBe(1)
    expect((after.limits['baggage'] ?? 0) - (before.limits['baggage'] ?? 0)).toBe(1)
    const span = await root('GET /echo')
    expect(span.parentSpanId).toBeUndefined()
  })
})
