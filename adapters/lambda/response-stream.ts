/**
 * Lambda response streaming (`awslambda.streamifyResponse`, Function URLs): the handler is
 * `(event, responseStream, context)` and writes its answer to the stream. The invocation
 * span stays open until the stream has finished, failed or been aborted, and records the
 * bytes written and the time to the first one.
 */
import type { Span } from '../../src/index.js'

// Ref: aws-lambda-ric UserFunction.js: the marks `awslambda.streamifyResponse` sets on a handler.
const STREAMING = Symbol.for('aws.lambda.runtime.handler.streaming')
const HIGH_WATER_MARK = Symbol.for('aws.lambda.runtime.handler.streaming.highWaterMark')
const STREAM_RESPONSE = 'response'

// Ref: aws-lambda-ric ResponseStream.js `writableStreamOnly` (a Node Writable's methods) and
// HttpResponseStream.js (`_onBeforeFirstWrite` writes the HTTP prelude).
/** The `responseStream` a streaming handler receives: a Node `Writable`, described structurally. */
export interface ResponseStreamLike {
  write(chunk: unknown, encoding?: unknown, callback?: unknown): boolean
  end(chunk?: unknown, encoding?: unknown, callback?: unknown): unknown
  on(event: string, listener: (...args: unknown[]) => void): unknown
  setContentType?(contentType: string): void
  readonly writableFinished?: boolean
  _onBeforeFirstWrite?: ((write: (chunk: unknown) => unknown) => void) | undefined
}

/** A handler written for `awslambda.streamifyResponse`. */
// biome-ignore lint/suspicious/noExplicitAny: defaults mirror @types/aws-lambda's Handler<TEvent = any, TResult = any> and middy's Request
export type StreamingHandler<E = any, C = any> = (
  event: E,
  responseStream: ResponseStreamLike,
  context: C,
) => Promise<void>

/** Options of {@link streamifyResponse}, as `awslambda.streamifyResponse` takes them. */
export interface StreamifyOptions {
  readonly highWaterMark?: number
}

/** @internal Whether `x` is the response stream of a streaming invocation (the handler's second argument). */
export function isResponseStream(x: unknown): x is ResponseStreamLike {
  if (x === null || typeof x !== 'object') return false
  try {
    const s = x as Record<string, unknown>
    return typeof s['write'] === 'function' && typeof s['end'] === 'function' && typeof s['on'] === 'function'
  } catch {
    // A context whose getters throw (hostile input): not a stream, and never an exception.
    return false
  }
}

/** @internal Copies the streaming marks of `from` to `to`, so the runtime streams the wrapper too. */
export function copyStreamingMarks(from: object, to: object): void {
  const f = from as Record<symbol, unknown>
  const t = to as Record<symbol, unknown>
  if (f[STREAMING] !== undefined) t[STREAMING] = f[STREAMING]
  if (f[HIGH_WATER_MARK] !== undefined) t[HIGH_WATER_MARK] = f[HIGH_WATER_MARK]
}

interface AwsLambdaGlobal {
  streamifyResponse?(handler: unknown, options?: StreamifyOptions): unknown
}

/**
 * Marks `handler` as a streaming handler, as `awslambda.streamifyResponse` does (and through
 * it when the runtime provides it), so it can be written, and tested, without the global.
 *
 * @example
 * export const handler = streamifyResponse(withTrace(async (event, responseStream, context) => {
 *   await pipeline(tokens(event), responseStream)
 * }, { service: 'chat', exporters: [otlp({ url: process.env.OTLP_URL! })] }))
 */
export function streamifyResponse<H extends StreamingHandler>(handler: H, options?: StreamifyOptions): H {
  const aws = (globalThis as { awslambda?: AwsLambdaGlobal }).awslambda
  if (typeof aws?.streamifyResponse === 'function') return aws.streamifyResponse(handler, options) as H
  const h = handler as unknown as Record<symbol, unknown>
  h[STREAMING] = STREAM_RESPONSE
  if (typeof options?.highWaterMark === 'number') h[HIGH_WATER_MARK] = Math.trunc(options.highWaterMark)
  return handler
}

/** How a response stream ended. */
export type StreamEnd = 'finished' | 'aborted' | 'errored'

/** @internal What {@link watchResponseStream} reports. */
export interface WatchedStream {
  /** Settles when the stream finished, failed or was aborted. Never rejects. */
  readonly settled: Promise<StreamEnd>
  /** The status the HTTP prelude declared (`HttpResponseStream.from(stream, { statusCode })`). */
  status(): number | undefined
  /**
   * Records the bytes sent so far on a stream still open (the handler threw, or time ran
   * out); returns whether it was still open.
   */
  recordSoFar(): boolean
}

let encoder: TextEncoder | undefined

/** Node's `Buffer`, read from the global: importing tracehop/lambda loads no `node:` module. */
interface BufferStatics {
  byteLength(chunk: string, encoding: string): number
  isEncoding(encoding: string): boolean
}

/**
 * The bytes a `write(chunk, encoding)` sends, as a Node `Writable` encodes a string: with
 * `encoding` when given, else the stream's default encoding (utf8 unless set).
 */
