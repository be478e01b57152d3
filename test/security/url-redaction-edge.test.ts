// Secrets in URLs, tracehop/vercel inside Vercel's edge-runtime VM: the server span's
// url.full / url.query and span.fetch's url.full keep no signed value; the upstream on
// 127.0.0.1 still gets the real URL.
import { fileURLToPath } from 'node:url'
import { EdgeRuntime } from 'edge-runtime'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { bundleForEdge } from '../support/edge-script.js'
import { type RecordingServer, startRecordingServer } from '../support/recording-server.js'

const FIXTURE = fileURLToPath(new URL('./fixtures/redact-edge.ts', import.meta.url))
let runtime: EdgeRuntime
let upstream: RecordingServer

beforeAll(async () => {
  upstream = await startRecordingServer()
  runtime = new EdgeRuntime({ initialCode: await bundleForEdge(FIXTURE) })
}, 60_000)

afterAll(async () => {
  await upstream?.close()
})

interface Exported {
  name: string
  kind: number
  attributes: Record<string, unknown>
}

describe('secrets in URLs (edge-runtime, tracehop/vercel)', () => {
  it('redacts the server and client spans, not the request', async () => {
    const json = await runtime.evaluate<Promise<string>>(`__redactRun(${JSON.stringify(upstream.url)})`)
    const spans = JSON.parse(json) as Exported[]
    expect(spans.length).toBe(2)
    const server = spans.find((s) => s.kind === 1)!
    const client = spans.find((s) => s.kind === 2)!
    expect(server.name).toBe('GET /api/files')
    expect(server.attributes['url.query']).toBe('AWSAccessKeyId=REDACTED&session=REDACTED&n=2')
    expect(server.attributes['url.full']).toBe(
      'https://edge.example/api/files?AWSAccessKeyId=REDACTED&session=REDACTED&n=2',
    )
    expect(client.attributes['url.full']).toBe(`${upstream.url}/v?X-Amz-Signature=REDACTED&n=1`)
    expect(json).not.toMatch(/AKIAEDGE|edgesess|edgeupsecret/)
    expect(upstream.received).toEqual(['/v?X-Amz-Signature=edgeupsecret&n=1'])
  })
})
