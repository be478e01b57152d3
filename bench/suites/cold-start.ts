/**
 * Cold start of a traced Lambda function, as whole processes: each sample is a fresh `node`
 * that imports the tracing library, creates its tracer and exporter, and runs the first
 * invocation to the end (span exported to a local receiver on 127.0.0.1, as Lambda needs
 * before it freezes). Every process reports `performance.now()`, the time since its own
 * start, at two points: after import + set-up, and after the first invocation. A bare
 * handler in the same kind of process is the baseline; the table shows what each library
 * adds over it. Contenders alternate sample by sample, so machine noise hits all alike.
 *
 * - tracehop/lambda: `withTrace` + `otlp()` from the published bundle (dist/).
 * - @aws-lambda-powertools/tracer: `captureLambdaHandler` (middy), segments to a local
 *   UDP socket standing in for the X-Ray daemon.
 * - OpenTelemetry Node SDK as the Lambda layers wire it: `NodeTracerProvider`, a
 *   `BatchSpanProcessor` with the OTLP/HTTP exporter, `forceFlush()` at the end of the
 *   invocation (the layer's auto-instrumentations are not loaded: that would only add).
 */
import { execFileSync, spawn } from 'node:child_process'
import { createSocket } from 'node:dgram'
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { iqrOf, medianOf, note } from '../harness.js'
import { LAMBDA_ENV } from '../lambda-env.js'
import { startExportReceiver } from '../local-servers.js'

const SAMPLES = Number(process.env['BENCH_COLD_SAMPLES'] ?? 15)

// A traced invocation: the runtime's variables and an X-Ray header for this request.
const INVOCATION_ENV: Record<string, string> = {
  ...LAMBDA_ENV,
  _X_AMZN_TRACE_ID: 'Root=1-66705bc7-2b4257df30cbee696ef2cf28;Parent=53995c3f42cd8ad8;Sampled=1',
}

// Shared by every script: the event, the context and the reporting. Kept as plain source
// so each process pays the same for it.
const PRELUDE = `
const cpu = () => { const c = process.cpuUsage(); return (c.user + c.system) / 1000 }
// Before any import of the contender: the in-process figures start here.
const start = performance.now()
const startCpu = cpu()
const event = {
  version: '2.0', routeKey: 'POST /retrieve', rawPath: '/retrieve', rawQueryString: '',
  headers: { 'content-type': 'application/json', host: 'abc123.execute-api.eu-west-1.amazonaws.com',
    traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' },
  requestContext: { accountId: '123456789012', apiId: 'abc123', domainName: 'abc123.execute-api.eu-west-1.amazonaws.com',
    http: { method: 'POST', path: '/retrieve', protocol: 'HTTP/1.1', sourceIp: '203.0.113.7', userAgent: 'bench' },
    requestId: 'ZhNHJhhLjoEEPiw=', routeKey: 'POST /retrieve', stage: '$default', timeEpoch: 1718639559080 },
  body: '{"query":"What changed in v2?"}', isBase64Encoded: false,
}
const deadline = Date.now() + 30000
const context = { awsRequestId: 'c6af9ac6-7b61-11e6-9a41-93e812345678', functionName: 'retrieval',
  functionVersion: '$LATEST', invokedFunctionArn: 'arn:aws:lambda:eu-west-1:123456789012:function:retrieval',
  memoryLimitInMB: '512', logGroupName: '/aws/lambda/retrieval', logStreamName: 's', callbackWaitsForEmptyEventLoop: true,
  getRemainingTimeInMillis: () => deadline - Date.now() }
const work = async () => ({ statusCode: 200, body: JSON.stringify({ docs: ['a', 'b'] }) })
let readyCpu = 0
const mark = () => { readyCpu = cpu(); return performance.now() }
const report = (ready) => process.stdout.write(JSON.stringify({ start, startCpu, ready, first: performance.now(), readyCpu, firstCpu: cpu() }))
`