function byteLength(chunk: unknown, encoding: unknown, stream: ResponseStreamLike): number {
  if (typeof chunk === 'string') {
    try {
      const buffer = (globalThis as { Buffer?: BufferStatics }).Buffer
      if (buffer !== undefined) {
        const enc = typeof encoding === 'string' && encoding !== '' ? encoding : defaultEncoding(stream)
        // An unknown encoding: the write throws and sends nothing.
        return buffer.isEncoding(enc) ? buffer.byteLength(chunk, enc) : 0
      }
    } catch {
      // A partial or hostile `Buffer` (a custom runtime's polyfill): counted as UTF-8; the
      // count never stands between the handler and its write.
    }
    return (encoder ??= new TextEncoder()).encode(chunk).length
  }
  const n = (chunk as { byteLength?: unknown } | null)?.byteLength
  return typeof n === 'number' ? n : 0
}

/** A `Writable`'s default encoding (`setDefaultEncoding`); utf8 for any other stream. */
function defaultEncoding(stream: ResponseStreamLike): string {
  try {
    const enc = (stream as { _writableState?: { defaultEncoding?: unknown } })._writableState?.defaultEncoding
    return typeof enc === 'string' && enc !== '' ? enc : 'utf8'
  } catch {
    return 'utf8'
  }
}

/**
 * @internal Watches a streaming invocation's response stream: counts the body bytes the
 * handler writes (not the HTTP prelude), marks the first one on `root` (event
 * `http.response.body.first_byte`, `tracehop.response.first_byte_ms`), reads the prelude's
 * status, and settles when the stream ends. Writes go through unchanged; never throws.
 */
export function watchResponseStream(stream: ResponseStreamLike, root: Span, startMs: number): WatchedStream {
  let bytes = 0
  let first = true
  let status: number | undefined
  let settle!: (end: StreamEnd) => void
  let settledAs: StreamEnd | undefined
  const settled = new Promise<StreamEnd>((resolve) => (settle = resolve))
  const done = (end: StreamEnd, err?: unknown): void => {
    if (settledAs !== undefined) return
    settledAs = end
    root.set('http.response.body.size', bytes)
    if (end === 'errored') root.error(err)
    else if (end === 'aborted') root.event('http.response.body.cancelled')
    settle(end)
  }
  const sawBody = (chunk: unknown, encoding: unknown): void => {
    if (first) {
      first = false
      root.event('http.response.body.first_byte')
      root.set('tracehop.response.first_byte_ms', Date.now() - startMs)
      readPrelude()
    }
    bytes += byteLength(chunk, encoding, stream)
  }
  // HttpResponseStream.from() sets `_onBeforeFirstWrite`, which writes the prelude JSON and
  // a delimiter before the first body chunk: read its statusCode on the way through.
  const readPrelude = (): void => {
    const before = stream._onBeforeFirstWrite
    if (typeof before !== 'function') return
    stream._onBeforeFirstWrite = (write) =>
      before((chunk) => {
        if (status === undefined && typeof chunk === 'string') status = statusOfPrelude(chunk)
        return write(chunk)
      })
  }
  try {
    const write = stream.write
    const end = stream.end
    stream.write = function tracedWrite(
      this: unknown,
      chunk: unknown,
      encoding?: unknown,
      callback?: unknown,
    ) {
      sawBody(chunk, encoding)
      return write.call(this, chunk, encoding, callback)
    }
    stream.end = function tracedEnd(this: unknown, chunk?: unknown, encoding?: unknown, callback?: unknown) {
      if (chunk !== undefined && chunk !== null && typeof chunk !== 'function') sawBody(chunk, encoding)
      return end.call(this, chunk, encoding, callback)
    }
    stream.on('finish', () => done('finished'))
    stream.on('error', (err: unknown) => done(isConnectionLoss(err) ? 'aborted' : 'errored', err))
    // `close` without `finish`: the connection went away before the body was complete.
    stream.on('close', () => done(stream.writableFinished === true ? 'finished' : 'aborted'))
  } catch {
    // A stream we cannot watch: the span ends with the handler, unmeasured.
    done('finished')
  }
  return {
    settled,
    status: () => status,
    recordSoFar: () => {
      if (settledAs !== undefined) return false
      root.set('http.response.body.size', bytes)
      return true
    },
  }
}

// The connection to the Runtime API broke (the client went away and Lambda ended the
// response): a cancel, not the function's error; the handler's own `destroy(err)` is.
const CONNECTION_LOSS: ReadonlySet<unknown> = new Set(['ECONNRESET', 'EPIPE', 'ECONNABORTED'])

function isConnectionLoss(err: unknown): boolean {
  return err !== null && typeof err === 'object' && CONNECTION_LOSS.has((err as { code?: unknown }).code)
}

function statusOfPrelude(json: string): number | undefined {
  try {
    const code = (JSON.parse(json) as { statusCode?: unknown } | null)?.statusCode
    return typeof code === 'number' && Number.isInteger(code) ? code : undefined
  } catch {
    return undefined
  }
}
