// span.fetch() follows redirects itself: a 30x to another origin gets no trace headers and
// no identity baggage unless that origin is allowed, and then only the baggage routed to it.
// Real servers on 127.0.0.1: each port is its own origin. Node's own fetch underneath.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { createTracer, memoryExporter, SpanKind, type TracerConfig } from '../../src/index.js'
import { type HopServer, startHopServer, traceHeadersOf } from './helpers/hop-server.js'

const TP = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01'
const BAGGAGE = 'session.id=s1,user.id=u1,tenant=t1'

let allowed: HopServer // receives trace headers, user.id routed here only
let partner: HopServer // also allowed, tenant routed here only
let attacker: HopServer // not allowed

beforeAll(async () => {
  ;[allowed, partner, attacker] = await Promise.all([startHopServer(), startHopServer(), startHopServer()])
})
afterAll(async () => {
  await Promise.all([allowed.close(), partner.close(), attacker.close()])
})
beforeEach(() => {
  for (const s of [allowed, partner, attacker]) s.hits.length = 0
})

function setup(config: Partial<TracerConfig> = {}) {
  const memory = memoryExporter()
  const tracer = createTracer({
    service: 'agent',
    exporters: [memory],
    flush: { windowMs: 0 },
    propagation: {
      write: ['w3c', 'baggage', 'langsmith', 'xray'],
      allow: [allowed.origin, partner.origin],
      baggage: {
        keys: [
          'session.id',
          { key: 'user.id', to: [allowed.origin] },
          { key: 'tenant', to: [partner.origin] },
        ],
      },
    },
    ...config,
  })
  const scope = tracer.start({ traceparent: TP, tracestate: 'a=1', baggage: BAGGAGE })
  return { tracer, scope, memory }
}

