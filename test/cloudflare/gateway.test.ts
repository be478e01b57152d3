// The example gateway Worker (examples/gateway-worker) in workerd, configured from the
// repository's wrangler.toml: auth, rate limit, untrusted ingress, forwarding to the
// orchestrator with the trace continued.
import { readFileSync } from 'node:fs'
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { Miniflare } from 'miniflare'
import { parse } from 'smol-toml'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type CollectedTrace, type Collector, startCollector } from '../../cli/collector.js'
import { KIND, type OtlpReceiver, startOtlpReceiver } from '../support/otlp-receiver.js'
import { bundleWorker, nodeImports } from '../support/workerd-bundle.js'

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
let script: string
let receiver: OtlpReceiver
let orchestrator: Server
let orchestratorUrl: string
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
    let body = ''
    req.on('data', (c: Buffer) => {
      body += c.toString('utf8')
    })
    // A question that asks to fail gets what a failing orchestrator answers.
    req.on('end', () =>
      body.includes('"failAt"')
        ? res.writeHead(500, { 'content-type': 'application/json' }).end('{"error":"the agent failed"}')
        : res.writeHead(200, { 'content-type': 'application/json' }).end('{"answer":"hi"}'),
    )
  })
  await new Promise<void>((resolve) => orchestrator.listen(0, '127.0.0.1', resolve))
  const { port } = orchestrator.address() as AddressInfo
  orchestratorUrl = `http://127.0.0.1:${port}`
  script = await bundleWorker(config.main)
  expect(nodeImports(script)).toEqual([])
  mf = new Miniflare({
    modules: true,
    script,
    compatibilityDate: config.compatibility_date,
    compatibilityFlags: config.compatibility_flags ?? [],
    bindings: {
      ...config.vars,
      OTLP_URL: receiver.url,
      ORCHESTRATOR_URL: orchestratorUrl,
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
    expect(Object.keys(config.vars).sort()).toEqual([
      'ORCHESTRATOR_URL',
      'OTLP_URL',
      'RATE_LIMIT_PER_MINUTE',
      'SAMPLING_RATIO',
    ])
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

describe('example gateway Worker: SAMPLING_RATIO and LangSmith from its vars', () => {
  let sampledOut: Miniflare
  let collector: Collector

  beforeAll(async () => {
    collector = await startCollector({ port: 0, quietMs: 50 })
    sampledOut = new Miniflare({
      modules: true,
      script,
      compatibilityDate: config.compatibility_date,
      compatibilityFlags: config.compatibility_flags ?? [],
      bindings: {
        ...config.vars,
        OTLP_URL: `${collector.url}/v1/traces`,
        ORCHESTRATOR_URL: orchestratorUrl,
        API_TOKEN: 'secret-token',
        SAMPLING_RATIO: '0',
        LANGSMITH_ENDPOINT: collector.url,
        LANGSMITH_PROJECT: 'gateway-test',
      },
    })
    await sampledOut.ready
  })

  afterAll(async () => {
    await sampledOut?.dispose()
    await collector?.close()
  })

  function ask(body: unknown): Promise<Response> {
    return sampledOut.dispatchFetch('http://gateway.test/chat', {
      method: 'POST',
      body: JSON.stringify(body),
      headers: { 'content-type': 'application/json', authorization: 'Bearer secret-token' },
    }) as unknown as Promise<Response>
  }

  it('SAMPLING_RATIO=0 keeps no successful trace, and the failing one for its error, as OTLP and LangSmith runs to LANGSMITH_ENDPOINT', async () => {
    // The successful request first: were it kept, its spans would arrive before the failing one's.
    expect((await ask({ question: 'hi' })).status).toBe(200)
    expect((await ask({ question: 'hi', failAt: 'retrieval' })).status).toBe(500)
    // Both ways: the collector merges each span's OTLP record and its LangSmith run.
    const whole = (t: CollectedTrace): boolean =>
      t.spans.length === 5 && t.spans.every((s) => s.source === 'otlp' && s.runId !== undefined)
    await collector.waitFor((traces) => traces.some(whole), 5000)
    // Give a sampled successful trace time to show up too, were there one.
    await new Promise((r) => setTimeout(r, 200))
    const traces = collector.traces()
    expect(traces.map((t) => t.name)).toEqual(['POST /chat'])
    const trace = traces[0]!
    expect(whole(trace)).toBe(true)
    const root = trace.spans.find((s) => s.parentSpanId === undefined)!
    expect(root.name).toBe('POST /chat')
    expect(root.attributes['tracehop.kept_reason']).toBe('error')
    expect(root.attributes['http.response.status_code']).toBe(500)
    // LangSmith: the root run's id is the trace id.
    expect(root.runId!.replaceAll('-', '')).toBe(trace.traceId)
  })
})
