// The LangSmith exporter against a local receiver, checked against what the REAL langsmith
// SDK Client sends to the same receiver for the same tree (root, child, grandchild).
import { Client } from 'langsmith'
import { RunTree } from 'langsmith/run_trees'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { langsmith } from '../../src/export/langsmith-exporter.js'
import type { SpanRecord } from '../../src/span-record.js'
import { type Receiver, type Recorded, refusedUrl, startReceiver } from '../support/http-receiver.js'
import { type Built, batchOf, childSpan, type Part, parseMultipart, rootSpan } from './helpers.js'

function multipartParts(rx: Receiver): Part[] {
  return rx.requests.filter((r) => r.path === '/runs/multipart').flatMap(parseMultipart)
}

const INFO = {
  version: '0.10.0',
  batch_ingest_config: { size_limit_bytes: 20_971_520, size_limit: 100, use_multipart_endpoint: true },
}

function langsmithServer(info: unknown = INFO, multipartStatus = 202) {
  return (req: Recorded, res: import('node:http').ServerResponse): void => {
    if (req.path === '/info') {
      if (info === 'fail') res.writeHead(500).end()
      else res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(info))
    } else if (req.path === '/runs/multipart') res.writeHead(multipartStatus).end('{}')
    else res.writeHead(202, { 'content-type': 'application/json' }).end('{}')
  }
}

let rx: Receiver
beforeAll(async () => {
  rx = await startReceiver()
})
afterAll(() => rx.close())

function reset(handler = langsmithServer()): void {
  rx.requests.length = 0
  rx.handle(handler)
}

/** The tree the SDK test sends, as spans: a chain, an llm child, a failing tool grandchild. */
function ourTree(): Built[] {
  const common = { langsmithProject: 'proj', langsmithMetadata: { user: 'u1' } }
  const root = rootSpan({
    ...common,
    name: 'root',
    attributes: {
      'langsmith.span.kind': 'chain',
      'langsmith.inputs': '{"q":"hi"}',
      'langsmith.outputs': '{"answer":"ok"}',
      'langsmith.span.tags': 'a',
    },
  })
  const child = childSpan(root, {
    ...common,
    name: 'llm',
    attributes: {
      'gen_ai.operation.name': 'chat',
      'gen_ai.prompt': '{"messages":[{"role":"user","content":"hi"}]}',
      'gen_ai.completion': '{"content":"hello"}',
      'gen_ai.usage.input_tokens': 3,
      'gen_ai.usage.output_tokens': 5,
    },
  })
  const grandchild = childSpan(child, {
    ...common,
    name: 'tool',
    attributes: { 'langsmith.span.kind': 'tool', 'input.value': '{"x":1}' },
    status: { code: 2, message: 'boom' },
  })
  return [root, child, grandchild]
}

async function sdkSends(): Promise<Recorded[]> {
  reset()
  const client = new Client({ apiUrl: rx.url, apiKey: 'test', autoBatchTracing: true })
  const root = new RunTree({
    name: 'root',
    run_type: 'chain',
    inputs: { q: 'hi' },
    client,
    project_name: 'proj',
    tags: ['a'],
    metadata: { user: 'u1' },
  })
  await root.postRun()
  const child = root.createChild({
    name: 'llm',
    run_type: 'llm',
    inputs: { messages: [{ role: 'user', content: 'hi' }] },
  })
  await child.postRun()
  const grandchild = child.createChild({ name: 'tool', run_type: 'tool', inputs: { x: 1 } })
  await grandchild.postRun()
  await grandchild.end(undefined, 'boom')
  await grandchild.patchRun()
  await child.end({
    content: 'hello',
    usage_metadata: { input_tokens: 3, output_tokens: 5, total_tokens: 8 },
  })
  await child.patchRun()
  await root.end({ answer: 'ok' })
  await root.patchRun()
  await client.awaitPendingTraceBatches()
  return [...rx.requests]
}

async function oursSends(spans: readonly SpanRecord[], options = {}): Promise<Recorded[]> {
  reset()
  const exporter = langsmith({ apiUrl: rx.url, apiKey: 'test', ...options })
  const r = await exporter.export(batchOf(spans), Date.now() + 5000)
  expect(r).toMatchObject({ exported: spans.length, dropped: 0 })
  return [...rx.requests]
}

