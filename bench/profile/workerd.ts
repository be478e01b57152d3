/**
 * Where a traced Worker's CPU goes in workerd, next to the bare Worker's: Linux `perf`
 * samples the whole workerd process (its C++, V8's interpreter, builtins and JIT code, the
 * kernel) while it serves the `workerd` suite's requests, bare and traced with tracehop in
 * turn, each in its own workerd. A V8 CPU profile would see only the JavaScript; most of
 * what a traced request adds is the runtime's own work (promises, timers, subrequests, GC).
 *
 * `npm run profile:workerd` (Linux, needs `perf`: Debian's `linux-perf` package). It prints
 * per-request CPU by what was running (self time, the parts sum to the whole) and by entry
 * point (inclusive, the parts overlap). perf samples every PROFILE_PERIOD_US µs of CPU (a
 * fixed period, so samples x period is CPU time) and records only while the requests are
 * served (its control FIFO). Env: PROFILE_REQUESTS (per round, 3000), PROFILE_ROUNDS (5),
 * PROFILE_PERIOD_US (200).
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process'
import { once } from 'node:events'
import { mkdtempSync, rmSync } from 'node:fs'
import { type FileHandle, open } from 'node:fs/promises'
import { createServer } from 'node:http'
import { tmpdir } from 'node:os'
import { basename, dirname, join } from 'node:path'
import { Miniflare } from 'miniflare'
import { medianOf, note } from '../harness.js'
import { listen, startExportReceiver } from '../local-servers.js'
import { BARE, benchWorker, bundle, CONCURRENCY, drive, TRACEHOP, workerdPids } from '../suites/workerd.js'

/** What a sample was running, by symbol and binary: the parts of the self-time table. */
const SELF_PARTS: readonly {
  readonly label: string
  readonly match: (dso: string, sym: string) => boolean
}[] = [
  { label: 'kernel: sockets, scheduling, page faults', match: (dso) => dso.includes('kernel') },
  { label: 'memory allocator (tcmalloc)', match: (_, sym) => /tcmalloc|TCMalloc/.test(sym) },
  {
    label: 'garbage collection (V8, cppgc)',
    match: (_, sym) =>
      /Heap::|Scaveng|MarkCompact|Marking|Sweep|Evacuat|GlobalHandles|cppgc::|HeapTracer|IsUnmodifiedApiObject|CppHeap/.test(
        sym,
      ),
  },
  {
    label: 'JavaScript: interpreter, builtins, JIT code, ICs',
    // An unresolved address is JIT code only where perf found no binary for it.
    match: (dso, sym) =>
      dso.startsWith('[JIT]') ||
      /^Builtins_|^v8::internal::Runtime_|IC::/.test(sym) ||
      (/^0x/.test(sym) && /^\[unknown\]$|perf-\d+\.map/.test(dso)),
  },
  { label: 'V8 other: compilers, handles, API glue', match: (_, sym) => sym.startsWith('v8::') },
  { label: 'workerd API objects (jsg, api::)', match: (_, sym) => /^workerd::(api|jsg)::/.test(sym) },
  {
    label: 'event loop, promises, I/O (kj, capnp, IoContext)',
    match: (_, sym) => /^(kj|capnp)::|^workerd::|^non-virtual thunk to (kj|capnp|workerd)::/.test(sym),
  },
  { label: 'other (libc, std, unknown)', match: () => true },
]

/** Entry points whose inclusive time says which phase of a request the CPU went to. */
const PHASES: readonly { readonly label: string; readonly symbol: RegExp }[] = [
  {
    label: 'the handler, called until its first await',
    symbol: /^workerd::api::ServiceWorkerGlobalScope::request$/,
  },
  { label: 'continuations after a subrequest answers', symbol: /awaitIoImpl<kj::HttpClient::Response/ },
  { label: 'continuations after a body is read', symbol: /awaitIoImpl<kj::Array<unsigned char>/ },
  { label: 'timers firing (setTimeout callbacks)', symbol: /TimeoutManagerImpl::setTimeoutImpl/ },
  { label: 'outgoing fetch calls (fetchImpl)', symbol: /^workerd::api::fetchImpl$/ },
  { label: 'sending the response', symbol: /^workerd::api::Response::send$/ },
  { label: 'garbage collection, main thread', symbol: /^v8::internal::Heap::CollectGarbage$/ },
  { label: 'V8 background jobs (GC, compilers)', symbol: /V8PlatformWrapper::JobTaskWrapper::Run$/ },
]

/** One recording's samples: per part of SELF_PARTS and in all, and inclusive per phase of PHASES. */
interface Recording {
  readonly self: number[]
  total: number
  readonly phases: number[]
}

/** Why `perf` cannot be used here, or undefined when it can. */
function perfMissing(): string | undefined {
  const r = spawnSync('perf', ['--version'], { encoding: 'utf8' })
  if (r.error || r.status !== 0) return 'perf is not installed (Debian: apt-get install linux-perf)'
  return undefined
}

