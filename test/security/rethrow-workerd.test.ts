// Thrown values are rethrown untouched, inside workerd: instrument() (fetch, queue),
// span.child, the traced Queue producer and the Hono middleware (onError sees what it would
// see without tracehop), for every hostile value of test/support/hostile-thrown.ts.
import { Miniflare } from 'miniflare'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { HOSTILE_THROWN } from '../support/hostile-thrown.js'
import { bundleWorker } from '../support/workerd-bundle.js'

let mf: Miniflare

beforeAll(async () => {
  const script = await bundleWorker('test/cloudflare/workers/rethrow.ts')
  mf = new Miniflare({ modules: true, compatibilityDate: '2025-01-01', script })
  await mf.ready
}, 60_000)

afterAll(async () => {
  await mf?.dispose()
})

interface Report {
  sites: Record<string, boolean>
  hono: { plain: unknown; withTracehop: unknown }
}

const KINDS = Object.keys(HOSTILE_THROWN)

describe('thrown values are rethrown untouched (workerd)', () => {
  it('covers every hostile value', () => {
    expect(KINDS.length).toBeGreaterThanOrEqual(9)
  })

  it.each(KINDS)('%s', async (kind) => {
    const res = await mf.dispatchFetch(`http://worker.test/?kind=${encodeURIComponent(kind)}`)
    expect(res.status).toBe(200)
    const report = (await res.json()) as Report
    expect(Object.keys(report.sites).length).toBe(6)
    for (const [site, same] of Object.entries(report.sites))
      expect({ site, same }).toEqual({ site, same: true })
    // Hono: onError gets the value it gets with a pass-through middleware in tracehop's place,
    // as often; what escapes app.fetch is the same.
    expect(report.hono.withTracehop).toEqual(report.hono.plain)
    const plain = report.hono.plain as { onErrorGotIt: boolean; escapedIsIt: boolean | null }
    // (A revoked Proxy breaks Hono's own `instanceof Error`: Hono, not tracehop, replaces it.)
    if (kind !== 'revoked Proxy') expect([plain.onErrorGotIt, plain.escapedIsIt]).not.toContain(false)
  })
})