/** Parts grouped per run, in the order the runs were created (root, child, grandchild). */
function byRun(requests: Recorded[]): Map<string, Part[]>[] {
  const parts = requests.filter((r) => r.path === '/runs/multipart').flatMap(parseMultipart)
  const runs = new Map<string, Map<string, Part[]>>()
  for (const p of parts) {
    const id = p.name.split('.')[1]!
    if (!runs.has(id)) runs.set(id, new Map())
    runs.get(id)!.set(p.name.split('.').slice(2).join('.'), [p])
  }
  return [...runs.entries()]
    .sort(([, a], [, b]) => {
      const da = JSON.parse(a.get('')![0]!.body).dotted_order as string
      const db = JSON.parse(b.get('')![0]!.body).dotted_order as string
      return da.split('.').length - db.split('.').length
    })
    .map(([, m]) => m)
}

describe('LangSmith exporter: the same wire format as the langsmith SDK Client', () => {
  let sdk: Recorded[]
  let ours: Recorded[]
  beforeAll(async () => {
    sdk = await sdkSends()
    ours = await oursSends(ourTree().map((b) => b.record))
  }, 30_000)

  it('reads GET /info first, with x-api-key and Accept: application/json', () => {
    for (const reqs of [sdk, ours]) {
      expect(reqs[0]?.method).toBe('GET')
      expect(reqs[0]?.path).toBe('/info')
      expect(reqs[0]?.headers['x-api-key']).toBe('test')
      expect(reqs[0]?.headers.accept).toBe('application/json')
    }
  })

  it('POSTs /runs/multipart with x-api-key, a user agent and a multipart/form-data boundary', () => {
    for (const reqs of [sdk, ours]) {
      const post = reqs.filter((r) => r.path === '/runs/multipart')
      expect(post.length).toBeGreaterThan(0)
      for (const r of post) {
        expect(r.method).toBe('POST')
        expect(r.headers['x-api-key']).toBe('test')
        expect(r.headers['user-agent']).toBeTruthy()
        expect(r.headers['content-type']).toMatch(/^multipart\/form-data; boundary=\S+$/)
      }
    }
  })

  it('names parts post.<id> and post.<id>.<field>, each application/json; length=<bytes>', () => {
    for (const reqs of [sdk, ours]) {
      const parts = reqs.filter((r) => r.path === '/runs/multipart').flatMap(parseMultipart)
      expect(parts.length).toBeGreaterThan(0)
      for (const p of parts) {
        expect(p.name).toMatch(/^post\.[0-9a-f-]{36}(\.(inputs|outputs|events|extra|error|serialized))?$/)
        expect(p.contentType).toBe(`application/json; length=${Buffer.byteLength(p.body)}`)
        expect(() => JSON.parse(p.body)).not.toThrow()
      }
    }
  })

  it('sends the same parts per run (the SDK adds its deprecated, empty serialized part)', () => {
    const a = byRun(sdk)
    const b = byRun(ours)
    expect(b).toHaveLength(3)
    expect(a).toHaveLength(3)
    for (let i = 0; i < 3; i++) {
      const sdkFields = [...a[i]!.keys()].filter((k) => k !== 'serialized').sort()
      expect([...b[i]!.keys()].sort()).toEqual(sdkFields)
    }
  })

  it('puts the same keys in each run body, with the same value types', () => {
    const a = byRun(sdk)
    const b = byRun(ours)
    for (let i = 0; i < 3; i++) {
      const s = JSON.parse(a[i]!.get('')![0]!.body)
      const o = JSON.parse(b[i]!.get('')![0]!.body)
      delete s.child_runs // deprecated, always [] from RunTree
      expect(Object.keys(o).sort()).toEqual(Object.keys(s).sort())
      for (const k of Object.keys(s)) {
        // The SDK sends end_time as epoch ms; we send ISO 8601 with µs, as start_time is.
        if (k === 'end_time') continue
        expect([k, typeof o[k]]).toEqual([k, typeof s[k]])
      }
      const iso = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/
      expect(s.start_time).toMatch(iso)
      expect(o.start_time).toMatch(iso)
      expect(o.end_time).toMatch(iso)
      expect(o.dotted_order).toMatch(/^(\d{8}T\d{12}Z[0-9a-f-]{36})(\.\d{8}T\d{12}Z[0-9a-f-]{36})*$/)
      expect(o.run_type).toBe(s.run_type)
      expect(o.name).toBe(s.name)
      expect(o.session_name).toBe(s.session_name)
    }
  })

  it('sends inputs, outputs, error and extra in the shapes the SDK uses', () => {
    const a = byRun(sdk)
    const b = byRun(ours)
    const json = (m: Map<string, Part[]>, f: string) => JSON.parse(m.get(f)![0]!.body)
    for (let i = 0; i < 3; i++) {
      expect(json(b[i]!, 'inputs')).toEqual(json(a[i]!, 'inputs'))
      expect(Object.keys(json(b[i]!, 'extra')).sort()).toEqual(Object.keys(json(a[i]!, 'extra')).sort())
      expect(json(b[i]!, 'extra').metadata.user).toBe(json(a[i]!, 'extra').metadata.user)
    }
    expect(json(b[0]!, 'outputs')).toEqual(json(a[0]!, 'outputs'))
    expect(json(b[1]!, 'outputs')).toEqual(json(a[1]!, 'outputs')) // content + usage_metadata
    expect(json(b[2]!, 'error')).toBe(json(a[2]!, 'error'))
  })

  it('keeps the tree consistent: trace_id, parent_run_id, dotted order ancestry', () => {
    const runs = byRun(ours).map((m) => JSON.parse(m.get('')![0]!.body))
    const [root, child, grandchild] = runs
    expect(root.trace_id).toBe(root.id)
    expect(child.parent_run_id).toBe(root.id)
    expect(grandchild.parent_run_id).toBe(child.id)
    expect(grandchild.trace_id).toBe(root.id)
    expect(grandchild.dotted_order.startsWith(`${child.dotted_order}.`)).toBe(true)
  })
})

