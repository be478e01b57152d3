// The collector's LangSmith ingestion, fed by the real `langsmith` SDK Client (RunTree,
// autoBatchTracing, awaitPendingTraceBatches) over real HTTP, plus the direct endpoints and
// tracehop's own exporters: one span sent as OTLP and as a run is one collected span.
import fc from 'fast-check'
import { Client } from 'langsmith'
import { RunTree } from 'langsmith/run_trees'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { type Collector, startCollector } from '../../cli/collector.js'
import { multipartRuns, parseRunTime, runToSpan } from '../../cli/langsmith-ingest.js'
import { boundaryOf, parseMultipart } from '../../cli/multipart.js'
import { langsmith } from '../../src/export/langsmith-exporter.js'
import { otlp } from '../../src/export/otlp-exporter.js'
import { spanIdFromRunId, uuidToHex } from '../../src/ids.js'
import { batchOf, childSpan, rootSpan } from '../export/helpers.js'
import { post } from './helpers.js'

let collector: Collector
const sdkRequests: { method: string; path: string; encoding: string | null; type: string | null }[] = []
beforeAll(async () => {
  collector = await startCollector({ port: 0, quietMs: 60_000 })
})
afterAll(() => collector.close())
beforeEach(() => {
  collector.clear()
  sdkRequests.length = 0
})

/** The SDK's Client, with its requests recorded on their way to the collector. */
function sdkClient(): Client {
  return new Client({
    apiUrl: collector.url,
    apiKey: 'dev',
    autoBatchTracing: true,
    fetchImplementation: ((input: string | URL | Request, init?: RequestInit) => {
      const headers = new Headers(init?.headers)
      sdkRequests.push({
        method: init?.method ?? 'GET',
        path: new URL(String(input)).pathname,
        encoding: headers.get('content-encoding'),
        type: headers.get('content-type'),
      })
      return fetch(input, init)
    }) as typeof fetch,
  })
}

