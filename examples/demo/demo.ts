/**
 * `npm run demo`: starts the topology (examples/demo/topology.ts), runs the scenario
 * (scenario.ts), prints one stitched trace, the error trace, what was kept and why, and the
 * waterfall page's URL, then stops everything. `--keep` leaves it all running until Ctrl-C.
 *
 * Options: `--keep`, `--port N` (collector port, default 4318), `--ratio R` (default 0.1),
 * `--verbose` (the services' own output).
 */
import { renderWaterfall } from '../../cli/waterfall.js'
import { isHeadSampled } from '../../src/index.js'
import {
  explainSlowestHop,
  formatSummary,
  lost,
  type ServiceSummary,
  summarize,
  tallyTraces,
} from './report.js'
import { ERROR_SERVICES, REQUEST_SERVICES, runScenario } from './scenario.js'
import { startTopology, type Topology } from './topology.js'

interface DemoArgs {
  readonly keep: boolean
  readonly port: number
  readonly ratio: number
  readonly verbose: boolean
}

function parseArgs(argv: readonly string[]): DemoArgs | string {
  let keep = false
  let verbose = false
  let port = 4318
  let ratio = 0.1
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!
    if (a === '--keep') keep = true
    else if (a === '--verbose') verbose = true
    else if (a === '--port' || a === '--ratio') {
      const v = Number(argv[++i])
      if (a === '--port' && !(Number.isInteger(v) && v >= 0 && v <= 65535)) return `--port needs 0..65535`
      if (a === '--ratio' && !(v >= 0 && v <= 1)) return `--ratio needs a number within [0, 1]`
      if (a === '--port') port = v
      else ratio = v
    } else return `unknown option ${a} (use --keep, --port N, --ratio R, --verbose)`
  }
  return { keep, port, ratio, verbose }
}

const color = process.stdout.isTTY === true
const bold = (s: string): string => (color ? `\x1b[1m${s}\x1b[0m` : s)
const dim = (s: string): string => (color ? `\x1b[2m${s}\x1b[0m` : s)

function section(title: string): void {
  console.log(`\n${bold(`── ${title} `)}${dim('─'.repeat(Math.max(0, 70 - title.length)))}`)
}

/**
 * Reads the counters until they agree with the collector (bounded): every span a service
 * exported has arrived, and the scopes it kept are the ones received. A flush still in
 * flight shows as a difference for a moment.
 */
function agrees(r: ServiceSummary): boolean {
  const c = r.counters
  return c !== undefined && lost(r) === 0 && c.sampled === r.kept.sampled && c.keptForError === r.kept.error
}

async function settledCounters(topology: Topology): Promise<ServiceSummary[]> {
  let rows: ServiceSummary[] = []
  for (let i = 0; i < 20; i++) {
    rows = summarize(topology.collector.traces(), topology.services, await topology.counters())
    if (rows.every(agrees)) break
    await new Promise((r) => setTimeout(r, 100))
  }
  return rows
}

/**
 * Runs the demo; resolves with the process exit code.
 *
 * @example
 * process.exitCode = await runDemo(process.argv.slice(2), repositoryRoot)
 */
