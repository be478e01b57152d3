// Lambda response streaming through the real Node runtime client, aws-lambda-ric 3.3 (its
// Runtime loop, StreamingContext, ResponseStream and HttpResponseStream; the native buffered
// client stands in, see streaming/native-stand-in.cjs), against a local Runtime API on
// 127.0.0.1, running a handler that imports the packed tarball.
import { type ChildProcess, spawn } from 'node:child_process'
import { copyFile } from 'node:fs/promises'
import { request as httpRequest } from 'node:http'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createLambdaTracer, type ResponseStreamLike, withTrace } from '../../adapters/lambda/index.js'
import { otlp } from '../../src/index.js'
import { type PackedProject, packedProject, root } from '../fetch/helpers/packed.js'
import { type OtlpReceiver, type ReceivedSpan, startOtlpReceiver } from '../support/otlp-receiver.js'
import { type RuntimeApi, startRuntimeApi } from './streaming/runtime-api.js'

const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736'
const PARENT = '00f067aa0ba902b7'
const BODY = 'data: Hel\n\ndata: lo\n\ndata:  wor\n\ndata: ld\n\n'
// HttpResponseStream: the JSON prelude, then 8 zero bytes, then the body.
const PRELUDE_DELIMITER = Buffer.alloc(8)

let receiver: OtlpReceiver
let api: RuntimeApi
let project: PackedProject
let runtime: ChildProcess
let output = ''

/** A Function URL event (payload 2.0) carrying the caller's traceparent. */
function urlEvent(mode: string): unknown {
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath: '/chat',
    rawQueryString: '',
    headers: { traceparent: `00-${TRACE}-${PARENT}-01`, 'content-type': 'application/json' },
    requestContext: {
      domainName: 'abc123.lambda-url.us-east-1.on.aws',
      http: { method: 'POST', path: '/chat', protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'test' },
      requestId: `r-${mode}`,
      timeEpoch: Date.now(),
    },
    body: JSON.stringify({ mode }),
    isBase64Encoded: false,
  }
}

function serverSpan(requestId: string): ReceivedSpan | undefined {
  return receiver.spans.find(
    (s) => s.service === 'chat-stream' && s.attributes['faas.invocation_id'] === requestId,
  )
}

