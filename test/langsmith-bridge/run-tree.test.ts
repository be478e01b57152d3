/**
 * tracehop/langsmith with the real `langsmith` SDK against a local receiver: a Python-style
 * `langsmith-trace` header comes in, `traceable` runs nest under the hop through
 * `runTree(span)`, and the hop's outgoing headers continue the same trace in another
 * `RunTree.fromHeaders` — one trace id and correct `parent_run_id`s end to end.
 */
import { Client } from 'langsmith'
import { RunTree } from 'langsmith/run_trees'
import { traceable } from 'langsmith/traceable'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { runTree } from '../../adapters/langsmith/index.js'
import { langsmith } from '../../src/export/langsmith-exporter.js'
import { createTracer, type TracerConfig } from '../../src/index.js'
import {
  type LangSmithReceiver,
  type ReceivedRun,
  startLangSmithReceiver,
} from '../support/langsmith-receiver.js'

let receiver: LangSmithReceiver

beforeAll(async () => {
  receiver = await startLangSmithReceiver()
})
afterAll(async () => {
  await receiver.close()
})
beforeEach(() => receiver.clear())

/** Python's `RunTree.to_headers()` dotted-order segment: `%Y%m%dT%H%M%S%fZ` + run id. */
function pySegment(ms: number, id: string): string {
  const iso = new Date(ms).toISOString() // 2025-01-01T12:00:00.123Z
  return `${iso.slice(0, 4)}${iso.slice(5, 7)}${iso.slice(8, 10)}T${iso.slice(11, 13)}${iso.slice(14, 16)}${iso.slice(17, 19)}${iso.slice(20, 23)}457Z${id}`
}

function pythonHeaders() {
  const traceId = crypto.randomUUID()
  const parentId = crypto.randomUUID()
  const now = Date.now()
  const dotted = `${pySegment(now - 50, traceId)}.${pySegment(now - 40, parentId)}`
  const baggage = [
    `langsmith-metadata=${encodeURIComponent(JSON.stringify({ tenant: 'acme' }))}`,
    `langsmith-tags=${encodeURIComponent('py,upstream')}`,
    `langsmith-project=${encodeURIComponent('agents')}`,
  ].join(',')
  return { traceId, parentId, dotted, headers: { 'langsmith-trace': dotted, baggage } }
}

function sdkClient(source = 'sdk'): Client {
  return new Client({ apiUrl: `${receiver.base}/${source}`, apiKey: 'test-key', autoBatchTracing: true })
}

function tracerFor(extra?: Partial<TracerConfig>) {
  return createTracer({
    service: 'orchestrator',
    exporters: [langsmith({ apiUrl: `${receiver.base}/tracehop`, apiKey: 'test-key' })],
    flush: { windowMs: 0 },
    ...extra,
  })
}

function posted(source: string): Map<string, ReceivedRun> {
  const out = new Map<string, ReceivedRun>()
  for (const r of receiver.runs()) if (r.source === source && r.op === 'post') out.set(r.id, r)
  return out
}

/** A run's outputs, whether the SDK sent them in a patch or merged into its post. */
function outputsOf(id: string): unknown {
  return [...receiver.runs()].reverse().find((r) => r.id === id && r.outputs !== undefined)?.outputs
}

function lastSegmentTime(dotted: string): string {
  const last = dotted.split('.').at(-1)!
  return last.slice(0, last.indexOf('Z'))
}

const agent = traceable(
  async (run: RunTree, question: string) => {
    const answer = await llm(run, question)
    return { answer }
  },
  { name: 'agent', run_type: 'chain' },
)
const llm = traceable(
  async (_run: RunTree, prompt: string) => ({
    text: `echo: ${prompt}`,
    usage_metadata: { input_tokens: 3, output_tokens: 2, total_tokens: 5 },
  }),
  {
    name: 'llm',
    run_type: 'llm',
  },
)
const tool = traceable(async (_run: RunTree, q: string) => `tool(${q})`, { name: 'tool', run_type: 'tool' })

