/**
 * The demo's topology, every service on the runtime it runs on in production, all on
 * 127.0.0.1, all exporting to one dev collector both ways at once (OTLP/HTTP protobuf and
 * LangSmith runs):
 *
 * ```
 * client ─▶ gateway (Worker, workerd) ─▶ orchestrator (Vercel Edge, edge-runtime) ─┬▶ retrieval (Lambda, serverless-offline)
 *                                                       stub model (in-process) ◀─┘└▶ jobs (Worker, workerd) ─▶ Queue ─▶ jobs consumer
 * ```
 *
 * Each service is its example, configured the way the example documents it: the gateway from
 * the root wrangler.toml plus vars (`SAMPLING_RATIO`, `LANGSMITH_ENDPOINT`, …), the
 * orchestrator from its environment (`FAULT_INJECTION=1` included, for the failing request),
 * the retrieval function from the root serverless.yml with its `TRACEHOP_*` variables. The
 * demo's entries (gateway-entry.ts, orchestrator-entry.ts, retrieval-entry.ts) only add a way
 * to read each service's tracer counters.
 *
 * Used by `npm run demo` (examples/demo/run.mjs) and by test/demo/demo.test.ts.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { EdgeRuntime, runServer } from 'edge-runtime'
import { build } from 'esbuild'
import { Miniflare } from 'miniflare'
import { parse } from 'smol-toml'
import { type Collector, startCollector } from '../../cli/collector.js'
import type { TracerStats } from '../../src/index.js'
import { freePort } from '../../test/support/http-receiver.js'
import { bundleForWorkerd } from '../../test/support/workerd-bundle.js'
import { type RetrievalStats, STATS_EVENT } from './retrieval-entry.js'

export interface TopologyOptions {
  /** The repository root (default: two levels above this file). */
  readonly root?: string
  /** The collector's port: default 4318; an ephemeral one if that is taken. 0: ephemeral. */
  readonly port?: number
  /** Head-sampling ratio of every service (default 0.1); errors are always kept. */
  readonly samplingRatio?: number
  /** The gateway's rate limit per client per minute (default: wrangler.toml's). */
  readonly rateLimitPerMinute?: number
  /** Simulated generation time of the stub model per call (ms, default 25). */
  readonly modelLatencyMs?: number
  /** The collector's quiet period before a trace counts as finished (ms, default 500). */
  readonly quietMs?: number
  /** Progress lines ("collector on …", "retrieval ready …"). */
  readonly log?: (line: string) => void
  /** The services' own output (serverless-offline, workerd, the collector's notes). Default: dropped. */
  readonly serviceLog?: (service: string, line: string) => void
  /** Aborting stops whatever has started and makes `startTopology` reject (Ctrl-C during start). */
  readonly signal?: AbortSignal
}

/** One running service. */
export interface ServiceInfo {
  /** `service.name` of its spans. */
  readonly name: 'gateway' | 'orchestrator' | 'retrieval' | 'jobs'
  /** Where it runs, e.g. `workerd (miniflare 4.20260426.0)`. */
  readonly runtime: string
  readonly url: string
}

/** A service's tracer counters: one entry per isolate / Lambda instance that served a request. */
export type ServiceCounters = readonly TracerStats[]

export interface Topology {
  /** POST `${gatewayUrl}chat` with `authorization: Bearer ${apiToken}` and `{ "question": "…" }`. */
  readonly gatewayUrl: string
  readonly apiToken: string
  readonly collector: Collector
  /** True when port 4318 was taken and the collector took an ephemeral port instead. */
  readonly portFallback: boolean
  readonly samplingRatio: number
  readonly rateLimitPerMinute: number
  readonly services: readonly ServiceInfo[]
  /** Each service's tracer counters (`tracer.stats()`); `undefined` where it could not be read. */
  counters(): Promise<Record<ServiceInfo['name'], ServiceCounters | undefined>>
  /** Stops every service and the collector (idempotent). */
  stop(): Promise<void>
}

