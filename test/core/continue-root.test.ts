// "Continuing a trace never rewrites its root" (docs/design.md, "Interop hazards"): a service that
// continues a remote LangSmith or W3C trace exports only its own runs and spans. The
// upstream context comes from the REAL langsmith SDK (RunTree.toHeaders()); the receiver is a
// node:http server on 127.0.0.1 that parses what arrives the way LangSmith's ingestion
// does (multipart `post.<id>` / `patch.<id>` parts, `/runs/batch`, `POST /runs`, `PATCH /runs/<id>`).
import fc from 'fast-check'
import { Client } from 'langsmith'
import { RunTree } from 'langsmith/run_trees'
import { afterEach, describe, expect, it } from 'vitest'
import { createTracer, langsmith, memoryExporter, type SpanRecord } from '../../src/index.js'
import {
  type LangSmithReceiver,
  type ReceivedRun,
  startLangSmithReceiver,
} from '../support/langsmith-receiver.js'

const open: LangSmithReceiver[] = []

/** A receiver closed after the test; clients use `apiUrl(rx)`. */
async function startReceiver(): Promise<LangSmithReceiver> {
  const rx = await startLangSmithReceiver()
  open.push(rx)
  return rx
}

const apiUrl = (rx: LangSmithReceiver): string => `${rx.base}/ls`

afterEach(async () => {
  while (open.length > 0) await open.pop()!.close()
})

/** An upstream agent's runs, made by the real SDK (never posted: the upstream is elsewhere). */
function upstreamChain(depth: number): RunTree[] {
  const client = new Client({ apiUrl: 'http://127.0.0.1:9', apiKey: 'k', autoBatchTracing: false })
  const chain = [
    new RunTree({
      name: 'upstream agent',
      inputs: { question: 'why is the sky blue' },
      project_name: 'agents',
      tags: ['prod'],
      metadata: { session: 's-1' },
      client,
      tracingEnabled: true,
    }),
  ]
  for (let i = 1; i < depth; i++)
    chain.push(chain[i - 1]!.createChild({ name: `upstream step ${i}`, inputs: { i } }))
  return chain
}

/** The service under test: continues `headers`, records three spans of its own, flushes. */
async function downstream(headers: Record<string, string>, receiver: LangSmithReceiver) {
  const memory = memoryExporter()
  const tracer = createTracer({
    service: 'retrieval',
    exporters: [langsmith({ apiUrl: apiUrl(receiver), apiKey: 'k' }), memory],
    flush: { windowMs: 0 },
  })
  const scope = tracer.start(new Headers(headers), { name: 'retrieval handler' })
  await scope.root.child('search', async (s) => {
    s.set('input.value', '{"query":"sky"}')
  })
  scope.root.startChild('llm', { runType: 'llm' }).end()
  const report = await scope.end()
  return { report, spans: memory.spans(), scope }
}

/** A run's creates and updates merged; these tests send every run whole, with its order. */
type Run = ReceivedRun & { readonly name: string; readonly trace_id: string; readonly dotted_order: string }

function posted(receiver: LangSmithReceiver): Map<string, Run> {
  const runs = new Map<string, Run>()
  for (const run of receiver.runs()) runs.set(run.id, { ...runs.get(run.id), ...run } as Run)
  return runs
}

function expectNothingAbout(receiver: LangSmithReceiver, upstream: readonly RunTree[]): void {
  for (const u of upstream) {
    expect(receiver.runs().filter((run) => run.id === u.id)).toEqual([])
    expect(receiver.requests().filter((r) => r.includes(u.id))).toEqual([])
  }
  for (const run of receiver.runs()) {
    expect(run.name).not.toBe('upstream agent')
    expect(run.inputs).not.toEqual({ question: 'why is the sky blue' })
  }
}

