/**
 * The demo's orchestrator (examples/orchestrator-edge) in edge-runtime: one request, the
 * agent loop with the stub model, two tools called in parallel over HTTP, and one trace.
 */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { fileURLToPath } from 'node:url'
import { EdgeRuntime, runServer } from 'edge-runtime'
import { build } from 'esbuild'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { type OtlpReceiver, type ReceivedSpan, startOtlpReceiver } from './otlp-receiver.js'

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
      setTimeout(() => res.writeHead(200, { 'content-type': 'text/plain' }).end(reply), 40)
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

let receiver: OtlpReceiver
let retrieval: Tool
let enqueue: Tool
let server: Awaited<ReturnType<typeof runServer>>

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
  const env = {
    RETRIEVAL_URL: retrieval.url,
    ENQUEUE_URL: enqueue.url,
    OTLP_URL: receiver.url,
    MODEL_LATENCY_MS: '15',
  }
  const runtime = new EdgeRuntime({ initialCode: `globalThis.__ENV__ = ${JSON.stringify(env)};\n${code}` })
  server = await runServer({ runtime, port: 0, host: '127.0.0.1' })
})

afterAll(async () => {
  await server?.close()
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

async function ask(init?: { stream?: boolean }): Promise<{ traceId: string; text: string }> {
  const res = await fetch(`${server.url}api/agent`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(init?.stream ? { accept: 'text/event-stream' } : {}) },
    body: JSON.stringify({ question: 'What changed in v2?' }),
  })
  expect(res.status).toBe(200)
  const traceId = res.headers.get('x-trace-id')!
  return { traceId, text: await res.text() }
}

describe('examples/orchestrator-edge in edge-runtime', () => {
  it('one trace: agent loop, gen_ai model spans with tokens, parallel tool calls that carry the trace', async () => {
    const { traceId, text } = await ask()
    expect(JSON.parse(text)).toMatchObject({ turns: 2, traceId })
    await server.waitUntil()
    const spans = receiver.spans().filter((s) => s.traceId === traceId)
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
    const spans = receiver.spans().filter((s) => s.traceId === traceId)
    const root = one(spans, 'POST /api/agent')
    const agent = one(spans, 'agent')
    // The agent finished before streaming began; the root covers the stream as well.
    expect(root.endNs - agent.endNs).toBeGreaterThan(20_000_000n)
    expect(Number(root.endNs - root.startNs) / 1e6).toBeLessThanOrEqual(elapsedMs + 50)
    expect(root.attributes['http.response.body.size']).toBe(new TextEncoder().encode(text).length)
  })
})
