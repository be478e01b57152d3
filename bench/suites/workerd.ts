/**
 * Workers in the real runtime (workerd via miniflare): throughput, latency and workerd CPU
 * per request for a bare Worker, the same Worker traced with tracehop/cloudflare, and with
 * @microlabs/otel-cf-workers — each doing one outgoing fetch to a local upstream and
 * exporting every request to a local OTLP receiver — in one run, rounds interleaved.
 * Then bundle size: each Worker bundled the same way (esbuild, minified, gzip), reported as
 * bytes added over the bare Worker.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { createServer } from 'node:http'
import { gzipSync } from 'node:zlib'
import { build } from 'esbuild'
import { Miniflare, type WorkerOptions } from 'miniflare'
import { workerdBuildOptions } from '../../test/support/workerd-bundle.js'
import { note, report } from '../harness.js'
import { listen, startExportReceiver } from '../local-servers.js'

/** The repository root: where `adapters/cloudflare/index.ts` is (bench runs from there). */
function repoRoot(): string {
  const candidates = [`${process.cwd()}/`, new URL('../../', import.meta.url).pathname]
  for (const c of candidates) if (existsSync(`${c}adapters/cloudflare/index.ts`)) return c
  throw new Error('bench/suites/workerd.ts: run it from the repository root')
}

// The user's code is the same in every variant: one outgoing fetch, a small response.
export const BARE = `
export default {
  async fetch(request, env) {
    const r = await fetch(env.UPSTREAM)
    await r.arrayBuffer()
    return new Response('ok')
  },
}
`

export const TRACEHOP = `
import { otlp } from './src/index.ts'
import { instrument, traceOf } from './adapters/cloudflare/index.ts'
export default instrument(
  {
    async fetch(request, env, ctx) {
      const r = await traceOf(ctx).fetch(env.UPSTREAM)
      await r.arrayBuffer()
      return new Response('ok')
    },
  },
  (env) => ({
    service: 'bench-tracehop',
    propagation: { allow: [env.UPSTREAM] },
    exporters: [otlp({ url: env.OTLP_URL, encoding: env.OTLP_ENCODING === 'json' ? 'json' : 'protobuf' })],
    log: () => {},
  }),
)
`

// The bare Worker that defers some work past its response: `waitUntil` holds the invocation
// until a 10 ms timer fires (tracehop's default coalescing window). What any exporter that
// sends after the response pays per request, before it encodes or sends a byte.
const BARE_WAIT_UNTIL = `
export default {
  async fetch(request, env, ctx) {
    const r = await fetch(env.UPSTREAM)
    await r.arrayBuffer()
    ctx.waitUntil(new Promise((resolve) => setTimeout(resolve, 10)))
    return new Response('ok')
  },
}
`

// The bare Worker that exports each request on its own: one POST of about one request's
// spans after its response. 600 bytes: tracehop's protobuf export of a server span and a
// client span measured 560 B a request here (16.5 KB per POST at 34 POSTs per 1,000 requests;
// the table prints bytes/export and exports/1k req, to check it against).
// The least any exporter that sends per request pays; tracehop shares one POST among the
// scopes that end within its coalescing window instead.
const BARE_POST_PER_REQUEST = replaceOnce(
  BARE_WAIT_UNTIL,
  'ctx.waitUntil(new Promise((resolve) => setTimeout(resolve, 10)))',
  `ctx.waitUntil(
      fetch(env.OTLP_URL, {
        method: 'POST',
        headers: { 'content-type': 'application/x-protobuf' },
        body: new Uint8Array(600),
      }).then((r) => r.arrayBuffer()),
    )`,
)

// tracehop with no exporter: the spans, headers and attributes, nothing deferred or sent.
const TRACEHOP_NO_EXPORT = replaceOnce(
  TRACEHOP,
  "exporters: [otlp({ url: env.OTLP_URL, encoding: env.OTLP_ENCODING === 'json' ? 'json' : 'protobuf' })],",
  'exporters: [],',
)

