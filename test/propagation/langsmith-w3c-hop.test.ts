// A LangSmith-native service behind a W3C-only caller: service A continues a `traceparent`
// from a caller that knows nothing of LangSmith, so its LangSmith trace (rooted at A's
// own root run) has another id than the W3C trace. Service B reads both; the LangSmith
// parent is consistent with the W3C one (its last run is the very span `traceparent`
// names), so B's runs join A's LangSmith tree, over HTTP, queue envelopes and MCP `_meta`.
// Also: the 1,000-segment limit, where a hop starts a new LangSmith trace rather than
// writing a header the next hop would refuse.
import { createServer, type IncomingHttpHeaders } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { metaCarrier, withContext } from '../../adapters/mcp/meta.js'
import { unwrapEnvelope, wrapEnvelope } from '../../src/envelope.js'
import { spanToRun, validateRun } from '../../src/export/langsmith-runs.js'
import { type MemoryExporter, memoryExporter } from '../../src/export/memory-exporter.js'
import { hexToUuid, newRunIdentity, spanIdFromRunId } from '../../src/ids.js'
import { LANGSMITH_TRACE_MAX_SEGMENTS, parseLangSmithTrace } from '../../src/propagation/langsmith-trace.js'
import type { SpanRecord } from '../../src/span-record.js'
import { createTracer, type Tracer } from '../../src/tracer.js'

const W3C_TRACE = '4bf92f3577b34da6a3ce929d0e0e4736'
const CALLER_SPAN = '00f067aa0ba902b7'
const TRACEPARENT = `00-${W3C_TRACE}-${CALLER_SPAN}-01`

function service(name: string): { tracer: Tracer; memory: MemoryExporter } {
  const memory = memoryExporter()
  return {
    tracer: createTracer({
      service: name,
      exporters: [memory],
      propagation: { allow: [/^http:\/\/127\.0\.0\.1:/] },
      log: () => {},
    }),
    memory,
  }
}

/** Every run valid for LangSmith, and every parent_run_id one of the runs. */
function expectOneLangSmithTree(spans: readonly SpanRecord[]): void {
  const runs = spans.map((s) => spanToRun(s, { attributes: {} }))
  for (const r of runs) expect(validateRun(r)).toBeUndefined()
  const ids = new Set(runs.map((r) => r.id))
  const roots = runs.filter((r) => r.parent_run_id === undefined)
  expect(roots).toHaveLength(1)
  for (const r of runs) {
    if (r.parent_run_id !== undefined) expect(ids.has(r.parent_run_id)).toBe(true)
    expect(r.trace_id).toBe(roots[0]!.id)
  }
}

