/**
 * tracehop's own JavaScript per traced request, in workerd, with no I/O: the instrumented
 * Worker's fetch handler called thousands of times inside one request, its upstream fetch
 * answered by a stub, no exporter. The same loop over an untraced handler is subtracted.
 * Without sockets, timers or exports in the way, this figure moves only when tracehop's
 * code does: use it to judge a change to the request path (the HTTP figures of the
 * `workerd` suite carry the machine's noise, ±30 µs a request here).
 * `BENCH_WORKERD_BASELINE=<another checkout>` measures that checkout in the same run.
 */
import { Miniflare } from 'miniflare'
import { iqrOf, medianOf, note } from '../harness.js'
import { bundle, workerdCpuMs } from './workerd.js'

// The stub answers at once: a Response, as a fetch would, with no socket.
const WORKER = `
import { instrument, traceOf } from './adapters/cloudflare/index.ts'
const upstream = () => Promise.resolve(new Response('upstream'))
const UPSTREAM = 'http://127.0.0.1:9/'
const bare = {
  async fetch(request, env, ctx) {
    const r = await upstream(new Request(UPSTREAM))
    await r.arrayBuffer()
    return new Response('ok')
  },
}
const user = {
  async fetch(request, env, ctx) {
    const r = await traceOf(ctx).fetch(UPSTREAM)
    await r.arrayBuffer()
    return new Response('ok')
  },
}
const tracedWith = (write) =>
  instrument(user, () => ({
    service: 'bench',
    propagation: write ? { allow: [UPSTREAM], write } : { allow: [UPSTREAM] },
    exporters: [],
    log: () => {},
    fetch: upstream,
  }))
// The default formats (W3C, baggage and LangSmith), and an OpenTelemetry-only service's.
const HANDLERS = { bare, traced: tracedWith(undefined), tracedOtel: tracedWith(['w3c', 'baggage']) }
export default {
  async fetch(request, env) {
    const params = new URL(request.url).searchParams
    const handler = HANDLERS[params.get('handler')] ?? bare
    const n = Number(params.get('n'))
    const ctx = { waitUntil() {}, passThroughOnException() {} }
    // The Worker's own env, as workerd passes it on every request: the tracer is resolved once
    // per env object, so a fresh object per call would build a tracer per request.
    for (let i = 0; i < n; i++) {
      const req = new Request('http://127.0.0.1:8787/chat?x=1', { headers: { 'user-agent': 'bench', accept: '*/*' } })
      const res = await handler.fetch(req, env, ctx)
      await res.arrayBuffer()
    }
    return new Response('done')
  },
}
`

export async function run(): Promise<void> {
  const rounds = Number(process.env['BENCH_ROUNDS'] ?? 9) + 6
  const perRound = 4000
  const baseline = process.env['BENCH_WORKERD_BASELINE']
  const roots: [string, string | undefined][] = [['tracehop', undefined]]
  if (baseline) roots.push(['baseline checkout', baseline.endsWith('/') ? baseline : `${baseline}/`])
  const scripts = await Promise.all(roots.map(([, root]) => bundle(WORKER, false, false, root)))
  const mf = new Miniflare({
    workers: roots.map(([,], i) => ({
      name: `w${i}`,
      modules: true,
      script: scripts[i]!,
      compatibilityDate: '2025-01-01',
      unsafeDirectSockets: [{ host: '127.0.0.1', port: 0 }],
    })),
  })
  try {
    await mf.ready
    const urls = await Promise.all(roots.map(async (_, i) => (await mf.unsafeGetDirectURL(`w${i}`)).href))
    const cpuOf = async (url: string, handler: string, n: number): Promise<number> => {
      const cpu0 = workerdCpuMs()
      await (await fetch(`${url}?handler=${handler}&n=${n}`)).text()
      return ((workerdCpuMs() - cpu0) * 1000) / n
    }
    const variants = [
      ['traced', 'default formats'],
      ['tracedOtel', "write ['w3c', 'baggage']"],
    ] as const
    for (const url of urls) for (const h of ['bare', ...variants.map(([v]) => v)]) await cpuOf(url, h, 2000) // warm-up
    const bare: number[][] = roots.map(() => [])
    const traced: number[][][] = roots.map(() => variants.map(() => []))
    for (let r = 0; r < rounds; r++) {
      for (let k = 0; k < urls.length; k++) {
        const i = (k + r) % urls.length
        bare[i]!.push(await cpuOf(urls[i]!, 'bare', perRound))
        for (const [j, [v]] of variants.entries()) traced[i]![j]!.push(await cpuOf(urls[i]!, v, perRound))
      }
    }
    note(
      `workerd, no I/O: tracehop's own JavaScript per traced request (${rounds} rounds x ${perRound} requests)`,
      [
        `${'checkout, formats written'.padEnd(48)} ${'added (min)'.padStart(12)} ${'added (median)'.padStart(15)}   IQR traced / untraced loop (µs a request)`,
        ...roots.flatMap(([label], i) =>
          variants.map(([, formats], j) => {
            const t = traced[i]![j]!
            const b = bare[i]!
            const least = Math.min(...t) - Math.min(...b)
            const typical = medianOf(t) - medianOf(b)
            return `${`${label}, ${formats}`.padEnd(48)} ${least.toFixed(1).padStart(12)} ${typical.toFixed(1).padStart(15)}   ${iqrOf(t)} / ${iqrOf(b)}`
          }),
        ),
        'Server span + one traced fetch (default formats: W3C, baggage and LangSmith headers), span records built; no exporter.',
        "added (min): the traced loop's least disturbed round minus the untraced loop's; noise only adds.",
      ],
    )
  } finally {
    await mf.dispose()
  }
}
