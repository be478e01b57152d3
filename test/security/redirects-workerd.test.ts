// span.fetch() redirects in the real Workers runtime (workerd via miniflare), whose fetch
// gives `redirect: 'manual'` the real 30x: servers on 127.0.0.1, one origin per port.
import { Miniflare } from 'miniflare'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { type OtlpReceiver, startOtlpReceiver } from '../support/otlp-receiver.js'
import { bundleWorker } from '../support/workerd-bundle.js'
import { type HopServer, startHopServer, traceHeadersOf } from './helpers/hop-server.js'

const TP = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01'

let mf: Miniflare
let receiver: OtlpReceiver
let allowed: HopServer
let partner: HopServer
let attacker: HopServer

beforeAll(async () => {
  ;[receiver, allowed, partner, attacker] = await Promise.all([
    startOtlpReceiver(),
    startHopServer(),
    startHopServer(),
    startHopServer(),
  ])
  mf = new Miniflare({
    modules: true,
    script: await bundleWorker('test/security/workers/redirect-worker.ts'),
    compatibilityDate: '2025-01-01',
    bindings: { OTLP_URL: receiver.url, ALLOWED: allowed.origin, PARTNER: partner.origin },
  })
  await mf.ready
}, 60_000)

afterAll(async () => {
  await mf?.dispose()
  await Promise.all([receiver?.close(), allowed?.close(), partner?.close(), attacker?.close()])
})

beforeEach(() => {
  for (const s of [allowed, partner, attacker]) s.hits.length = 0
})

interface Answer {
  status?: number
  url?: string
  redirected?: boolean
  location?: string | null
  text?: string
  error?: string
  hops?: { cache?: string; keepalive?: boolean }[]
}

async function call(params: Record<string, string>): Promise<Answer> {
  const res = await mf.dispatchFetch(`http://worker.test/fetch?${new URLSearchParams(params)}`, {
    headers: { traceparent: TP, baggage: 'session.id=s1,user.id=u1,tenant=t1' },
  })
  return (await res.json()) as Answer
}

describe('span.fetch() redirects in workerd', () => {
  for (const status of [302, 307]) {
    it(`${status} to another origin: no trace header reaches it; the allowed host had them`, async () => {
      const answer = await call({
        url: allowed.redirect(status, `${attacker.origin}/landing`),
        method: 'POST',
        body: 'payload',
      })
      expect(answer.status).toBe(200)
      expect(answer.url).toBe(`${attacker.origin}/landing`)
      expect(answer.redirected).toBe(true)
      expect(allowed.hits[0]!.headers['traceparent']).toMatch(/^00-0af7651916cd43dd8448eb211c80319c-/)
      expect(allowed.hits[0]!.headers['baggage']).toContain('user.id=u1')
      const hit = attacker.hits[0]!
      expect(traceHeadersOf(hit)).toEqual({})
      // 302 turns the POST into a GET without a body; 307 resends both.
      expect([hit.method, hit.body]).toEqual(status === 302 ? ['GET', ''] : ['POST', 'payload'])
    })
  }

  it('routed baggage per hop: allowed → partner (302) → attacker (307)', async () => {
    const answer = await call({ url: allowed.redirect(302, partner.redirect(307, `${attacker.origin}/end`)) })
    expect(answer.status).toBe(200)
    expect(allowed.hits[0]!.headers['baggage']).toContain('user.id=u1')
    expect(allowed.hits[0]!.headers['baggage']).not.toContain('tenant')
    expect(partner.hits[0]!.headers['baggage']).toContain('tenant=t1')
    expect(partner.hits[0]!.headers['baggage']).not.toContain('user.id')
    expect(partner.hits[0]!.headers['traceparent']).not.toBe(allowed.hits[0]!.headers['traceparent'])
    expect(traceHeadersOf(attacker.hits[0]!)).toEqual({})
  })

  it("each hop keeps the caller's cache option; the options workerd lacks do not fail the hop", async () => {
    const answer = await call({
      url: allowed.redirect(307, `${attacker.origin}/x`),
      method: 'POST',
      body: 'payload',
      cache: 'no-store',
    })
    expect(answer.status).toBe(200)
    expect(answer.hops).toEqual([
      { cache: 'no-store', keepalive: false },
      { cache: 'no-store', keepalive: false },
    ])
    expect([attacker.hits[0]!.method, attacker.hits[0]!.body]).toEqual(['POST', 'payload'])
  })

  it("a redirect's Referrer-Policy header does not fail the hop where Request has no referrer options", async () => {
    const answer = await call({ url: allowed.redirect(302, `${attacker.origin}/x`, 'no-referrer, bogus') })
    expect(answer.status).toBe(200)
    expect(answer.redirected).toBe(true)
    expect(attacker.hits).toHaveLength(1)
    expect(attacker.hits[0]!.headers['referer']).toBeUndefined()
    expect(traceHeadersOf(attacker.hits[0]!)).toEqual({})
  })

  it("redirect: 'manual' returns the 30x and the other origin is never called", async () => {
    const answer = await call({ url: allowed.redirect(302, `${attacker.origin}/x`), redirect: 'manual' })
    expect(answer.status).toBe(302)
    expect(answer.location).toBe(`${attacker.origin}/x`)
    expect(attacker.hits).toHaveLength(0)
  })
})
