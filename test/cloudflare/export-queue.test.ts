// One request whose scope ends without `waitUntil` (and is not awaited) must not stop
// export for the isolate: every later span arrives, whichever request came first, and the
// forgotten scope's spans are exported or counted under a reason of their own.
import { Miniflare, type Response } from 'miniflare'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type OtlpReceiver, startOtlpReceiver } from '../support/otlp-receiver.js'
import { bundleWorker } from '../support/workerd-bundle.js'

interface Stats {
  spans: { recorded: number; exported: number; dropped: Record<string, number> }
  exports: { requests: number }
}

let mf: Miniflare
let receiver: OtlpReceiver
const LATER = 24

async function get(worker: string, path: string): Promise<Response> {
  const w = await mf.getWorker(worker)
  const res = await w.fetch(`http://worker.test${path}`)
  await res.clone().arrayBuffer()
  return res
}

async function statsOf(worker: string): Promise<{ stats: Stats; log: string[] }> {
  return (await (await get(worker, '/stats')).json()) as { stats: Stats; log: string[] }
}

/** Requests `/ok` LATER times (half one by one, half at once); returns their trace ids. */
async function later(worker: string): Promise<string[]> {
  const ids: string[] = []
  for (let i = 0; i < LATER / 2; i++) ids.push((await get(worker, '/ok')).headers.get('x-trace-id')!)
  const burst = await Promise.all(Array.from({ length: LATER / 2 }, () => get(worker, '/ok')))
  for (const r of burst) ids.push(r.headers.get('x-trace-id')!)
  return ids
}

function arrived(ids: readonly string[]): number {
  const want = new Set(ids)
  return receiver.spans.filter((s) => want.has(s.traceId)).length
}

function droppedTotal(s: Stats): number {
  return Object.values(s.spans.dropped).reduce((a, b) => a + b, 0)
}

beforeAll(async () => {
  receiver = await startOtlpReceiver()
  const script = await bundleWorker('test/cloudflare/workers/export-queue.ts')
  const common = { modules: true, script, compatibilityDate: '2025-01-01' }
  mf = new Miniflare({
    workers: [
      {
        name: 'forgotten-first',
        ...common,
        bindings: { SERVICE: 'forgotten-first', OTLP_URL: receiver.url },
      },
      {
        name: 'forgotten-second',
        ...common,
        bindings: { SERVICE: 'forgotten-second', OTLP_URL: receiver.url },
      },
    ],
  })
  await mf.ready
})

afterAll(async () => {
  await mf?.dispose()
  await receiver?.close()
})

describe('workerd: a scope without waitUntil never stalls the export queue', () => {
  it.each([
    ['forgotten-first', ['/forgotten']],
    ['forgotten-second', ['/ok', '/forgotten']],
  ])(
    '%s: every later span arrives, and the forgotten spans are accounted for',
    async (worker, before) => {
      const earlier: string[] = []
      for (const path of before) {
        const id = (await get(worker, path)).headers.get('x-trace-id')!
        if (path === '/ok') earlier.push(id)
      }
      const ids = [...earlier, ...(await later(worker))]
      // Three spans per request: the root, `work` and `step`.
      await receiver
        .waitFor(() => arrived(ids) === ids.length * 3, 15_000)
        .catch(async (err) => {
          const { stats, log } = await statsOf(worker)
          // What a stalled queue looks like: recorded grows, exported and requests stay put.
          console.log('stalled:', worker, JSON.stringify(stats), log, arrived(ids))
          throw err
        })
      expect(arrived(ids)).toBe(ids.length * 3)
      // The forgotten scope: exported after all, or counted as lost once its deadline has
      // passed, never silently missing.
      let s = (await statsOf(worker)).stats
      const until = Date.now() + 15_000
      while (s.spans.exported + droppedTotal(s) < s.spans.recorded && Date.now() < until) {
        await new Promise((r) => setTimeout(r, 250))
        s = (await statsOf(worker)).stats
      }
      const { stats, log } = await statsOf(worker)
      expect(stats.spans.recorded).toBe((ids.length + 1) * 3)
      expect(stats.spans.exported + droppedTotal(stats)).toBe(stats.spans.recorded)
      for (const reason of Object.keys(stats.spans.dropped)) expect(reason).toBe('no-wait-until')
      expect(log.filter((l) => l.includes('no waitUntil: spans may be lost at freeze'))).toHaveLength(1)
    },
    60_000,
  )
})