describe('the langsmith SDK Client', () => {
  it('sends a RunTree root, child and failing grandchild that become collected spans', async () => {
    const client = sdkClient()
    const root = new RunTree({
      name: 'agent',
      run_type: 'chain',
      inputs: { question: 'why slow?' },
      client,
      project_name: 'my-project',
      tags: ['demo'],
      metadata: { 'service.name': 'gateway', user: 'u1' },
    })
    await root.postRun()
    const child = root.createChild({
      name: 'llm',
      run_type: 'llm',
      inputs: { messages: [{ role: 'user', content: 'hi' }] },
      metadata: { 'service.name': 'orchestrator' },
    })
    await child.postRun()
    const tool = child.createChild({ name: 'search', run_type: 'tool', inputs: { q: 'x' } })
    await tool.postRun()
    await tool.end(undefined, 'index timeout')
    await tool.patchRun()
    await child.end({ content: 'hello' })
    await child.patchRun()
    await root.end({ answer: 'ok' })
    await root.patchRun()
    await client.awaitPendingTraceBatches()

    // It read /info, then used the multipart endpoint, gzipped as /info allows.
    expect(sdkRequests[0]).toMatchObject({ method: 'GET', path: '/info' })
    const multipart = sdkRequests.filter((r) => r.path === '/runs/multipart')
    expect(multipart.length).toBeGreaterThan(0)
    expect(multipart.every((r) => r.encoding === 'gzip' && r.type?.startsWith('multipart/form-data'))).toBe(
      true,
    )

    const traceId = uuidToHex(root.trace_id)
    const t = await collector.waitFor((ts) => ts[0]?.spans.length === 3, 5000)
    expect(t).toHaveLength(1)
    const trace = collector.trace(traceId)!
    expect(trace.traceId).toBe(traceId)
    expect(collector.trace(root.trace_id)).toBe(trace) // the UUID spelling finds it too
    const byName = new Map(trace.spans.map((s) => [s.name, s]))

    const r = byName.get('agent')!
    expect(r).toMatchObject({
      traceId,
      spanId: root.id.replaceAll('-', '').slice(16),
      service: 'gateway',
      source: 'langsmith',
      runId: root.id,
      runType: 'chain',
      kind: 'internal',
      status: { code: 'unset' },
      endTime: root.end_time,
    })
    expect(r.parentSpanId).toBeUndefined()
    expect(Math.abs(r.startTime - Number(root.start_time))).toBeLessThan(1)
    expect(JSON.parse(String(r.attributes['langsmith.inputs']))).toEqual({ question: 'why slow?' })
    expect(JSON.parse(String(r.attributes['langsmith.outputs']))).toEqual({ answer: 'ok' })
    expect(r.attributes).toMatchObject({
      user: 'u1',
      'langsmith.project': 'my-project',
      'langsmith.span.tags': ['demo'],
    })
    expect(r.attributes['service.name']).toBeUndefined()

    expect(byName.get('llm')).toMatchObject({
      traceId,
      spanId: spanIdFromRunId(child.id),
      parentSpanId: spanIdFromRunId(root.id),
      service: 'orchestrator',
      runType: 'llm',
    })
    const search = byName.get('search')!
    expect(search).toMatchObject({
      parentSpanId: spanIdFromRunId(child.id),
      runType: 'tool',
      status: { code: 'error', message: 'index timeout' },
    })
    // The grandchild names no service of its own: the SDK passes its parent's metadata down.
    expect(search.service).toBe('orchestrator')
    expect(trace.errors).toBe(1)
    expect(trace.orphans).toBe(0)
  })

  it('merges a patch sent in a later request into the run its post created', async () => {
    const client = sdkClient()
    const root = new RunTree({
      name: 'slow',
      run_type: 'chain',
      inputs: { a: 1 },
      client,
      project_name: 'proj',
    })
    await root.postRun()
    await client.awaitPendingTraceBatches()
    const spanId = spanIdFromRunId(root.id)
    const open = collector.spans().find((s) => s.spanId === spanId)!
    expect(open.attributes['langsmith.outputs']).toBeUndefined()
    expect(open.service).toBe('proj')

    await root.end({ b: 2 })
    await root.patchRun()
    await client.awaitPendingTraceBatches()
    const spans = collector.spans()
    expect(spans).toHaveLength(1)
    expect(spans[0]).toMatchObject({ name: 'slow', service: 'proj', endTime: root.end_time })
    expect(JSON.parse(String(spans[0]!.attributes['langsmith.inputs']))).toEqual({ a: 1 })
    expect(JSON.parse(String(spans[0]!.attributes['langsmith.outputs']))).toEqual({ b: 2 })
  })
})

const ROOT = '01900000-0000-7000-8000-00000000000a'
const CHILD = '01900000-0000-7000-8000-00000000000b'
const dotted = (t: string, id: string): string => `20240531T100100540304Z${id}`.replace('540304', t)

