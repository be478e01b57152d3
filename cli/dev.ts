/**
 * `tracehop dev`: the collector plus its terminal output (a banner, then one waterfall per
 * finished trace), running until SIGINT/SIGTERM.
 */
import { TracehopError } from '../src/errors.js'
import type { DevOptions } from './args.js'
import { type Collector, renderWaterfall, startCollector } from './collector.js'
import { terminalSafe } from './terminal-text.js'
import type { CollectedTrace } from './types.js'

export interface DevIo {
  /** Banner and waterfalls. */
  readonly out: (text: string) => void
  /** Notices and errors. */
  readonly err: (text: string) => void
  /** ANSI colours (a TTY without NO_COLOR, or FORCE_COLOR). */
  readonly color: boolean
  /** Terminal width for waterfalls. */
  readonly width: () => number
}

/**
 * The terminal block for one finished trace: the waterfall and a link to its page.
 *
 * @example
 * process.stdout.write(traceBlock(trace, collector.url, { color: false, width: () => 100 }))
 */
export function traceBlock(trace: CollectedTrace, url: string, io: Pick<DevIo, 'color' | 'width'>): string {
  const link = `${url}/#trace=${terminalSafe(trace.traceId)}`
  const waterfall = renderWaterfall(trace, { width: io.width(), color: io.color, highlightSlowest: true })
  return `\n${waterfall}\n  ${io.color ? `\x1b[2m${link}\x1b[0m` : link}\n`
}

/**
 * Starts the collector for `tracehop dev` and prints its banner. Resolves with the running
 * collector; rejects with a `TracehopError` (port in use, unwritable --json file).
 *
 * @example
 * const collector = await startDev({ port: 4318, host: '127.0.0.1', quiet: false }, io)
 */
export async function startDev(options: DevOptions, io: DevIo): Promise<Collector> {
  let url = ''
  const collector = await startCollector({
    port: options.port,
    host: options.host,
    ...(options.jsonFile !== undefined ? { jsonFile: options.jsonFile } : {}),
    corsOrigins: options.corsOrigins,
    limits: options.limits,
    log: io.err,
    ...(options.quiet ? {} : { onTrace: (trace: CollectedTrace) => io.out(traceBlock(trace, url, io)) }),
  })
  url = collector.url
  const bold = (s: string): string => (io.color ? `\x1b[1m${s}\x1b[0m` : s)
  const dim = (s: string): string => (io.color ? `\x1b[2m${s}\x1b[0m` : s)
  io.out(
    [
      `${bold('tracehop dev')} collector listening on ${bold(url)}`,
      `  OTLP/HTTP  ${url}/v1/traces  ${dim(`(tracehop: otlp({ url: '${url}/v1/traces' }); OTel SDKs: OTEL_EXPORTER_OTLP_ENDPOINT=${url})`)}`,
      `  LangSmith  ${url}  ${dim(`(tracehop: langsmith({ apiUrl: '${url}', apiKey: 'dev' }); SDKs: LANGSMITH_ENDPOINT=${url} LANGSMITH_API_KEY=dev)`)}`,
      `  Waterfalls ${url}/`,
      ...(options.jsonFile !== undefined
        ? [`  Spans  →  ${terminalSafe(options.jsonFile)} (JSON lines)`]
        : []),
      options.quiet
        ? dim('  --quiet: no terminal waterfalls')
        : dim('  Each trace is drawn here once no span arrived for 1.5 s. Ctrl+C to stop.'),
      '',
    ].join('\n'),
  )
  return collector
}

/**
 * Runs `tracehop dev` until SIGINT/SIGTERM; resolves with the process exit code.
 *
 * @example
 * process.exitCode = await runDev(parsed.options, io)
 */
export async function runDev(options: DevOptions, io: DevIo): Promise<number> {
  let collector: Collector
  try {
    collector = await startDev(options, io)
  } catch (e) {
    io.err(e instanceof TracehopError ? e.message : `tracehop: ${(e as Error).message}`)
    return 1
  }
  return new Promise<number>((resolve) => {
    let stopping = false
    const stop = (): void => {
      if (stopping) process.exit(130) // a second Ctrl+C: do not wait
      stopping = true
      collector.close().then(
        () => resolve(0),
        () => resolve(1),
      )
    }
    process.on('SIGINT', stop)
    process.on('SIGTERM', stop)
  })
}
