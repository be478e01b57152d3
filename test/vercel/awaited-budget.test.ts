/**
 * Vercel without a request context, in edge-runtime: the response waits for the flush, so
 * an unreachable collector may delay it by the short default budget only (2 s, as on
 * Lambda), not the 10 s a flush in waitUntil may take.
 */
import { fileURLToPath } from 'node:url'
import { EdgeRuntime, runServer } from 'edge-runtime'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { attemptLimitMs, type Blackhole, startBlackhole } from '../support/blackhole.js'
import { bundleForEdge } from '../support/edge-script.js'

const FIXTURE = fileURLToPath(new URL('./fixtures/awaited-app.ts', import.meta.url))

let blackhole: Blackhole
let server: Awaited<ReturnType<typeof runServer>>

beforeAll(async () => {
  blackhole = await startBlackhole()
  const code = await bundleForEdge(FIXTURE)
  const runtime = new EdgeRuntime({
    initialCode: `globalThis.__CONFIG__ = ${JSON.stringify({ otlpUrl: blackhole.url })};\n${code}`,
  })
  server = await runServer({ runtime, port: 0, host: '127.0.0.1' })
})

afterAll(async () => {
  await server?.close()
  await blackhole?.close()
})

describe('withTrace with no waitUntil and an unreachable collector', () => {
  it('answers once the 2 s default budget is over; the cut export is counted and logged', async () => {
    const t0 = Date.now()
    const res = await fetch(`${server.url}items/1`)
    expect(await res.json()).toEqual({ ok: true })
    const elapsed = Date.now() - t0
    const { stats, log } = (await (await fetch(`${server.url}stats`)).json()) as {
      stats: { spans: { recorded: number; exported: number; dropped: Record<string, number> } }
      log: string[]
    }
    expect(blackhole.accepted()).toBeGreaterThan(0)
    expect(stats.spans).toMatchObject({ recorded: 2, exported: 0, dropped: { timeout: 2 } })
    // The attempt was bounded by the default budget of a response that waits.
    const limit = attemptLimitMs(log)
    expect(limit).toBeGreaterThan(1000)
    expect(limit).toBeLessThanOrEqual(2000)
    // No "no waitUntil" warning: withTrace awaits the flush itself.
    expect(log.some((l) => l.includes('no waitUntil'))).toBe(false)
    // A guard only (the budget is asserted above): well under the old 10 s.
    expect(elapsed).toBeLessThan(6000)
  }, 20_000)

  it('a scope started by hand with neither waitUntil nor await is warned about once', async () => {
    for (let i = 0; i < 2; i++) expect(await (await fetch(`${server.url}hand`)).text()).toBe('ok')
    const { log } = (await (await fetch(`${server.url}stats`)).json()) as { log: string[] }
    expect(log.filter((l) => l.includes('no waitUntil: spans may be lost at freeze'))).toHaveLength(1)
  })
})