describe('LangSmith endpoints', () => {
  it('GET /info answers a batch_ingest_config the SDK reads', async () => {
    const info = await (await fetch(`${collector.url}/info`)).json()
    expect(info).toMatchObject({
      version: expect.any(String),
      batch_ingest_config: {
        use_multipart_endpoint: true,
        size_limit: expect.any(Number),
        size_limit_bytes: expect.any(Number),
      },
      instance_flags: { gzip_body_enabled: true },
    })
    // Self-hosted style endpoints end in /api/v1.
    expect((await fetch(`${collector.url}/api/v1/info`)).status).toBe(200)
  })

  it('POST /runs/batch takes {post, patch}', async () => {
    const body = {
      post: [
        {
          id: ROOT,
          trace_id: ROOT,
          dotted_order: dotted('000000', ROOT),
          name: 'root',
          run_type: 'chain',
          start_time: '2024-05-31T10:01:00.000000Z',
          session_name: 'batch-proj',
        },
        {
          id: CHILD,
          trace_id: ROOT,
          parent_run_id: ROOT,
          dotted_order: `${dotted('000000', ROOT)}.${dotted('250000', CHILD)}`,
          name: 'child',
          run_type: 'retriever',
          start_time: '2024-05-31T10:01:00.250000',
          end_time: '2024-05-31T10:01:00.750000',
          extra: { metadata: { 'service.name': 'retrieval' } },
        },
      ],
      patch: [
        {
          id: ROOT,
          trace_id: ROOT,
          dotted_order: dotted('000000', ROOT),
          end_time: '2024-05-31T10:01:01.000000Z',
        },
      ],
    }
    const res = await post(`${collector.url}/runs/batch`, JSON.stringify(body), {
      'content-type': 'application/json',
    })
    expect(res.status).toBe(202)
    const trace = collector.trace(ROOT)!
    expect(trace.spans.map((s) => [s.name, s.service, s.parentSpanId ?? null])).toEqual([
      ['root', 'batch-proj', null],
      ['child', 'retrieval', spanIdFromRunId(ROOT)],
    ])
    const start = Date.parse('2024-05-31T10:01:00.000Z')
    expect(trace.spans[0]).toMatchObject({ startTime: start, endTime: start + 1000, runType: 'chain' })
    // Python's naive UTC times (no Z) are UTC.
    expect(trace.spans[1]).toMatchObject({ startTime: start + 250, endTime: start + 750 })
  })

  it('POST /runs then PATCH /runs/:id', async () => {
    const run = {
      id: ROOT,
      trace_id: ROOT,
      dotted_order: dotted('000000', ROOT),
      name: 'single',
      start_time: 1717149660000,
    }
    expect(
      (await post(`${collector.url}/runs`, JSON.stringify(run), { 'content-type': 'application/json' }))
        .status,
    ).toBe(202)
    const patch = { end_time: 1717149661500, error: 'boom', outputs: { x: 1 } }
    expect(
      (
        await post(
          `${collector.url}/runs/${ROOT}`,
          JSON.stringify(patch),
          { 'content-type': 'application/json' },
          'PATCH',
        )
      ).status,
    ).toBe(202)
    expect(collector.spans()).toEqual([
      expect.objectContaining({
        name: 'single',
        startTime: 1717149660000,
        endTime: 1717149661500,
        status: { code: 'error', message: 'boom' },
        attributes: expect.objectContaining({ 'langsmith.outputs': '{"x":1}' }),
      }),
    ])
  })

  it('answers 400 {detail} to malformed multipart and JSON bodies', async () => {
    const bad = await post(`${collector.url}/runs/multipart`, 'nope', {
      'content-type': 'multipart/form-data; boundary=xyz',
    })
    expect(bad.status).toBe(400)
    expect(JSON.parse(bad.body.toString())).toHaveProperty('detail')
    expect(
      (await post(`${collector.url}/runs/batch`, '[1,', { 'content-type': 'application/json' })).status,
    ).toBe(400)
    expect(
      (await post(`${collector.url}/runs/multipart`, 'x', { 'content-type': 'application/json' })).status,
    ).toBe(400)
  })
})

describe("tracehop's own exporters", () => {
  it('a span exported both as OTLP and as a LangSmith run is one span: the OTLP form plus the run id', async () => {
    const root = rootSpan({ name: 'gateway.request', kind: 1, attributes: { 'http.route': '/chat' } })
    const child = childSpan(root, { name: 'retrieve', langsmithProject: 'p' })
    const batch = batchOf([root.record, child.record], { 'service.name': 'gateway' })
    const deadline = Date.now() + 5000
    const ls = await langsmith({ apiUrl: collector.url, apiKey: 'dev' }).export(batch, deadline)
    expect(ls).toMatchObject({ exported: 2, dropped: 0 })
    const viaOtlp = await otlp({ url: `${collector.url}/v1/traces` }).export(batch, deadline)
    expect(viaOtlp).toMatchObject({ exported: 2, dropped: 0 })

    const trace = collector.trace(root.record.traceId)!
    expect(trace.spans).toHaveLength(2)
    expect(trace.spans[0]).toMatchObject({
      spanId: root.record.spanId,
      name: 'gateway.request',
      kind: 'server',
      source: 'otlp',
      service: 'gateway',
      runId: root.record.runId,
      runType: 'chain',
    })
    expect(trace.spans[1]).toMatchObject({
      spanId: child.record.spanId,
      parentSpanId: root.record.spanId,
      runId: child.record.runId,
    })
  })
})