// The same with nothing deferred: workerd's `ctx` is not handed on, so the flush (which has
// nothing to send) is not held by `waitUntil`. Separates tracing from the deferred work.
const TRACEHOP_NOTHING_DEFERRED = `${replaceOnce(TRACEHOP_NO_EXPORT, 'export default instrument(', 'const traced = instrument(')}
export default {
  fetch: (request, env) => traced.fetch(request, env, { waitUntil() {}, passThroughOnException() {} }),
}
`

// The bare Worker sending the headers tracehop writes on its upstream fetch (W3C and
// LangSmith, values of the same length): what carrying a trace costs any Worker.
const BARE_TRACE_HEADERS = replaceOnce(
  BARE,
  'await fetch(env.UPSTREAM)',
  `await fetch(env.UPSTREAM, {
      headers: {
        traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
        tracestate: 'ot=th:e666666666666;rv:0b4d3e3b1fc9f1',
        'langsmith-trace': '20261207T195500123456Z0af76519-16cd-43dd-8448-eb211c80319c.20261207T195500123999Z01935a1b-2c3d-7e4f-b7ad-6b7169203331',
      },
    })`,
)

/** `source` with `from` replaced, failing loudly if it is not there (the variant would measure nothing). */
function replaceOnce(source: string, from: string, to: string): string {
  if (!source.includes(from))
    throw new Error(`bench/suites/workerd.ts: ${JSON.stringify(from)} is not in the source`)
  return source.replace(from, to)
}

// The same work with the core alone (no adapter): shows what tracehop/cloudflare itself adds.
const CORE_ONLY = `
import { createTracer, otlp } from './src/index.ts'
let tracer
export default {
  async fetch(request, env, ctx) {
    tracer ??= createTracer({ service: 'bench-core', exporters: [otlp({ url: env.OTLP_URL })] })
    const scope = tracer.start(request, { waitUntil: (p) => ctx.waitUntil(p) })
    const r = await scope.root.fetch(env.UPSTREAM)
    await r.arrayBuffer()
    const response = new Response('ok')
    scope.end(response)
    return response
  },
}
`

// otel-cf-workers instruments the global fetch itself (and injects traceparent).
export const OTEL_CF = `
import { instrument } from '@microlabs/otel-cf-workers'
export default instrument(
  {
    async fetch(request, env) {
      const r = await fetch(env.UPSTREAM)
      await r.arrayBuffer()
      return new Response('ok')
    },
  },
  (env) => ({ exporter: { url: env.OTLP_URL }, service: { name: 'bench-otel-cf-workers' } }),
)
`

// For size only: the leanest plain OpenTelemetry SDK setup with an OTLP/JSON fetch export.
const PLAIN_OTEL = `
import { BasicTracerProvider, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base'
import { JsonTraceSerializer } from '@opentelemetry/otlp-transformer'
let url = ''
const exporter = {
  export(spans, done) {
    fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JsonTraceSerializer.serializeRequest(spans) })
      .then(() => done({ code: 0 }), (error) => done({ code: 1, error }))
  },
  shutdown: () => Promise.resolve(),
}
const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] })
const tracer = provider.getTracer('bench')
export default {
  async fetch(request, env) {
    url = env.OTLP_URL
    const span = tracer.startSpan('GET /')
    const r = await fetch(env.UPSTREAM)
    await r.arrayBuffer()
    span.end()
    return new Response('ok')
  },
}
`

interface Variant {
  readonly label: string
  readonly source: string
  /** Where `./src` and `./adapters` resolve: the repository, or another build for a before/after pair. */
  readonly root?: string
  /** Needs `nodejs_compat` (node:async_hooks): `node:*` stays external, the flag is set. */
  readonly nodeCompat: boolean
  readonly bindings?: Record<string, string>
}

