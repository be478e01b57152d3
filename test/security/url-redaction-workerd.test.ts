// Secrets in URLs, inside workerd: instrument() and the Hono middleware keep userinfo-free,
// signature-free `url.full` / `url.query` on the server span and on span.fetch's client
// span, while the upstream still receives the real URL.
import { Miniflare } from 'miniflare'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { KIND, type OtlpReceiver, startOtlpReceiver } from '../support/otlp-receiver.js'
import { type RecordingServer, startRecordingServer } from '../support/recording-server.js'
import { bundleWorker } from '../support/workerd-bundle.js'

let mf: Miniflare
let receiver: OtlpReceiver
let upstream: RecordingServer

const SECRETS = ['insecret', 'intoken', 'upsecret', 'uptoken', 'AKIAEXAMPLE']

beforeAll(async () => {
  receiver = await startOtlpReceiver()
  upstream = await startRecordingServer()
  const [plain, hono] = await Promise.all([
    bundleWorker('test/cloudflare/workers/redact.ts'),
    bundleWorker('test/cloudflare/workers/redact-hono.ts'),
  ])
  const common = {
    modules: true,
    compatibilityDate: '2025-01-01',
    bindings: { OTLP_URL: receiver.url, UPSTREAM: upstream.url },
  }
  mf = new Miniflare({
    workers: [
      { name: 'instrument', ...common, script: plain },
      { name: 'hono', ...common, script: hono },
    ],
  })
  await mf.ready
}, 60_000)

afterAll(async () => {
  await mf?.dispose()
  await receiver?.close()
  await upstream?.close()
})

describe.each(['instrument', 'hono'])('secrets in URLs (%s in workerd)', (worker) => {
  it('redacts signed query values on the server and client spans; the upstream gets the real URL', async () => {
    const w = await mf.getWorker(worker)
    const before = upstream.received.length
    const res = (await w.fetch(
      'http://worker.test/in?X-Amz-Credential=AKIAEXAMPLE&sig=insecret&token=intoken&page=2',
    )) as unknown as Response
    expect(res.status).toBe(200)
    const id = res.headers.get('x-trace-id')!
    await receiver.waitFor((spans) => spans.filter((s) => s.traceId === id).length >= 2, 10_000)
    const spans = receiver.spans.filter((s) => s.traceId === id)
    const server = spans.find((s) => s.kind === KIND.SERVER)!
    const client = spans.find((s) => s.kind === KIND.CLIENT)!
    expect(server.attributes['url.query']).toBe(
      'X-Amz-Credential=REDACTED&sig=REDACTED&token=REDACTED&page=2',
    )
    expect(server.attributes['url.full']).toBe(
      'http://worker.test/in?X-Amz-Credential=REDACTED&sig=REDACTED&token=REDACTED&page=2',
    )
    expect(String(client.attributes['url.full'])).toMatch(
      /\/up\?X-Amz-Signature=REDACTED&token=REDACTED&keep=1$/,
    )
    const exported = JSON.stringify(spans, (_, v) => (typeof v === 'bigint' ? String(v) : v))
    for (const secret of SECRETS) expect(exported).not.toContain(secret)
    // Redaction is for the record only: the request itself is unchanged.
    expect(upstream.received.slice(before)).toEqual(['/up?X-Amz-Signature=upsecret&token=uptoken&keep=1'])
  })
})