describe('multipart and run parsing', () => {
  const boundary = '----LangSmithFormBoundaryabc'
  const part = (name: string, body: string): string =>
    `--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\nContent-Type: application/json; length=${body.length}\r\n\r\n${body}\r\n`

  it('reads parts, folding post.<id>.<field> into the run and skipping attachments and feedback', () => {
    const body = Buffer.from(
      part(
        `post.${ROOT}`,
        JSON.stringify({ trace_id: ROOT, dotted_order: dotted('000000', ROOT), name: 'r' }),
      ) +
        part(`post.${ROOT}.inputs`, '{"q":1}') +
        part(`attachment.${ROOT}.img`, 'PNG') +
        part('feedback.x', '{}') +
        part(`patch.${CHILD}`, JSON.stringify({ trace_id: ROOT })) +
        `--${boundary}--\r\n`,
    )
    expect(boundaryOf(`multipart/form-data; boundary=${boundary}`)).toBe(boundary)
    expect(boundaryOf(`multipart/form-data; boundary="${boundary}"`)).toBe(boundary)
    const parts = parseMultipart(body, boundary)!
    expect(parts.map((p) => p.name)).toEqual([
      `post.${ROOT}`,
      `post.${ROOT}.inputs`,
      `attachment.${ROOT}.img`,
      'feedback.x',
      `patch.${CHILD}`,
    ])
    expect(parts[2]!.body.toString()).toBe('PNG')
    const batch = multipartRuns(parts)
    expect(batch).toEqual({
      ok: true,
      ops: [
        {
          op: 'post',
          run: {
            id: ROOT,
            trace_id: ROOT,
            dotted_order: dotted('000000', ROOT),
            name: 'r',
            inputs: { q: 1 },
          },
        },
        { op: 'patch', run: { id: CHILD, trace_id: ROOT } },
      ],
    })
  })

  it('refuses a body without its closing delimiter', () => {
    expect(parseMultipart(Buffer.from(part('post.x', '{}')), boundary)).toBeUndefined()
  })

  it('takes the span id from the last 16 hex digits of the run id and the parent from the dotted order', () => {
    const span = runToSpan(
      { id: CHILD, dotted_order: `${dotted('000000', ROOT)}.${dotted('250000', CHILD)}` },
      undefined,
    )!
    expect(span).toMatchObject({
      traceId: uuidToHex(ROOT),
      spanId: '800000000000000b',
      parentSpanId: '800000000000000a',
      startTime: Date.parse('2024-05-31T10:01:00.250Z'),
      service: 'langsmith',
      name: 'run',
    })
  })

  it('parses run times: ms numbers, ISO with µs, offsets, naive UTC', () => {
    expect(parseRunTime(1717149660000)).toBe(1717149660000)
    expect(parseRunTime('2024-05-31T10:01:00.540304Z')).toBeCloseTo(
      Date.parse('2024-05-31T10:01:00.540Z') + 0.304,
      6,
    )
    expect(parseRunTime('2024-05-31T12:01:00+02:00')).toBe(Date.parse('2024-05-31T10:01:00Z'))
    expect(parseRunTime('2024-05-31T10:01:00')).toBe(Date.parse('2024-05-31T10:01:00Z'))
    expect(parseRunTime('yesterday')).toBeUndefined()
  })

  it('parseMultipart and runToSpan never throw', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 200 }),
        fc.string({ minLength: 1, maxLength: 10 }),
        (bytes, b) => {
          const parts = parseMultipart(Buffer.from(bytes), b)
          expect(parts === undefined || Array.isArray(parts)).toBe(true)
        },
      ),
      { numRuns: 500 },
    )
    fc.assert(
      fc.property(
        fc.dictionary(
          fc.constantFrom(
            'id',
            'trace_id',
            'parent_run_id',
            'dotted_order',
            'start_time',
            'end_time',
            'extra',
            'events',
            'error',
            'tags',
            'inputs',
          ),
          fc.oneof(fc.jsonValue(), fc.constant(ROOT)),
        ),
        (run) => {
          const span = runToSpan(run, undefined)
          expect(span === undefined || span.spanId.length === 16).toBe(true)
        },
      ),
      { numRuns: 500 },
    )
  })
})