describe('LangSmith exporter behaviour', () => {
  it('drops and counts invalid runs, and sends the rest', async () => {
    reset()
    const [root, child, grandchild] = ourTree().map((b) => b.record) as [SpanRecord, SpanRecord, SpanRecord]
    const broken = { ...child, runTraceId: grandchild.runId } // first segment no longer its trace
    const r = await langsmith({ apiUrl: rx.url }).export(
      batchOf([root, broken, grandchild]),
      Date.now() + 5000,
    )
    expect(r).toMatchObject({ exported: 2, dropped: 1, reason: 'invalid' })
    expect(r.detail).toContain(child.runId)
    const sent = new Set(multipartParts(rx).map((p) => p.name.split('.')[1]))
    expect(sent).toEqual(new Set([root.runId, grandchild.runId]))
  })

  it('reads /info once per exporter, however many exports', async () => {
    reset()
    const exporter = langsmith({ apiUrl: rx.url, apiKey: 'k' })
    await Promise.all([1, 2, 3].map(() => exporter.export(batchOf([rootSpan().record]), Date.now() + 5000)))
    await exporter.export(batchOf([rootSpan().record]), Date.now() + 5000)
    expect(rx.requests.filter((r) => r.path === '/info')).toHaveLength(1)
    expect(rx.requests.filter((r) => r.path === '/runs/multipart')).toHaveLength(4)
  })

  it('falls back to /runs/batch when multipart answers 404, and stays there', async () => {
    reset(langsmithServer(INFO, 404))
    const exporter = langsmith({ apiUrl: rx.url, apiKey: 'k' })
    const spans = ourTree().map((b) => b.record)
    expect(await exporter.export(batchOf(spans), Date.now() + 5000)).toMatchObject({
      exported: 3,
      dropped: 0,
    })
    await exporter.export(batchOf([rootSpan().record]), Date.now() + 5000)
    const paths = rx.requests.map((r) => r.path)
    expect(paths).toEqual(['/info', '/runs/multipart', '/runs/batch', '/runs/batch'])
    const batch = rx.requests[2]!
    expect(batch.headers['content-type']).toBe('application/json')
    expect(batch.headers['x-api-key']).toBe('k')
    const body = JSON.parse(batch.body.toString())
    expect(body.patch).toEqual([])
    expect(body.post.map((r: { id: string }) => r.id)).toEqual(spans.map((s) => s.runId))
    expect(body.post[1].outputs.usage_metadata).toEqual({
      input_tokens: 3,
      output_tokens: 5,
      total_tokens: 8,
    })
  })

  it('uses /runs/batch directly when /info says multipart is off', async () => {
    reset(langsmithServer({ batch_ingest_config: { use_multipart_endpoint: false } }))
    await langsmith({ apiUrl: rx.url }).export(batchOf([rootSpan().record]), Date.now() + 5000)
    expect(rx.requests.map((r) => r.path)).toEqual(['/info', '/runs/batch'])
  })

  it('splits requests at batch_ingest_config.size_limit runs', async () => {
    reset(langsmithServer({ batch_ingest_config: { size_limit: 2 } }))
    const spans = [...ourTree(), ...ourTree()].map((b) => b.record)
    const r = await langsmith({ apiUrl: rx.url }).export(batchOf(spans), Date.now() + 5000)
    expect(r).toMatchObject({ exported: 6, dropped: 0 })
    const posts = rx.requests.filter((q) => q.path === '/runs/multipart')
    expect(posts.map((q) => new Set(parseMultipart(q).map((p) => p.name.split('.')[1])).size)).toEqual([
      2, 2, 2,
    ])
  })

  it('splits requests at batch_ingest_config.size_limit_bytes', async () => {
    reset(langsmithServer({ batch_ingest_config: { size_limit_bytes: 3000 } }))
    const spans = ourTree().map((b) => b.record)
    const big = { ...spans[0]!, attributes: { ...spans[0]!.attributes, note: 'x'.repeat(2000) } }
    await langsmith({ apiUrl: rx.url }).export(batchOf([big, spans[1]!, spans[2]!]), Date.now() + 5000)
    const posts = rx.requests.filter((q) => q.path === '/runs/multipart')
    expect(posts.length).toBeGreaterThanOrEqual(2)
    for (const p of posts.slice(1)) expect(p.body.length).toBeLessThanOrEqual(3000 + 100)
  })

  it("uses the SDK's defaults when /info fails, and still sends", async () => {
    reset(langsmithServer('fail'))
    const r = await langsmith({ apiUrl: rx.url }).export(batchOf([rootSpan().record]), Date.now() + 5000)
    expect(r).toMatchObject({ exported: 1, dropped: 0 })
    expect(rx.requests.map((q) => q.path)).toEqual(['/info', '/runs/multipart'])
  })

  it('retries a 503 from /runs/multipart', async () => {
    let n = 0
    const base = langsmithServer()
    reset((req, res) =>
      req.path === '/runs/multipart' && n++ === 0 ? res.writeHead(503).end() : base(req, res),
    )
    const r = await langsmith({ apiUrl: rx.url }).export(batchOf([rootSpan().record]), Date.now() + 5000)
    expect(r).toMatchObject({ exported: 1, attempts: 2 })
  })

  it('sends span events as run events', async () => {
    reset()
    const span = rootSpan({
      events: [{ name: 'first-token', us: 1_764_100_000_000_500, attributes: { index: 0 } }],
    }).record
    await langsmith({ apiUrl: rx.url }).export(batchOf([span]), Date.now() + 5000)
    const events = multipartParts(rx).find((p) => p.name.endsWith('.events'))
    expect(JSON.parse(events!.body)).toEqual([
      { name: 'first-token', time: '2025-11-25T19:46:40.000500Z', kwargs: { index: 0 } },
    ])
  })

  it('drops everything with reason network when LangSmith is unreachable, without throwing', async () => {
    const exporter = langsmith({ apiUrl: await refusedUrl() })
    const r = await exporter.export(batchOf(ourTree().map((b) => b.record)), Date.now() + 600)
    expect(r).toMatchObject({ exported: 0, dropped: 3, reason: 'network' })
  })

  it('rejects a relative apiUrl at configuration time', () => {
    expect(() => langsmith({ apiUrl: 'smith.langchain.com' })).toThrow(/apiUrl/)
  })
})
