// A config function that throws (OTLP_URL not set) in workerd: requests are served,
// untraced, with the error counted; `onConfigError: 'throw'` keeps the strict behaviour.
import { Miniflare } from 'miniflare'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type OtlpReceiver, startOtlpReceiver } from '../support/otlp-receiver.js'
import { bundleWorker } from '../support/workerd-bundle.js'

let mf: Miniflare
let receiver: OtlpReceiver

beforeAll(async () => {
  receiver = await startOtlpReceiver()
  const common = { modules: true, compatibilityDate: '2025-01-01' }
  const lenient = await bundleWorker('test/cloudflare/workers/config-error.ts')
  const strict = await bundleWorker('test/cloudflare/workers/config-error-strict.ts')
  mf = new Miniflare({
    workers: [
      { name: 'missing', ...common, script: lenient, bindings: {} },
      { name: 'strict', ...common, script: strict, bindings: {} },
      { name: 'configured', ...common, script: lenient, bindings: { OTLP_URL: receiver.url } },
    ],
  })
  await mf.ready
}, 60_000)

afterAll(async () => {
  await mf?.dispose()
  await receiver?.close()
})

async function get(worker: string, path = '/') {
  return (await mf.getWorker(worker)).fetch(`http://worker.test${path}`)
}

describe('instrument() with a config function that throws', () => {
  it('serves every request untraced; the error is counted once, nothing is exported', async () => {
    for (let i = 0; i < 3; i++) {
      const res = await get('missing')
      expect(res.status).toBe(200)
      expect(await res.text()).toBe('ok')
    }
    const stats = (await (await get('missing', '/stats')).json()) as {
      configErrors: number
      scopes: { sampled: number }
      exports: { requests: number }
    }
    expect(stats.configErrors).toBe(1)
    expect(stats.scopes.sampled).toBe(0)
    expect(stats.exports.requests).toBe(0)
  })

  it("onConfigError: 'throw' fails the request with the configuration error", async () => {
    // Miniflare rethrows a Worker's uncaught error to the caller (workerd answers 500).
    await expect(get('strict')).rejects.toThrow(/otlp\.url: expected a URL string/)
  })

  it('the same Worker with OTLP_URL set exports its spans', async () => {
    const res = await get('configured')
    expect(res.status).toBe(200)
    const traceId = res.headers.get('x-trace-id')
    await receiver.waitFor((spans) => spans.some((s) => s.traceId === traceId && s.name === 'work'))
    expect(receiver.spans.filter((s) => s.traceId === traceId)).toHaveLength(2)
  })
})