interface WranglerFile {
  readonly main: string
  readonly compatibility_date: string
  readonly compatibility_flags?: string[]
  readonly vars?: Record<string, string>
  readonly queues?: {
    readonly producers?: { binding: string; queue: string }[]
    readonly consumers?: { queue: string; max_batch_size?: number; max_batch_timeout?: number }[]
  }
}

const STATS_PATH = '/__tracehop/stats'
const START_TIMEOUT_MS = 30_000

function readToml(path: string): WranglerFile {
  return parse(readFileSync(path, 'utf8')) as unknown as WranglerFile
}

function workerBundle(root: string, entry: string): Promise<string> {
  return bundleForWorkerd(join(root, entry))
}

function lines(stream: NodeJS.ReadableStream | null, each: (line: string) => void): void {
  if (stream === null) return
  let rest = ''
  stream.setEncoding('utf8')
  stream.on('data', (chunk: string) => {
    rest += chunk
    let nl = rest.indexOf('\n')
    while (nl >= 0) {
      each(rest.slice(0, nl).trimEnd())
      rest = rest.slice(nl + 1)
      nl = rest.indexOf('\n')
    }
  })
}

/** GET `url` as JSON; with `payload`, POST it (a `Lambda.Invoke`). */
async function readJson(url: string, payload?: unknown): Promise<unknown> {
  const res = await fetch(url, {
    signal: AbortSignal.timeout(5_000),
    ...(payload !== undefined ? { method: 'POST', body: JSON.stringify(payload) } : {}),
  })
  if (!res.ok) throw new Error(`${url}: HTTP ${res.status}`)
  return res.json()
}

/** The retrieval function's settings (the TRACEHOP_* variables the root serverless.yml reads). */
interface RetrievalSettings {
  readonly otlpUrl: string
  readonly langsmithUrl: string
  readonly project: string
  readonly ratio: number
}

/** The demo's bundle of the retrieval handler, and the handler `--param` names (root-relative). */
const RETRIEVAL_BUNDLE = 'examples/demo/dist/retrieval.mjs'
const RETRIEVAL_HANDLER = 'examples/demo/dist/retrieval.handler'
/** serverless.yml: `${service}-${stage}-${function}`, the name `Lambda.Invoke` takes. */
const RETRIEVAL_FUNCTION = 'tracehop-retrieval-dev-retrieval'

/**
 * Starts the retrieval function with the repository root's serverless.yml in
 * serverless-offline; resolves once it listens. The demo's settings reach it the way they
 * would reach a deploy: the TRACEHOP_* variables the file reads. `--param="handler=…"` runs the
 * demo's bundle of the same handler (examples/demo/retrieval-entry.ts: the example's handler
 * plus its counters on a direct invocation).
 */
async function startRetrieval(
  root: string,
  settings: RetrievalSettings,
  output: (line: string) => void,
  track: (stop: () => Promise<void>) => void,
): Promise<{ url: string; statsUrl: string }> {
  // A port found free can be taken by another process before serverless-offline binds it
  // (it cannot report an ephemeral port of its own): on EADDRINUSE, try other ports.
  for (let attempt = 1; ; attempt++) {
    try {
      return await startRetrievalOnce(root, settings, output, track)
    } catch (e) {
      if (attempt >= 3 || !String((e as Error).message).includes('EADDRINUSE')) throw e
    }
  }
}