let received: IncomingHttpHeaders[] = []
let url = ''
const server = createServer((req, res) => {
  received.push(req.headers)
  res.end('ok')
})
beforeAll(async () => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`
})
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())))

describe('a LangSmith parent behind a W3C-only hop is accepted when consistent', () => {
  it('HTTP: B continues A’s LangSmith trace; nothing counted as mismatch', async () => {
    const a = service('a')
    const b = service('b')
    received = []
    const scopeA = a.tracer.start({ traceparent: TRACEPARENT }, { name: 'A' })
    await scopeA.root.child('call b', (s) => s.fetch(url).then((r) => r.text()))
    await scopeA.end()
    const headers = received[0]!
    expect(headers['traceparent']).toMatch(new RegExp(`^00-${W3C_TRACE}-`))
    // The LangSmith trace is A's own: its id is not the W3C one.
    const ls = parseLangSmithTrace(String(headers['langsmith-trace']))!
    expect(ls.traceId).not.toBe(hexToUuid(W3C_TRACE))

    const scopeB = b.tracer.start(headers as Record<string, string>, { name: 'B' })
    await scopeB.root.child('work', () => {})
    await scopeB.end()
    expect(b.tracer.stats().invalid).toEqual({})
    const rootB = b.memory.spans().find((s) => s.name === 'B')!
    // The fetch span (a child of 'call b') is both the W3C and the LangSmith parent.
    const fetchA = a.memory.spans().find((s) => s.spanId === rootB.parentSpanId)!
    expect(rootB.traceId).toBe(W3C_TRACE)
    expect(rootB.parentRunId).toBe(fetchA.runId)
    expectOneLangSmithTree([...a.memory.spans(), ...b.memory.spans()])
  })

  it('queue envelope: the consumer continues the producer’s LangSmith run', async () => {
    const a = service('producer')
    const b = service('consumer')
    const scopeA = a.tracer.start({ traceparent: TRACEPARENT }, { name: 'A' })
    const sent = await scopeA.root.child('send', (s) => JSON.stringify(wrapEnvelope(s, { job: 1 })))
    await scopeA.end()
    const { carrier, valid, body } = unwrapEnvelope(JSON.parse(sent))
    expect({ valid, body }).toEqual({ valid: true, body: { job: 1 } })
    const scopeB = b.tracer.start(carrier, { name: 'consume' })
    await scopeB.end()
    expect(b.tracer.stats().invalid).toEqual({})
    const send = a.memory.spans().find((s) => s.name === 'send')!
    expect(b.memory.spans()[0]!.parentRunId).toBe(send.runId)
    expectOneLangSmithTree([...a.memory.spans(), ...b.memory.spans()])
  })

  it('MCP _meta: the server continues the client’s LangSmith run', async () => {
    const a = service('client')
    const b = service('server')
    const scopeA = a.tracer.start({ traceparent: TRACEPARENT }, { name: 'A' })
    const message = scopeA.root.child('tools/call', (s) =>
      withContext({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'x' } }, s, null),
    )
    await scopeA.end()
    const meta = (message.params as { _meta: Record<string, unknown> })._meta
    const scopeB = b.tracer.start(metaCarrier(meta, b.tracer.statsRecorder), { name: 'tools/call x' })
    await scopeB.end()
    expect(b.tracer.stats().invalid).toEqual({})
    const call = a.memory.spans().find((s) => s.name === 'tools/call')!
    expect(b.memory.spans()[0]!.parentRunId).toBe(call.runId)
    expectOneLangSmithTree([...a.memory.spans(), ...b.memory.spans()])
  })

  it('an inconsistent pair (other trace, other span) is still counted as mismatch and ignored', async () => {
    const b = service('b')
    const other = newRunIdentity(Date.now())
    const segment = `20250101T000000000000Z${other.runId}`
    expect(spanIdFromRunId(other.runId)).not.toBe(CALLER_SPAN)
    const scope = b.tracer.start({ traceparent: TRACEPARENT, 'langsmith-trace': segment })
    await scope.end()
    expect(b.tracer.stats().invalid).toEqual({ mismatch: 1 })
    const [root] = b.memory.spans()
    expect(root!.parentRunId).toBeUndefined()
    expect(root!.runTraceId).toBe(root!.runId)
  })
})

/** A valid dotted order of `n` segments, one µs apart, ending in the run `traceparent` names. */
function dottedOrderOf(n: number): { dotted: string; last: { spanId: string; runId: string } } {
  const segments: string[] = []
  let last = newRunIdentity(Date.UTC(2025, 0, 1))
  for (let i = 0; i < n; i++) {
    last = newRunIdentity(Date.UTC(2025, 0, 1))
    segments.push(`20250101T000000${String(i).padStart(6, '0')}Z${last.runId}`)
  }
  return { dotted: segments.join('.'), last }
}

describe('the 1,000-segment limit: a hop never writes a header it would refuse', () => {
  async function hop(depth: number) {
    const { dotted, last } = dottedOrderOf(depth)
    const a = service('a')
    received = []
    const scope = a.tracer.start(
      { traceparent: `00-${W3C_TRACE}-${last.spanId}-01`, 'langsmith-trace': dotted },
      { name: 'hop' },
    )
    await scope.root.fetch(url).then((r) => r.text())
    await scope.end()
    const out = String(received[0]!['langsmith-trace'])
    const runs = a.memory.spans().map((s) => spanToRun(s, { attributes: {} }))
    expect(runs).toHaveLength(2)
    return { a, last, out, runs, incoming: parseLangSmithTrace(dotted) }
  }

  it('999 segments: the root run is the 1,000th; its child starts a new LangSmith trace', async () => {
    const { a, last, out, runs, incoming } = await hop(999)
    expect(a.tracer.stats().invalid).toEqual({})
    const [call, root] = [runs.find((r) => r.name !== 'hop')!, runs.find((r) => r.name === 'hop')!]
    expect(root.dotted_order.split('.')).toHaveLength(LANGSMITH_TRACE_MAX_SEGMENTS)
    expect(root.parent_run_id).toBe(last.runId)
    expect(root.trace_id).toBe(incoming!.traceId)
    // The child would be segment 1,001: it is a LangSmith root that says where it was.
    expect(call).toMatchObject({ trace_id: call.id, dotted_order: out })
    expect(call.parent_run_id).toBeUndefined()
    expect(call.extra.metadata).toMatchObject({
      'tracehop.continues_run_id': root.id,
      'tracehop.continues_trace_id': incoming!.traceId,
    })
    expect(parseLangSmithTrace(out)?.segments).toHaveLength(1)
    for (const r of runs) expect(validateRun(r)).toBeUndefined()
  })

  it('1,000 segments: accepted; the root starts a new LangSmith trace, the W3C trace goes on', async () => {
    const { a, last, out, runs, incoming } = await hop(1000)
    expect(incoming).toBeDefined()
    expect(a.tracer.stats().invalid).toEqual({})
    const root = runs.find((r) => r.name === 'hop')!
    expect(root).toMatchObject({ trace_id: root.id })
    expect(root.parent_run_id).toBeUndefined()
    expect(root.extra.metadata['tracehop.continues_run_id']).toBe(last.runId)
    expect(parseLangSmithTrace(out)?.traceId).toBe(root.id)
    expect(parseLangSmithTrace(out)?.segments).toHaveLength(2)
    expect(a.memory.spans().every((s) => s.traceId === W3C_TRACE)).toBe(true)
    for (const r of runs) expect(validateRun(r)).toBeUndefined()
  })

  it('1,001 segments: refused and counted; the W3C parent is still continued', async () => {
    const { a, out, runs, incoming } = await hop(1001)
    expect(incoming).toBeUndefined()
    expect(a.tracer.stats().invalid).toEqual({ 'langsmith-trace': 1 })
    expect(parseLangSmithTrace(out)?.segments).toHaveLength(2)
    expect(a.memory.spans().every((s) => s.traceId === W3C_TRACE)).toBe(true)
    for (const r of runs) expect(validateRun(r)).toBeUndefined()
  })

  it('the next hop accepts every header a deep chain of hops writes', async () => {
    // Hops in a row from 995 segments, each continuing the last one's headers, past the limit.
    const { dotted, last } = dottedOrderOf(995)
    let headers: Record<string, string> = {
      traceparent: `00-${W3C_TRACE}-${last.spanId}-01`,
      'langsmith-trace': dotted,
    }
    const depths: number[] = []
    const { tracer } = service('loop')
    for (let i = 0; i < 10; i++) {
      const scope = tracer.start(headers)
      headers = scope.root.child('call', (s) => s.headers())
      depths.push(parseLangSmithTrace(headers['langsmith-trace']!)?.segments.length ?? 0)
      await scope.end()
    }
    expect(depths).toEqual([997, 999, 1, 3, 5, 7, 9, 11, 13, 15])
    expect(tracer.stats().invalid).toEqual({})
  })
})
