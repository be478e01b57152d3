import type { FlushReport, Scope } from '../../src/index.js'

/** Which responses keep the server span open until the body is sent; see `WorkerOptions.streaming`. */
export type StreamingMode = 'auto' | 'always' | 'never'

/** @internal The response to return and the scope's flush (await it only without `waitUntil`). */
export interface Ended {
  readonly response: Response
  readonly flush: Promise<FlushReport>
  /** Whether the body was wrapped: the root span ends when it has been sent. */
  readonly streamed: boolean
}

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

/**
 * @internal Ends `scope` with `response`. A streamed body is piped through an identity
 * stream so the server span stays open until the body has been sent or the client went
 * away (`until`); the response's status and headers are kept. Never throws.
 */
export function endWithResponse(scope: Scope, response: Response, streaming: StreamingMode): Ended {
  let body: ReadableStream<Uint8Array> | null = null
  try {
    if (response instanceof Response && streaming !== 'never' && response.status !== 101) {
      body = response.body
      if (body !== null && (response.bodyUsed || body.locked)) body = null
      if (body !== null && streaming === 'auto' && !looksStreamed(response.headers)) body = null
    }
  } catch {
    body = null
  }
  if (body === null) return { response, flush: scope.end(response), streamed: false }
  const root = scope.root
  let cancelled = false
  let sourceFailed = false
  const pipe = new TransformStream<Uint8Array, Uint8Array>({
    // Streams spec `transformer.cancel`: the client went away. Not an error of the service.
    // (It also runs when the writable side is aborted: the source's failure, below.)
    cancel(reason: unknown) {
      if (sourceFailed) return
      cancelled = true
      root.event(
        'http.response.body.cancelled',
        reason === undefined ? undefined : { 'tracehop.reason': String(reason) },
      )
    },
  } as Transformer<Uint8Array, Uint8Array>)
  // `preventAbort`: a failing source must not reach `cancel` as if the client had left.
  const until = body.pipeTo(pipe.writable, { preventAbort: true }).then(
    () => undefined,
    (err: unknown) => {
      if (cancelled) return
      // A source that errors mid-stream (an upstream LLM failing) is the service's error;
      // then the client's body is broken with it.
      sourceFailed = true
      root.error(err)
      pipe.writable.abort(err).catch(() => {})
    },
  )
  const wrapped = new Response(pipe.readable, response)
  return { response: wrapped, flush: scope.end(response, { until }), streamed: true }
}
