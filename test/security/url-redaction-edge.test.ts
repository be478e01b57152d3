// Secrets in URLs, tracehop/vercel inside Vercel's edge-runtime VM: the server span's
// url.full / url.query and span.fetch's url.full keep no signed value; the upstream on
// 127.0.0.1 still gets the real URL.
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { fileURLToPath } from 'node:url'
import { EdgeRuntime } from 'edge-runtime'
import { build } from 'esbuild'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

const FIXTURE = fileURLToPath(new URL('./fixtures/redact-edge.ts', import.meta.url))
let runtime: EdgeRuntime
let upstream: Server
let base: string
const upstreamSaw: string[] = []

beforeAll(async () => {
  upstream = createServer((req, res) => {
    upstreamSaw.push(req.url ?? '')
    res.end('up')
  })
  await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve))
  base = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`
  const result = await build({
    entryPoints: [FIXTURE],
    bundle: true,
    format: 'iife',
    platform: 'browser',
    target: 'es2022',
    write: false,
    logLevel: 'silent',
  })
  runtime = new EdgeRuntime({ initialCode: result.outputFiles[0]!.text })
}, 60_000)

afterAll(async () => {
  await new Promise((resolve) => upstream?.close(resolve))
})

interface Exported {
  name: string
  kind: number
  attributes: Record<string, unknown>
}

describe('secrets in URLs (edge-runtime, tracehop/vercel)', () => {
  it('redacts the server and client spans, not the request', async () => {
    const json = await runtime.evaluate<Promise<string>>(`__redactRun(${JSON.stringify(base)})`)
    const spans = JSON.parse(json) as Exported[]
    expect(spans.length).toBe(2)
    const server = spans.find((s) => s.kind === 1)!
    const client = spans.find((s) => s.kind === 2)!
    expect(server.name).toBe('GET /api/files')
    expect(server.attributes['url.query']).toBe('AWSAccessKeyId=REDACTED&session=REDACTED&n=2')
    expect(server.attributes['url.full']).toBe(
      'https://edge.example/api/files?AWSAccessKeyId=REDACTED&session=REDACTED&n=2',
    )
    expect(client.attributes['url.full']).toBe(`${base}/v?X-Amz-Signature=REDACTED&n=1`)
    expect(json).not.toMatch(/AKIAEDGE|edgesess|edgeupsecret/)
    expect(upstreamSaw).toEqual(['/v?X-Amz-Signature=edgeupsecret&n=1'])
  })
})