const VARIANTS = {
  bare: { label: 'bare Worker', source: BARE, nodeCompat: false },
  tracehop: { label: 'tracehop/cloudflare (OTLP protobuf)', source: TRACEHOP, nodeCompat: false },
  tracehopJson: {
    label: 'tracehop/cloudflare (OTLP JSON)',
    source: TRACEHOP,
    nodeCompat: false,
    bindings: { OTLP_ENCODING: 'json' },
  },
  otelCf: { label: '@microlabs/otel-cf-workers 0.9 (OTLP JSON)', source: OTEL_CF, nodeCompat: true },
  // Where tracehop's share goes (see the breakdown note).
  bareWaitUntil: { label: 'bare Worker + waitUntil held 10 ms', source: BARE_WAIT_UNTIL, nodeCompat: false },
  barePostPerRequest: {
    label: 'bare Worker + one 600 B POST per request',
    source: BARE_POST_PER_REQUEST,
    nodeCompat: false,
  },
  bareTraceHeaders: {
    label: 'bare Worker + trace headers on its fetch',
    source: BARE_TRACE_HEADERS,
    nodeCompat: false,
  },
  tracehopNoExport: {
    label: 'tracehop/cloudflare, no exporter',
    source: TRACEHOP_NO_EXPORT,
    nodeCompat: false,
  },
  tracehopNothingDeferred: {
    label: 'tracehop/cloudflare, no exporter, no waitUntil',
    source: TRACEHOP_NOTHING_DEFERRED,
    nodeCompat: false,
  },
} satisfies Record<string, Variant>

// BENCH_WORKERD_BASELINE=<another checkout> adds tracehop from there, e.g. `git archive main`
// unpacked: a before/after pair measured in the same run, rounds interleaved.
const BASELINE_ROOT = process.env['BENCH_WORKERD_BASELINE']
const ALL_VARIANTS: Record<string, Variant> = BASELINE_ROOT
  ? {
      ...VARIANTS,
      tracehopBaseline: {
        label: 'tracehop/cloudflare, baseline checkout',
        source: TRACEHOP,
        nodeCompat: false,
        root: BASELINE_ROOT.endsWith('/') ? BASELINE_ROOT : `${BASELINE_ROOT}/`,
      },
    }
  : VARIANTS

/** Bundles a Worker source for workerd with the tests' options (test/support/workerd-bundle.ts). */
export async function bundle(
  source: string,
  nodeCompat: boolean,
  minify: boolean,
  root = repoRoot(),
): Promise<string> {
  const result = await build({
    stdin: { contents: source, resolveDir: root, sourcefile: 'worker.js', loader: 'js' },
    // `browser`: @microlabs/otel-cf-workers' OpenTelemetry dependencies swap their Node
    // platform files through the package.json `browser` map, applied only on this platform.
    ...workerdBuildOptions({ nodeCompat, minify, platform: 'browser' }),
    legalComments: 'none',
  })
  return result.outputFiles![0]!.text
}

export interface SizeRow {
  readonly label: string
  readonly minifiedBytes: number
  readonly gzipBytes: number
  /** gzip bytes added over the bare Worker. */
  readonly addedGzipBytes: number
}

/**
 * Bundle sizes of the same Worker bare, with tracehop/cloudflare + OTLP export, with
 * @microlabs/otel-cf-workers, and with the plain OpenTelemetry SDK + an OTLP/JSON fetch
 * export: esbuild (minify, workerd conditions) then gzip level 9.
 *
 * @example
 * const rows = await measureWorkerSizes()
 * rows.find((r) => r.label.startsWith('tracehop'))?.addedGzipBytes // budget: 12 KB
 */
export async function measureWorkerSizes(): Promise<SizeRow[]> {
  const inputs: { label: string; source: string; nodeCompat: boolean }[] = [
    { label: 'bare Worker', source: BARE, nodeCompat: false },
    { label: 'tracehop/cloudflare + OTLP', source: TRACEHOP, nodeCompat: false },
    { label: '  of which the core alone (tracehop + OTLP)', source: CORE_ONLY, nodeCompat: false },
    { label: '@microlabs/otel-cf-workers 0.9', source: OTEL_CF, nodeCompat: true },
    { label: 'plain OTel SDK 2 (sdk-trace-base) + OTLP/JSON', source: PLAIN_OTEL, nodeCompat: false },
  ]
  const sized = await Promise.all(
    inputs.map(async (i) => {
      const code = await bundle(i.source, i.nodeCompat, true)
      return {
        label: i.label,
        minifiedBytes: Buffer.byteLength(code),
        gzipBytes: gzipSync(code, { level: 9 }).length,
      }
    }),
  )
  const bare = sized[0]!.gzipBytes
  return sized.map((s) => ({ ...s, addedGzipBytes: s.gzipBytes - bare }))
}