async function startRetrievalOnce(
  root: string,
  settings: RetrievalSettings,
  output: (line: string) => void,
  track: (stop: () => Promise<void>) => void,
): Promise<{ url: string; statsUrl: string }> {
  const [httpPort, lambdaPort] = [await freePort(), await freePort()]
  const child = spawn(
    process.execPath,
    [
      join(root, 'node_modules/serverless/bin/serverless.js'),
      'offline',
      'start',
      '--host',
      '127.0.0.1',
      '--httpPort',
      String(httpPort),
      '--lambdaPort',
      String(lambdaPort),
      `--param=handler=${RETRIEVAL_HANDLER}`,
    ],
    {
      cwd: root,
      env: {
        ...process.env,
        SLS_TELEMETRY_DISABLED: '1',
        SLS_NOTIFICATIONS_MODE: 'off',
        SLS_DEPRECATION_DISABLE: '*',
        SLS_INTERACTIVE_SETUP_DISABLE: '1',
        // Every variable serverless.yml reads, set: none comes from the user's shell.
        TRACEHOP_OTLP_URL: settings.otlpUrl,
        TRACEHOP_OTLP_ENCODING: 'protobuf',
        TRACEHOP_SAMPLING_RATIO: String(settings.ratio),
        TRACEHOP_LANGSMITH_ENDPOINT: settings.langsmithUrl,
        TRACEHOP_LANGSMITH_PROJECT: settings.project,
        TRACEHOP_LANGSMITH_API_KEY: '',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  )
  track(() => stopChild(child))
  // Whatever ends this process (miniflare's own SIGINT hook calls process.exit), the child
  // must not outlive it: signal it synchronously on exit.
  const killOnExit = (): void => {
    child.kill('SIGTERM')
  }
  process.once('exit', killOnExit)
  child.once('exit', () => process.removeListener('exit', killOnExit))
  const seen: string[] = []
  const ready = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      reject(new Error(`serverless-offline did not start within ${START_TIMEOUT_MS} ms:\n${seen.join('\n')}`))
    }, START_TIMEOUT_MS)
    const onLine = (line: string): void => {
      if (seen.length < 200) seen.push(line)
      output(line)
      if (line.includes('Server ready')) {
        clearTimeout(timer)
        resolve()
      }
    }
    lines(child.stdout, onLine)
    lines(child.stderr, onLine)
    child.once('exit', (code, signal) => {
      clearTimeout(timer)
      reject(
        new Error(`serverless-offline exited (${signal ?? code}) before it was ready:\n${seen.join('\n')}`),
      )
    })
    child.once('error', (e) => {
      clearTimeout(timer)
      reject(e)
    })
  })
  await ready
  return {
    url: `http://127.0.0.1:${httpPort}/dev/retrieve`,
    statsUrl: `http://127.0.0.1:${lambdaPort}/2015-03-31/functions/${RETRIEVAL_FUNCTION}/invocations`,
  }
}

/** SIGTERM, then SIGKILL after 3 s; resolves when the process has exited. */
function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve()
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 3_000)
    child.once('exit', () => {
      clearTimeout(timer)
      resolve()
    })
    child.kill('SIGTERM')
  })
}

async function startCollectorOn(
  port: number,
  quietMs: number,
  log: (line: string) => void,
): Promise<{ collector: Collector; fallback: boolean }> {
  try {
    return { collector: await startCollector({ port, quietMs, log }), fallback: false }
  } catch (e) {
    const code = (e as { cause?: { code?: string } }).cause?.code
    if (port === 0 || code !== 'EADDRINUSE') throw e
    return { collector: await startCollector({ port: 0, quietMs, log }), fallback: true }
  }
}

/**
 * Starts the collector and the four services, wired to each other and to the collector.
 * Rejects (after stopping what had started) when a service cannot start.
 *
 * @example
 * const topology = await startTopology({ port: 0 })
 * await fetch(`${topology.gatewayUrl}chat`, { method: 'POST', headers: { authorization: `Bearer ${topology.apiToken}` }, body: '{"question":"hi"}' })
 * await topology.stop()
 */
