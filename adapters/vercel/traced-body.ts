import type { FlushReport, Scope, Span } from '../../src/index.js'

/**
 * Pulls the handler's body through to the runtime, one chunk per pull (no read-ahead, so
 * back-pressure is the runtime's), and reports when the stream ends, fails or is
 * cancelled by the client. A class, not closures: one object per streamed response.
 */
class TracedBodySource implements UnderlyingDefaultSource<Uint8Array> {
  private readonly reader: ReadableStreamDefaultReader<Uint8Array>
  private readonly root: Span
  private bytes = 0
  private settled = false
  /** Set after construction: the flush to await before the stream closes, if there is no waitUntil. */
  flushing: Promise<FlushReport> | undefined
  private readonly resolveUntil: () => void
  private readonly rejectUntil: (err: unknown) => void
  /** Settles when the body has been fully sent (or failed, or was cancelled). */
  readonly until: Promise<void>

  constructor(body: ReadableStream<Uint8Array>, root: Span) {
    this.reader = body.getReader()
    this.root = root
    let resolve!: () => void
    let reject!: (err: unknown) => void
    this.until = new Promise<void>((res, rej) => {
      resolve = res
      reject = rej
    })
    this.resolveUntil = resolve
    this.rejectUntil = reject
  }

  async pull(controller: ReadableStreamDefaultController<Uint8Array>): Promise<void> {
    let chunk: ReadableStreamReadResult<Uint8Array>
    try {
      chunk = await this.reader.read()
    } catch (err) {
      // The handler's stream failed mid-way (an LLM stream that errored): the span records
      // it, the flush still happens, and the client sees the same error.
      this.finish(err)
      if (this.flushing) await this.flushing
      controller.error(err)
      return
    }
    if (chunk.done) {
      this.finish(undefined)
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
    if (!this.settled) this.root.event('http.response.cancelled')
    this.finish(undefined)
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

  private finish(err: unknown): void {
    if (this.settled) return
    this.settled = true
    this.root.set('http.response.body.size', this.bytes)
    if (err === undefined) this.resolveUntil()
    else this.rejectUntil(err)
  }
}

// Fetch §2.2.3 null body statuses: no body to keep the span open for.
function isNullBodyStatus(status: number): boolean {
  return status === 101 || status === 103 || status === 204 || status === 205 || status === 304
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
 * status and headers, its body passed through unchanged. With `awaitFlushInBody` (no
 * `waitUntil`), the body stream closes only after the flush, so nothing is dropped.
 *
 * @example
 * const { response, flushing, streamed } = endWithBody(scope, await handler(request), !waitUntil)
 * if (!waitUntil && !streamed) await flushing
 */
export function endWithBody(scope: Scope, response: Response, awaitFlushInBody: boolean): EndedResponse {
  const body = response.body
  if (body === null || isNullBodyStatus(response.status) || body.locked) {
    return { response, flushing: scope.end(response), streamed: false }
  }
  const source = new TracedBodySource(body, scope.root)
  let wrapped: Response
  try {
    wrapped = new Response(new ReadableStream<Uint8Array>(source, { highWaterMark: 0 }), {
      status: response.status,
      statusText: response.statusText,
      headers: response.headers,
    })
  } catch {
    // A response `new Response` refuses to copy: hand back the original, body untouched.
    source.release()
    return { response, flushing: scope.end(response), streamed: false }
  }
  const flushing = scope.end(response, { until: source.until })
  if (awaitFlushInBody) source.flushing = flushing
  return { response: wrapped, flushing, streamed: true }
}
