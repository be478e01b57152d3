// Correlation with the real @aws-lambda-powertools/tracer in a simulated Lambda environment:
// the X-Ray SDK behind it streams its subsegments as UDP datagrams to the daemon address,
// which points at a socket this test opens, so the annotations are read from what it sent.
import { createSocket, type Socket } from 'node:dgram'
import type { AddressInfo } from 'node:net'
import middy from '@middy/core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  ANNOTATION_SPAN_ID,
  ANNOTATION_TRACE_ID,
  tracehopMiddleware,
  traceOf,
  withTrace,
} from '../../adapters/lambda/index.js'
import { memoryExporter } from '../../src/index.js'
import { lambdaContext, setEnv } from './helpers.js'

interface XRayDocument {
  id: string
  name: string
  trace_id: string
  parent_id?: string
  type?: string
  annotations?: Record<string, unknown>
}

let socket: Socket
const documents: XRayDocument[] = []
let restore: () => void
let Tracer: typeof import('@aws-lambda-powertools/tracer').Tracer
let captureLambdaHandler: typeof import('@aws-lambda-powertools/tracer/middleware').captureLambdaHandler

beforeAll(async () => {
  socket = createSocket('udp4')
  socket.on('message', (msg) => {
    // "{"format":"json","version":1}\n{…segment…}"
    const text = msg.toString('utf8')
    const body = text.slice(text.indexOf('\n') + 1)
    documents.push(JSON.parse(body) as XRayDocument)
  })
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve))
  const { port } = socket.address() as AddressInfo
  // What the Lambda runtime sets, before the X-Ray SDK and Powertools are loaded.
  restore = setEnv({
    AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs20.x',
    LAMBDA_TASK_ROOT: '/var/task',
    _HANDLER: 'index.handler',
    AWS_LAMBDA_FUNCTION_NAME: 'retrieval',
    AWS_REGION: 'eu-west-1',
    POWERTOOLS_SERVICE_NAME: 'retrieval',
    POWERTOOLS_TRACER_CAPTURE_HTTPS_REQUESTS: 'false',
    AWS_XRAY_DAEMON_ADDRESS: `127.0.0.1:${port}`,
    AWS_XRAY_CONTEXT_MISSING: 'IGNORE_ERROR',
    AWS_XRAY_DEBUG_MODE: undefined,
    AWS_LAMBDA_MAX_CONCURRENCY: undefined,
    _X_AMZN_TRACE_ID: 'Root=1-66704cad-0fbaf1491365339d168b2a7d;Parent=1111111111111111;Sampled=1',
  })
  ;({ Tracer } = await import('@aws-lambda-powertools/tracer'))
  ;({ captureLambdaHandler } = await import('@aws-lambda-powertools/tracer/middleware'))
})

afterAll(async () => {
  restore?.()
  await new Promise<void>((resolve) => socket?.close(() => resolve()))
})

let invocation = 0
/** A new invocation's X-Ray header, set the way the runtime sets it. */
function nextXRayHeader(): { root: string; parent: string } {
  invocation++
  const root = `1-66704cad-${invocation.toString(16).padStart(24, '0')}`
  const parent = `${invocation.toString(16).padStart(16, 'a')}`
  process.env['_X_AMZN_TRACE_ID'] = `Root=${root};Parent=${parent};Sampled=1`
  return { root, parent }
}

async function waitForHandlerSubsegment(root: string): Promise<XRayDocument> {
  const until = Date.now() + 3000
  for (;;) {
    const doc = documents.find((d) => d.trace_id === root && d.name === '## index.handler')
    if (doc) return doc
    if (Date.now() > until) throw new Error(`no subsegment for ${root}: ${JSON.stringify(documents)}`)
    await new Promise((r) => setTimeout(r, 10))
  }
}

describe('Powertools tracer correlation', () => {
  it('middy: its handler subsegment is annotated with our ids; our span carries its X-Ray ids', async () => {
    const powertools = new Tracer()
    const memory = memoryExporter()
    const handler = middy(async (_event: unknown, context: object) =>
      traceOf(context).child('search', () => 'docs'),
    )
      .use(captureLambdaHandler(powertools))
      .use(tracehopMiddleware({ service: 'retrieval', exporters: [memory], powertools }))
    const { root, parent } = nextXRayHeader()
    expect(await handler({ q: 'x' }, lambdaContext() as never)).toBe('docs')
    const subsegment = await waitForHandlerSubsegment(root)
    const span = memory.spans().find((s) => s.name === 'retrieval')!
    expect(subsegment.parent_id).toBe(parent)
    expect(subsegment.annotations?.[ANNOTATION_TRACE_ID]).toBe(span.traceId)
    expect(subsegment.annotations?.[ANNOTATION_SPAN_ID]).toBe(span.spanId)
    expect(span.attributes['aws.xray.trace_id']).toBe(root)
    const xrayTraceId = root.slice(2).replace('-', '')
    expect(span.links).toContainEqual(
      expect.objectContaining({
        traceId: xrayTraceId,
        spanId: subsegment.id,
        attributes: { source: 'powertools' },
      }),
    )
    expect(span.links).toContainEqual(
      expect.objectContaining({ traceId: xrayTraceId, spanId: parent, attributes: { source: 'x-ray-env' } }),
    )
  })

  it('tracer.captureLambdaHandler() decorator around withTrace: the same, per invocation', async () => {
    const powertools = new Tracer()
    const memory = memoryExporter()
    const descriptor = {
      value: withTrace(
        async (_event: unknown, context: object) => traceOf(context).spanId,
        { service: 'retrieval', exporters: [memory] },
        { powertools },
      ),
    }
    // The legacy (experimentalDecorators) call Powertools expects: (target, key, descriptor).
    powertools.captureLambdaHandler()({} as never, 'handler', descriptor as never)
    const handler = descriptor.value
    for (let i = 0; i < 2; i++) {
      const { root } = nextXRayHeader()
      const spanId = await handler({}, lambdaContext())
      const subsegment = await waitForHandlerSubsegment(root)
      expect(subsegment.annotations?.[ANNOTATION_SPAN_ID]).toBe(spanId)
      const span = memory.spans().find((s) => s.spanId === spanId)!
      expect(span.attributes['aws.xray.trace_id']).toBe(root)
    }
  })

  it('without a Powertools handler subsegment: no annotation attempt, our span still gets the X-Ray trace id', async () => {
    const powertools = new Tracer()
    const memory = memoryExporter()
    const warnings: unknown[] = []
    const warn = console.warn
    console.warn = (...args: unknown[]) => warnings.push(args)
    try {
      const handler = withTrace(async () => 'ok', { service: 'retrieval', exporters: [memory], powertools })
      const { root } = nextXRayHeader()
      expect(await handler({}, lambdaContext())).toBe('ok')
      expect(memory.spans()[0]?.attributes['aws.xray.trace_id']).toBe(root)
      expect(warnings).toEqual([])
    } finally {
      console.warn = warn
    }
  })
})
