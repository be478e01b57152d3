// One trace across real runtimes, each running the packed tarball (not src/): a client ->
// Deno.serve (Deno 2) -> Bun.serve (Bun) -> a Worker in workerd (miniflare, bundled from the
// tarball's dist) -> every span at one OTLP receiver on 127.0.0.1, one trace id, each hop's
// server span parented to the caller's client span.
import { join } from 'node:path'
import { build } from 'esbuild'
import { Miniflare } from 'miniflare'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type OtlpReceiver, type ReceivedSpan, startOtlpReceiver } from '../support/otlp-receiver.js'
import { BUN, DENO, type PackedProject, packedProject, type Service, startService } from './helpers/packed.js'

const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736'
const CLIENT_SPAN = '00f067aa0ba902b7'

let receiver: OtlpReceiver
let project: PackedProject
let mf: Miniflare | undefined
let deno: Service | undefined
let bun: Service | undefined

beforeAll(async () => {
  receiver = await startOtlpReceiver()
  project = await packedProject(['deno-orchestrator.ts', 'bun-retrieval.ts', 'worker-indexer.ts'])
  const bundled = await build({
    entryPoints: [join(project.dir, 'worker-indexer.ts')],
    absWorkingDir: project.dir,
    bundle: true,
    write: false,
    format: 'esm',
    platform: 'neutral',
    target: 'es2022',
    conditions: ['workerd', 'worker', 'browser'],
    mainFields: ['browser', 'module', 'main'],
    external: ['cloudflare:*'],
    logLevel: 'silent',
  })
  mf = new Miniflare({
    host: '127.0.0.1',
    port: 0,
    modules: true,
    compatibilityDate: '2025-01-01',
    script: bundled.outputFiles[0]!.text,
    bindings: { OTLP_URL: receiver.url },
  })
  const worker = (await mf.ready).origin
  bun = await startService(BUN, ['bun-retrieval.ts'], project.dir, {
    ...project.env,
    NEXT_URL: worker,
    OTLP_URL: receiver.url,
  })
  deno = await startService(
    DENO,
    ['run', '--allow-net=127.0.0.1', '--allow-env=NEXT_URL,OTLP_URL', 'deno-orchestrator.ts'],
    project.dir,
    { ...project.env, NEXT_URL: bun.url, OTLP_URL: receiver.url },
  )
})

afterAll(async () => {
  await deno?.stop()
  await bun?.stop()
  await mf?.dispose()
  await receiver?.close()
  await project?.cleanup()
})

function one(spans: readonly ReceivedSpan[], service: string, kind: number): ReceivedSpan {
  const found = spans.filter((s) => s.service === service && s.kind === kind)
  if (found.length !== 1) throw new Error(`expected one kind-${kind} span of ${service}, got ${found.length}`)
  return found[0]!
}

describe('Deno -> Bun -> Worker from the packed tarball', () => {
  it('is one trace with every hop parented to its caller', async () => {
    const res = await fetch(`${deno!.url}/ask`, {
      method: 'POST',
      headers: { traceparent: `00-${TRACE}-${CLIENT_SPAN}-01` },
      body: 'where are the docs',
    })
    expect(res.status).toBe(200)
    expect(await res.json()).toEqual({ found: ['where are the docs'.length] })

    // deno: server + plan + client; bun: server + search + client; worker: server + index.
    await receiver.waitFor((spans) => spans.filter((s) => s.traceId === TRACE).length >= 8, 15_000)
    const spans = receiver.spans.filter((s) => s.traceId === TRACE)
    expect(new Set(receiver.spans.map((s) => s.traceId))).toEqual(new Set([TRACE]))

    const denoServer = one(spans, 'deno-orchestrator', 2)
    expect(denoServer.name).toBe('POST /ask')
    expect(denoServer.parentSpanId).toBe(CLIENT_SPAN)
    const plan = spans.find((s) => s.service === 'deno-orchestrator' && s.name === 'plan')!
    expect(plan.parentSpanId).toBe(denoServer.spanId)
    const denoClient = one(spans, 'deno-orchestrator', 3)
    expect(denoClient.parentSpanId).toBe(plan.spanId)

    const bunServer = one(spans, 'bun-retrieval', 2)
    expect(bunServer.name).toBe('POST /retrieve')
    expect(bunServer.parentSpanId).toBe(denoClient.spanId)
    // The streamed body was counted before the span ended.
    expect(bunServer.attributes['http.response.body.size']).toBe(
      `{"found":[${'where are the docs'.length}]}`.length,
    )
    const search = spans.find((s) => s.service === 'bun-retrieval' && s.name === 'search')!
    const bunClient = one(spans, 'bun-retrieval', 3)
    expect(bunClient.parentSpanId).toBe(search.spanId)

    const workerServer = one(spans, 'worker-indexer', 2)
    expect(workerServer.parentSpanId).toBe(bunClient.spanId)
    const index = spans.find((s) => s.service === 'worker-indexer' && s.name === 'index')!
    expect(index.parentSpanId).toBe(workerServer.spanId)
  })
})