/** A bench Worker for Miniflare: the bundled `script`, reachable on its own 127.0.0.1 port. */
export function benchWorker(
  name: string,
  script: string,
  nodeCompat: boolean,
  bindings: Record<string, string>,
): WorkerOptions {
  return {
    name,
    modules: true,
    script,
    compatibilityDate: '2025-01-01',
    compatibilityFlags: nodeCompat ? ['nodejs_compat'] : [],
    bindings,
    unsafeDirectSockets: [{ host: '127.0.0.1', port: 0 }],
  }
}

/**
 * CPU time (ms) of the workerd processes started by this process: the sum of their threads'
 * run time from /proc/<pid>/task/<tid>/schedstat (nanoseconds), or user + system from
 * /proc/<pid>/stat (10 ms ticks) where schedstat is not there.
 */
export function workerdCpuMs(): number {
  let total = 0
  const ticks = 100 // USER_HZ on Linux
  for (const pid of workerdPids()) {
    try {
      const ns = threadsRunTimeNs(pid)
      if (ns !== undefined) total += ns / 1e6
      else {
        const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
        const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
        total += ((Number(fields[11]) + Number(fields[12])) * 1000) / ticks
      }
    } catch {
      // The process ended or /proc is not there: CPU is then not reported.
    }
  }
  return total
}

/** The workerd processes this process started (Miniflare's children), from /proc. */
export function workerdPids(): number[] {
  return readChildren(process.pid).filter((pid) => {
    try {
      return readFileSync(`/proc/${pid}/stat`, 'utf8').includes('(workerd)')
    } catch {
      return false
    }
  })
}

function threadsRunTimeNs(pid: number): number | undefined {
  try {
    let ns = 0
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      ns += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0])
    }
    return Number.isFinite(ns) ? ns : undefined
  } catch {
    return undefined
  }
}

function readChildren(ppid: number): number[] {
  try {
    return readFileSync(`/proc/${ppid}/task/${ppid}/children`, 'utf8')
      .trim()
      .split(/\s+/)
      .filter(Boolean)
      .map(Number)
  } catch {
    return []
  }
}

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? Number.NaN
}

const median = (xs: readonly number[]): number =>
  percentile(
    [...xs].sort((a, b) => a - b),
    0.5,
  )

interface Samples {
  latencies: number[]
  rps: number[]
  cpuPerReq: number[]
  /** p50 latency of each round. */
  p50: number[]
}

/** Requests in flight at once while a Worker is driven. */
export const CONCURRENCY = 8

/**
 * Sends `requests` GETs to `url`, `concurrency` at a time, reading each body; pushes each
 * latency (ms) to `latencies` and resolves with the throughput (requests per second).
 */
export async function drive(
  url: string,
  requests: number,
  concurrency: number,
  latencies: number[],
): Promise<number> {
  let next = 0
  const t0 = performance.now()
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < requests) {
        next++
        const s = performance.now()
        const res = await fetch(url)
        await res.arrayBuffer()
        if (res.status !== 200) throw new Error(`bench Worker answered ${res.status}`)
        latencies.push(performance.now() - s)
      }
    }),
  )
  return (requests * 1000) / (performance.now() - t0)
}