describe('continuing a trace never rewrites its root', () => {
  it('continues a LangSmith trace from the real SDK: posts only its own runs, under the upstream run, never patches', async () => {
    const rx = await startReceiver()
    const [upstream] = upstreamChain(1)
    const { report, spans } = await downstream(upstream!.toHeaders(), rx)
    expect(report).toMatchObject({ kept: true, dropped: 0 })
    expect(rx.runs().every((run) => run.op === 'post')).toBe(true)
    const runs = posted(rx)
    expect([...runs.keys()].sort()).toEqual(spans.map((s) => s.runId).sort())
    expect(runs.size).toBe(3)
    const root = [...runs.values()].find((r) => r.name === 'retrieval handler')!
    expect(root.parent_run_id).toBe(upstream!.id)
    expect(root.trace_id).toBe(upstream!.trace_id)
    expect(root.dotted_order.startsWith(`${upstream!.dotted_order}.`)).toBe(true)
    expect(root.dotted_order.split('.')).toHaveLength(2)
    expect(root.session_name).toBe('agents')
    for (const child of [...runs.values()].filter((r) => r !== root)) {
      expect(child.parent_run_id).toBe(root.id)
      expect(child.trace_id).toBe(upstream!.trace_id)
      expect(child.dotted_order.startsWith(`${root.dotted_order}.`)).toBe(true)
    }
    expectNothingAbout(rx, [upstream!])
  })

  it('continues from a nested upstream run: parent is that run, trace is the upstream root, the dotted order extends it', async () => {
    const rx = await startReceiver()
    const chain = upstreamChain(3)
    const parent = chain[2]!
    await downstream(parent.toHeaders(), rx)
    const root = [...posted(rx).values()].find((r) => r.name === 'retrieval handler')!
    expect(root.parent_run_id).toBe(parent.id)
    expect(root.trace_id).toBe(chain[0]!.id)
    expect(root.dotted_order.startsWith(`${parent.dotted_order}.`)).toBe(true)
    expect(root.dotted_order.split('.')).toHaveLength(4)
    expectNothingAbout(rx, chain)
  })

  it('sends what the real SDK itself sends when it continues the same headers: the child only, same parent, trace and prefix', async () => {
    const [upstream] = upstreamChain(1)
    const headers = upstream!.toHeaders()

    const sdkRx = await startReceiver()
    const client = new Client({ apiUrl: apiUrl(sdkRx), apiKey: 'k', autoBatchTracing: false })
    const continued = RunTree.fromHeaders(headers, { client, tracingEnabled: true })!
    const sdkChild = continued.createChild({ name: 'sdk handler', inputs: { q: 1 } })
    await sdkChild.postRun()
    await sdkChild.end({ ok: true })
    await sdkChild.patchRun()
    const sdkRuns = posted(sdkRx)
    // The reference: the SDK posts (and patches) its own child run and nothing about the upstream run.
    expect([...sdkRuns.keys()]).toEqual([sdkChild.id])
    expectNothingAbout(sdkRx, [upstream!])

    const ourRx = await startReceiver()
    await downstream(headers, ourRx)
    const ours = [...posted(ourRx).values()].find((r) => r.name === 'retrieval handler')!
    const theirs = sdkRuns.get(sdkChild.id)!
    expect(ours.parent_run_id).toBe(theirs.parent_run_id)
    expect(ours.trace_id).toBe(theirs.trace_id)
    const prefix = (d: string) => d.slice(0, d.lastIndexOf('.'))
    expect(prefix(ours.dotted_order)).toBe(prefix(theirs.dotted_order))
    expect(ours.session_name).toBe(theirs.session_name)
  })

  it('continues a W3C trace: exports only its own spans, parented to the remote span, and mints no LangSmith id for it', async () => {
    const rx = await startReceiver()
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736'
    const remoteSpan = '00f067aa0ba902b7'
    const { spans } = await downstream({ traceparent: `00-${traceId}-${remoteSpan}-01` }, rx)
    expect(spans).toHaveLength(3)
    expect(spans.every((s) => s.traceId === traceId && s.spanId !== remoteSpan)).toBe(true)
    const root = spans.find((s) => s.name === 'retrieval handler')!
    expect(root.parentSpanId).toBe(remoteSpan)
    const runs = posted(rx)
    expect(runs.size).toBe(3)
    expect(rx.runs().every((run) => run.op === 'post')).toBe(true)
    // No LangSmith run exists upstream: this service's root is a LangSmith root of its own.
    const rootRun = runs.get(root.runId)!
    expect(rootRun.parent_run_id).toBeUndefined()
    expect(rootRun.trace_id).toBe(rootRun.id)
    for (const run of runs.values()) expect(run.id.replaceAll('-', '').endsWith(remoteSpan)).toBe(false)
  })

  it('continues W3C and LangSmith headers of one upstream run together: both parents are that run, which is never sent', async () => {
    const rx = await startReceiver()
    const [upstream] = upstreamChain(1)
    const hex = upstream!.id.replaceAll('-', '')
    const headers = { ...upstream!.toHeaders(), traceparent: `00-${hex}-${hex.slice(16)}-01` }
    const { spans } = await downstream(headers, rx)
    const root = spans.find((s) => s.name === 'retrieval handler')!
    expect(root.parentSpanId).toBe(hex.slice(16))
    expect(posted(rx).get(root.runId)!.parent_run_id).toBe(upstream!.id)
    expect(spans.some((s: SpanRecord) => s.spanId === hex.slice(16))).toBe(false)
    expectNothingAbout(rx, [upstream!])
  })

  it('whatever the upstream depth, no upstream run is ever posted, patched or renamed', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 6 }), fc.nat({ max: 5 }), async (depth, pick) => {
        const rx = await startReceiver()
        const chain = upstreamChain(depth)
        const parent = chain[Math.min(pick, depth - 1)]!
        await downstream(parent.toHeaders(), rx)
        expect(posted(rx).size).toBe(3)
        expectNothingAbout(rx, chain)
        await rx.close()
        open.splice(open.indexOf(rx), 1)
      }),
      { numRuns: 15 },
    )
  })
})
