import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { defaultRetryable, parseRetryAfter, sendWithRetry } from '../../src/export/retry.js'
import { type Receiver, refusedUrl, startReceiver } from '../support/http-receiver.js'

let rx: Receiver
beforeAll(async () => {
  rx = await startReceiver()
})
afterAll(() => rx.close())

const post = { method: 'POST', body: 'x' }
const fetchFn = (input: string, init: RequestInit) => fetch(input, init)

function respondWith(statuses: number[], headers: Record<string, string> = {}): void {
  let i = 0
  rx.requests.length = 0
  rx.handle((_, res) => {
    const status = statuses[Math.min(i++, statuses.length - 1)]!
    res.writeHead(status, headers).end(status >= 400 ? `status ${status}` : 'ok')
  })
}

describe('sendWithRetry', () => {
  it('retries a 503 and succeeds on the next attempt', async () => {
    respondWith([503, 200])
    const r = await sendWithRetry(rx.url, post, { deadline: Date.now() + 5000, fetch: fetchFn })
    expect(r).toMatchObject({ ok: true, status: 200, attempts: 2 })
    expect(new TextDecoder().decode(r.body)).toBe('ok')
  })

  it('retries 408, 429 and every 5xx by default, nothing else', () => {
    expect([408, 429, 500, 502, 503, 504, 599].every(defaultRetryable)).toBe(true)
    expect([400, 401, 403, 404, 409, 413, 422].some(defaultRetryable)).toBe(false)
  })

  it('does not retry a 400 and reports it as http-4xx with the body in the detail', async () => {
    respondWith([400, 200])
    const r = await sendWithRetry(rx.url, post, { deadline: Date.now() + 5000, fetch: fetchFn })
    expect(r).toMatchObject({ ok: false, status: 400, attempts: 1, reason: 'http-4xx' })
    expect(r.detail).toContain('status 400')
    expect(rx.requests).toHaveLength(1)
  })

  it('stops after maxAttempts and reports the last failure', async () => {
    respondWith([502])
    const r = await sendWithRetry(rx.url, post, {
      deadline: Date.now() + 5000,
      fetch: fetchFn,
      maxAttempts: 3,
      baseDelayMs: 1,
    })
    expect(r).toMatchObject({ ok: false, attempts: 3, reason: 'http-5xx', status: 502 })
    expect(r.detail).toContain('gave up after 3 attempts')
  })

  it('honours Retry-After in seconds', async () => {
    respondWith([429, 200], { 'retry-after': '1' })
    const t0 = Date.now()
    const r = await sendWithRetry(rx.url, post, { deadline: Date.now() + 5000, fetch: fetchFn })
    expect(r).toMatchObject({ ok: true, attempts: 2 })
    expect(rx.requests[1]!.at - rx.requests[0]!.at).toBeGreaterThanOrEqual(950)
    expect(Date.now() - t0).toBeLessThan(3000)
  })

  it('honours Retry-After as an HTTP date', async () => {
    respondWith([503, 200], { 'retry-after': new Date(Date.now() + 2000).toUTCString() })
    const r = await sendWithRetry(rx.url, post, { deadline: Date.now() + 5000, fetch: fetchFn })
    expect(r).toMatchObject({ ok: true, attempts: 2 })
    // HTTP dates have whole-second resolution.
    expect(rx.requests[1]!.at - rx.requests[0]!.at).toBeGreaterThanOrEqual(900)
  })

  it('gives up at once, rate-limited, when Retry-After is beyond the deadline', async () => {
    respondWith([429, 200], { 'retry-after': '30' })
    const t0 = Date.now()
    const r = await sendWithRetry(rx.url, post, { deadline: Date.now() + 2000, fetch: fetchFn })
    expect(r).toMatchObject({ ok: false, attempts: 1, reason: 'rate-limited' })
    expect(r.detail).toContain('beyond the deadline')
    expect(Date.now() - t0).toBeLessThan(500)
  })

  it('ends a hanging request at the deadline with reason timeout', async () => {
    rx.handle(() => {}) // never answers
    const t0 = Date.now()
    const r = await sendWithRetry(rx.url, post, { deadline: t0 + 400, fetch: fetchFn })
    const took = Date.now() - t0
    expect(r).toMatchObject({ ok: false, reason: 'timeout' })
    expect(took).toBeGreaterThanOrEqual(390)
    expect(took).toBeLessThan(700)
  })

  it('caps each attempt at attemptTimeoutMs and retries within the budget', async () => {
    let n = 0
    rx.handle((_, res) => {
      if (n++ > 0) res.writeHead(200).end()
    })
    const r = await sendWithRetry(rx.url, post, {
      deadline: Date.now() + 3000,
      fetch: fetchFn,
      attemptTimeoutMs: 200,
    })
    expect(r).toMatchObject({ ok: true, attempts: 2 })
  })

  it('is bounded even by a fetch that ignores its abort signal', async () => {
    const never = () => new Promise<Response>(() => {})
    const t0 = Date.now()
    const r = await sendWithRetry('http://x.invalid/', post, { deadline: t0 + 300, fetch: never })
    expect(r.reason).toBe('timeout')
    expect(Date.now() - t0).toBeLessThan(600)
  })

  it('retries refused connections with backoff inside the budget and reports network', async () => {
    const url = await refusedUrl()
    const t0 = Date.now()
    const r = await sendWithRetry(url, post, { deadline: t0 + 1000, fetch: fetchFn, baseDelayMs: 50 })
    expect(r).toMatchObject({ ok: false, reason: 'network' })
    expect(r.attempts).toBeGreaterThan(1)
    expect(Date.now() - t0).toBeLessThan(1300)
  })

  it('reports budget without sending when the deadline has passed', async () => {
    rx.requests.length = 0
    const r = await sendWithRetry(rx.url, post, { deadline: Date.now() - 1, fetch: fetchFn })
    expect(r).toMatchObject({ ok: false, attempts: 0, reason: 'budget' })
    expect(rx.requests).toHaveLength(0)
  })

  it('calls fetch detached from the options object (no "Illegal invocation" in workerd)', async () => {
    let self: unknown = 'unset'
    const strict = function (this: unknown) {
      self = this
      return Promise.resolve(new Response('ok'))
    }
    await sendWithRetry(rx.url, post, { deadline: Date.now() + 1000, fetch: strict as never })
    expect(self).toBeUndefined()
  })

  it('never throws, whatever fetch does', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.constant<'throw'>('throw'),
          fc.constant<'reject'>('reject'),
          fc.integer({ min: 200, max: 599 }),
        ),
        fc.option(fc.string(), { nil: undefined }),
        async (behaviour, retryAfter) => {
          const f = (): Promise<Response> => {
            if (behaviour === 'throw') throw new TypeError('sync')
            if (behaviour === 'reject') return Promise.reject(new Error('async'))
            const headers =
              retryAfter !== undefined
                ? { 'retry-after': retryAfter.replace(/[^\x20-\x7e]/g, '') }
                : undefined
            return Promise.resolve(new Response(null, { status: behaviour, ...(headers ? { headers } : {}) }))
          }
          const r = await sendWithRetry('http://x.invalid/', post, {
            deadline: Date.now() + 30,
            fetch: f,
            baseDelayMs: 1,
          })
          expect(typeof r.ok).toBe('boolean')
          if (!r.ok) expect(r.reason).toBeDefined()
        },
      ),
      { numRuns: 60 },
    )
  })
})

describe('parseRetryAfter', () => {
  it('reads delay-seconds and HTTP dates, and ignores garbage', () => {
    const now = Date.parse('Wed, 21 Oct 2015 07:28:00 GMT')
    expect(parseRetryAfter('120', now)).toBe(120_000)
    expect(parseRetryAfter('Wed, 21 Oct 2015 07:28:05 GMT', now)).toBe(5000)
    expect(parseRetryAfter('Wed, 21 Oct 2015 07:27:00 GMT', now)).toBe(0)
    expect(parseRetryAfter('soon', now)).toBeUndefined()
    expect(parseRetryAfter('-3', now)).toBeUndefined()
    expect(parseRetryAfter('', now)).toBeUndefined()
    expect(parseRetryAfter(null, now)).toBeUndefined()
  })
})
