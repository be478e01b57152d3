/**
 * The demo's orchestrator (examples/orchestrator-edge) in edge-runtime: one request, the
 * agent loop with the stub model, two tools called in parallel over HTTP, and one trace;
 * the gateway's path (`POST /chat`) next to the Next.js route's; and fault injection
 * (`"failAt": "retrieval"`), only where `FAULT_INJECTION=1` allows it.
 */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { fileURLToPath } from 'node:url'
import { EdgeRuntime, runServer } from 'edge-runtime'
import { build } from 'esbuild'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { type OtlpReceiver, type ReceivedSpan, startOtlpReceiver } from '../support/otlp-receiver.js'

const ENTRY = fileURLToPath(new URL('../../examples/orchestrator-edge/edge-entry.ts', import.meta.url))
const CLIENT = 3 // OTLP SpanKind: API kind + 1

interface Tool {
  readonly url: string
  readonly calls: { headers: IncomingHttpHeaders; body: string }[]
  close(): Promise<void>
}

async function startTool(reply: string): Promise<Tool> {
  const calls: Tool['calls'] = []
  const server: Server = createServer((req, res) => {
    let body = ''
    req.on('data', (c: Buffer) => {
      body += c.toString('utf8')
    })
    req.on('end', () => {
      calls.push({ headers: req.headers, body })
      // The retrieval example's switch: asked to fail, it answers 500.
      const status = req.headers['x-retrieval-fail'] === '1' ? 500 : 200
      setTimeout(() => res.writeHead(status, { 'content-type': 'text/plain' }).end(reply), 40)
    })
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/tool`,
    calls,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections()
        server.close(() => r())
      }),
  }
}

type EdgeServer = Awaited<ReturnType<typeof runServer>>

let receiver: OtlpReceiver
let retrieval: Tool
let enqueue: Tool
/** The orchestrator as configured by default (fault injection off). */
let server: EdgeServer
/** The same with `FAULT_INJECTION=1`, as the demo runs it. */
let faulty: EdgeServer

async function startOrchestrator(code: string, extraEnv: Record<string, string> = {}): Promise<EdgeServer> {
  const env = {
    RETRIEVAL_URL: retrieval.url,
    ENQUEUE_URL: enqueue.url,
    OTLP_URL: receiver.url,
    MODEL_LATENCY_MS: '15',
    ...extraEnv,
  }
  const runtime = new EdgeRuntime({ initialCode: `globalThis.__ENV__ = ${JSON.stringify(env)};\n${code}` })
  return runServer({ runtime, port: 0, host: '127.0.0.1' })
}

beforeAll(async () => {
  receiver = await startOtlpReceiver()
  retrieval = await startTool('doc-17: v2 adds streaming')
  enqueue = await startTool('queued job-3')
  const code = (
    await build({
      entryPoints: [ENTRY],
      bundle: true,
      format: 'iife',
      platform: 'browser',
      target: 'es2022',
      write: false,
    })
  ).outputFiles[0]!.text
  server = await startOrchestrator(code)
  faulty = await startOrchestrator(code, { FAULT_INJECTION: '1' })
})

afterAll(async () => {
  await Promise.all([server?.close(), faulty?.close()])
  await Promise.all([receiver?.close(), retrieval?.close(), enqueue?.close()])
})

beforeEach(() => {
  receiver.clear()
  retrieval.calls.length = 0
  enqueue.calls.length = 0
})

function one(spans: readonly ReceivedSpan[], name: string): ReceivedSpan {
  const found = spans.filter((s) => s.name === name)
  expect(found, name).toHaveLength(1)
  return found[0]!
}

async function ask(init?: { stream?: boolean; path?: string }): Promise<{ traceId: string; text: string }> {
  const res = await fetch(`${server.url}${init?.path ?? 'api/agent'}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(init?.stream ? { accept: 'text/event-stream' } : {}) },
    body: JSON.stringify({ question: 'What changed in v2?' }),
  })
  expect(res.status).toBe(200)
  const traceId = res.headers.get('x-trace-id')!
  return { traceId, text: await res.text() }
}

