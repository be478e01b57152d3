// Issue 9 acceptance, end to end in workerd: one trace spans a Worker agent (HTTP), an MCP
// server Worker (tool calls over Streamable HTTP, one after another and in parallel in one
// session), a Durable Object chat socket (three messages, a real hibernation between the
// first and the second) and a two-step Workflow; every span is exported over OTLP/HTTP JSON
// to the `tracehop dev` collector, which draws the trace whole, with no orphans.
import { Miniflare } from 'miniflare'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type CollectedSpan, type Collector, renderWaterfall, startCollector } from '../../cli/collector.js'
import { bundleWorker } from '../support/workerd-bundle.js'
import { openSocket, traceparent } from './helpers/harness.js'

let collector: Collector
let mf: Miniflare

beforeAll(async () => {
  collector = await startCollector({ port: 0, quietMs: 200 })
  const [agent, tools] = await Promise.all([
    bundleWorker('test/cloudflare-agent/workers/e2e-agent.ts'),
    bundleWorker('test/mcp/fixtures/mcp-worker.ts'),
  ])
  const bindings = { OTLP_URL: `${collector.url}/v1/traces` }
  mf = new Miniflare({
    workers: [
      {
        name: 'agent',
        modules: true,
        compatibilityDate: '2025-09-01',
        script: agent,
        bindings,
        serviceBindings: { MCP: 'tools' },
        durableObjects: { CHAT: 'ChatRoom' },
        workflows: { FLOW: { name: 'research', className: 'ResearchFlowTraced' } },
      },
      { name: 'tools', modules: true, compatibilityDate: '2026-04-01', script: tools, bindings },
    ],
  })
  await mf.ready
}, 30_000)

afterAll(async () => {
  await mf?.dispose()
  await collector?.close()
})

async function agentFetch(path: string, init?: RequestInit): Promise<Response> {
  const worker = await mf.getWorker('agent')
  return (await worker.fetch(`http://agent.test${path}`, init as never)) as unknown as Response
}

