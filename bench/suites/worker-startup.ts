/**
 * A Worker's startup in workerd (miniflare): a fresh workerd process per sample loads the
 * Worker's script (parse, compile, top-level evaluation), then serves its first request (one
 * upstream fetch, the trace exported to a local receiver). The same Worker bare, traced with
 * tracehop/cloudflare, and with @microlabs/otel-cf-workers, bundled as in the workerd suite;
 * samples alternate between them so machine noise hits all alike. Reported: the workerd
 * process's CPU (user + system from /proc, less sensitive to a loaded machine than wall time)
 * and wall time to the first response, each minus the bare Worker's.
 */
import { createServer } from 'node:http'
import { Miniflare } from 'miniflare'
import { iqrOf, medianOf, note } from '../harness.js'
import { listen, startExportReceiver } from '../local-servers.js'
import { BARE, bundle, OTEL_CF, TRACEHOP, workerdCpuMs } from './workerd.js'

const SAMPLES = Number(process.env['BENCH_STARTUP_SAMPLES'] ?? 9)

interface Sample {
  readonly cpuMs: number
  readonly wallMs: number
}

export async function run(): Promise<void> {
  const upstream = createServer((_req, res) => res.end('upstream'))
  const [upstreamUrl, receiver] = await Promise.all([listen(upstream), startExportReceiver()])
  const variants = [
    { label: 'bare Worker', script: await bundle(BARE, false, true), nodeCompat: false },
    {
      label: 'tracehop/cloudflare (OTLP protobuf)',
      script: await bundle(TRACEHOP, false, true),
      nodeCompat: false,
    },
    { label: '@microlabs/otel-cf-workers 0.9', script: await bundle(OTEL_CF, true, true), nodeCompat: true },
  ]
  const samples: Sample[][] = variants.map(() => [])

  async function once(v: (typeof variants)[number]): Promise<Sample> {
    const t0 = performance.now()
    const mf = new Miniflare({
      name: 'startup',
      modules: true,
      script: v.script,
      compatibilityDate: '2025-01-01',
      compatibilityFlags: v.nodeCompat ? ['nodejs_compat'] : [],
      bindings: { UPSTREAM: `${upstreamUrl}/`, OTLP_URL: `${receiver.url}/v1/traces` },
      unsafeDirectSockets: [{ host: '127.0.0.1', port: 0 }],
    })
    try {
      const url = await mf.unsafeGetDirectURL()
      const res = await fetch(url)
      await res.arrayBuffer()
      const wallMs = performance.now() - t0
      // The export runs after the response (waitUntil): give it time to finish, then read CPU.
      await new Promise((r) => setTimeout(r, 300))
      return { cpuMs: workerdCpuMs(), wallMs }
    } finally {
      await mf.dispose()
    }
  }

  try {
    for (const v of variants) await once(v) // warm the file system cache and miniflare itself
    for (let i = 0; i < SAMPLES; i++) {
      for (let k = 0; k < variants.length; k++) {
        const idx = (k + i) % variants.length
        samples[idx]!.push(await once(variants[idx]!))
      }
    }
  } finally {
    upstream.close()
    receiver.close()
  }
  const bareCpu = medianOf(samples[0]!.map((s) => s.cpuMs))
  const bareWall = medianOf(samples[0]!.map((s) => s.wallMs))
  const tracehopAdded = medianOf(samples[1]!.map((s) => s.cpuMs)) - bareCpu
  note(`Worker startup in workerd: script load + first request, ${SAMPLES} fresh workerd processes each`, [
    `${'Worker'.padEnd(40)} ${'workerd CPU ms (IQR)'.padStart(24)} ${'added'.padStart(8)} ${'wall ms (IQR)'.padStart(20)} ${'added'.padStart(8)}  ratio`,
    ...variants.map((v, i) => {
      const cpu = samples[i]!.map((s) => s.cpuMs)
      const wall = samples[i]!.map((s) => s.wallMs)
      const added = medianOf(cpu) - bareCpu
      return `${v.label.padEnd(40)} ${`${medianOf(cpu).toFixed(1)} (${iqrOf(cpu)})`.padStart(24)} ${`+${added.toFixed(1)}`.padStart(8)} ${`${medianOf(wall).toFixed(0)} (${iqrOf(wall)})`.padStart(20)} ${`+${(medianOf(wall) - bareWall).toFixed(0)}`.padStart(8)}  ${i === 0 ? '' : `${(added / tracehopAdded).toFixed(2)}x`}`
    }),
    `ratio = added workerd CPU / tracehop's (above 1.00x: tracehop starts cheaper); ${receiver.count()} exports received.`,
  ])
}
