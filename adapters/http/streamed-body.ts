import type { FlushReport, Scope, Span } from '../../src/index.js'

/** Which responses keep the server span open until the body is sent; see `WorkerOptions.streaming`. */
export type StreamingMode = 'auto' | 'always' | 'never'

// Content types that are streams by nature (SSE, NDJSON / JSON Lines, MJPEG-style pushes).
const STREAM_TYPES = [
  'text/event-stream',
  'application/x-ndjson',
  'application/ndjson',
  'application/jsonl',
  'application/x-jsonlines',
  'application/stream+json',
  'multipart/x-mixed-replace',
]

/** @internal Whether a response looks streamed (the `auto` rule). */
export function looksStreamed(headers: Headers): boolean {
  const type = headers.get('content-type')
  if (type !== null) {
    const lower = type.toLowerCase()
    for (const t of STREAM_TYPES) if (lower.startsWith(t)) return true
  }
  const te = headers.get('transfer-encoding')
  return te?.toLowerCase().includes('chunked') === true
}

/** The event on the server span when the client stops reading the body (not an error of the service). */
export const BODY_CANCELLED = 'http.response.body.cancelled'

/**
 * The body the span waits for, or null when there is none to wait for: the answer to a
 * HEAD request (the runtime discards its body), a null body status (Fetch §2.2.3: 101,
 * 103, 204, 205, 304), no body at all, or one already read or locked.
 */
function bodyToFollow(response: Response, method: string | undefined): ReadableStream<Uint8Array> | null {
  if (method === 'HEAD') return null
  const status = response.status
  if (status === 101 || status === 103 || status === 204 || status === 205 || status === 304) return null
  const body = response.body
  return body === null || response.bodyUsed || body.locked ? null : body
}

/**
 * Pulls the handler's body through to the runtime, one chunk per pull (no read-ahead, so
 * back-pressure is the runtime's), counting its bytes, and reports when the stream ends,
 * fails or is cancelled by the client. A class, not closures: one object per streamed response.
 */
class FollowedBody {
  private readonly reader: ReadableStreamDefaultReader<Uint8Array>
  private readonly root: Span
  private bytes = 0
  private settled = false
  /** Set after construction: the flush to await before the stream closes, if there is no waitUntil. */
  flushing: Promise<FlushReport> | undefined
  private resolveUntil!: () => void
  /** Settles when the body has been fully sent (or failed, or was cancelled). Never rejects. */
  readonly until: Promise<void>

  constructor(body: ReadableStream<Uint8Array>, root: Span) {
    this.reader = body.getReader()
    this.root = root
    this.until = new Promise<void>((resolve) => {
      this.resolveUntil = resolve
    })
  }

  async pull(controller: ReadableStreamDefaultController<Uint8Array>): Promise<void> {
    let chunk: ReadableStreamReadResult<Uint8Array>
    try {
      chunk = await this.reader.read()
    } catch (err) {
      // The handler's stream failed mid-way (an upstream LLM that errored): the service's
      // error, recorded on the span; the flush still happens, and the client sees the same error.
      if (!this.settled) this.root.error(err)
      this.finish()
      if (this.flushing) await this.flushing
      controller.error(err)
      return
    }
    if (chunk.done) {
      this.finish()
      // No waitUntil: the flush rides on the stream's tail, so the invocation cannot end
      // before the spans are sent (bounded by the flush budget).
      if (this.flushing) await this.flushing
      controller.close()
      return
    }
    const value = chunk.value
    this.bytes += (value as { byteLength?: number }).byteLength ?? 0
    controller.enqueue(value)
  }

  cancel(reason: unknown): Promise<void> | undefined {
    if (!this.settled) {
      let attributes: { 'tracehop.reason': string } | undefined
      try {
        if (reason !== undefined) attributes = { 'tracehop.reason': String(reason) }
      } catch {
        // A reason that cannot be printed: the event alone.
      }
      this.root.event(BODY_CANCELLED, attributes)
    }
    this.finish()
    this.reader.cancel(reason).catch(() => {})
    return this.flushing?.then(
      () => {},
      () => {},
    )
  }

  /** Gives the body back untouched (the wrapper could not be built). */
  release(): void {
    this.settled = true
    this.reader.releaseLock()
  }

  private finish(): void {
    if (this.settled) return
    this.settled = true
    this.root.set('http.response.body.size', this.bytes)
    this.resolveUntil()
  }
}

/** How {@link endWithBody} follows a response. */
export interface FollowOptions {
  /** Which bodies to follow (default `always`): `auto` only those that look streamed. */
  readonly streaming?: StreamingMode
  /** The request's method: the answer to a HEAD request has no body to wait for. */
  readonly method?: string
  /** No `waitUntil`: the body stream closes only after the flush, so nothing is dropped. */
  readonly awaitFlushInBody?: boolean
}

/** What {@link endWithBody} hands back: the response to send and the scope's flush. */
export interface EndedResponse {
  readonly response: Response
  readonly flushing: Promise<FlushReport>
  /** True when the flush is tied to the body stream (awaiting it before returning would stall). */
  readonly streamed: boolean
}

/**
 * Ends `scope` with `response`, keeping its root span open until the response body has
 * been sent: for streamed responses (LLM token streams) the server span then covers the
 * whole stream, not just the time to the first byte. The returned response has the same
 * status and headers, its body passed through unchanged; `http.response.body.size` counts
 * the bytes sent, and a client that stops reading adds the event
 * `http.response.body.cancelled` (not an error). With `awaitFlushInBody` (no `waitUntil`),
 * the body stream closes only after the flush, so nothing is dropped. Never throws.
 *
 * @example
 * const { response, flushing, streamed } = endWithBody(scope, await handler(request), !waitUntil)
 * if (!waitUntil && !streamed) await flushing
 */
export function endWithBody(
  scope: Scope,
  response: Response,
  options: boolean | FollowOptions = {},
): EndedResponse {
  const o: FollowOptions = typeof options === 'boolean' ? { awaitFlushInBody: options } : options
  const streaming = o.streaming ?? 'always'
  let body: ReadableStream<Uint8Array> | null = null
  try {
    // `auto` reads the headers first: most responses are not streamed, and reading `body`
    // makes the runtime build a stream object for it.
    if (
      response instanceof Response &&
      (streaming === 'always' || (streaming === 'auto' && looksStreamed(response.headers)))
    ) {
      body = bodyToFollow(response, o.method)
    }
  } catch {
    body = null
  }
  if (body === null) return { response, flushing: scope.end(response), streamed: false }
  const source = new FollowedBody(body, scope.root)
  let wrapped: Response
  try {
    // The response itself as the init: status, headers and a runtime's own extras (workerd's
    // `encodeBody`, `cf`) are kept.
    wrapped = new Response(new ReadableStream<Uint8Array>(source, { highWaterMark: 0 }), response)
  } catch {
    // A response `new Response` refuses to copy: hand back the original, body untouched.
    source.release()
    return { response, flushing: scope.end(response), streamed: false }
  }
  const flushing = scope.end(response, { until: source.until })
  if (o.awaitFlushInBody === true) source.flushing = flushing
  return { response: wrapped, flushing, streamed: true }
}