describe('runTree(span)', () => {
  it('nests traceable runs under the hop and continues the Python trace end to end', async () => {
    const py = pythonHeaders()
    const client = sdkClient()
    const tracer = tracerFor()
    const scope = tracer.start(py.headers, { name: 'POST /chat' })
    const root = scope.root

    const rt = runTree(root, { client })
    expect(rt).toBeInstanceOf(RunTree)
    expect([rt.id, rt.trace_id, rt.dotted_order, rt.parent_run_id]).toEqual([
      root.runId,
      py.traceId,
      root.dottedOrder,
      py.parentId,
    ])
    expect(rt.project_name).toBe('agents')

    const result = await agent(rt, 'what is 6*7?')
    expect(result.answer.text).toBe('echo: what is 6*7?')

    // The other direction: the hop's outgoing headers, read by the langsmith SDK downstream.
    const headers = await root.child('call tool', (s) => s.headers())
    const downstream = RunTree.fromHeaders(headers, { client: sdkClient('downstream'), tracingEnabled: true })
    expect(downstream).toBeDefined()
    await tool(downstream!, 'q')

    // No waitUntil: end() resolves after tracehop's export and the SDK's batches.
    await scope.end()
    await downstream!.client.awaitPendingTraceBatches()

    const sdk = posted('sdk')
    const ours = posted('tracehop')
    const down = posted('downstream')
    const agentRun = [...sdk.values()].find((r) => r.name === 'agent')!
    const llmRun = [...sdk.values()].find((r) => r.name === 'llm')!
    const hopRun = ours.get(root.runId)!
    const callRun = [...ours.values()].find((r) => r.name === 'call tool')!
    const toolRun = [...down.values()].find((r) => r.name === 'tool')!

    // One LangSmith trace: the Python root's id, everywhere.
    for (const r of [agentRun, llmRun, hopRun, callRun, toolRun]) expect(r.trace_id).toBe(py.traceId)
    // Parents, end to end: python parent -> hop -> agent -> llm; hop -> call tool -> tool.
    expect(hopRun.parent_run_id).toBe(py.parentId)
    expect(agentRun.parent_run_id).toBe(root.runId)
    expect(llmRun.parent_run_id).toBe(agentRun.id)
    expect(callRun.parent_run_id).toBe(root.runId)
    expect(toolRun.parent_run_id).toBe(callRun.id)
    // Dotted orders continue one another, and never go back in time (LangSmith rejects that).
    const pairs: [ReceivedRun | { dotted_order: string }, ReceivedRun][] = [
      [{ dotted_order: py.dotted }, hopRun],
      [hopRun, agentRun],
      [agentRun, llmRun],
      [hopRun, callRun],
      [callRun, toolRun],
    ]
    for (const [parent, child] of pairs) {
      expect(child.dotted_order?.startsWith(`${parent.dotted_order}.`)).toBe(true)
      expect(child.dotted_order?.split('.').length).toBe(parent.dotted_order!.split('.').length + 1)
      expect(lastSegmentTime(child.dotted_order!) >= lastSegmentTime(parent.dotted_order!)).toBe(true)
    }
    // The trace's project and metadata reach the SDK's runs; outputs were patched in.
    expect(agentRun.session_name).toBe('agents')
    expect(agentRun.extra?.metadata?.['tenant']).toBe('acme')
    expect(outputsOf(llmRun.id)).toMatchObject({ text: 'echo: what is 6*7?' })
    expect(outputsOf(agentRun.id)).toMatchObject({ answer: { text: 'echo: what is 6*7?' } })
  })

  it("never posts or patches the hop's own run through the SDK", async () => {
    const client = sdkClient()
    const tracer = tracerFor()
    const scope = tracer.start(pythonHeaders().headers)
    const rt = runTree(scope.root, { client })
    await agent(rt, 'x')
    await rt.postRun()
    await rt.patchRun()
    await rt.end({ out: 1 })
    await scope.end()
    const sdkOps = receiver.runs().filter((r) => r.source === 'sdk' && r.id === scope.root.runId)
    expect(sdkOps).toEqual([])
    // Posted exactly once, by tracehop's exporter, with the span's name.
    const hop = receiver.runs().filter((r) => r.id === scope.root.runId)
    expect(hop.map((r) => [r.source, r.op, r.name])).toEqual([['tracehop', 'post', scope.root.name]])
  })

  it('starts children after the hop even within the same millisecond (dotted-order time order)', async () => {
    const client = sdkClient()
    const tracer = tracerFor({ exporters: [] })
    for (let i = 0; i < 20; i++) {
      const scope = tracer.start()
      const span = scope.root.startChild('hop')
      const rt = runTree(span, { client })
      const child = rt.createChild({ name: 'c' })
      const grandchild = child.createChild({ name: 'g', start_time: Date.now() - 10 })
      expect(lastSegmentTime(child.dotted_order) > lastSegmentTime(span.dottedOrder)).toBe(true)
      expect(lastSegmentTime(grandchild.dotted_order) >= lastSegmentTime(child.dotted_order)).toBe(true)
      span.end()
      await scope.end()
    }
  })

  it('scope.end() waits for the SDK batches inside the one flush it hands to waitUntil', async () => {
    const client = sdkClient()
    const tracer = tracerFor()
    const pending: Promise<unknown>[] = []
    const scope = tracer.start(pythonHeaders().headers, { waitUntil: (p) => void pending.push(p) })
    await agent(runTree(scope.root, { client }), 'q')
    void scope.end()
    expect(pending).toHaveLength(1)
    await Promise.all(pending)
    // Both SDK runs arrived complete (ended, with outputs) by the time waitUntil's promises settled.
    const sdk = [...posted('sdk').values()]
    expect(sdk.map((r) => r.name).sort()).toEqual(['agent', 'llm'])
    for (const r of sdk) expect(outputsOf(r.id)).toBeDefined()
  })

  it("bounds the wait for the SDK by the scope's flush budget", async () => {
    receiver.setDelay('slow', 5_000)
    try {
      const client = sdkClient('slow')
      const tracer = tracerFor({ exporters: [], flush: { windowMs: 0, budgetMs: 300 } })
      const scope = tracer.start()
      await agent(runTree(scope.root, { client }), 'q')
      const t0 = Date.now()
      await scope.end()
      expect(Date.now() - t0).toBeLessThan(1_500)
    } finally {
      receiver.setDelay('slow', 0)
    }
  })

  it('does not post children of a trace tracehop does not keep (head sampling), unless told to', async () => {
    const client = sdkClient()
    const tracer = tracerFor({ sampling: { ratio: 0 } })
    const a = tracer.start()
    const ran = await agent(runTree(a.root, { client }), 'q')
    expect(ran.answer.text).toBe('echo: q')
    await a.end()
    expect(receiver.runs()).toEqual([])
    const b = tracer.start()
    await agent(runTree(b.root, { client, tracingEnabled: true }), 'q')
    await b.end()
    expect(receiver.runs().filter((r) => r.source === 'sdk' && r.name === 'agent')).toHaveLength(1)
  })

  it('a fresh trace: the hop is a LangSmith root, its run id the trace id', async () => {
    const client = sdkClient()
    const tracer = tracerFor()
    const scope = tracer.start(undefined, { runType: 'chain' })
    const rt = runTree(scope.root, { client, projectName: 'p1' })
    expect(rt.trace_id).toBe(scope.root.runId)
    expect(rt.parent_run_id).toBeUndefined()
    await agent(rt, 'q')
    await scope.end()
    const agentRun = [...posted('sdk').values()].find((r) => r.name === 'agent')
    expect(agentRun?.trace_id).toBe(scope.root.runId)
    expect(agentRun?.session_name).toBe('p1')
  })
})