describe('span.fetch() and redirects (Node fetch)', () => {
  for (const status of [301, 302, 303, 307, 308]) {
    it(`${status} to another origin: the attacker sees no trace header, the allowed host does`, async () => {
      const { scope, memory } = setup()
      const res = await scope.root.fetch(allowed.redirect(status, `${attacker.origin}/landing`))
      expect(res.status).toBe(200)
      expect(res.url).toBe(`${attacker.origin}/landing`)
      expect(res.redirected).toBe(true)
      expect(allowed.hits).toHaveLength(1)
      expect(traceHeadersOf(allowed.hits[0]!)).toMatchObject({ traceparent: expect.any(String) })
      expect(allowed.hits[0]!.headers['baggage']).toContain('user.id=u1')
      expect(attacker.hits).toHaveLength(1)
      expect(traceHeadersOf(attacker.hits[0]!)).toEqual({})
      await scope.end()
      const clients = memory.spans().filter((s) => s.kind === SpanKind.CLIENT)
      expect(clients.map((s) => s.attributes['http.response.status_code'])).toEqual([status, 200])
      expect(clients[1]!.attributes['http.request.resend_count']).toBe(1)
      expect(clients[1]!.attributes['server.port']).toBe(Number(new URL(attacker.origin).port))
    })
  }

  it('routed baggage is decided per hop: each allowed host gets its own keys and its own parent span', async () => {
    const { scope, memory } = setup()
    await scope.root.fetch(allowed.redirect(302, partner.redirect(307, `${attacker.origin}/end`)))
    const [a, p, x] = [allowed.hits[0]!, partner.hits[0]!, attacker.hits[0]!]
    expect(a.headers['baggage']).toContain('user.id=u1')
    expect(a.headers['baggage']).not.toContain('tenant')
    expect(p.headers['baggage']).toContain('tenant=t1')
    expect(p.headers['baggage']).toContain('session.id=s1')
    expect(p.headers['baggage']).not.toContain('user.id')
    expect(traceHeadersOf(x)).toEqual({})
    await scope.end()
    const clients = memory.spans().filter((s) => s.kind === SpanKind.CLIENT)
    expect(clients).toHaveLength(3)
    expect(a.headers['traceparent']).toContain(clients[0]!.spanId)
    expect(p.headers['traceparent']).toContain(clients[1]!.spanId)
  })

  it('307/308 resend method and body; 301/302 turn POST into GET; 303 turns PUT into GET', async () => {
    const { scope } = setup()
    const post = { method: 'POST', body: '{"q":1}', headers: { 'content-type': 'application/json' } }
    for (const status of [307, 308]) {
      attacker.hits.length = 0
      const res = await scope.root.fetch(allowed.redirect(status, `${attacker.origin}/x`), post)
      expect(await res.json()).toEqual({ method: 'POST', body: '{"q":1}' })
      expect(attacker.hits[0]!.headers['content-type']).toBe('application/json')
      expect(traceHeadersOf(attacker.hits[0]!)).toEqual({})
    }
    for (const [status, method] of [
      [301, 'POST'],
      [302, 'POST'],
      [303, 'PUT'],
    ] as const) {
      attacker.hits.length = 0
      const res = await scope.root.fetch(allowed.redirect(status, `${attacker.origin}/x`), {
        ...post,
        method,
      })
      expect(await res.json()).toEqual({ method: 'GET', body: '' })
      expect(attacker.hits[0]!.headers['content-type']).toBeUndefined()
    }
    // A 302 keeps a PUT a PUT, body included (only POST is rewritten).
    attacker.hits.length = 0
    const put = await scope.root.fetch(allowed.redirect(302, `${attacker.origin}/x`), {
      ...post,
      method: 'PUT',
    })
    expect(await put.json()).toEqual({ method: 'PUT', body: '{"q":1}' })
    await scope.end()
  })

  it('a streamed request body is not buffered for a redirect: a 307 rejects as fetch does', async () => {
    const { scope } = setup()
    const stream = new ReadableStream({
      start(c) {
        c.enqueue(new TextEncoder().encode('streamed'))
        c.close()
      },
    })
    attacker.hits.length = 0
    await expect(
      scope.root.fetch(allowed.redirect(307, `${attacker.origin}/x`), {
        method: 'POST',
        body: stream,
        duplex: 'half',
      } as RequestInit),
    ).rejects.toThrow(TypeError)
    // The first hop got the body; nothing was resent anywhere.
    expect(allowed.hits[0]!.body).toBe('streamed')
    expect(attacker.hits).toHaveLength(0)
    await scope.end()
  })

  it("the caller's own copies of the trace headers and its credentials do not reach the other origin", async () => {
    const { scope } = setup()
    const target = allowed.redirect(302, `${attacker.origin}/x`)
    await scope.root.fetch(target, {
      headers: {
        ...scope.root.headers(target),
        authorization: 'Bearer secret',
        cookie: 'sid=1',
        'x-own': 'kept',
      },
    })
    expect(allowed.hits[0]!.headers['authorization']).toBe('Bearer secret')
    const hit = attacker.hits[0]!
    expect(traceHeadersOf(hit)).toEqual({})
    expect(hit.headers['authorization']).toBeUndefined()
    expect(hit.headers['cookie']).toBeUndefined()
    expect(hit.headers['x-own']).toBe('kept')
    await scope.end()
  })

  it("copies of the first URL's headers do not carry its routed baggage to an allowed second host", async () => {
    const { scope } = setup()
    const target = allowed.redirect(302, `${partner.origin}/x`)
    await scope.root.fetch(target, { headers: scope.root.headers(target) })
    expect(allowed.hits[0]!.headers['baggage']).toContain('user.id=u1')
    expect(partner.hits[0]!.headers['baggage']).toContain('tenant=t1')
    expect(partner.hits[0]!.headers['baggage']).not.toContain('user.id')
    await scope.end()
  })

  it('a same-origin redirect keeps trace headers and credentials', async () => {
    const { scope } = setup()
    await scope.root.fetch(allowed.redirect(302, `${allowed.origin}/next`), {
      headers: { authorization: 'Bearer secret' },
    })
    expect(allowed.hits).toHaveLength(2)
    expect(allowed.hits[1]!.headers['traceparent']).toBeDefined()
    expect(allowed.hits[1]!.headers['authorization']).toBe('Bearer secret')
    await scope.end()
  })

  it("redirect: 'manual' returns the 30x untouched and 'error' rejects; neither reaches the other origin", async () => {
    const { scope } = setup()
    const manual = await scope.root.fetch(allowed.redirect(302, `${attacker.origin}/x`), {
      redirect: 'manual',
    })
    expect(manual.status).toBe(302)
    expect(manual.headers.get('location')).toBe(`${attacker.origin}/x`)
    await expect(
      scope.root.fetch(allowed.redirect(302, `${attacker.origin}/x`), { redirect: 'error' }),
    ).rejects.toThrow(TypeError)
    expect(attacker.hits).toHaveLength(0)
    await scope.end()
  })

  it('stops after 20 redirects with a TypeError, as fetch does', async () => {
    const { scope } = setup()
    let url = `${allowed.origin}/end`
    for (let i = 0; i < 21; i++) url = allowed.redirect(302, url)
    await expect(scope.root.fetch(url)).rejects.toThrow(TypeError)
    expect(allowed.hits).toHaveLength(21)
    let ok = `${allowed.origin}/end`
    for (let i = 0; i < 20; i++) ok = allowed.redirect(302, ok)
    expect((await scope.root.fetch(ok)).status).toBe(200)
    await scope.end()
  })
  it("each hop keeps the caller's request options (keepalive, credentials, referrer and its policy, cache)", async () => {
    const sent: Request[] = []
    const { scope } = setup({
      fetch: (input: RequestInfo | URL, init?: RequestInit) => {
        sent.push(input as Request)
        return fetch(input, init)
      },
    })
    const options = {
      keepalive: true,
      credentials: 'include',
      referrer: '',
      referrerPolicy: 'no-referrer',
      cache: 'no-store',
    } as const
    const res = await scope.root.fetch(allowed.redirect(307, `${attacker.origin}/x`), {
      ...options,
      method: 'POST',
      body: 'q',
    })
    expect(await res.json()).toEqual({ method: 'POST', body: 'q' })
    expect(sent).toHaveLength(2)
    for (const hop of sent) expect(hop).toMatchObject(options)
    await scope.end()
  })

  it('cancels the body of the redirect past the 20th before it rejects', async () => {
    // Every answer is a redirect whose body records that it was released.
    const cancelled: boolean[] = []
    const { scope } = setup({
      fetch: async (input: RequestInfo | URL) => {
        const n = cancelled.push(false) - 1
        const body = new ReadableStream({
          pull(c) {
            c.enqueue(new TextEncoder().encode('moved'))
          },
          cancel() {
            cancelled[n] = true
          },
        })
        const next = new URL((input as Request).url)
        next.searchParams.set('hop', String(n + 1))
        return new Response(body, { status: 302, headers: { location: next.href } })
      },
    })
    await expect(scope.root.fetch(`${allowed.origin}/loop`)).rejects.toThrow(TypeError)
    expect(cancelled).toHaveLength(21)
    await new Promise((r) => setTimeout(r, 0))
    expect(cancelled.every(Boolean)).toBe(true)
    await scope.end()
  })
})

