// The example retrieval function from serverless.yml, run by serverless-offline (serverless@3
// + serverless-offline@13, handlers in worker threads): REST and HTTP API requests carrying
// a traceparent reach the handler, which continues the trace; spans arrive at a local OTLP
// receiver over real HTTP.
import { type ChildProcess, spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { build } from 'esbuild'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { freePort } from '../support/http-receiver.js'
import { type OtlpReceiver, startOtlpReceiver } from '../support/otlp-receiver.js'
import { PARENT_ID, TRACE_ID, TRACEPARENT } from './helpers.js'

const ROOT = fileURLToPath(new URL('../../', import.meta.url))

let receiver: OtlpReceiver
let offline: ChildProcess | undefined
let base = ''
let output = ''

beforeAll(async () => {
  await build({
    entryPoints: [`${ROOT}examples/retrieval-lambda/handler.ts`],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    outfile: `${ROOT}examples/retrieval-lambda/dist/handler.mjs`,
    logLevel: 'warning',
  })
  receiver = await startOtlpReceiver()
  // A port found free can be taken before serverless-offline binds it (it cannot report an
  // ephemeral port of its own): on EADDRINUSE, try other ports.
  for (let attempt = 1; ; attempt++) {
    try {
      base = `http://127.0.0.1:${await startOffline()}`
      break
    } catch (e) {
      if (attempt >= 3 || !String((e as Error).message).includes('EADDRINUSE')) throw e
      output = ''
    }
  }
}, 90_000)

/** Starts serverless-offline on free ports; resolves with its HTTP port once it is ready. */
async function startOffline(): Promise<number> {
  const httpPort = await freePort()
  const lambdaPort = await freePort()
  offline = spawn(
    process.execPath,
    [
      'node_modules/serverless/bin/serverless.js',
      'offline',
      'start',
      '--host',
      '127.0.0.1',
      '--httpPort',
      String(httpPort),
      '--lambdaPort',
      String(lambdaPort),
    ],
    {
      cwd: ROOT,
      // Its own process group: afterAll ends serverless and its workers together.
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: {
        ...process.env,
        SLS_TELEMETRY_DISABLED: '1',
        SLS_NOTIFICATIONS_MODE: 'off',
        TRACEHOP_OTLP_URL: receiver.url,
        TRACEHOP_OTLP_ENCODING: 'json',
      },
    },
  )
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`serverless offline did not start:\n${output}`)), 40_000)
    const onData = (chunk: Buffer) => {
      output += chunk.toString('utf8')
      if (output.includes('Server ready')) {
        clearTimeout(timer)
        resolve()
      }
    }
    offline!.stdout!.on('data', onData)
    offline!.stderr!.on('data', onData)
    offline!.on('exit', (code) => {
      clearTimeout(timer)
      reject(new Error(`serverless offline exited (${code}):\n${output}`))
    })
  })
  return httpPort
}

afterAll(async () => {
  if (offline?.pid !== undefined && offline.exitCode === null) {
    const exited = new Promise((resolve) => offline!.once('exit', resolve))
    process.kill(-offline.pid, 'SIGTERM')
    await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))])
    if (offline.exitCode === null) process.kill(-offline.pid, 'SIGKILL')
  }
  await receiver?.close()
})

async function post(
  path: string,
  headers: Record<string, string>,
  body: unknown,
): Promise<{ status: number; json: any }> {
  const res = await fetch(`${base}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  })
  return { status: res.status, json: await res.json() }
}

describe('serverless-offline: the example retrieval function', () => {
  for (const [label, path, traceparentHeader] of [
    ['REST API (http event), client casing', '/dev/retrieve', 'Traceparent'],
    ['HTTP API (httpApi event)', '/retrieve', 'traceparent'],
  ] as const) {
    it(`${label}: the handler continues the caller's trace`, async () => {
      const before = receiver.spans.length
      const { status, json } = await post(
        path,
        { [traceparentHeader]: TRACEPARENT },
        { query: 'What changed in v2?', k: 2 },
      )
      expect(status).toBe(200)
      expect(json.documents).toHaveLength(2)
      expect(json.documents[0].id).toBe('doc-1')
      // The flush is awaited inside the invocation, so the spans are there when the response is.
      await receiver.waitFor((spans) => spans.length >= before + 5, 5000)
      const spans = receiver.spans.slice(before)
      expect(spans.every((s) => s.traceId === TRACE_ID)).toBe(true)
      const root = spans.find((s) => s.name === 'POST /retrieve')!
      expect(root.parentSpanId).toBe(PARENT_ID)
      expect(root.service).toBe('retrieval')
      expect(root.attributes['faas.trigger']).toBe('http')
      expect(root.attributes['http.response.status_code']).toBe(200)
      const retrieve = spans.find((s) => s.name === 'retrieve')!
      expect(retrieve.parentSpanId).toBe(root.spanId)
      expect(retrieve.attributes['langsmith.span.kind']).toBe('retriever')
      expect(spans.map((s) => s.name).sort()).toEqual([
        'POST /retrieve',
        'embed query',
        'rerank',
        'retrieve',
        'search index',
      ])
    }, 20_000)
  }

  it('x-retrieval-fail: the error is on the deepest span and the API answers 500', async () => {
    const before = receiver.spans.length
    const { status, json } = await post(
      '/retrieve',
      { traceparent: TRACEPARENT, 'x-retrieval-fail': '1' },
      { query: 'v2' },
    )
    expect(status).toBe(500)
    expect(json.error).toContain('unavailable')
    await receiver.waitFor((spans) => spans.slice(before).some((s) => s.name === 'POST /retrieve'), 5000)
    const spans = receiver.spans.slice(before)
    const search = spans.find((s) => s.name === 'search index')!
    expect(search.status).toBe(2)
    expect(search.statusMessage).toContain('index shard')
    expect(spans.find((s) => s.name === 'POST /retrieve')?.status).toBe(2)
  }, 20_000)
})