/** `perf report` on one recording, as `|`-separated rows. */
function perfReport(data: string, args: readonly string[]): string[] {
  const r = spawnSync('perf', ['report', '-i', data, '--stdio', '-g', 'none', '-n', '-t', '|', ...args], {
    encoding: 'utf8',
    maxBuffer: 256 * 1024 * 1024,
  })
  if (r.status !== 0) throw new Error(`perf report failed: ${r.stderr}`)
  return r.stdout.split('\n').filter((l) => l.includes('|') && !l.startsWith('#'))
}

/** Reads one `perf record` file. */
function readRecording(data: string): Recording {
  const into: Recording = { self: SELF_PARTS.map(() => 0), total: 0, phases: PHASES.map(() => 0) }
  // Self time: `overhead | samples | dso | [.] symbol`.
  for (const line of perfReport(data, ['--no-children', '--sort', 'dso,sym'])) {
    const [, samples, dso, sym] = line.split('|').map((f) => f.trim())
    const n = Number(samples)
    if (!Number.isFinite(n) || dso === undefined || sym === undefined) continue
    const symbol = sym.replace(/^\[.\]\s*/, '')
    into.total += n
    into.self[SELF_PARTS.findIndex((p) => p.match(dso, symbol))]! += n
  }
  // Inclusive time: `children % | self % | samples | [.] symbol`, as a share of all samples.
  const lines = perfReport(data, ['--children', '--sort', 'sym'])
  const all = lines.reduce((sum, l) => sum + (Number(l.split('|')[2]) || 0), 0)
  PHASES.forEach((phase, i) => {
    // The largest matching row: a function's template instances nest in one another, so
    // summing them would count the same samples twice.
    let best = 0
    for (const line of lines) {
      const [children, , , sym] = line.split('|').map((f) => f.trim())
      if (sym === undefined || !phase.symbol.test(sym.replace(/^\[.\]\s*/, ''))) continue
      best = Math.max(best, (Number.parseFloat(children ?? '0') / 100) * all)
    }
    into.phases[i] = best
  })
  return into
}

/** The two FIFOs of `perf record --control`: commands in, acknowledgements out. */
interface PerfControl {
  readonly ctl: FileHandle
  readonly ack: FileHandle
}

async function openControl(dir: string, name: string): Promise<PerfControl & { args: string[] }> {
  const ctlPath = join(dir, `${name}.ctl`)
  const ackPath = join(dir, `${name}.ack`)
  const made = spawnSync('mkfifo', [ctlPath, ackPath])
  if (made.status !== 0) throw new Error(`mkfifo failed: ${made.stderr}`)
  // Read-write opens of a FIFO never block, whether or not perf has opened its end yet.
  const [ctl, ack] = await Promise.all([open(ctlPath, 'r+'), open(ackPath, 'r+')])
  return { ctl, ack, args: ['--control', `fifo:${ctlPath},${ackPath}`] }
}

/** Sends `enable` or `disable` and waits for perf's ack, or fails if perf ends or stalls. */
async function command(
  control: PerfControl,
  what: 'enable' | 'disable',
  ended: Promise<unknown>,
): Promise<void> {
  await control.ctl.write(`${what}\n`)
  const acked = control.ack.read(Buffer.alloc(16), 0, 16, null)
  let timer: ReturnType<typeof setTimeout> | undefined
  try {
    await Promise.race([
      acked,
      ended.then(() => Promise.reject(new Error(`perf ended before it acknowledged '${what}'`))),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`perf did not acknowledge '${what}' in 10 s`)), 10_000)
      }),
    ])
  } catch (err) {
    // Our own write ends the pending read, so nothing is left blocked on the FIFO.
    await control.ack.write('ack\n')
    throw err
  } finally {
    clearTimeout(timer)
  }
}

/**
 * One recording: a workerd of its own serving `source`, warmed up, then sampled while it
 * serves `requests` (and runs the exports they deferred).
 */
async function record(
  source: string,
  requests: number,
  periodUs: number,
  data: string,
  servers: { upstream: string; receiver: string },
): Promise<void> {
  const mf = new Miniflare({
    workers: [
      benchWorker('profiled', await bundle(source, false, false), false, {
        UPSTREAM: `${servers.upstream}/`,
        OTLP_URL: `${servers.receiver}/v1/traces`,
      }),
    ],
  })
  let perf: ChildProcess | undefined
  let control: PerfControl | undefined
  try {
    await mf.ready
    const url = (await mf.unsafeGetDirectURL('profiled')).href
    // Warm: tracehop's functions compiled and its tracer built before the first sample.
    await drive(url, 2000, CONCURRENCY, [])
    const [pid] = workerdPids()
    if (pid === undefined) throw new Error('no workerd process found under this one')
    const opened = await openControl(dirname(data), basename(data))
    control = opened
    // cpu-clock every `periodUs` of CPU time, with call stacks; disabled until `enable`.
    const args = ['record', '-e', 'cpu-clock', '-c', String(periodUs * 1000), '-g', '-D', '-1']
    perf = spawn('perf', [...args, ...opened.args, '-p', String(pid), '-o', data], {
      stdio: ['ignore', 'ignore', 'pipe'],
    })
    let stderr = ''
    perf.stderr!.on('data', (c: Buffer) => (stderr += c.toString()))
    const ended = once(perf, 'close')
    try {
      await command(control, 'enable', ended)
      await drive(url, requests, CONCURRENCY, [])
      // The exports those requests deferred (waitUntil) run after the last response.
      await new Promise((r) => setTimeout(r, 200))
      await command(control, 'disable', ended)
    } catch (err) {
      throw new Error(`${(err as Error).message}: ${stderr.trim()}`)
    }
    perf.kill('SIGINT')
    await ended
    // perf writes its file on SIGINT, then ends with 0 or by that signal.
    if (perf.exitCode !== 0 && perf.signalCode !== 'SIGINT')
      throw new Error(`perf record ended with ${perf.exitCode ?? perf.signalCode}: ${stderr.trim()}`)
    perf = undefined
  } finally {
    perf?.kill('SIGKILL')
    await control?.ctl.close()
    await control?.ack.close()
    await mf.dispose()
  }
}

