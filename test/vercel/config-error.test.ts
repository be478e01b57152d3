/**
 * withTrace(handler, () => config) in Vercel's `edge-runtime` VM: a configuration function
 * that throws (OTLP_URL not set) leaves requests served, untraced, with the error counted;
 * `onConfigError: 'throw'` fails them; with OTLP_URL set the spans arrive.
 */
import { fileURLToPath } from 'node:url'
import { EdgeRuntime, runServer } from 'edge-runtime'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { bundleForEdge } from '../support/edge-script.js'
import { type OtlpReceiver, startOtlpReceiver } from '../support/otlp-receiver.js'

const FIXTURE = fileURLToPath(new URL('./fixtures/config-error-app.ts', import.meta.url))

type Server = Awaited<ReturnType<typeof runServer>>
let receiver: OtlpReceiver
let code: string
const servers: Server[] = []

async function start(env: Record<string, string>): Promise<string> {
  const runtime = new EdgeRuntime({ initialCode: `globalThis.__ENV__ = ${JSON.stringify(env)};\n${code}` })
  const server = await runServer({ runtime, port: 0, host: '127.0.0.1' })
  servers.push(server)
  return server.url.replace(/\/$/, '')
}

beforeAll(async () => {
  receiver = await startOtlpReceiver()
  code = await bundleForEdge(FIXTURE)
})

afterAll(async () => {
  for (const s of servers) await s.close()
  await receiver?.close()
})

describe('withTrace with a configuration function, in edge-runtime', () => {
  it('a function that throws: requests are served untraced, the error counted once', async () => {
    const url = await start({})
    for (let i = 0; i < 3; i++) {
      const res = await fetch(`${url}/`)
      expect(res.status).toBe(200)
      const body = (await res.json()) as { stats: { configErrors: number; scopes: { sampled: number } } }
      expect(body.stats.configErrors).toBe(1)
      expect(body.stats.scopes.sampled).toBe(0)
    }
    expect(receiver.spans).toHaveLength(0)
  })

  it("onConfigError: 'throw' fails the request with the configuration error", async () => {
    const url = await start({})
    const res = await fetch(`${url}/strict`)
    expect(res.status).toBe(500)
    expect(await res.text()).toMatch(/otlp\.url: expected a URL string/)
  })

  it('with OTLP_URL set, the same function traces and exports', async () => {
    const url = await start({ OTLP_URL: receiver.url })
    const body = (await (await fetch(`${url}/`)).json()) as {
      traceId: string
      stats: { configErrors: number }
    }
    expect(body.stats.configErrors).toBe(0)
    await receiver.waitFor(
      (spans) => spans.some((s) => s.traceId === body.traceId && s.name === 'work'),
      8000,
    )
  })
})