function post(on: EdgeServer, path: string, body: unknown): Promise<Response> {
  return fetch(`${on.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  })
}

describe('examples/orchestrator-edge in edge-runtime', () => {
  it('one trace: agent loop, gen_ai model spans with tokens, parallel tool calls that carry the trace', async () => {
    const { traceId, text } = await ask()
    expect(JSON.parse(text)).toMatchObject({ turns: 2, traceId })
    await server.waitUntil()
    const spans = receiver.spans.filter((s) => s.traceId === traceId)
    const root = one(spans, 'POST /api/agent')
    const agent = one(spans, 'agent')
    expect(agent.parentSpanId).toBe(root.spanId)

    const chats = spans.filter((s) => s.name === 'chat stub-1')
    expect(chats).toHaveLength(2)
    for (const chat of chats) {
      expect(chat.parentSpanId).toBe(agent.spanId)
      expect(chat.kind).toBe(CLIENT)
      expect(chat.attributes).toMatchObject({
        'gen_ai.operation.name': 'chat',
        'gen_ai.request.model': 'stub-1',
        'langsmith.span.kind': 'llm',
      })
      expect(chat.attributes['gen_ai.usage.input_tokens']).toBeGreaterThan(0)
      expect(chat.attributes['gen_ai.usage.output_tokens']).toBeGreaterThan(0)
    }

    const tools = ['retrieve', 'enqueue'].map((name) => one(spans, `execute_tool ${name}`))
    for (const t of tools) {
      expect(t.parentSpanId).toBe(agent.spanId)
      expect(t.attributes['langsmith.span.kind']).toBe('tool')
    }
    // Fan-out with Promise.all: the two tool spans overlap in time.
    const [a, b] = tools as [ReceivedSpan, ReceivedSpan]
    expect(a.startNs < b.endNs && b.startNs < a.endNs).toBe(true)

    // Each tool's service received the trace, parented to that tool's HTTP client span.
    for (const [tool, service] of [
      [a, retrieval],
      [b, enqueue],
    ] as const) {
      const http = spans.find((s) => s.parentSpanId === tool.spanId && s.kind === CLIENT)!
      expect(http.name).toMatch(/^POST 127\.0\.0\.1:\d+$/)
      expect(service.calls).toHaveLength(1)
      expect(service.calls[0]!.headers['traceparent']).toBe(`00-${traceId}-${http.spanId}-01`)
      expect(service.calls[0]!.headers['langsmith-trace']).toBeDefined()
    }
  })

  it('streams the answer as SSE, and the server span lasts until the last token', async () => {
    const t0 = Date.now()
    const { traceId, text } = await ask({ stream: true })
    const elapsedMs = Date.now() - t0
    expect(text).toContain('event: done')
    await server.waitUntil()
    const spans = receiver.spans.filter((s) => s.traceId === traceId)
    const root = one(spans, 'POST /api/agent')
    const agent = one(spans, 'agent')
    // The agent finished before streaming began; the root covers the stream as well.
    expect(root.endNs - agent.endNs).toBeGreaterThan(20_000_000n)
    expect(Number(root.endNs - root.startNs) / 1e6).toBeLessThanOrEqual(elapsedMs + 50)
    expect(root.attributes['http.response.body.size']).toBe(new TextEncoder().encode(text).length)
  })

  it('serves POST /chat, where the gateway example forwards, naming the server span by that route', async () => {
    const { traceId, text } = await ask({ path: 'chat' })
    expect(JSON.parse(text)).toMatchObject({ turns: 2, traceId })
    await server.waitUntil()
    const spans = receiver.spans.filter((s) => s.traceId === traceId)
    expect(one(spans, 'POST /chat').attributes['http.route']).toBe('/chat')
    expect(spans.some((s) => s.name === 'POST /api/agent')).toBe(false)
    expect(retrieval.calls).toHaveLength(1)
  })

  it('answers 404 for other paths and methods, calling no tool', async () => {
    expect((await post(server, 'api/other', { question: 'hi' })).status).toBe(404)
    expect((await fetch(`${server.url}chat`)).status).toBe(404)
    expect(retrieval.calls.length + enqueue.calls.length).toBe(0)
  })

  it('answers 400 for a body that is not a question (JSON null, no question), calling no tool', async () => {
    for (const body of [null, 42, {}, { question: '' }]) {
      expect((await post(server, 'chat', body)).status, JSON.stringify(body)).toBe(400)
    }
    expect(retrieval.calls.length + enqueue.calls.length).toBe(0)
  })

  it('refuses failAt (400) unless FAULT_INJECTION=1, so a caller cannot force a kept trace', async () => {
    const res = await post(server, 'chat', { question: 'Why is the index slow?', failAt: 'retrieval' })
    expect(res.status).toBe(400)
    expect(await res.json()).toEqual({
      error: 'failAt is accepted only with FAULT_INJECTION=1 on the orchestrator',
    })
    expect(retrieval.calls.length + enqueue.calls.length).toBe(0)
  })

  it('with FAULT_INJECTION=1, refuses a failAt other than "retrieval" (400)', async () => {
    const res = await post(faulty, 'chat', { question: 'Why is the index slow?', failAt: 'gateway' })
    expect(res.status).toBe(400)
    expect(retrieval.calls.length + enqueue.calls.length).toBe(0)
  })

  it('with FAULT_INJECTION=1, failAt: "retrieval" reaches retrieval as x-retrieval-fail and fails the request, traced', async () => {
    const res = await post(faulty, 'chat', { question: 'Why is the index slow?', failAt: 'retrieval' })
    expect(res.status).toBe(500)
    expect(await res.json()).toEqual({ error: 'the agent failed' })
    const traceId = res.headers.get('x-trace-id')
    expect(traceId).toMatch(/^[0-9a-f]{32}$/)
    // Only the retrieval call carries the switch; the model's arguments are unchanged.
    expect(retrieval.calls).toHaveLength(1)
    expect(retrieval.calls[0]!.headers['x-retrieval-fail']).toBe('1')
    expect(JSON.parse(retrieval.calls[0]!.body)).toEqual({ query: 'Why is the index slow?' })
    expect(enqueue.calls.every((c) => c.headers['x-retrieval-fail'] === undefined)).toBe(true)
    await faulty.waitUntil()
    await receiver.waitFor((all) => all.some((s) => s.traceId === traceId && s.name === 'POST /chat'), 5000)
    const spans = receiver.spans.filter((s) => s.traceId === traceId)
    const tool = one(spans, 'execute_tool retrieve')
    expect(tool.attributes['demo.fail_at']).toBe('retrieval')
    expect(tool.status).toBe(2)
    expect(one(spans, 'POST /chat').status).toBe(2)
    expect(one(spans, 'execute_tool enqueue').attributes['demo.fail_at']).toBeUndefined()
  })
})