export async function startTopology(options: TopologyOptions = {}): Promise<Topology> {
  const root = options.root ?? new URL('../../', import.meta.url).pathname
  const log = options.log ?? ((): void => {})
  const serviceLog = options.serviceLog ?? ((): void => {})
  const ratio = options.samplingRatio ?? 0.1
  const stoppers: (() => Promise<void>)[] = []
  let stopped: Promise<void> | undefined
  const stopOne = async (s: () => Promise<void>): Promise<void> => {
    try {
      await s()
    } catch (e) {
      log(`stop: ${(e as Error).message}`)
    }
  }
  const stop = (): Promise<void> => {
    stopped ??= (async () => {
      // Last started, first stopped: callers before callees, the collector last.
      for (const s of stoppers.reverse()) await stopOne(s)
    })()
    return stopped
  }
  // Everything started is tracked at once; after a stop, whatever still comes up stops too.
  const track = (s: () => Promise<void>): void => {
    if (stopped === undefined) stoppers.push(s)
    else void stopOne(s)
  }
  const signal = options.signal
  const checkpoint = (): void => {
    if (signal?.aborted) throw new Error('startTopology: aborted')
  }
  signal?.addEventListener('abort', () => void stop(), { once: true })

  try {
    const { collector, fallback } = await startCollectorOn(
      options.port ?? 4318,
      options.quietMs ?? 500,
      (l) => serviceLog('collector', l),
    )
    track(() => collector.close())
    checkpoint()
    log(
      fallback
        ? `collector: port ${options.port ?? 4318} is taken, listening on ${collector.url} instead`
        : `collector: ${collector.url}`,
    )
    const otlpUrl = `${collector.url}/v1/traces`
    const langsmithUrl = collector.url
    const project = 'tracehop-demo'

    const gatewayToml = readToml(join(root, 'wrangler.toml'))
    const jobsToml = readToml(join(root, 'examples/demo/wrangler.jobs.toml'))

    // Bundle everything at once (esbuild, well under a second each).
    mkdirSync(join(root, 'examples/demo/dist'), { recursive: true })
    const [gatewayScript, jobsScript, orchestratorScript] = await Promise.all([
      workerBundle(root, 'examples/demo/gateway-entry.ts'),
      workerBundle(root, jobsToml.main),
      build({
        entryPoints: [join(root, 'examples/demo/orchestrator-entry.ts')],
        bundle: true,
        write: false,
        format: 'iife',
        platform: 'browser',
        target: 'es2022',
        logLevel: 'silent',
      }).then((r) => r.outputFiles[0]!.text),
      build({
        entryPoints: [join(root, 'examples/demo/retrieval-entry.ts')],
        bundle: true,
        format: 'esm',
        platform: 'node',
        target: 'node20',
        outfile: join(root, RETRIEVAL_BUNDLE),
        logLevel: 'silent',
      }),
    ])

    // Retrieval (slowest to start) and the jobs Worker, side by side.
    const retrievalStart = startRetrieval(
      root,
      { otlpUrl, langsmithUrl, project, ratio },
      (l) => serviceLog('retrieval', l),
      track,
    )
    const producers: Record<string, string> = {}
    for (const p of jobsToml.queues?.producers ?? []) producers[p.binding] = p.queue
    const consumers: Record<string, { maxBatchSize?: number; maxBatchTimeout?: number }> = {}
    for (const c of jobsToml.queues?.consumers ?? []) {
      consumers[c.queue] = {
        ...(c.max_batch_size !== undefined ? { maxBatchSize: c.max_batch_size } : {}),
        ...(c.max_batch_timeout !== undefined ? { maxBatchTimeout: c.max_batch_timeout } : {}),
      }
    }
    const stdio =
      (service: string) =>
      (stdout: NodeJS.ReadableStream, stderr: NodeJS.ReadableStream): void => {
        lines(stdout, (l) => serviceLog(service, l))
        lines(stderr, (l) => serviceLog(service, l))
      }
    const jobs = new Miniflare({
      name: 'jobs',
      host: '127.0.0.1',
      port: 0,
      modules: true,
      script: jobsScript,
      compatibilityDate: jobsToml.compatibility_date,
      compatibilityFlags: jobsToml.compatibility_flags ?? [],
      bindings: {
        ...jobsToml.vars,
        OTLP_URL: otlpUrl,
        LANGSMITH_ENDPOINT: langsmithUrl,
        LANGSMITH_PROJECT: project,
        SAMPLING_RATIO: String(ratio),
      },
      queueProducers: producers,
      queueConsumers: consumers,
      handleRuntimeStdio: stdio('jobs'),
    })
    track(() => jobs.dispose())
    const retrievalReady = retrievalStart.then((r) => {
      log(`retrieval: serverless-offline, POST ${r.url}`)
      return r
    })
    const [jobsUrl, retrieval] = await Promise.all([jobs.ready.then((u) => u.href), retrievalReady])
    log(`jobs: workerd, POST ${jobsUrl}`)
    checkpoint()

    const runtime = new EdgeRuntime({
      initialCode: `globalThis.__ENV__ = ${JSON.stringify({
        RETRIEVAL_URL: retrieval.url,
        ENQUEUE_URL: `${jobsUrl}jobs`,
        OTLP_URL: otlpUrl,
        OTLP_ENCODING: 'protobuf',
        LANGSMITH_ENDPOINT: langsmithUrl,
        LANGSMITH_PROJECT: project,
        SAMPLING_RATIO: String(ratio),
        // The demo's failing request asks for its failure: `"failAt": "retrieval"`.
        FAULT_INJECTION: '1',
        MODEL_LATENCY_MS: String(options.modelLatencyMs ?? 25),
      })};\n${orchestratorScript}`,
    })
    const orchestrator: Awaited<ReturnType<typeof runServer>> = await runServer({
      runtime,
      port: 0,
      host: '127.0.0.1',
    })
    track(() => orchestrator.close())
    checkpoint()
    const orchestratorOrigin = new URL(orchestrator.url).origin
    log(`orchestrator: edge-runtime, POST ${orchestratorOrigin}/chat`)

    const apiToken = randomBytes(16).toString('hex')
    const rateLimit =
      options.rateLimitPerMinute ?? Number(gatewayToml.vars?.['RATE_LIMIT_PER_MINUTE'] ?? '60')
    const gateway = new Miniflare({
      name: 'gateway',
      host: '127.0.0.1',
      port: 0,
      modules: true,
      script: gatewayScript,
      compatibilityDate: gatewayToml.compatibility_date,
      compatibilityFlags: gatewayToml.compatibility_flags ?? [],
      bindings: {
        ...gatewayToml.vars,
        OTLP_URL: otlpUrl,
        ORCHESTRATOR_URL: orchestratorOrigin,
        RATE_LIMIT_PER_MINUTE: String(rateLimit),
        API_TOKEN: apiToken,
        SAMPLING_RATIO: String(ratio),
        LANGSMITH_ENDPOINT: langsmithUrl,
        LANGSMITH_PROJECT: project,
      },
      handleRuntimeStdio: stdio('gateway'),
    })
    track(() => gateway.dispose())
    const gatewayUrl = (await gateway.ready).href
    log(`gateway: workerd, POST ${gatewayUrl}chat`)
    checkpoint()

    const mfVersion = JSON.parse(
      readFileSync(join(root, 'node_modules/miniflare/package.json'), 'utf8'),
    ).version
    const services: ServiceInfo[] = [
      { name: 'gateway', runtime: `workerd (miniflare ${mfVersion})`, url: `${gatewayUrl}chat` },
      { name: 'orchestrator', runtime: 'Vercel edge-runtime', url: `${orchestratorOrigin}/chat` },
      { name: 'retrieval', runtime: 'AWS Lambda (serverless-offline)', url: retrieval.url },
      { name: 'jobs', runtime: `workerd (miniflare ${mfVersion}) + Queue`, url: `${jobsUrl}jobs` },
    ]
    // Where each service's counters are read; retrieval's with a direct invocation.
    const statsUrls: Record<ServiceInfo['name'], string> = {
      gateway: `${gatewayUrl.replace(/\/$/, '')}${STATS_PATH}`,
      orchestrator: `${orchestratorOrigin}${STATS_PATH}`,
      retrieval: retrieval.statsUrl,
      jobs: `${jobsUrl.replace(/\/$/, '')}${STATS_PATH}`,
    }

    return {
      gatewayUrl,
      apiToken,
      collector,
      portFallback: fallback,
      samplingRatio: ratio,
      rateLimitPerMinute: rateLimit,
      services,
      async counters() {
        const out = {} as Record<ServiceInfo['name'], ServiceCounters | undefined>
        await Promise.all(
          (Object.keys(statsUrls) as ServiceInfo['name'][]).map(async (name) => {
            try {
              const body = (await readJson(
                statsUrls[name],
                name === 'retrieval' ? STATS_EVENT : undefined,
              )) as TracerStats[] | RetrievalStats
              out[name] = Array.isArray(body) ? body : body.stats
            } catch {
              out[name] = undefined
            }
          }),
        )
        return out
      },
      stop,
    }
  } catch (e) {
    await stop()
    throw e
  }
}