function tracehopScript(dist: string): string {
  return `${PRELUDE}
const { otlp } = await import(${JSON.stringify(`${dist}/index.js`)})
const { withTrace } = await import(${JSON.stringify(`${dist}/lambda.js`)})
const handler = withTrace(work, { service: 'retrieval', exporters: [otlp({ url: process.env.OTLP_URL })], log: () => {} })
const ready = mark()
await handler(event, context)
report(ready)`
}

// BENCH_COLD_BASELINE=<another build's dist/> adds it as a contender: a before/after pair
// measured in one sitting, interleaved like the others.
const BASELINE = process.env['BENCH_COLD_BASELINE']

function scripts(dist: string): Record<string, string> {
  return {
    bare: `${PRELUDE}
const handler = work
const ready = mark()
await handler(event, context)
report(ready)`,
    'tracehop/lambda': tracehopScript(dist),
    ...(BASELINE ? { 'tracehop/lambda (baseline)': tracehopScript(BASELINE) } : {}),
    '@aws-lambda-powertools/tracer': `${PRELUDE}
const { Tracer } = await import('@aws-lambda-powertools/tracer')
const { captureLambdaHandler } = await import('@aws-lambda-powertools/tracer/middleware')
const middy = (await import('@middy/core')).default
const tracer = new Tracer({ serviceName: 'retrieval' })
const handler = middy(work).use(captureLambdaHandler(tracer))
const ready = mark()
await handler(event, context)
report(ready)`,
    'OTel Node SDK (layer wiring)': `${PRELUDE}
const { NodeTracerProvider, BatchSpanProcessor } = await import('@opentelemetry/sdk-trace-node')
const { OTLPTraceExporter } = await import('@opentelemetry/exporter-trace-otlp-http')
const { resourceFromAttributes } = await import('@opentelemetry/resources')
const api = await import('@opentelemetry/api')
const { W3CTraceContextPropagator } = await import('@opentelemetry/core')
const provider = new NodeTracerProvider({
  resource: resourceFromAttributes({ 'service.name': 'retrieval' }),
  spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter({ url: process.env.OTLP_URL }))],
})
provider.register({ propagator: new W3CTraceContextPropagator() })
const tracer = api.trace.getTracer('lambda')
const handler = async (e, c) => {
  const parent = api.propagation.extract(api.context.active(), e.headers)
  const span = tracer.startSpan('POST /retrieve', { kind: api.SpanKind.SERVER }, parent)
  try { return await work(e, c) } finally { span.end(); await provider.forceFlush() }
}
const ready = mark()
await handler(event, context)
report(ready)`,
  }
}

interface Sample {
  /** `performance.now()` and CPU before the contender's first import. */
  readonly start: number
  readonly startCpu: number
  readonly ready: number
  readonly first: number
  /** CPU (user + system) the process had used at those points, ms: less sensitive to load. */
  readonly readyCpu: number
  readonly firstCpu: number
}

function runOnce(file: string, env: NodeJS.ProcessEnv, cwd: string): Promise<Sample> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [file], { env, cwd, stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    let err = ''
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString()
    })
    child.stderr.on('data', (d: Buffer) => {
      err += d.toString()
    })
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000)
    child.on('close', () => {
      clearTimeout(timer)
      try {
        resolve(JSON.parse(out) as Sample)
      } catch {
        reject(new Error(`${file}: no measurement (${err.trim().split('\n').slice(-3).join(' | ')})`))
      }
    })
  })
}

