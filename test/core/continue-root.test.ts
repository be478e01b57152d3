// "Continuing a trace never rewrites its root" (DESIGN.md, Interop hazards): a service that
// continues a remote LangSmith or W3C trace exports only its own runs and spans. The
// upstream context comes from the REAL langsmith SDK (RunTree.toHeaders()); the receiver is a
// node:http server on 127.0.0.1 that parses what arrives the way LangSmith's ingestion
// does (multipart `post.<id>` / `patch.<id>` parts, `/runs/batch`, `POST /runs`, `PATCH /runs/<id>`).
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import fc from 'fast-check'
import { Client } from 'langsmith'
import { RunTree } from 'langsmith/run_trees'
import { afterEach, describe, expect, it } from 'vitest'
import { createMemoryExporter, createTracer, langsmith, type SpanRecord } from '../../src/index.js'

/** A run as received: the fields these tests read, plus whatever else was sent. */
interface ReceivedRun {
  id: string
  name: string
  trace_id: string
  parent_run_id?: string
  dotted_order: string
  session_name?: string
  inputs?: unknown
  [field: string]: unknown
}

interface RunOp {
  readonly kind: 'post' | 'patch'
  readonly id: string
  readonly run: ReceivedRun
}

interface LangSmithReceiver {
  readonly url: string
  /** Every run create/update received, in order. */
  readonly ops: RunOp[]
  /** Every request line, e.g. `PATCH /runs/<id>`. */
  readonly requests: string[]
  close(): Promise<void>
}

async function parse(method: string, path: string, contentType: string, body: Buffer): Promise<RunOp[]> {
  const ops: RunOp[] = []
  if (path.startsWith('/runs/multipart')) {
    const form = await new Request('http://receiver/runs/multipart', {
      method: 'POST',
      headers: { 'content-type': contentType },
      body: new Uint8Array(body),
    }).formData()
    const byKey = new Map<string, RunOp>()
    for (const [name, value] of form) {
      const [kind, id, field] = name.split('.') as ['post' | 'patch', string, string | undefined]
      const json = JSON.parse(typeof value === 'string' ? value : await value.text())
      let op = byKey.get(`${kind}.${id}`)
      if (op === undefined) {
        op = { kind, id, run: {} as ReceivedRun }
        byKey.set(`${kind}.${id}`, op)
        ops.push(op)
      }
      if (field === undefined) Object.assign(op.run, json)
      else op.run[field] = json
    }
  } else if (path.startsWith('/runs/batch')) {
    const json = JSON.parse(body.toString('utf8'))
    for (const run of json.post ?? []) ops.push({ kind: 'post', id: run.id, run })
    for (const run of json.patch ?? []) ops.push({ kind: 'patch', id: run.id, run })
  } else if (method === 'POST' && path === '/runs') {
    const run = JSON.parse(body.toString('utf8'))
    ops.push({ kind: 'post', id: run.id, run })
  } else if (method === 'PATCH' && path.startsWith('/runs/')) {
    ops.push({ kind: 'patch', id: path.slice('/runs/'.length), run: JSON.parse(body.toString('utf8')) })
  }
  return ops
}

const open: LangSmithReceiver[] = []

async function startLangSmithReceiver(): Promise<LangSmithReceiver> {
  const ops: RunOp[] = []
  const requests: string[] = []
  const server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const method = req.method ?? ''
      const path = req.url ?? ''
      requests.push(`${method} ${path}`)
      parse(method, path, req.headers['content-type'] ?? '', Buffer.concat(chunks)).then(
        (found) => {
          for (const op of found) ops.push(op)
          res.writeHead(path === '/info' ? 404 : 202, { 'content-type': 'application/json' }).end('{}')
        },
        () => res.writeHead(400).end(),
      )
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  const receiver: LangSmithReceiver = {
    url: `http://127.0.0.1:${port}`,
    ops,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
  open.push(receiver)
  return receiver
}

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
  const memory = createMemoryExporter()
  const tracer = createTracer({
    service: 'retrieval',
    exporters: [langsmith({ apiUrl: receiver.url, apiKey: 'k' }), memory],
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

function posted(receiver: LangSmithReceiver): Map<string, ReceivedRun> {
  const runs = new Map<string, ReceivedRun>()
  for (const op of receiver.ops) runs.set(op.id, { ...runs.get(op.id), ...op.run })
  return runs
}

function expectNothingAbout(receiver: LangSmithReceiver, upstream: readonly RunTree[]): void {
  for (const u of upstream) {
    expect(receiver.ops.filter((op) => op.id === u.id)).toEqual([])
    expect(receiver.requests.filter((r) => r.includes(u.id))).toEqual([])
  }
  for (const op of receiver.ops) {
    expect(op.run.name).not.toBe('upstream agent')
    expect(op.run.inputs).not.toEqual({ question: 'why is the sky blue' })
  }
}

describe('continuing a trace never rewrites its root', () => {
  it('continues a LangSmith trace from the real SDK: posts only its own runs, under the upstream run, never patches', async () => {
    const rx = await startLangSmithReceiver()
    const [upstream] = upstreamChain(1)
    const { report, spans } = await downstream(upstream!.toHeaders(), rx)
    expect(report).toMatchObject({ kept: true, dropped: 0 })
    expect(rx.ops.every((op) => op.kind === 'post')).toBe(true)
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
    const rx = await startLangSmithReceiver()
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

    const sdkRx = await startLangSmithReceiver()
    const client = new Client({ apiUrl: sdkRx.url, apiKey: 'k', autoBatchTracing: false })
    const continued = RunTree.fromHeaders(headers, { client, tracingEnabled: true })!
    const sdkChild = continued.createChild({ name: 'sdk handler', inputs: { q: 1 } })
    await sdkChild.postRun()
    await sdkChild.end({ ok: true })
    await sdkChild.patchRun()
    const sdkRuns = posted(sdkRx)
    // The reference: the SDK posts (and patches) its own child run and nothing about the upstream run.
    expect([...sdkRuns.keys()]).toEqual([sdkChild.id])
    expectNothingAbout(sdkRx, [upstream!])

    const ourRx = await startLangSmithReceiver()
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
    const rx = await startLangSmithReceiver()
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736'
    const remoteSpan = '00f067aa0ba902b7'
    const { spans } = await downstream({ traceparent: `00-${traceId}-${remoteSpan}-01` }, rx)
    expect(spans).toHaveLength(3)
    expect(spans.every((s) => s.traceId === traceId && s.spanId !== remoteSpan)).toBe(true)
    const root = spans.find((s) => s.name === 'retrieval handler')!
    expect(root.parentSpanId).toBe(remoteSpan)
    const runs = posted(rx)
    expect(runs.size).toBe(3)
    expect(rx.ops.every((op) => op.kind === 'post')).toBe(true)
    // No LangSmith run exists upstream: this service's root is a LangSmith root of its own.
    const rootRun = runs.get(root.runId)!
    expect(rootRun.parent_run_id).toBeUndefined()
    expect(rootRun.trace_id).toBe(rootRun.id)
    for (const run of runs.values()) expect(run.id.replaceAll('-', '').endsWith(remoteSpan)).toBe(false)
  })

  it('continues W3C and LangSmith headers of one upstream run together: both parents are that run, which is never sent', async () => {
    const rx = await startLangSmithReceiver()
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
        const rx = await startLangSmithReceiver()
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
