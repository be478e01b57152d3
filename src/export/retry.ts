/**
 * One HTTP export with retries, bounded by a deadline: what both exporters send through.
 * Every attempt has its own timeout (never longer than the budget left), failures back off
 * exponentially with full jitter, and `Retry-After` is honoured when it fits the budget.
 * It never throws: the outcome says what happened and why.
 */
import type { DropReason, ExportMeter } from './exporter.js'

/** The shape of `fetch` the exporters need; any WHATWG fetch fits. */
export type FetchLike = (input: string, init: RequestInit) => Promise<Response>

export interface RetryOptions {
  /** ms since epoch (`Date.now()` clock) after which nothing more is attempted. */
  readonly deadline: number
  readonly fetch: FetchLike
  /** Per-attempt timeout, capped by the time left before `deadline`. Default 10 000. */
  readonly attemptTimeoutMs?: number
  /** Default 5 (one attempt plus four retries). */
  readonly maxAttempts?: number
  /** Which HTTP statuses are worth another attempt. Default: 408, 429 and 5xx. */
  readonly retryable?: (status: number) => boolean
  /** First backoff ceiling (ms); doubles per attempt up to `maxDelayMs`. Default 100. */
  readonly baseDelayMs?: number
  /** Default 2 000. */
  readonly maxDelayMs?: number
  /** Source of jitter in [0, 1); `Math.random` unless a test pins it. */
  readonly random?: () => number
  /** Told as each attempt starts (`retry`: not the first), for `stats().exports`. */
  readonly meter?: ExportMeter
}

export interface SendResult {
  readonly ok: boolean
  /** The last HTTP status received, if any. */
  readonly status?: number
  /** Requests started (0: the deadline had passed before the first). */
  readonly attempts: number
  readonly reason?: DropReason
  readonly detail?: string
  /** The body of a successful response (already read, so the connection is released). */
  readonly body?: Uint8Array
  readonly headers?: Headers
}

// Less than this left before the deadline: not worth starting a request.
const MIN_ATTEMPT_MS = 5
const decoder = /* @__PURE__ */ new TextDecoder()

/**
 * 408, 429 and every 5xx: the statuses the langsmith SDK (and most clients) retry.
 *
 * @example
 * defaultRetryable(503) // true
 */
export function defaultRetryable(status: number): boolean {
  return status === 408 || status === 429 || status >= 500
}

/**
 * RFC 9110 §10.2.3 `Retry-After`: delay-seconds or an HTTP-date. Returns ms to wait,
 * or undefined when absent or unparseable.
 *
 * @example
 * parseRetryAfter('2', Date.now()) // 2000
 */
export function parseRetryAfter(value: string | null, now: number): number | undefined {
  if (value === null) return undefined
  const v = value.trim()
  if (v === '') return undefined
  const seconds = Number(v)
  if (Number.isFinite(seconds)) return seconds < 0 ? undefined : seconds * 1000
  const at = Date.parse(v)
  return Number.isNaN(at) ? undefined : Math.max(0, at - now)
}

/**
 * Sends one request, retrying within `opts.deadline`. The request body must be replayable
 * (a string or bytes, not a stream). Never throws.
 *
 * @example
 * const r = await sendWithRetry('http://127.0.0.1:4318/v1/traces',
 *   { method: 'POST', headers: { 'content-type': 'application/json' }, body },
 *   { deadline: Date.now() + 5000, fetch })
 * if (!r.ok) console.warn(r.reason, r.detail)
 */
export async function sendWithRetry(url: string, init: RequestInit, opts: RetryOptions): Promise<SendResult> {
  // `fetch` is called detached: a platform `fetch` invoked as a method of another object
  // throws "Illegal invocation" in workerd (otel-cf-workers #185).
  const {
    deadline,
    fetch: doFetch,
    attemptTimeoutMs = 10_000,
    maxAttempts = 5,
    retryable = defaultRetryable,
    baseDelayMs = 100,
    maxDelayMs = 2_000,
    random = Math.random,
    meter,
  } = opts
  let attempts = 0
  let status: number | undefined
  let reason: DropReason = 'budget'
  let detail = 'the deadline passed before the first attempt'
  try {
    for (;;) {
      const remaining = deadline - Date.now()
      if (remaining < MIN_ATTEMPT_MS) break
      attempts++
      meter?.onRequest(attempts > 1)
      const limit = Math.min(remaining, attemptTimeoutMs)
      const controller = new AbortController()
      let timer: ReturnType<typeof setTimeout> | undefined
      // Raced against the fetch and the body read, so even a fetch that ignores its
      // signal cannot hold the export past the deadline.
      const expired = new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          controller.abort()
          reject(new Error('timeout'))
        }, limit)
      })
      expired.catch(noop)
      let retryAfter: number | undefined
      try {
        const res = await Promise.race([doFetch(url, { ...init, signal: controller.signal }), expired])
        status = res.status
        // The server answered; a body we could not read does not change that.
        const body = new Uint8Array(
          await Promise.race([
            new Promise<ArrayBuffer>((resolve) => resolve(res.arrayBuffer())),
            expired,
          ]).catch(() => new ArrayBuffer(0)),
        )
        if (res.ok) return { ok: true, status, attempts, body, headers: res.headers }
        reason = status === 429 ? 'rate-limited' : status >= 500 ? 'http-5xx' : 'http-4xx'
        const text = decoder.decode(body.subarray(0, 200)).trim()
        detail = `HTTP ${status}${text ? `: ${text}` : ''}`
        if (retryable(status)) retryAfter = parseRetryAfter(res.headers.get('retry-after'), Date.now())
        else break
      } catch (err) {
        status = undefined
        reason = controller.signal.aborted ? 'timeout' : 'network'
        detail = controller.signal.aborted ? `no response within ${Math.round(limit)} ms` : errorMessage(err)
      } finally {
        clearTimeout(timer)
      }
      if (attempts >= maxAttempts) {
        detail += ` (gave up after ${attempts} attempts)`
        break
      }
      // Full jitter (AWS Architecture Blog, "Exponential Backoff And Jitter").
      const delay = retryAfter ?? random() * Math.min(maxDelayMs, baseDelayMs * 2 ** (attempts - 1))
      if (Date.now() + delay + MIN_ATTEMPT_MS > deadline) {
        detail +=
          retryAfter !== undefined
            ? ` (Retry-After ${Math.round(retryAfter / 1000)} s is beyond the deadline)`
            : ' (no time left to retry)'
        break
      }
      await new Promise((resolve) => setTimeout(resolve, delay))
    }
  } catch (err) {
    reason = 'network'
    detail = errorMessage(err)
  }
  return status === undefined
    ? { ok: false, attempts, reason, detail }
    : { ok: false, status, attempts, reason, detail }
}

function noop(): void {}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err)
}
