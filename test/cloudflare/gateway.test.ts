// The example gateway Worker (examples/gateway-worker) in workerd, configured from the
// repository's wrangler.toml: auth, rate limit, untrusted ingress, forwarding to the
// orchestrator with the trace continued.
import { readFileSync } from 'node:fs'
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { Miniflare } from 'miniflare'
import { parse } from 'smol-toml'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { bundleWorker, nodeImports } from './helpers/bundle.js'
import { KIND, type OtlpReceiver, startOtlpReceiver } from './helpers/otlp-receiver.js'

interface WranglerConfig {
  main: string
  compatibility_date: string
  compatibility_flags?: string[]
  vars: Record<string, string>
}

const config = parse(
  readFileSync(new URL('../../wrangler.toml', import.meta.url), 'utf8'),
) as unknown as WranglerConfig

let mf: Miniflare
let receiver: OtlpReceiver
let orchestrator: Server
let seen: (IncomingHttpHeaders & { traceparent?: string; baggage?: string })[] = []

async function chat(token: string | undefined, headers: Record<string, string> = {}): Promise<Response> {
  return mf.dispatchFetch('http://gateway.test/chat', {
    method: 'POST',
    body: JSON.stringify({ q: 'hello' }),
    headers: {
      'content-type': 'application/json',
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...headers,
    },
  }) as unknown as Promise<Response>
}

beforeAll(async () => {
  receiver = await startOtlpReceiver()
  orchestrator = createServer((req, res) => {
    seen.push(req.headers)
    req.resume()
    req.on('end', () => res.writeHead(200, { 'content-type': 'application/json' }).end('{"answer":"hi"}'))
  })
  await new Promise<void>((resolve) => orchestrator.listen(0, '127.0.0.1', resolve))
  const { port } = orchestrator.address() as AddressInfo
  const script = await bundleWorker(config.main)
  expect(nodeImports(script)).toEqual([])
  mf = new Miniflare({
    modules: true,
    script,
    compatibilityDate: config.compatibility_date,
    compatibilityFlags: config.compatibility_flags ?? [],
    bindings: {
      ...config.vars,
      OTLP_URL: receiver.url,
      ORCHESTRATOR_URL: `http://127.0.0.1:${port}`,
      RATE_LIMIT_PER_MINUTE: '5',
      API_TOKEN: 'secret-token',
    },
  })
  await mf.ready
})

afterAll(async () => {
  await mf?.dispose()
  await receiver?.close()
  await new Promise<void>((resolve) => orchestrator?.close(() => resolve()))
})

describe('example gateway Worker (wrangler.toml)', () => {
  it('wrangler.toml points at the example, without nodejs_compat, and declares its vars', () => {
    expect(config.main).toBe('examples/gateway-worker/index.ts')
    expect(config.compatibility_flags ?? []).not.toContain('nodejs_compat')
    expect(Object.keys(config.vars).sort()).toEqual(['ORCHESTRATOR_URL', 'OTLP_URL', 'RATE_LIMIT_PER_MINUTE'])
  })

  it('rejects a caller without the token (401), traced', async () => {
    seen = []
    const res = await chat(undefined)
    expect(res.status).toBe(401)
    expect(seen.length).toBe(0)
    await receiver.waitFor((spans) =>
      spans.some((s) => s.name === 'auth' && s.attributes['gateway.auth.result'] === 'denied'),
    )
  })

  it('forwards to the orchestrator, continuing the trace; untrusted ingress drops client baggage', async () => {
    seen = []
    const clientTrace = 'aaf92f3577b34da6a3ce929d0e0e4736'
    const res = await chat('secret-token', {
      traceparent: `00-${clientTrace}-00f067aa0ba902b7-01`,
      baggage: 'user.id=mallory',
    })
    expect(res.status).toBe(200)
    expect(await res.json()).toEqual({ answer: 'hi' })
    const headers = seen[0]!
    const traceparent = String(headers.traceparent)
    expect(traceparent.split('-')[1]).toBe(clientTrace)
    expect(String(headers.baggage ?? '')).not.toContain('mallory')
    await receiver.waitFor((spans) => spans.some((s) => s.traceId === clientTrace && s.kind === KIND.CLIENT))
    const spans = receiver.spans.filter((s) => s.traceId === clientTrace)
    const server = spans.find((s) => s.kind === KIND.SERVER)!
    expect(server.name).toBe('POST /chat')
    const client = spans.find((s) => s.kind === KIND.CLIENT)!
    expect(traceparent.split('-')[2]).toBe(client.spanId)
    expect(spans.map((s) => s.name)).toEqual(expect.arrayContaining(['auth', 'rate limit', 'orchestrate']))
  })

  it('rate-limits a client past its per-minute budget (429)', async () => {
    const statuses: number[] = []
    for (let i = 0; i < 6; i++) statuses.push((await chat('secret-token')).status)
    expect(statuses).toContain(429)
    await receiver.waitFor((spans) => spans.some((s) => s.attributes['gateway.rate_limited'] === true))
  })
})
