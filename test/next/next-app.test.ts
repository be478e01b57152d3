// examples/next-agent in a real `next build && next start` (Next 16, Turbopack), with
// tracehop installed from its packed tarball: one trace across the request interceptor
// (proxy.ts), a Node.js route, the AI SDK and an Edge route, exported after the response.

import { type ChildProcess, execFileSync, spawn } from 'node:child_process'
import { once } from 'node:events'
import { cpSync, existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { freePort } from '../support/http-receiver.js'
import { KIND, type OtlpReceiver, startOtlpReceiver } from '../support/otlp-receiver.js'

const ROOT = fileURLToPath(new URL('../../', import.meta.url))
const EXAMPLE = join(ROOT, 'examples/next-agent')
// What the app imports, linked from the repository's node_modules (no second install).
// Turbopack's cache survives between local runs (a fresh CI clone starts cold).
const BUILD_CACHE = join(ROOT, 'node_modules/.cache/next-agent')
const LINKED = [
  'next',
  'react',
  'react-dom',
  'ai',
  '@ai-sdk',
  '@opentelemetry',
  '@next',
  '@swc',
  '@types',
  'typescript',
]

const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736'
const PARENT_ID = '00f067aa0ba902b7'
const RUN_ID = `00000000-0000-0000-${PARENT_ID.slice(0, 4)}-${PARENT_ID.slice(4)}`

/** Installs the packed tarball as node_modules/tracehop in `app`. */
function installTarball(app: string, work: string): void {
  // `vitest run` alone has no build step: the tarball needs dist/.
  if (!existsSync(join(ROOT, 'dist/vercel.js')))
    execFileSync('npm', ['run', 'build'], { cwd: ROOT, stdio: 'pipe' })
  const file = execFileSync('npm', ['pack', '--silent', '--pack-destination', work], {
    cwd: ROOT,
    encoding: 'utf8',
  })
    .trim()
    .split('\n')
    .pop() as string
  const target = join(app, 'node_modules/tracehop')
  mkdirSync(target, { recursive: true })
  execFileSync('tar', ['-xzf', join(work, file), '-C', target, '--strip-components=1'])
}

/**
 * Starts `next start` on a free port and resolves once Next logged that it is ready and the
 * port answers; a port taken between choosing it and binding it (EADDRINUSE) is retried.
 */
async function startNext(
  next: string,
  app: string,
  env: NodeJS.ProcessEnv,
  onLog: (chunk: string) => void,
): Promise<{ server: ChildProcess; origin: string }> {
  for (let attempt = 1; ; attempt++) {
    const port = await freePort()
    const origin = `http://127.0.0.1:${port}`
    let log = ''
    const server = spawn(process.execPath, [next, 'start', '-H', '127.0.0.1', '-p', String(port)], {
      cwd: app,
      env: { ...env, APP_ORIGIN: origin },
    })
    const collect = (d: Buffer): void => {
      log += d.toString()
      onLog(d.toString())
    }
    server.stdout?.on('data', collect)
    server.stderr?.on('data', collect)
    const until = Date.now() + 30_000
    while (Date.now() < until && server.exitCode === null && !log.includes('Ready in')) {
      await new Promise((r) => setTimeout(r, 100))
    }
    if (server.exitCode === null && log.includes('Ready in')) {
      // A path outside the proxy matcher and the routes: no span, nothing to wait for.
      const ready = await fetch(`${origin}/ready`, { signal: AbortSignal.timeout(10_000) }).then(
        () => true,
        () => false,
      )
      if (ready) return { server, origin }
    }
    // Its last output (the EADDRINUSE error) is read by the time the process has closed.
    if (server.exitCode !== null) await once(server, 'close')
    else server.kill('SIGTERM')
    if (!log.includes('EADDRINUSE') || attempt === 3)
      throw new Error(`next start was not ready within 30 s (attempt ${attempt}):\n${log}`)
  }
}

describe('examples/next-agent under next build && next start', () => {
  let work: string
  let server: ChildProcess | undefined
  let receiver: OtlpReceiver
  let origin: string
  let log = ''

  beforeAll(async () => {
    receiver = await startOtlpReceiver()
    work = mkdtempSync(join(tmpdir(), 'tracehop-next-'))
    const app = join(work, 'app')
    cpSync(EXAMPLE, app, { recursive: true, filter: (src) => !/[/\\](\.next|node_modules)$/.test(src) })
    mkdirSync(join(app, 'node_modules'))
    for (const name of LINKED) symlinkSync(join(ROOT, 'node_modules', name), join(app, 'node_modules', name))
    installTarball(app, work)
    writeFileSync(
      join(app, 'package.json'),
      JSON.stringify({ name: 'next-agent', private: true, type: 'module' }),
    )
    // APP_ORIGIN is read when the app runs, so the port is chosen only once it is built.
    const env = {
      ...process.env,
      NEXT_TELEMETRY_DISABLED: '1',
      // The linked packages live outside the app folder: let Turbopack read them.
      NEXT_ROOT: '/',
      OTLP_URL: receiver.url,
      OTLP_ENCODING: 'json',
    }
    const next = join(app, 'node_modules/next/dist/bin/next')
    if (existsSync(BUILD_CACHE)) cpSync(BUILD_CACHE, join(app, '.next/cache'), { recursive: true })
    execFileSync(process.execPath, [next, 'build'], { cwd: app, env, stdio: 'pipe', timeout: 240_000 })
    cpSync(join(app, '.next/cache'), BUILD_CACHE, { recursive: true })
    ;({ server, origin } = await startNext(next, app, env, (chunk) => {
      log += chunk
    }))
    receiver.clear()
  }, 300_000)

  afterAll(async () => {
    server?.kill('SIGTERM')
    await receiver?.close()
    if (work !== undefined) rmSync(work, { recursive: true, force: true })
  })

  it('stitches the interceptor, the Node route, the AI SDK and the Edge route into one trace, exported after the response', async () => {
    // Every export POST is held for 2 s: the response must not wait for it.
    receiver.delayMs = 2_000
    const response = await fetch(`${origin}/api/chat/42`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        traceparent: `00-${TRACE_ID}-${PARENT_ID}-01`,
        'langsmith-trace': `20260101T000000000000Z${RUN_ID}`,
      },
      body: JSON.stringify({ question: 'what changed in v2?' }),
    })
    const answeredAt = Date.now()
    expect(response.status, log).toBe(200)
    const body = (await response.json()) as { id: string; summary: { summary: string } }
    expect(body.id).toBe('42')
    expect(body.summary.summary).toContain('retrieval index')

    const names = ['POST /api/chat/[id]', 'POST /api/summarize', 'summarize', 'ai.generateText']
    await receiver.waitFor((spans) => names.every((n) => spans.some((s) => s.name === n)), 20_000)
    // Nothing had been answered by the receiver when the client had its response.
    expect(receiver.posts.every((post) => post.respondedAt >= answeredAt)).toBe(true)

    const spans = receiver.spans
    expect(new Set(spans.map((s) => s.traceId))).toEqual(new Set([TRACE_ID]))
    const byId = new Map(spans.map((s) => [s.spanId, s]))
    const one = (name: string) => {
      const found = spans.filter((s) => s.name === name)
      expect(found, name).toHaveLength(1)
      return found[0] as (typeof spans)[number]
    }
    const proxies = spans.filter((s) => s.service === 'next-proxy')
    expect(proxies).toHaveLength(2)
    const chat = one('POST /api/chat/[id]')
    const summarize = one('POST /api/summarize')
    // client → proxy → chat route
    const firstProxy = byId.get(chat.parentSpanId ?? '')
    expect(firstProxy?.service).toBe('next-proxy')
    expect(firstProxy?.parentSpanId).toBe(PARENT_ID)
    expect(chat.attributes['http.route']).toBe('/api/chat/[id]')
    // chat route → AI SDK spans
    const generate = one('ai.generateText')
    expect(generate.parentSpanId).toBe(chat.spanId)
    // chat route → traced fetch → proxy → edge route
    const fetchSpan = spans.find((s) => s.parentSpanId === chat.spanId && s.kind === KIND.CLIENT)
    expect(fetchSpan).toBeDefined()
    const secondProxy = byId.get(summarize.parentSpanId ?? '')
    expect(secondProxy?.service).toBe('next-proxy')
    expect(secondProxy?.parentSpanId).toBe(fetchSpan?.spanId)
    expect(one('summarize').parentSpanId).toBe(summarize.spanId)
    expect(summarize.service).toBe('next-summarize')
  }, 60_000)
})