export async function run(): Promise<void> {
  const root = process.cwd()
  const dist = join(root, 'dist')
  if (!existsSync(join(dist, 'lambda.js')))
    execFileSync('npm', ['run', 'build'], { cwd: root, stdio: 'ignore' })
  const receiver = await startExportReceiver()
  const daemon = createSocket('udp4')
  await new Promise<void>((r) => daemon.bind(0, '127.0.0.1', r))
  const env = {
    ...process.env,
    ...INVOCATION_ENV,
    OTLP_URL: `${receiver.url}/v1/traces`,
    AWS_XRAY_DAEMON_ADDRESS: `127.0.0.1:${daemon.address().port}`,
  }
  // The scripts live in the repository (node_modules/.cache) so they resolve its packages.
  const dir = mkdtempSync(join(root, 'node_modules/.cache/cold-start-'))
  const cases = Object.entries(scripts(dist)).map(([label, source]) => {
    const file = join(dir, `${label.replace(/[^a-z0-9]+/gi, '-')}.mjs`)
    writeFileSync(file, source)
    return { label, file, samples: [] as Sample[] }
  })
  try {
    for (const c of cases) await runOnce(c.file, env, root) // warm the file system cache
    for (let i = 0; i < SAMPLES; i++) {
      for (let k = 0; k < cases.length; k++) {
        const c = cases[(k + i) % cases.length]!
        c.samples.push(await runOnce(c.file, env, root))
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true })
    receiver.close()
    daemon.close()
  }
  const bare = cases[0]!
  const med = (c: (typeof cases)[number], k: keyof Sample) => medianOf(c.samples.map((s) => s[k]))
  const cell = (c: (typeof cases)[number], k: keyof Sample) => {
    const xs = c.samples.map((s) => s[k])
    const added = medianOf(xs) - med(bare, k)
    return `${medianOf(xs).toFixed(1)} (${iqrOf(xs)}) +${added.toFixed(1)}`.padStart(26)
  }
  const lines = [
    `${SAMPLES} fresh processes each (node ${process.version}); ms since process start, median (IQR); "+" is over the bare handler`,
    'wall = performance.now(); CPU = process.cpuUsage() user + system (less sensitive to a loaded machine)',
    `${'contender'.padEnd(30)} ${'wall: import + set-up'.padStart(26)} ${'wall: + first invocation'.padStart(26)} ${'CPU: import + set-up'.padStart(26)} ${'CPU: + first invocation'.padStart(26)}  ratio`,
  ]
  const tracehopAdded = med(cases[1]!, 'firstCpu') - med(bare, 'firstCpu')
  for (const c of cases) {
    const addedFirst = med(c, 'firstCpu') - med(bare, 'firstCpu')
    const ratio = c === bare ? '' : `${(addedFirst / tracehopAdded).toFixed(2)}x`
    lines.push(
      `${c.label.padEnd(30)} ${cell(c, 'ready')} ${cell(c, 'first')} ${cell(c, 'readyCpu')} ${cell(c, 'firstCpu')}  ${ratio}`,
    )
  }
  lines.push(
    `ratio = their added CPU to the end of the first invocation / tracehop's (above 1.00x: tracehop starts cheaper); ${receiver.count()} exports received`,
  )
  note('Lambda cold start (import, set-up, first invocation)', lines)

  // The same processes, measured inside each one from just before its first import: no
  // process start-up in the figure, so none of its noise (the bare handler is ~0 here).
  const inProcess = (c: (typeof cases)[number], from: keyof Sample, to: keyof Sample): string => {
    const xs = c.samples.map((s) => s[to] - s[from])
    return `${medianOf(xs).toFixed(1)} (${iqrOf(xs)})`.padStart(24)
  }
  note('Lambda cold start inside the process: from the first import, ms, median (IQR)', [
    `${'contender'.padEnd(30)} ${'wall: import + set-up'.padStart(24)} ${'wall: + first invocation'.padStart(24)} ${'CPU: import + set-up'.padStart(24)} ${'CPU: + first invocation'.padStart(24)}`,
    ...cases.map(
      (c) =>
        `${c.label.padEnd(30)} ${inProcess(c, 'start', 'ready')} ${inProcess(c, 'start', 'first')} ${inProcess(c, 'startCpu', 'readyCpu')} ${inProcess(c, 'startCpu', 'firstCpu')}`,
    ),
    'Goal (issue 16): tracehop at most +10 ms to import and create. The first invocation includes its export',
    '(tracehop, OTel: one OTLP POST to 127.0.0.1; Powertools: one UDP segment to a local X-Ray daemon stand-in).',
  ])
}