function one(
  spans: readonly CollectedSpan[],
  pred: (s: CollectedSpan) => boolean,
  what: string,
): CollectedSpan {
  const found = spans.filter(pred)
  if (found.length !== 1) throw new Error(`expected one ${what}, found ${found.length}`)
  return found[0]!
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

describe('one agent trace across HTTP, MCP, a hibernating Durable Object socket and a Workflow', () => {
  it('stitches every hop into one trace the dev collector draws whole, with the right parents and links', async () => {
    const t0 = Date.now()
    // 1. The agent turn over HTTP: MCP tool calls and the Workflow start, under one server span.
    const turn = (await (await agentFetch('/turn')).json()) as {
      traceId: string
      spanId: string
      instanceId: string
      texts: string[]
    }
    expect(turn.texts).toEqual(['hits for sky', 'hits for blue', 'hits for rayleigh', 'hits for scattering'])
    const agentParent = traceparent(turn.traceId, turn.spanId)

    // 2. The chat socket, opened through the agent with its context on the upgrade request.
    const socket = await openSocket(
      await agentFetch('/chat?room=e2e&user=ada', {
        headers: { Upgrade: 'websocket', traceparent: agentParent },
      }),
    )
    const say = (text: string): string => JSON.stringify({ _trace: { traceparent: agentParent }, text })
    const r1 = await socket.send(say('one'))
    // Let message 1 flush, then stay idle past workerd's 10 s inactivity eviction (with room
    // for a starved workerd to run its eviction timer late).
    await collector.waitFor(() => collector.spans().some((s) => s.spanId === r1.spanId), 10_000)
    await sleep(13_000)
    const r2 = await socket.send(say('two'))
    const r3 = await socket.send(say('three'))
    // A real hibernation: the object was constructed anew for message 2, not for message 3.
    expect(r2.constructed).toBe(r1.constructed + 1)
    expect(r3.constructed).toBe(r2.constructed)
    expect(r3.attachment).toEqual({ user: 'ada', n: 2 })
    for (const r of [r1, r2, r3]) expect(r.traceId).toBe(turn.traceId)

    // 3. The Workflow has finished its two steps.
    for (let until = Date.now() + 15_000; ; ) {
      const status = (await (await agentFetch(`/flow/status?id=${turn.instanceId}`)).json()) as {
        status: string
        output?: { answer: string }
      }
      if (status.status === 'complete') {
        expect(status.output?.answer).toBe(
          'hits for blue; hits for rayleigh; hits for scattering; hits for sky',
        )
        break
      }
      if (Date.now() > until) throw new Error(`workflow ${turn.instanceId}: ${JSON.stringify(status)}`)
      await sleep(50)
    }

    const wanted = (spans: readonly CollectedSpan[]): boolean =>
      spans.filter((s) => s.name === 'ChatRoom/webSocketMessage').length === 3 &&
      spans.filter((s) => s.name === 'search index').length === 4 &&
      spans.some((s) => s.name === 'step summarize') &&
      spans.some((s) => s.name === 'ResearchFlow/run')
    await collector.waitFor(
      (traces) => traces.some((t) => t.traceId === turn.traceId && wanted(t.spans)),
      10_000,
    )
    socket.close(1000, 'bye')
    const trace = collector.trace(turn.traceId)!
    const spans = trace.spans
    const byId = new Map(spans.map((s) => [s.spanId, s]))
    const parentOf = (s: CollectedSpan): CollectedSpan | undefined =>
      s.parentSpanId === undefined ? undefined : byId.get(s.parentSpanId)

    // Drawn whole: one root, every other span's parent is in the trace.
    expect(trace.orphans).toBe(0)
    expect(spans.filter((s) => s.parentSpanId === undefined)).toHaveLength(1)
    expect(new Set(trace.services)).toEqual(new Set(['agent', 'worker-tools', 'chat', 'flow']))

    // The agent's server span is the root.
    const root = one(spans, (s) => s.spanId === turn.spanId, 'agent span')
    expect(root.service).toBe('agent')
    expect(root.kind).toBe('server')
    expect(root.parentSpanId).toBeUndefined()

    // MCP: each of the 4 tool calls is a client span under the agent span, whose server span
    // in the tools Worker is its child, with the tool handler's own span below.
    const calls = spans.filter((s) => s.name === 'tools/call search' && s.service === 'agent')
    expect(calls).toHaveLength(4)
    for (const call of calls) {
      expect(call.kind).toBe('client')
      expect(call.parentSpanId).toBe(root.spanId)
      const server = one(
        spans,
        (s) => s.service === 'worker-tools' && s.parentSpanId === call.spanId,
        'tool server',
      )
      expect(server.name).toBe('tools/call search')
      expect(server.kind).toBe('server')
      expect(server.attributes['gen_ai.tool.name']).toBe('search')
      const work = one(spans, (s) => s.parentSpanId === server.spanId, 'tool handler span')
      expect(work.name).toBe('search index')
      expect(String(work.attributes['meta.traceparent'])).toContain(call.spanId)
    }
    // One session: the first call ended before the other three started, and those three ran
    // in parallel (each started before any of them ended).
    const [first, ...parallel] = [...calls].sort((a, b) => a.startTime - b.startTime)
    expect(parallel).toHaveLength(3)
    expect(first!.endTime).toBeLessThanOrEqual(Math.min(...parallel.map((c) => c.startTime)))
    expect(Math.max(...parallel.map((c) => c.startTime))).toBeLessThan(
      Math.min(...parallel.map((c) => c.endTime)),
    )

    // Workflow: create (producer, under the agent span) -> run (consumer) -> two steps.
    const create = one(spans, (s) => s.name === 'create research', 'create span')
    expect(create.kind).toBe('producer')
    expect(create.parentSpanId).toBe(root.spanId)
    const run = one(spans, (s) => s.name === 'ResearchFlow/run', 'run span')
    expect(run.service).toBe('flow')
    expect(run.parentSpanId).toBe(create.spanId)
    expect(
      spans
        .filter((s) => s.parentSpanId === run.spanId)
        .map((s) => s.name)
        .sort(),
    ).toEqual(['step rank', 'step summarize'])

    // Chat: the upgrade continues the agent's trace (agent -> binding client -> the DO's
    // accepting span); each message span is a child of the agent span through `_trace`
    // and links to the accepting span, across the hibernation.
    const upgrade = one(
      spans,
      (s) => s.service === 'agent' && s.kind === 'server' && s.parentSpanId === root.spanId,
      'upgrade span',
    )
    const binding = one(
      spans,
      (s) => s.kind === 'client' && s.parentSpanId === upgrade.spanId,
      'binding span',
    )
    const accept = one(spans, (s) => s.service === 'chat' && s.kind === 'server', 'accept span')
    expect(accept.parentSpanId).toBe(binding.spanId)
    const messages = spans.filter((s) => s.name === 'ChatRoom/webSocketMessage')
    expect(messages.map((m) => m.spanId).sort()).toEqual([r1.spanId, r2.spanId, r3.spanId].sort())
    for (const m of messages) {
      expect(m.kind).toBe('consumer')
      expect(parentOf(m)).toBe(root)
      expect(m.links.map((l) => [l.traceId, l.spanId])).toContainEqual([turn.traceId, accept.spanId])
      expect(one(spans, (s) => s.parentSpanId === m.spanId, 'reply span').name).toBe('reply')
    }

    // The dev collector's waterfall shows every part.
    const drawn = renderWaterfall(trace, { width: 140 })
    for (const name of [
      'tools/call search',
      'search index',
      'create research',
      'ResearchFlow/run',
      'step rank',
      'step summarize',
      'ChatRoom/webSocketMessage',
      'reply',
    ])
      expect(drawn).toContain(name)
    expect(drawn).not.toContain('[orphan]')
    console.log(`${drawn}\n(e2e test body: ${Date.now() - t0} ms)`)
  }, 60_000)
})
