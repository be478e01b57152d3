/**
 * Where a traced Worker's CPU goes in workerd, next to the bare Worker's: Linux `perf`
 * samples the whole workerd process (its C++, V8's interpreter, builtins and JIT code, the
 * kernel) while it serves the `workerd` suite's requests, bare and traced with tracehop in
 * turn, each in its own workerd. A V8 CPU profile would see only the JavaScript; most of
 * what a traced request adds is the runtime's own work (promises, timers, subrequests, GC).
 *
 * `npm run profile:workerd` (Linux, needs `perf`: Debian's `linux-perf` package). It prints
 * per-request CPU by what was running (self time, the parts sum to the whole) and by entry
 * point (inclusive, the parts overlap). Env: PROFILE_REQUESTS (per round, 3000),
 * PROFILE_ROUNDS (4), PROFILE_HZ (4999).
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { createServer } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Miniflare } from 'miniflare'
import { medianOf, note } from '../harness.js'
import { listen, startExportReceiver } from '../local-servers.js'
import { BARE, bundle, TRACEHOP, workerdPids } from '../suites/workerd.js'

const CONCURRENCY = 8

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
    match: (dso, sym) => dso.startsWith('[JIT]') || /^Builtins_|^v8::internal::Runtime_|IC::|^0x/.test(sym),
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

function perfAvailable(): string | undefined {
  const r = spawnSync('perf', ['--version'], { encoding: 'utf8' })
  if (r.error || r.status !== 0) return 'perf is not installed (Debian: apt-get install linux-perf)'
  return undefined
}

function report(data: string, args: readonly string[]): string[] {
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
  for (const line of report(data, ['--no-children', '--sort', 'dso,sym'])) {
    const [, samples, dso, sym] = line.split('|').map((f) => f.trim())
    const n = Number(samples)
    if (!Number.isFinite(n) || dso === undefined || sym === undefined) continue
    const symbol = sym.replace(/^\[.\]\s*/, '')
    into.total += n
    into.self[SELF_PARTS.findIndex((p) => p.match(dso, symbol))]! += n
  }
  // Inclusive time: `children % | self % | samples | [.] symbol`, as a share of all samples.
  const lines = report(data, ['--children', '--sort', 'sym'])
  const all = lines.reduce((sum, l) => sum + (Number(l.split('|')[2]) || 0), 0)
  PHASES.forEach((phase, i) => {
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

async function drive(url: string, requests: number): Promise<void> {
  let next = 0
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < requests) {
        next++
        const res = await fetch(url)
        await res.arrayBuffer()
        if (res.status !== 200) throw new Error(`the profiled Worker answered ${res.status}`)
      }
    }),
  )
}

/** One recording: a workerd of its own serving `source`, warmed up, then sampled for `requests`. */
async function record(
  source: string,
  requests: number,
  hz: number,
  data: string,
  servers: { upstream: string; receiver: string },
): Promise<void> {
  const mf = new Miniflare({
    workers: [
      {
        name: 'profiled',
        modules: true,
        script: await bundle(source, false, false),
        compatibilityDate: '2025-01-01',
        bindings: { UPSTREAM: `${servers.upstream}/`, OTLP_URL: `${servers.receiver}/v1/traces` },
        unsafeDirectSockets: [{ host: '127.0.0.1', port: 0 }],
      },
    ],
  })
  let perf: ChildProcess | undefined
  try {
    await mf.ready
    const url = (await mf.unsafeGetDirectURL('profiled')).href
    // Warm: tracehop's functions compiled and its tracer built before the first sample.
    await drive(url, 2000)
    const [pid] = workerdPids()
    if (pid === undefined) throw new Error('no workerd process found under this one')
    perf = spawn('perf', ['record', '-F', String(hz), '-g', '-p', String(pid), '-o', data, '-q'], {
      stdio: ['ignore', 'ignore', 'pipe'],
    })
    let stderr = ''
    perf.stderr!.on('data', (c: Buffer) => (stderr += c.toString()))
    const started = new Promise<void>((resolve, reject) => {
      perf!.once('exit', (code) => reject(new Error(`perf record exited (${code}): ${stderr.trim()}`)))
      setTimeout(resolve, 300)
    })
    await started
    await drive(url, requests)
    // The exports those requests deferred (waitUntil) run after the last response.
    await new Promise((r) => setTimeout(r, 200))
    const exited = new Promise((r) => perf!.once('exit', r))
    perf.kill('SIGINT')
    await exited
    perf = undefined
  } finally {
    perf?.kill('SIGKILL')
    await mf.dispose()
  }
}

/** Records the bare and the traced Worker in alternating rounds and prints where the CPU went. */
export async function run(): Promise<void> {
  const missing = perfAvailable()
  if (missing !== undefined) {
    console.log(`profile:workerd: ${missing}`)
    process.exitCode = 1
    return
  }
  const env = process.env as { PROFILE_REQUESTS?: string; PROFILE_ROUNDS?: string; PROFILE_HZ?: string }
  const requests = Number(env.PROFILE_REQUESTS ?? 3000)
  const rounds = Number(env.PROFILE_ROUNDS ?? 4)
  const hz = Number(env.PROFILE_HZ ?? 4999)
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
        await record(variants[i]!.source, requests, hz, data, {
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
  const us = (samples: number): number => (samples * 1e6) / hz / requests
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
    `profile:workerd: CPU per request (µs) by what was running; medians of ${rounds} rounds x ${requests} requests, perf at ${hz} Hz`,
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
