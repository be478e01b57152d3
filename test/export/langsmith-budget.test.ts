// The LangSmith exporter inside a flush budget, against a slow receiver on 127.0.0.1: it
// sends its 100-run chunks a few at a time, as the REAL langsmith SDK Client does, so a
// slow LangSmith does not turn into dropped runs; runs the budget left no time for count
// as `budget`, and `stats().exports` counts the requests the receiver saw.
import { Client } from 'langsmith'
import { RunTree } from 'langsmith/run_trees'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { langsmith } from '../../src/export/langsmith-exporter.js'
import { createTracer } from '../../src/tracer.js'
import { type Receiver, type Recorded, startReceiver } from '../support/http-receiver.js'
import { batchOf, childSpan, parseMultipart, rootSpan } from './helpers.js'

const SLOW_MS = 1_500
// 2 s in the report; 3 s here leaves room for a loaded machine (sequential chunks still miss it).
const BUDGET_MS = 3_000

let rx: Receiver
beforeAll(async () => {
  rx = await startReceiver()
})
afterAll(() => rx.close())

/** /info at once; every run post answered `delay` ms later (or never, when `hang` says so). */
function slowLangSmith(delay: number, hang: (n: number) => boolean = () => false) {
  let posts = 0
  rx.requests.length = 0
  rx.handle((req, res) => {
    if (req.path === '/info') return res.writeHead(404).end()
    if (hang(++posts)) return new Promise(() => {}) // never answers
    return new Promise((resolve) => setTimeout(resolve, delay)).then(() =>
      res.writeHead(202, { 'content-type': 'application/json' }).end('{}'),
    )
  })
}

function runPosts(): Recorded[] {
  return rx.requests.filter((r) => r.path === '/runs/multipart' || r.path === '/runs/batch')
}

function runsReceived(): Set<string> {
  const ids = new Set<string>()
  for (const r of runPosts())
    for (const p of parseMultipart(r)) if (/^post\.[^.]+$/.test(p.name)) ids.add(p.name.slice(5))
  return ids
}

describe('LangSmith exporter: 500 runs, a receiver taking 1.5 s, a 3 s budget', () => {
  it('the langsmith SDK Client delivers all 500 to this receiver', async () => {
    slowLangSmith(SLOW_MS)
    const client = new Client({ apiUrl: rx.url, apiKey: 'test', autoBatchTracing: true })
    const root = new RunTree({ name: 'root', run_type: 'chain', inputs: {}, client, project_name: 'p' })
    const trees = [root]
    for (let i = 1; i < 500; i++)
      trees.push(root.createChild({ name: `c${i}`, run_type: 'tool', inputs: { i } }))
    for (const t of trees) {
      await t.end({ ok: true })
      await t.postRun()
    }
    await client.awaitPendingTraceBatches()
    expect(runsReceived().size).toBe(500)
  }, 30_000)

  it('tracehop delivers all 500 too, and stats count the requests the receiver saw, no retries', async () => {
    slowLangSmith(SLOW_MS)
    const logs: string[] = []
    const tracer = createTracer({
      service: 'svc',
      exporters: [langsmith({ apiUrl: rx.url })],
      flush: { budgetMs: BUDGET_MS, windowMs: 0 },
      log: (l) => logs.push(l),
    })
    const scope = tracer.start()
    for (let i = 1; i < 500; i++) scope.root.child(`c${i}`, () => {})
    await scope.end()
    const stats = tracer.stats()
    expect(stats.spans).toMatchObject({ recorded: 500, exported: 500, dropped: {} })
    expect(runsReceived().size).toBe(500)
    expect(stats.exports).toEqual({ requests: runPosts().length, retries: 0, failed: 0 })
    expect(logs).toEqual([])
  }, 30_000)
})

describe('LangSmith exporter: drops by reason when the budget runs out', () => {
  it('chunks that timed out count as timeout; chunks never attempted count as budget', async () => {
    // 15 chunks, 5 at a time: the first 5 are answered, the next 5 hang until the
    // deadline, the last 5 are never sent.
    slowLangSmith(0, (n) => n > 5)
    const root = rootSpan()
    const spans = [root.record]
    for (let i = 1; i < 1500; i++) spans.push(childSpan(root, {}, i).record)
    const requests: boolean[] = []
    const r = await langsmith({ apiUrl: rx.url }).export(batchOf(spans), Date.now() + 1_500, {
      onRequest: (retry) => requests.push(retry),
    })
    expect(r).toMatchObject({ exported: 500, dropped: 1000 })
    expect(Object.fromEntries((r.drops ?? []).map((d) => [d.reason, d.count]))).toEqual({
      timeout: 500,
      budget: 500,
    })
    expect(runsReceived().size).toBe(1000) // the hung chunks did arrive, unanswered
    expect(requests).toEqual(Array(10).fill(false))
    expect(r.attempts).toBe(10)
  }, 30_000)

  it('a tracer counts each reason under its own name', async () => {
    slowLangSmith(0, (n) => n > 1)
    const tracer = createTracer({
      service: 'svc',
      exporters: [langsmith({ apiUrl: rx.url, concurrency: 1 })],
      flush: { budgetMs: 1_000, windowMs: 0, maxBatchSpans: 1000 },
      limits: { spansPerScope: 1000 },
      log: () => {},
    })
    const scope = tracer.start()
    for (let i = 1; i < 300; i++) scope.root.child(`c${i}`, () => {})
    await scope.end()
    const stats = tracer.stats()
    expect(stats.spans).toMatchObject({ exported: 100, dropped: { timeout: 100, budget: 100 } })
    expect(stats.exports).toMatchObject({ requests: 2, retries: 0 })
  }, 30_000)
})