beforeAll(async () => {
  receiver = await startOtlpReceiver()
  api = await startRuntimeApi()
  project = await packedProject([])
  await copyFile(join(root, 'test/lambda/streaming/chat-handler.mjs'), join(project.dir, 'chat-handler.mjs'))
  runtime = spawn(
    process.execPath,
    [
      '--require',
      join(root, 'test/lambda/streaming/native-stand-in.cjs'),
      join(root, 'node_modules/aws-lambda-ric/bin/index.mjs'),
      'chat-handler.chat',
    ],
    {
      cwd: project.dir,
      env: {
        PATH: process.env['PATH'],
        AWS_LAMBDA_RUNTIME_API: api.address,
        AWS_LAMBDA_NODEJS_USE_ALTERNATIVE_CLIENT_1: 'true',
        AWS_LAMBDA_FUNCTION_NAME: 'chat',
        AWS_REGION: 'us-east-1',
        OTLP_URL: receiver.url,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  )
  runtime.stdout!.on('data', (c: Buffer) => (output += c.toString()))
  runtime.stderr!.on('data', (c: Buffer) => (output += c.toString()))
})

async function stopRuntime(): Promise<void> {
  if (runtime.exitCode !== null || runtime.signalCode !== null) return
  const exited = new Promise((r) => runtime.once('exit', r))
  runtime.kill('SIGTERM')
  await exited
  // Its last `next` poll may still look open to the API: no invocation may go to it.
  await api.noOpenPolls()
}

afterAll(async () => {
  await stopRuntime()
  await api?.close()
  await receiver?.close()
  await project?.cleanup()
})

describe('a streaming Lambda under aws-lambda-ric', () => {
  it('keeps the span open until the last byte, then flushes before the invocation completes', async () => {
    receiver.delayMs = 300 // the collector holds each export: the invocation must wait for it
    const r = await api.invoke(urlEvent('ok'))
    expect(r.mode, output).toBe('streaming')
    expect(r.contentType).toBe('application/vnd.awslambda.http-integration-response')
    const raw = r.body()
    const split = raw.indexOf(PRELUDE_DELIMITER)
    expect(JSON.parse(raw.subarray(0, split).toString())).toMatchObject({ statusCode: 200 })
    expect(raw.subarray(split + 8).toString()).toBe(BODY)
    expect(r.trailers['lambda-runtime-function-error-type']).toBeUndefined()
    // Streamed, not buffered: the body arrived in several chunks over time.
    expect(r.chunks.length).toBeGreaterThan(2)

    await receiver.waitFor(() => serverSpan(r.requestId) !== undefined, 10_000)
    const span = serverSpan(r.requestId)!
    expect(span.traceId).toBe(TRACE)
    expect(span.parentSpanId).toBe(PARENT)
    expect(span.attributes['http.response.body.size']).toBe(Buffer.byteLength(BODY))
    expect(span.attributes['http.response.status_code']).toBe(200)
    expect(span.attributes['tracehop.response.first_byte_ms']).toBeGreaterThanOrEqual(0)
    expect(span.events.map((e) => e.name)).toContain('http.response.body.first_byte')
    expect(span.status).not.toBe(2)
    const tokens = receiver.spans.filter((s) => s.name === 'token' && s.parentSpanId === span.spanId)
    expect(tokens).toHaveLength(4)
    // The span covers every token, the last one included: it ended with the stream.
    for (const t of tokens) expect(span.endMs).toBeGreaterThanOrEqual(t.endMs)
    // Flushed after the body's last chunk, and the runtime asked for its next invocation
    // only once the collector had answered: the flush is inside the invocation.
    const post = receiver.posts.find((p) => p.spans.some((s) => s.spanId === span.spanId))!
    expect(post.receivedAt).toBeGreaterThanOrEqual(r.chunks.at(-1)!.at)
    const lastChunk = r.chunks.at(-1)!.at
    for (let i = 0; i < 200 && !api.polls.some((t) => t > lastChunk); i++)
      await new Promise((res) => setTimeout(res, 50))
    const nextPoll = api.polls.find((t) => t > lastChunk)
    expect(nextPoll).toBeGreaterThanOrEqual(post.respondedAt)
    receiver.delayMs = 0
  })

  it('records a stream that fails mid-way as an error, with the bytes sent so far', async () => {
    const r = await api.invoke(urlEvent('fail'))
    await receiver.waitFor(() => serverSpan(r.requestId) !== undefined, 10_000)
    const span = serverSpan(r.requestId)!
    expect(span.status).toBe(2)
    expect(
      span.events.some(
        (e) =>
          e.name === 'exception' &&
          String(e.attributes['exception.message']).includes('the model stream broke'),
      ),
    ).toBe(true)
    expect(span.attributes['http.response.body.size']).toBe(Buffer.byteLength(BODY))
    // The runtime reported the failure in the stream's trailers, after the flush.
    expect(r.trailers['lambda-runtime-function-error-type']).toBe('Error')
    const post = receiver.posts.find((p) => p.spans.some((s) => s.spanId === span.spanId))!
    expect(r.endedAt).toBeGreaterThanOrEqual(post.respondedAt)
  })

  it('counts string chunks written with an encoding as the bytes they send', async () => {
    const r = await api.invoke(urlEvent('encoded'))
    const raw = r.body()
    const body = raw.subarray(raw.indexOf(PRELUDE_DELIMITER) + 8)
    // base64 'héllo' (6 bytes), hex c3a9ff (3), latin1 'été' (3), utf16le 'hi' (4).
    expect(body).toEqual(
      Buffer.concat([
        Buffer.from('héllo'),
        Buffer.from([0xc3, 0xa9, 0xff]),
        Buffer.from('été', 'latin1'),
        Buffer.from('hi', 'utf16le'),
      ]),
    )
    await receiver.waitFor(() => serverSpan(r.requestId) !== undefined, 10_000)
    expect(serverSpan(r.requestId)!.attributes['http.response.body.size']).toBe(body.length)
  })

  it('has served every invocation in one runtime process', () => {
    expect(runtime.exitCode, output).toBeNull()
  })
})

// A response broken off mid-stream (the client went away): aws-lambda-ric itself then exits
// the process (its own response promise rejects unhandled: Runtime.UnhandledPromiseRejection,
// seen when this was driven through ric), so no flush can run there. The span's side is
// checked in-process on the same kind of stream ric hands a handler: a chunked POST
// (http.ClientRequest) to the Runtime API with the streaming response mode.
describe('a streaming invocation whose response is broken off', () => {
  // This test is the runtime now: ric must not take the invocation.
  beforeAll(stopRuntime)

  it('ends the span at the break with the bytes sent and a cancelled event', async () => {
    const { pending, id, stream } = await takeStreamingInvocation({ abortAfterChunks: 2 })
    const handler = withTrace(
      async (_event: unknown, responseStream: ResponseStreamLike) => {
        for (let i = 0; i < 20 && !stream.destroyed; i++) {
          responseStream.write(`data: ${i}\n\n`)
          await new Promise((r) => setTimeout(r, 30))
        }
      },
      { service: 'broken-off', exporters: [otlp({ url: receiver.url })] },
    )
    await handler({}, stream as unknown as ResponseStreamLike, {
      awsRequestId: id,
      getRemainingTimeInMillis: () => 30_000,
    })
    expect((await pending).aborted).toBe(true)
    await receiver.waitFor((spans) => spans.some((s) => s.service === 'broken-off'), 10_000)
    const span = receiver.spans.find((s) => s.service === 'broken-off')!
    expect(span.events.map((e) => e.name)).toEqual(
      expect.arrayContaining(['http.response.body.first_byte', 'http.response.body.cancelled']),
    )
    const size = Number(span.attributes['http.response.body.size'])
    expect(size).toBeGreaterThan(0)
    expect(size).toBeLessThan(20 * 'data: 0\n\n'.length)
  })
})

/**
 * Queues an invocation, takes it as a runtime would, and opens its streaming response
 * to the local Runtime API: the stream a handler writes to, as ric gives it.
 */
async function takeStreamingInvocation(options?: Parameters<RuntimeApi['invoke']>[1]) {
  const [host, port] = api.address.split(':')
  const pending = api.invoke({ version: '2.0', rawPath: '/x' }, options)
  // Awaited by the caller; this keeps a timeout from being unhandled if the poll below fails first.
  pending.catch(() => {})
  const next = await fetch(`http://${api.address}/2018-06-01/runtime/invocation/next`, {
    signal: AbortSignal.timeout(10_000),
  })
  const id = next.headers.get('lambda-runtime-aws-request-id')!
  await next.arrayBuffer()
  const stream = httpRequest({
    host,
    port: Number(port),
    method: 'POST',
    path: `/2018-06-01/runtime/invocation/${id}/response`,
    headers: { 'Lambda-Runtime-Function-Response-Mode': 'streaming', 'transfer-encoding': 'chunked' },
  })
  stream.on('error', () => {})
  return { pending, id, stream }
}

// A context with no remaining time (no `getRemainingTimeInMillis`): a stream the handler
// leaves open is waited for one flush budget at most, then its span is ended there, marked
// `tracehop.force_ended` and counted, and the invocation completes.
describe('a streaming invocation with no Lambda deadline', () => {
  beforeAll(stopRuntime)

  it('bounds the wait for a stream that never ends by the flush budget', async () => {
    const { pending, id, stream } = await takeStreamingInvocation()
    const tracer = createLambdaTracer({
      service: 'never-ends',
      exporters: [otlp({ url: receiver.url })],
      flush: { budgetMs: 300 },
    })
    const handler = withTrace(async (_event: unknown, responseStream: ResponseStreamLike) => {
      responseStream.write('data: 0\n\n')
      // Returns with the stream still open, and nothing will ever end it.
    }, tracer)
    const outcome = await Promise.race([
      handler({}, stream as unknown as ResponseStreamLike, { awsRequestId: id }).then(() => 'completed'),
      new Promise((r) => setTimeout(() => r('still waiting'), 5_000)),
    ])
    stream.end()
    await pending
    expect(outcome).toBe('completed')
    await receiver.waitFor((spans) => spans.some((s) => s.service === 'never-ends'), 10_000)
    const span = receiver.spans.find((s) => s.service === 'never-ends')!
    expect(span.attributes['tracehop.force_ended']).toBe(true)
    expect(span.attributes['http.response.body.size']).toBe('data: 0\n\n'.length)
    expect(tracer.stats().spans.forceEnded).toBe(1)
  })
})
