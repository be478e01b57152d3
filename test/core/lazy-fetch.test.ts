// Node loads its whole `fetch` stack (undici) the first time any of `fetch`, `Headers`,
// `Request` or `Response` is touched: ~20 ms of a Lambda cold start. Importing tracehop and
// creating a tracer with its exporters must not touch them; only the first export may.
// Each case runs in a fresh `node`, the sources bundled as the published package would be.
import { execFileSync } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { bundleForNode } from '../support/node-bundle.js'

let bundle: { dir: string; remove(): void }
let dir: string

beforeAll(async () => {
  bundle = await bundleForNode('tracehop-lazy-fetch-')
  dir = bundle.dir
})
afterAll(() => bundle.remove())

/** Runs `body` (ESM, `index` and `lambda` imported) in a fresh node; true if undici loaded. */
function loadsFetch(body: string): boolean {
  const file = join(dir, `case-${Math.random().toString(36).slice(2)}.mjs`)
  writeFileSync(
    file,
    `const index = await import('./index.js')
const lambda = await import('./lambda.js')
${body}
process.stdout.write(String(process.moduleLoadList.some((m) => m.includes('undici'))))`,
  )
  return execFileSync(process.execPath, [file], { encoding: 'utf8', timeout: 20_000 }) === 'true'
}

describe('no fetch stack before the first export', () => {
  it('importing tracehop and tracehop/lambda loads no fetch', () => {
    expect(loadsFetch('')).toBe(false)
  })

  it('creating a tracer with the OTLP and LangSmith exporters loads no fetch', () => {
    expect(
      loadsFetch(`index.createTracer({ service: 'a', exporters: [
        index.otlp({ url: 'http://127.0.0.1:4318/v1/traces', headers: { authorization: 'Bearer t' }, compression: 'gzip' }),
        index.otlp({ url: 'http://127.0.0.1:4318/v1/traces', encoding: 'json' }),
        index.langsmith({ apiKey: 'k' }),
      ] })`),
    ).toBe(false)
  })

  it('wrapping a Lambda handler with withTrace and an OTLP exporter loads no fetch', () => {
    expect(
      loadsFetch(`lambda.withTrace(async () => ({ statusCode: 200 }), { service: 'a',
        exporters: [index.otlp({ url: 'http://127.0.0.1:4318/v1/traces' })] })`),
    ).toBe(false)
  })

  it('starting a scope from a header record loads no fetch', () => {
    expect(
      loadsFetch(`index.createTracer({ service: 'a' }).start(
        { traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' }, { name: 'GET /' })`),
    ).toBe(false)
  })

  it('starting a scope from a carrier getter (as the Lambda adapter reads an event) loads no fetch', () => {
    expect(
      loadsFetch(`const h = { traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' }
      index.createTracer({ service: 'a' }).start({ get: (name) => h[name] }, { name: 'GET /' })`),
    ).toBe(false)
  })

  it('the probe sees fetch load when it is touched (the test can fail)', () => {
    expect(loadsFetch('new Headers()')).toBe(true)
  })
})
