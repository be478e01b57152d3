// span.fetch() redirects in a real browser (Debian chromium via playwright-core), where
// `redirect: 'manual'` hides the redirect's target (an `opaqueredirect` response): a GET is
// sent again for the browser to follow, without any trace header; another method's opaque
// redirect is returned as it is (sending it again would repeat its effect). The GET sent again
// keeps the caller's request options, and the browser, following the redirect itself, applies
// the redirect's `Referrer-Policy`.
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { build } from 'esbuild'
import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { launchChromium } from '../support/chromium.js'
import { type HopServer, startHopServer, traceHeadersOf } from './helpers/hop-server.js'

const CHROMIUM = '/usr/bin/chromium'
// Only a developer machine without chromium may skip; CI must run this (and fails without it).
const skip = !existsSync(CHROMIUM) && !process.env['CI']

const PAGE_SCRIPT = `
import { createTracer } from './src/index.ts'
window.run = async (url, allowed, init) => {
  const tracer = createTracer({ service: 'browser', propagation: { allow: [allowed] } })
  const scope = tracer.start({ traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' })
  const res = await scope.root.fetch(url, init)
  return { status: res.status, type: res.type, url: res.url, text: res.type === 'opaqueredirect' ? '' : await res.text() }
}
`

let page: HopServer // serves the page and is the allowed host
let attacker: HopServer
let browser: Browser | undefined
let tab: Page

beforeAll(async () => {
  if (skip) return
  const bundle = await build({
    stdin: {
      contents: PAGE_SCRIPT,
      resolveDir: fileURLToPath(new URL('../../', import.meta.url)),
      loader: 'ts',
    },
    bundle: true,
    write: false,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    logLevel: 'silent',
  })
  page = await startHopServer({
    '/': { type: 'text/html', body: '<!doctype html><script type="module" src="/app.js"></script>' },
    '/app.js': { type: 'text/javascript', body: bundle.outputFiles[0]!.text },
  })
  attacker = await startHopServer()
  browser = await launchChromium()
  tab = await browser.newPage()
  await tab.goto(`${page.origin}/`)
  await tab.waitForFunction(() => typeof (window as { run?: unknown }).run === 'function')
}, 60_000)

afterAll(async () => {
  await browser?.close()
  await Promise.all([page?.close(), attacker?.close()])
})

beforeEach(() => {
  if (skip) return
  page.hits.length = 0
  attacker.hits.length = 0
})

interface Answer {
  status: number
  type: string
  url: string
  text: string
}

function run(url: string, init: RequestInit): Promise<Answer> {
  return tab.evaluate(
    ([u, allowed, i]) =>
      (window as unknown as { run: (u: string, a: string, i: RequestInit) => Promise<Answer> }).run(
        u,
        allowed,
        i,
      ),
    [url, page.origin, init] as const,
  )
}

describe.skipIf(skip)('span.fetch() redirects in Chromium (opaque manual redirects)', () => {
  it('GET 302 to another origin: followed by the browser without any trace header', async () => {
    const answer = await run(page.redirect(302, `${attacker.origin}/landing`), { method: 'GET' })
    expect(answer.status).toBe(200)
    expect(answer.url).toBe(`${attacker.origin}/landing`)
    // The allowed host got the first request with the trace, then the plain one.
    expect(page.hits.map((h) => h.headers['traceparent'] !== undefined)).toEqual([true, false])
    expect(traceHeadersOf(page.hits[1]!)).toEqual({})
    expect(attacker.hits).toHaveLength(1)
    expect(traceHeadersOf(attacker.hits[0]!)).toEqual({})
  })

  it('POST 307: the opaque redirect comes back as it is, sent once, and the other origin is never called', async () => {
    const answer = await run(page.redirect(307, `${attacker.origin}/landing`), { method: 'POST' })
    expect(answer).toMatchObject({ type: 'opaqueredirect', status: 0 })
    expect(page.hits).toHaveLength(1)
    expect(attacker.hits).toHaveLength(0)
  })

  it("the GET sent again keeps the caller's referrerPolicy and cache mode, up to the other origin", async () => {
    const answer = await run(page.redirect(302, `${attacker.origin}/landing`), {
      referrerPolicy: 'no-referrer',
      cache: 'no-store',
    })
    expect(answer.status).toBe(200)
    const hits = [...page.hits, ...attacker.hits]
    expect(hits).toHaveLength(3)
    for (const hit of hits) expect(hit.headers['referer']).toBeUndefined()
    // Fetch: a `no-store` request carries `Pragma: no-cache` (the browser adds it, not the page).
    for (const hit of hits) expect(hit.headers['pragma']).toBe('no-cache')
    // Without those options, the same chain sends the page's origin and no Pragma.
    page.hits.length = 0
    attacker.hits.length = 0
    await run(page.redirect(302, `${attacker.origin}/landing`), {})
    expect(attacker.hits[0]!.headers['referer']).toBe(`${page.origin}/`)
    expect(attacker.hits[0]!.headers['pragma']).toBeUndefined()
  })

  it("the redirect's Referrer-Policy (hidden from the page) is applied by the browser as it follows", async () => {
    await run(page.redirect(302, `${attacker.origin}/landing`, 'no-referrer'), {})
    expect(page.hits.map((h) => h.headers['referer'])).toEqual([`${page.origin}/`, `${page.origin}/`])
    expect(attacker.hits).toHaveLength(1)
    expect(attacker.hits[0]!.headers['referer']).toBeUndefined()
  })
})