// Node's fetch sends the `referrer` it is given as `Referer`, cut by `referrerPolicy`. Fetch,
// following a redirect itself, takes the redirect's `Referrer-Policy` header as the policy
// from then on (Referrer Policy §8.2), and starts each hop from the referrer the last one
// could send (§8.3). The allowed host plays the page the request comes from.
describe("span.fetch() redirects and the referrer (a redirect's Referrer-Policy)", () => {
  const page = () => `${allowed.origin}/page?session=secret`

  function recording() {
    const sent: Request[] = []
    const { scope } = setup({
      fetch: (input: RequestInfo | URL, init?: RequestInit) => {
        sent.push(input as Request)
        return fetch(input, init)
      },
    })
    return { scope, sent }
  }

  it('Referrer-Policy: no-referrer on a redirect: the next hop is sent with that policy and no Referer', async () => {
    const { scope, sent } = recording()
    await scope.root.fetch(allowed.redirect(302, `${attacker.origin}/x`, 'no-referrer'), {
      referrer: page(),
      referrerPolicy: 'unsafe-url',
    })
    expect(allowed.hits[0]!.headers['referer']).toBe(page())
    expect(attacker.hits).toHaveLength(1)
    expect(attacker.hits[0]!.headers['referer']).toBeUndefined()
    expect(sent.map((r) => r.referrerPolicy)).toEqual(['unsafe-url', 'no-referrer'])
    await scope.end()
  })

  it("without the header, the caller's referrer and policy hold on the next hop", async () => {
    const { scope, sent } = recording()
    await scope.root.fetch(allowed.redirect(302, `${attacker.origin}/x`), {
      referrer: page(),
      referrerPolicy: 'unsafe-url',
    })
    expect(attacker.hits[0]!.headers['referer']).toBe(page())
    expect(sent.map((r) => r.referrerPolicy)).toEqual(['unsafe-url', 'unsafe-url'])
    await scope.end()
  })

  // §8.1: the last token that is a policy wins; unknown tokens are skipped; none, no change.
  for (const [header, policy] of [
    ['unsafe-url, bogus, no-referrer', 'no-referrer'],
    ['no-referrer, bogus', 'no-referrer'],
    ['bogus', 'unsafe-url'],
    ['', 'unsafe-url'],
    [' origin ,\tbogus', 'origin'],
  ] as const) {
    it(`Referrer-Policy: ${JSON.stringify(header)} makes the next hop's policy ${policy}`, async () => {
      const { scope, sent } = recording()
      await scope.root.fetch(allowed.redirect(302, `${attacker.origin}/x`, header), {
        referrer: page(),
        referrerPolicy: 'unsafe-url',
      })
      expect(sent[1]!.referrerPolicy).toBe(policy)
      const referer = { 'no-referrer': undefined, origin: `${allowed.origin}/`, 'unsafe-url': page() }[policy]
      expect(attacker.hits[0]!.headers['referer']).toBe(referer)
      await scope.end()
    })
  }

  it('what one hop cut stays cut: the default policy sends the origin across, then only the origin back home', async () => {
    const { scope } = recording()
    await scope.root.fetch(allowed.redirect(302, attacker.redirect(302, `${allowed.origin}/back`)), {
      referrer: page(),
    })
    expect(allowed.hits.map((h) => h.headers['referer'])).toEqual([page(), `${allowed.origin}/`])
    expect(attacker.hits[0]!.headers['referer']).toBe(`${allowed.origin}/`)
    await scope.end()
  })

  // Node's fetch works out `about:client` from a global origin (undici's `setGlobalOrigin`, set
  // here through the symbol it reads): the referrer of a page only the runtime knows.
  it("a redirect's looser policy does not widen a referrer only the runtime knows (about:client)", async () => {
    const key = Symbol.for('undici.globalOrigin.1')
    const g = globalThis as Record<symbol, unknown>
    const before = g[key]
    g[key] = new URL(page())
    try {
      const { scope, sent } = recording()
      await scope.root.fetch(allowed.redirect(302, `${attacker.origin}/x`, 'unsafe-url'), {
        referrerPolicy: 'strict-origin',
      })
      // The runtime itself sends the page's origin on the first hop, as `fetch` would.
      expect(allowed.hits[0]!.headers['referer']).toBe(`${allowed.origin}/`)
      expect(sent[1]!.referrerPolicy).toBe('unsafe-url')
      // Not the page's full URL, which the runtime would work out again under `unsafe-url`.
      expect(attacker.hits[0]!.headers['referer']).toBeUndefined()
    } finally {
      g[key] = before
    }
  })

  it('a Request given whole keeps its own referrer and policy (new Request(request, init) would reset them)', async () => {
    const { scope, sent } = recording()
    await scope.root.fetch(
      new Request(allowed.redirect(302, `${attacker.origin}/x`), {
        referrer: page(),
        referrerPolicy: 'origin',
      }),
    )
    expect(sent[0]!.referrerPolicy).toBe('origin')
    expect(allowed.hits[0]!.headers['referer']).toBe(`${allowed.origin}/`)
    expect(attacker.hits[0]!.headers['referer']).toBe(`${allowed.origin}/`)
    await scope.end()
  })

  it("a Request given whole with referrerPolicy 'no-referrer' goes out under it", async () => {
    const { scope, sent } = recording()
    await scope.root.fetch(
      new Request(`${allowed.origin}/p`, { referrer: page(), referrerPolicy: 'no-referrer' }),
    )
    // What the runtime sends under it is its own affair (Node 20's fetch still sends the
    // origin): tracehop hands it the request with the caller's policy and referrer.
    expect(sent[0]!.referrerPolicy).toBe('no-referrer')
    expect(sent[0]!.referrer).toBe(page())
    await scope.end()
  })

  it('a looser policy on a later redirect does not bring back what the caller cut', async () => {
    const { scope, sent } = recording()
    await scope.root.fetch(allowed.redirect(302, `${attacker.origin}/x`, 'unsafe-url'), {
      referrer: page(),
      referrerPolicy: 'origin',
    })
    expect(sent[1]!.referrerPolicy).toBe('unsafe-url')
    expect(attacker.hits[0]!.headers['referer']).toBe(`${allowed.origin}/`)
    await scope.end()
  })
})
