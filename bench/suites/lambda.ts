/**
 * Per-invocation overhead of a traced Lambda handler, in a simulated Lambda environment
 * (the variables the runtime sets, a new `_X_AMZN_TRACE_ID` per invocation, an HTTP API v2
 * event carrying a `traceparent`): `withTrace()` against the bare handler and against
 * `@aws-lambda-powertools/tracer`'s `captureLambdaHandler`, both as its middy middleware and
 * as its `tracer.captureLambdaHandler()` decorator. Everyone emits to a local sink: tracehop
 * POSTs OTLP/JSON to an HTTP receiver on 127.0.0.1 and awaits it (Lambda freezes after the
 * handler returns, so the export is inside the invocation), Powertools' X-Ray SDK sends its
 * subsegment as a UDP datagram to a socket on 127.0.0.1 (the X-Ray daemon's job: no wait).
 */
import { createSocket } from 'node:dgram'
import type { AddressInfo } from 'node:net'
import middy from '@middy/core'
import { traceOf, withTrace } from '../../adapters/lambda/index.js'
import { otlp } from '../../src/export/otlp-exporter.js'
import type { Exporter } from '../../src/index.js'
import { compareAsync, note } from '../harness.js'
import { LAMBDA_ENV } from '../lambda-env.js'
import { startExportReceiver } from '../local-servers.js'

const event = {
  version: '2.0',
  routeKey: 'POST /retrieve',
  rawPath: '/retrieve',
  rawQueryString: '',
  headers: {
    'content-type': 'application/json',
    host: 'abc123.execute-api.eu-west-1.amazonaws.com',
    traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
    'x-amzn-trace-id': 'Root=1-66705bc7-2b4257df30cbee696ef2cf28',
  },
  requestContext: {
    accountId: '123456789012',
    apiId: 'abc123',
    domainName: 'abc123.execute-api.eu-west-1.amazonaws.com',
    http: {
      method: 'POST',
      path: '/retrieve',
      protocol: 'HTTP/1.1',
      sourceIp: '203.0.113.7',
      userAgent: 'bench',
    },
    requestId: 'ZhNHJhhLjoEEPiw=',
    routeKey: 'POST /retrieve',
    stage: '$default',
    timeEpoch: 1718639559080,
  },
  body: '{"query":"What changed in v2?"}',
  isBase64Encoded: false,
}

const result = { statusCode: 200, headers: { 'content-type': 'application/json' }, body: '{"documents":[]}' }

let invocation = 0
/** What the runtime does before each invocation: a new request id, deadline and X-Ray header. */
function nextContext() {
  invocation++
  const hex = invocation.toString(16).padStart(24, '0')
  process.env['_X_AMZN_TRACE_ID'] = `Root=1-66705bc7-${hex};Parent=${hex.slice(8)};Sampled=1`
  const deadline = Date.now() + 3000
  return {
    awsRequestId: `req-${invocation}`,
    functionName: 'retrieval',
    functionVersion: '$LATEST',
    invokedFunctionArn: 'arn:aws:lambda:eu-west-1:123456789012:function:retrieval',
    memoryLimitInMB: '512',
    getRemainingTimeInMillis: () => deadline - Date.now(),
  }
}

export async function run(): Promise<void> {
  const saved: Record<string, string | undefined> = {}
  for (const k of [...Object.keys(LAMBDA_ENV), 'AWS_XRAY_DAEMON_ADDRESS', '_X_AMZN_TRACE_ID'])
    saved[k] = process.env[k]

  // The sinks: an OTLP/HTTP receiver and an X-Ray daemon stand-in, both counting arrivals.
  const receiver = await startExportReceiver()
  let datagrams = 0
  const udp = createSocket('udp4')
  udp.on('message', () => {
    datagrams++
  })
  await new Promise<void>((resolve) => udp.bind(0, '127.0.0.1', resolve))

  Object.assign(process.env, LAMBDA_ENV, {
    AWS_XRAY_DAEMON_ADDRESS: `127.0.0.1:${(udp.address() as AddressInfo).port}`,
  })
  nextContext()
  try {
    const bare = async (_event: unknown, _context: unknown) => result
    const otlpUrl = `${receiver.url}/v1/traces`
    const traced = withTrace(
      async (_event: unknown, context: object) => {
        traceOf(context)
        return result
      },
      { service: 'retrieval', exporters: [otlp({ url: otlpUrl, encoding: 'json' })] },
    )
    const discard: Exporter = {
      name: 'discard',
      export: async (b) => ({ exported: b.spans.length, dropped: 0, attempts: 1 }),
    }
    const tracedNoExport = withTrace(
      async (_event: unknown, context: object) => {
        traceOf(context)
        return result
      },
      { service: 'retrieval', exporters: [discard] },
    )

    // First without Powertools in the process: its X-Ray SDK installs async hooks (CLS) in
    // Lambda mode, which tax every promise in the process, ours and the bare handler's too.
    await compareAsync({
      name: 'Lambda invocation overhead, no Powertools loaded (tracehop exporter discards)',
      ours: { label: 'tracehop withTrace (no export)', fn: () => tracedNoExport(event, nextContext()) },
      theirs: [{ label: 'bare handler', fn: () => bare(event, nextContext()) }],
      iterations: 2000,
    })

    // Loaded after the environment is set, as in a Lambda cold start.
    const { Tracer } = await import('@aws-lambda-powertools/tracer')
    const { captureLambdaHandler } = await import('@aws-lambda-powertools/tracer/middleware')
    const powertools = new Tracer()
    const ptMiddy = middy(bare).use(captureLambdaHandler(powertools))
    const descriptor = { value: bare }
    powertools.captureLambdaHandler()({} as never, 'handler', descriptor as never)
    const ptDecorated = descriptor.value

    await compareAsync({
      name: 'Lambda invocation, traced wrapper around an empty handler (each emits to a local sink)',
      ours: { label: 'tracehop withTrace (OTLP/HTTP, awaited)', fn: () => traced(event, nextContext()) },
      theirs: [
        { label: 'bare handler', fn: () => bare(event, nextContext()) },
        {
          label: 'powertools captureLambdaHandler (middy)',
          fn: () => ptMiddy(event, nextContext() as never),
        },
        { label: 'powertools @captureLambdaHandler()', fn: () => ptDecorated(event, nextContext()) },
      ],
      iterations: 400,
    })
    await compareAsync({
      name: 'Lambda invocation, tracing work only (tracehop exporter discards; X-Ray UDP as above)',
      ours: { label: 'tracehop withTrace (no export)', fn: () => tracedNoExport(event, nextContext()) },
      theirs: [
        { label: 'bare handler', fn: () => bare(event, nextContext()) },
        {
          label: 'powertools captureLambdaHandler (middy)',
          fn: () => ptMiddy(event, nextContext() as never),
        },
        { label: 'powertools @captureLambdaHandler()', fn: () => ptDecorated(event, nextContext()) },
      ],
      iterations: 2000,
    })
    await new Promise((r) => setTimeout(r, 50))
    note('Lambda sinks', [
      `OTLP/HTTP requests received: ${receiver.count()}`,
      `X-Ray UDP datagrams received: ${datagrams}`,
    ])
  } finally {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k]
      else process.env[k] = v
    }
    receiver.close()
    await new Promise<void>((resolve) => udp.close(() => resolve()))
  }
}