/** Records the bare and the traced Worker in alternating rounds and prints where the CPU went. */
export async function run(): Promise<void> {
  const missing = perfMissing()
  if (missing !== undefined) {
    console.log(`profile:workerd: ${missing}`)
    process.exitCode = 1
    return
  }
  const env = process.env as {
    PROFILE_REQUESTS?: string
    PROFILE_ROUNDS?: string
    PROFILE_PERIOD_US?: string
  }
  const requests = positiveInteger('PROFILE_REQUESTS', env.PROFILE_REQUESTS, 3000)
  const rounds = positiveInteger('PROFILE_ROUNDS', env.PROFILE_ROUNDS, 5)
  const periodUs = positiveInteger('PROFILE_PERIOD_US', env.PROFILE_PERIOD_US, 200)
  const upstream = createServer((_req, res) => res.end('upstream'))
  const [upstreamUrl, receiver] = await Promise.all([listen(upstream), startExportReceiver()])
  const dir = mkdtempSync(join(tmpdir(), 'tracehop-profile-'))
  const variants = [
    { label: 'bare Worker', source: BARE },
    { label: 'tracehop/cloudflare', source: TRACEHOP },
  ]
  // Per variant, one recording per round.
  const recordings: Recording[][] = variants.map(() => [])
  try {
    for (let round = 0; round < rounds; round++) {
      for (let k = 0; k < variants.length; k++) {
        const i = (k + round) % variants.length
        const data = join(dir, `round-${round}-${i}.data`)
        await record(variants[i]!.source, requests, periodUs, data, {
          upstream: upstreamUrl,
          receiver: receiver.url,
        })
        recordings[i]!.push(readRecording(data))
      }
    }
  } finally {
    upstream.close()
    receiver.close()
    rmSync(dir, { recursive: true, force: true })
  }
  const us = (samples: number): number => (samples * periodUs) / requests
  const [bare, traced] = recordings as [Recording[], Recording[]]
  // Medians over rounds; "added" is the median of the per-round differences, with their min–max.
  const row = (label: string, pick: (r: Recording) => number): string => {
    const b = bare.map((r) => us(pick(r)))
    const t = traced.map((r) => us(pick(r)))
    const added = t.map((x, i) => x - b[i]!).sort((x, y) => x - y)
    const signed = (x: number): string => `${x >= 0 ? '+' : ''}${x.toFixed(0)}`
    return `${label.padEnd(52)} ${medianOf(b).toFixed(1).padStart(8)} ${medianOf(t).toFixed(1).padStart(8)} ${signed(medianOf(added)).padStart(7)} ${`(${signed(added[0]!)}…${signed(added.at(-1)!)})`.padStart(14)}`
  }
  const header = `${''.padEnd(52)} ${'bare'.padStart(8)} ${'traced'.padStart(8)} ${'added'.padStart(7)} ${'(min…max)'.padStart(14)}`
  note(
    `profile:workerd: CPU per request (µs) by what was running; medians of ${rounds} rounds x ${requests} requests, a sample every ${periodUs} µs of CPU`,
    [
      header,
      ...SELF_PARTS.map((p, i) => row(p.label, (r) => r.self[i]!)),
      row('in all', (r) => r.total),
      'Self time: each sample counts once, for the function it was in. One request traced and exported',
      'through tracehop/cloudflare (OTLP protobuf, the `workerd` suite Worker) against the bare Worker.',
    ],
  )
  note('profile:workerd: CPU per request (µs) by entry point, inclusive (the rows overlap)', [
    header,
    ...PHASES.map((p, i) => row(p.label, (r) => r.phases[i]!)),
  ])
}

/** An env setting that must be a whole number above 0, or its default when unset. */
function positiveInteger(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined || value === '') return fallback
  const n = Number(value)
  if (!Number.isInteger(n) || n < 1) throw new Error(`${name} must be a whole number above 0, got ${value}`)
  return n
}
