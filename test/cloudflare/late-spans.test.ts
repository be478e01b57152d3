// Spans started in the user's own waitUntil work, after the response, belong to the trace:
// in workerd they are exported (during the flush or in a follow-up export handed to
// waitUntil) with their traced fetch propagated; past the budget they are counted as late
// and their fetch carries no trace headers.
import { Miniflare } from 'miniflare'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { KIND, type OtlpReceiver, startOtlpReceiver } from '../support/otlp-receiver.js'
import { bundleWorker } from '../support/workerd-bundle.js'
import { startEchoServer } from './helpers/echo-server.js'

interface Report {
  stats: { spans: { recorded: number; exported: number; late: number; dropped: Record<string, number> } }
  log: string[]
  sent: Record<string, string | null>
}

let mf: Miniflare
let receiver: OtlpReceiver
let upstream: Awaited<ReturnType<typeof startEchoServer>>

async function traceIdOf(worker: string, path: string): Promise<string> {
  const w = await mf.getWorker(worker)
  const res = await w.fetch(`http://worker.test${path}`)
  await res.arrayBuffer()
  return res.headers.get('x-trace-id')!
}

async function report(worker: string): Promise<Report> {
  const w = await mf.getWorker(worker)
  return (await (await w.fetch('http://worker.test/stats')).json()) as Report
}

async function sentFor(worker: string, traceId: string): Promise<string | null> {
  const until = Date.now() + 10_000
  for (;;) {
    const r = await report(worker)
    if (traceId in r.sent) return r.sent[traceId]!
    if (Date.now() > until) throw new Error('the background fetch never ran')
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

beforeAll(async () => {
  receiver = await startOtlpReceiver()
  upstream = await startEchoServer()
  const script = await bundleWorker('test/cloudflare/workers/export-queue.ts')
  const common = { modules: true, script, compatibilityDate: '2025-01-01' }
  const bindings = { OTLP_URL: receiver.url, UPSTREAM: upstream.origin }
  mf = new Miniflare({
    workers: [
      { name: 'late-default', ...common, bindings: { ...bindings, SERVICE: 'late-default' } },
      // A 300 ms budget: work that starts 400 ms after the response is past it.
      {
        name: 'late-short',
        ...common,
        bindings: { ...bindings, SERVICE: 'late-short', FLUSH_BUDGET_MS: '300' },
      },
    ],
  })
  await mf.ready
})

afterAll(async () => {
  await mf?.dispose()
  await receiver?.close()
  await upstream?.close()
})

describe('workerd: spans started after the response, in waitUntil work', () => {
  it.each([0, 50, 400])(
    'starting %i ms after the response: exported, and the fetch parent arrives',
    async (after) => {
      const traceId = await traceIdOf('late-default', `/background?after=${after}`)
      const traceparent = await sentFor('late-default', traceId)
      await receiver.waitFor((spans) => spans.filter((s) => s.traceId === traceId).length === 5)
      const spans = receiver.spans.filter((s) => s.traceId === traceId)
      const root = spans.find((s) => s.kind === KIND.SERVER)!
      const child = spans.find((s) => s.name === 'after-response')!
      const client = spans.find((s) => s.kind === KIND.CLIENT)!
      expect(child.parentSpanId).toBe(root.spanId)
      expect(client.parentSpanId).toBe(child.spanId)
      // The upstream's parent is the client span, which was exported.
      expect(traceparent).toBe(`00-${traceId}-${client.spanId}-01`)
      const { stats } = await report('late-default')
      expect(stats.spans.late).toBe(0)
      expect(stats.spans.dropped).toEqual({})
    },
  )

  it('past the flush budget: counted as late, logged once, and the fetch sends no trace headers', async () => {
    const first = await traceIdOf('late-short', '/background?after=400')
    const second = await traceIdOf('late-short', '/background?after=400')
    expect(await sentFor('late-short', first)).toBeNull()
    expect(await sentFor('late-short', second)).toBeNull()
    // The spans that ended in time arrived: the root, `work` and `step`.
    await receiver.waitFor((spans) => spans.filter((s) => s.traceId === second).length === 3)
    const { stats, log } = await report('late-short')
    expect(stats.spans.late).toBe(4) // per request: `after-response` and its fetch span
    expect(stats.spans.recorded).toBe(6)
    expect(stats.spans.exported).toBe(6)
    expect(log.filter((l) => l.includes('started after its scope was flushed'))).toHaveLength(1)
  })
})