/** Runs the workerd comparison and the size comparison, printing both. */
export async function run(): Promise<void> {
  const env = process.env as { BENCH_ROUNDS?: string; BENCH_WORKERD_REQUESTS?: string }
  const rounds = Number(env.BENCH_ROUNDS ?? 9)
  const perRound = Number(env.BENCH_WORKERD_REQUESTS ?? 1500)
  const concurrency = CONCURRENCY

  // Export requests per Worker (each exports to its own path), to show each one exports.
  const upstream = createServer((_req, res) => res.end('upstream'))
  const [upstreamUrl, receiver] = await Promise.all([listen(upstream), startExportReceiver()])
  // BENCH_WORKERD_VARIANTS=bare,tracehop,tracehopBaseline: a subset (bare always first).
  const only = process.env['BENCH_WORKERD_VARIANTS']?.split(',')
  const entries = Object.entries(ALL_VARIANTS).filter(
    ([name]) => name === 'bare' || !only || only.includes(name),
  )
  const scripts = await Promise.all(entries.map(([, v]) => bundle(v.source, v.nodeCompat, false, v.root)))
  const mf = new Miniflare({
    workers: entries.map(([name, v], i) =>
      benchWorker(name, scripts[i]!, v.nodeCompat, {
        UPSTREAM: `${upstreamUrl}/`,
        OTLP_URL: `${receiver.url}/${name}/v1/traces`,
        ...v.bindings,
      }),
    ),
  })
  try {
    await mf.ready
    const urls = await Promise.all(entries.map(async ([name]) => (await mf.unsafeGetDirectURL(name)).href))
    const samples: Samples[] = entries.map(() => ({ latencies: [], rps: [], cpuPerReq: [], p50: [] }))
    for (const url of urls) await drive(url, 200, concurrency, []) // warm-up
    for (let round = 0; round < rounds; round++) {
      for (let k = 0; k < entries.length; k++) {
        const idx = (k + round) % entries.length
        const cpu0 = workerdCpuMs()
        const rps = await drive(urls[idx]!, perRound, concurrency, samples[idx]!.latencies)
        // Let this variant's exports (after the responses, in waitUntil) finish in its own window.
        await new Promise((r) => setTimeout(r, 150))
        samples[idx]!.rps.push(rps)
        samples[idx]!.cpuPerReq.push((workerdCpuMs() - cpu0) / perRound)
        samples[idx]!.p50.push(
          percentile(
            samples[idx]!.latencies.slice(-perRound).sort((a, b) => a - b),
            0.5,
          ),
        )
      }
    }
    const total = 200 + rounds * perRound
    const rows = entries.map(([name, v], i) => {
      const s = samples[i]!
      const sorted = [...s.latencies].sort((a, b) => a - b)
      return {
        label: v.label,
        posts: receiver.count(`/${name}/v1/traces`),
        bytes: receiver.bytes(`/${name}/v1/traces`),
        rps: median(s.rps),
        p50: percentile(sorted, 0.5),
        p99: percentile(sorted, 0.99),
        cpu: median(s.cpuPerReq),
      }
    })
    const [bare, ...others] = rows
    const ordered = [rows[1]!, rows[0]!, ...rows.slice(2)]
    report(
      `workerd: time per request at concurrency ${concurrency}, one upstream fetch + OTLP export each (1 / throughput)`,
      ordered.map((r) => ({ label: r.label, ns: 1e9 / r.rps })),
    )
    const pct = (x: number): string => `${x >= 0 ? '+' : ''}${(x * 100).toFixed(1)}%`
    note(
      `workerd: ${rounds} interleaved rounds x ${perRound} requests per Worker, ${concurrency} concurrent`,
      [
        `${'Worker'.padEnd(44)} ${'req/s'.padStart(8)} ${'p50 ms'.padStart(8)} ${'p99 ms'.padStart(8)} ${'CPU ms/req'.padStart(11)} ${'exports/1k req'.padStart(15)} ${'bytes/export'.padStart(13)}`,
        ...rows.map(
          (r) =>
            `${r.label.padEnd(44)} ${r.rps.toFixed(0).padStart(8)} ${r.p50.toFixed(2).padStart(8)} ${r.p99.toFixed(2).padStart(8)} ${r.cpu.toFixed(3).padStart(11)} ${((r.posts * 1000) / total).toFixed(0).padStart(15)} ${(r.posts === 0 ? '-' : (r.bytes / r.posts).toFixed(0)).padStart(13)}`,
        ),
        ...others.map(
          (r) =>
            `${r.label}: throughput ${pct(bare!.rps / r.rps - 1)} time/req vs bare, p50 ${pct(r.p50 / bare!.p50 - 1)}, p99 ${pct(r.p99 / bare!.p99 - 1)}, workerd CPU/req ${pct(r.cpu / bare!.cpu - 1)}`,
        ),
        'CPU: the workerd process (all Workers of the run live in it; each round is measured alone, exports included).',
      ],
    )
    // Ratios to the bare Worker, per round (each round has its own bare sample, so a noisy
    // round moves both): median over rounds, and the min–max of the per-round ratios.
    const ratio = (i: number, key: 'cpuPerReq' | 'rps' | 'p50'): string => {
      const xs = samples[i]![key].map((x, r) => x / samples[0]![key][r]!)
      const sorted = [...xs].sort((a, b) => a - b)
      return `${median(xs).toFixed(2)}x (${sorted[0]!.toFixed(2)}–${sorted[sorted.length - 1]!.toFixed(2)})`.padStart(
        20,
      )
    }
    note(`workerd: ratios to the bare Worker, median of ${rounds} rounds (min–max)`, [
      `${'Worker'.padEnd(44)} ${'CPU/req'.padStart(20)} ${'throughput'.padStart(20)} ${'p50'.padStart(20)}`,
      ...rows.map(
        (r, i) => `${r.label.padEnd(44)} ${ratio(i, 'cpuPerReq')} ${ratio(i, 'rps')} ${ratio(i, 'p50')}`,
      ),
      'Goal (issue 16): tracehop CPU <= 1.25x and throughput >= 0.85x of bare.',
    ])
    // Where tracehop's added CPU goes: per-round differences to the bare Worker (medians).
    const index = (name: string): number => entries.findIndex(([n]) => n === name)
    const added = (name: string): number | undefined => {
      const i = index(name)
      if (i < 0) return undefined
      return median(samples[i]!.cpuPerReq.map((x, r) => x - samples[0]!.cpuPerReq[r]!)) * 1000
    }
    const full = added('tracehop')
    const noExport = added('tracehopNoExport')
    const tracing = added('tracehopNothingDeferred')
    const deferring = added('bareWaitUntil')
    const headers = added('bareTraceHeaders')
    const postPerRequest = added('barePostPerRequest')
    if (
      full !== undefined &&
      noExport !== undefined &&
      tracing !== undefined &&
      deferring !== undefined &&
      headers !== undefined
    ) {
      const us = (x: number): string => `${x.toFixed(0).padStart(5)} µs`
      note('workerd: where tracehop/cloudflare (OTLP protobuf) adds CPU per request, over the bare Worker', [
        `${us(full)}  in all`,
        `${us(tracing)}  tracing, nothing deferred: spans, ids, attributes, trace headers on the upstream fetch`,
        `${us(headers)}    of which a bare Worker sending the same trace headers pays`,
        `${us(noExport - tracing)}  the flush held by waitUntil past the response (no exporter: nothing to send)`,
        `${us(full - noExport)}  exporting: the coalescing window, encoding, the POST`,
        `${us(deferring)}  for comparison, a bare Worker holding waitUntil for a 10 ms timer`,
        ...(postPerRequest === undefined
          ? []
          : [
              `${us(postPerRequest)}  and a bare Worker sending one 600 B POST per request after its response`,
            ]),
        `bare Worker: ${us(median(samples[0]!.cpuPerReq) * 1000)} per request. Medians of per-round differences; the machine's noise is the min–max above.`,
      ])
    }
  } finally {
    await mf.dispose()
    upstream.close()
    receiver.close()
  }

  const sizes = await measureWorkerSizes()
  note('Worker bundle size (esbuild --minify, workerd conditions; gzip -9): added over the bare Worker', [
    `${'Worker'.padEnd(48)} ${'minified'.padStart(10)} ${'gzip'.padStart(8)} ${'added gzip'.padStart(11)}`,
    ...sizes.map(
      (s) =>
        `${s.label.padEnd(48)} ${String(s.minifiedBytes).padStart(10)} ${String(s.gzipBytes).padStart(8)} ${`${(s.addedGzipBytes / 1024).toFixed(1)} KB`.padStart(11)}`,
    ),
  ])
}