export async function runDemo(argv: readonly string[], root: string): Promise<number> {
  const args = parseArgs(argv)
  if (typeof args === 'string') {
    console.error(`demo: ${args}`)
    return 2
  }
  const t0 = performance.now()
  const elapsed = (): string => `${((performance.now() - t0) / 1000).toFixed(1)} s`
  console.log(bold('tracehop demo: one trace across a Worker, an edge function, a Lambda and a queue'))
  console.log(
    dim(`sampling ${args.ratio * 100}% in every service, errors always kept; everything on 127.0.0.1`),
  )

  let topology: Topology | undefined
  let starting: Promise<Topology> | undefined
  const abort = new AbortController()
  let stopping: Promise<void> | undefined
  const stopAll = (): Promise<void> => {
    stopping ??= (async () => {
      // Still starting: abort stops what has started; the start then rejects.
      abort.abort()
      await starting?.catch(() => undefined)
      await topology?.stop()
    })()
    return stopping
  }
  let interrupted = false
  const onSignal = (signal: NodeJS.Signals): void => {
    if (interrupted) {
      console.log('still stopping (bounded: a service that does not stop within 3 s is killed)…')
      return
    }
    interrupted = true
    console.log(`\n${signal}: stopping every service…`)
    void stopAll().then(() => process.exit(130))
  }
  // Miniflare's own SIGINT/SIGTERM hook kills workerd and exits at once; the topology
  // signals its other child processes on exit, so nothing outlives this process either way.
  process.on('SIGINT', onSignal)
  process.on('SIGTERM', onSignal)

  try {
    section('starting')
    starting = startTopology({
      root,
      signal: abort.signal,
      port: args.port,
      samplingRatio: args.ratio,
      log: (l) => console.log(`  ${l}`),
      serviceLog: (service, line) => {
        // tracehop's own warnings (dropped spans) always show; the runtimes' chatter with --verbose.
        if (args.verbose || line.includes('tracehop:')) console.log(dim(`  [${service}] ${line}`))
      },
    })
    topology = await starting
    if (interrupted) return new Promise<number>(() => {}) // the signal handler exits
    console.log(dim(`  all up in ${elapsed()}`))

    section('requests')
    const result = await runScenario(topology, { log: (l) => console.log(`  ${l}`) })
    const traces = topology.collector.traces()
    const width = Math.min(process.stdout.columns || 120, 140)
    const pageUrl = (id: string): string => `${topology!.collector.url}/#trace=${id}`

    const stitched = result.sampled[0]
    section('one stitched trace (head-sampled)')
    if (stitched === undefined) {
      const n = result.requests.filter((r) => !r.fault).length
      console.log(
        `  none of ${n} requests was head-sampled at ${args.ratio * 100}% (chance ${((1 - args.ratio) ** n * 100).toFixed(1)}%); run it again`,
      )
    } else {
      console.log(renderWaterfall(stitched, { width, color, highlightSlowest: true }))
      for (const l of explainSlowestHop(stitched)) console.log(dim(`  ${l}`))
      const missing = REQUEST_SERVICES.filter((s) => !stitched.services.includes(s))
      if (missing.length > 0) console.log(`  missing services: ${missing.join(', ')}`)
      const otlp = stitched.spans.filter((s) => s.source === 'otlp').length
      const runs = stitched.spans.filter((s) => s.runId !== undefined).length
      console.log(
        dim(
          `  both views of it: ${otlp} spans as OTLP/protobuf, ${runs} LangSmith runs (trace ${stitched.spans.find((s) => s.parentSpanId === undefined)?.runId ?? '?'})`,
        ),
      )
    }

    section('the failing request, kept by always-keep-errors')
    if (result.errorTrace === undefined) console.log('  the error trace did not arrive')
    else {
      if (isHeadSampled(result.errorTrace.traceId, { ratio: args.ratio }))
        console.log('  (its trace id was head-sampled as well: kept either way)')
      console.log(renderWaterfall(result.errorTrace, { width, color, highlightSlowest: true }))
      for (const l of explainSlowestHop(result.errorTrace)) console.log(dim(`  ${l}`))
      const missing = ERROR_SERVICES.filter((s) => !result.errorTrace!.services.includes(s))
      if (missing.length > 0) console.log(`  missing services: ${missing.join(', ')}`)
    }

    section('what was kept, and why')
    const tally = tallyTraces(traces, result.requests)
    console.log(
      `  ${tally.requests} requests: ${tally.headSampled} head-sampled (kept whole by every service: the decision is a function of the trace id), ${tally.keptForError} kept for an error, ${tally.notKept} not kept anywhere`,
    )
    console.log(
      `  fragments (part of a trace kept by some services only): ${tally.fragments}; queue batch traces (\`process jobs\`, sampled on their own): ${tally.batchTraces}`,
    )
    const rows = await settledCounters(topology)
    console.log('')
    console.log(
      formatSummary(rows)
        .split('\n')
        .map((l) => `  ${l}`)
        .join('\n'),
    )
    console.log(
      dim(
        '  scopes: invocations (jobs: each request, queue batch and message); not kept: neither sampled nor failed\n' +
          '  (both from the services’ own counters, tracer.stats()); sampled, error: scopes whose spans the collector\n' +
          '  received, by why they were kept; OTLP, LangSmith: spans received each way; lost: handed to an exporter, never received.',
      ),
    )
    if (rows.every(agrees))
      console.log(
        '  nothing lost: every span the services exported arrived, both ways, and their counters agree.',
      )
    else
      for (const r of rows.filter((x) => !agrees(x)))
        console.log(`  ${r.service}: its counters and what the collector received differ (see the table)`)

    section('explore')
    if (stitched) console.log(`  stitched trace: ${bold(pageUrl(stitched.traceId))}`)
    if (result.errorTrace) console.log(`  error trace:    ${pageUrl(result.errorTrace.traceId)}`)
    console.log(`  all traces:     ${topology.collector.url}/`)
    if (topology.portFallback)
      console.log(dim(`  (port ${args.port} was taken: the collector took ${topology.collector.port})`))

    if (args.keep) {
      console.log(`\n  --keep: everything stays up. Gateway: POST ${topology.gatewayUrl}chat`)
      console.log(`  (authorization: Bearer ${topology.apiToken}). Ctrl-C stops it all.`)
      await new Promise<never>(() => {})
    }
    await stopAll()
    console.log(dim(`\nstopped every service; ${elapsed()} in all`))
    console.log(dim('to open the links above, run it with everything left up: npm run demo -- --keep'))
    return stitched !== undefined && result.errorTrace !== undefined ? 0 : 1
  } catch (e) {
    if (interrupted) return new Promise<number>(() => {}) // the signal handler exits
    console.error(`\ndemo failed: ${(e as Error).stack ?? String(e)}`)
    await stopAll()
    return 1
  }
}
