// A slow or unreachable collector must not touch the Worker's responses or their latency;
// what could not be delivered is counted in tracer.stats().
import { Miniflare } from 'miniflare'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { refusedUrl } from '../support/http-receiver.js'
import { type OtlpReceiver, startOtlpReceiver } from '../support/otlp-receiver.js'
import { bundleWorker } from '../support/workerd-bundle.js'
import { startEchoServer } from './helpers/echo-server.js'

interface Stats {
  spans: { recorded: number; exported: number; dropped: { timeout?: number; network?: number } }
  exports: { requests: number; failed: number }
}

let mf: Miniflare
let receiver: OtlpReceiver
let upstream: Awaited<ReturnType<typeof startEchoServer>>

async function call(worker: string, path: string): Promise<{ status: number; ms: number }> {
  const w = await mf.getWorker(worker)
  const t0 = performance.now()
  const res = await w.fetch(`http://worker.test${path}`)
  await res.arrayBuffer()
  return { status: res.status, ms: performance.now() - t0 }
}

async function latencies(worker: string, n: number): Promise<number[]> {
  const out: number[] = []
  for (let i = 0; i < n; i++) {
    const r = await call(worker, '/upstream')
    expect(r.status).toBe(200)
    out.push(r.ms)
  }
  return out.sort((a, b) => a - b)
}

const median = (xs: readonly number[]): number => xs[Math.floor(xs.length / 2)]!

async function stats(worker: string): Promise<Stats> {
  const w = await mf.getWorker(worker)
  return (await (await w.fetch('http://worker.test/stats')).json()) as Stats
}

async function eventually(pred: () => Promise<boolean>, timeoutMs = 8000): Promise<void> {
  const until = Date.now() + timeoutMs
  while (!(await pred())) {
    if (Date.now() > until) throw new Error('condition not met in time')
    await new Promise((r) => setTimeout(r, 100))
  }
}

beforeAll(async () => {
  receiver = await startOtlpReceiver()
  upstream = await startEchoServer()
  const script = await bundleWorker('test/cloudflare/workers/basic.ts')
  const common = { modules: true, script, compatibilityDate: '2025-01-01' }
  const base = { UPSTREAM: upstream.origin, OTHER: upstream.origin }
  mf = new Miniflare({
    workers: [
      // Flush budget 1 s: a receiver that takes 2 s makes the export time out (counted).
      {
        name: 'slow',
        ...common,
        bindings: { ...base, SERVICE: 'slow', OTLP_URL: receiver.url, FLUSH_BUDGET_MS: '1000' },
      },
      {
        name: 'down',
        ...common,
        bindings: {
          ...base,
          SERVICE: 'down',
          OTLP_URL: `${await refusedUrl()}/v1/traces`,
          FLUSH_BUDGET_MS: '1000',
        },
      },
      { name: 'healthy', ...common, bindings: { ...base, SERVICE: 'healthy', OTLP_URL: receiver.url } },
    ],
  })
  await mf.ready
  // Warm up every isolate and connection before measuring.
  for (const w of ['slow', 'down', 'healthy']) await latencies(w, 5)
})

afterAll(async () => {
  await mf?.dispose()
  await receiver?.close()
  await upstream?.close()
})

describe('instrument(): a slow or absent collector', () => {
  it('a receiver that answers after 2 s changes neither responses nor latency; timeouts are counted', async () => {
    receiver.delayMs = 0
    const baseline = await latencies('healthy', 30)
    receiver.delayMs = 2000
    try {
      const slow = await latencies('slow', 30)
      // Every export now takes 2 s and is cut at the 1 s budget: a response that waited for
      // one would take 1 s or more. The slack is for a loaded machine, not for the export.
      expect(slow[slow.length - 1]!).toBeLessThan(950)
      expect(median(slow)).toBeLessThan(median(baseline) * 2 + 50)
      await eventually(async () => ((await stats('slow')).spans.dropped.timeout ?? 0) > 0)
      const s = await stats('slow')
      expect(s.exports.failed).toBeGreaterThan(0)
    } finally {
      receiver.delayMs = 0
    }
  }, 30_000)

  it('a receiver that is down changes neither responses nor latency; network drops are counted', async () => {
    const baseline = await latencies('healthy', 30)
    const down = await latencies('down', 30)
    // Retries to a refused port (five attempts, backoff up to 800 ms) take most of a second: a
    // response that waited for them would show in the median, and usually in the maximum.
    expect(down[down.length - 1]!).toBeLessThan(950)
    expect(median(down)).toBeLessThan(median(baseline) * 2 + 50)
    await eventually(async () => ((await stats('down')).spans.dropped.network ?? 0) >= 30)
    const s = await stats('down')
    expect(s.spans.exported).toBe(0)
  }, 30_000)
})
