/**
 * Redirects followed one hop at a time, so that each hop's trace headers are decided for that
 * hop's own destination. `fetch` with `redirect: 'follow'` would resend every header the
 * first request carried (trace context and identity baggage routed to the first host
 * included) to whatever origin a `Location` names. The rules are the Fetch standard's
 * "HTTP-redirect fetch": at most 20 redirects, 301/302 turn a POST into a GET, 303 turns
 * anything but GET/HEAD into a GET (dropping the body and its headers), 307/308 resend
 * method and body, a cross-origin hop loses `Authorization` (and, as Node's fetch does,
 * `Cookie` and `Proxy-Authorization`), and a redirect's `Referrer-Policy` header applies to
 * the hops after it.
 */
import { BAGGAGE_HEADER } from './propagation/baggage.js'
import { LANGSMITH_TRACE_HEADER } from './propagation/langsmith-trace.js'
import { TRACEPARENT_HEADER } from './propagation/traceparent.js'
import { TRACESTATE_HEADER } from './propagation/tracestate.js'
import { XRAY_HEADER } from './propagation/xray.js'
import { parseReferrerPolicyHeader, referrerFor } from './referrer-policy.js'

/**
 * Sends one hop: `resendCount` is 0 for the caller's request, n for the n-th redirect.
 * `trace` false: a hop whose destination is unknown, which gets no trace headers at all.
 */
export type SendHop = (request: Request, resendCount: number, trace: boolean, url: URL) => Promise<Response>

const MAX_REDIRECTS = 20
// Fetch standard, "request-body-header name": dropped with the body when a redirect makes a GET.
const BODY_HEADERS = ['content-encoding', 'content-language', 'content-location', 'content-type']
// Dropped on a cross-origin redirect: the standard's `Authorization`, plus what Node's fetch drops.
const CREDENTIAL_HEADERS = ['authorization', 'cookie', 'proxy-authorization']
const TRACE_HEADERS = [
  TRACEPARENT_HEADER,
  TRACESTATE_HEADER,
  LANGSMITH_TRACE_HEADER,
  XRAY_HEADER,
  BAGGAGE_HEADER,
]

// The caller's request options a redirect keeps (Fetch: HTTP-redirect fetch changes only the
// URL, method, body and headers), `mode` before `cache` (`only-if-cached` needs `same-origin`).
const KEPT_OPTIONS = [
  'mode',
  'credentials',
  'cache',
  'keepalive',
  'referrer',
  'referrerPolicy',
  'integrity',
  'priority',
  'duplex',
] as const

function isRedirectStatus(status: number): boolean {
  return status === 301 || status === 302 || status === 303 || status === 307 || status === 308
}

/**
 * Removes every trace header from a redirect hop that may not receive them, the caller's
 * own copies included (a `span.headers(url)` spread into the first request's headers).
 */
export function stripTraceHeaders(headers: Headers): void {
  for (const name of TRACE_HEADERS) headers.delete(name)
  const langsmith: string[] = []
  headers.forEach((_, name) => {
    if (name.startsWith('langsmith-')) langsmith.push(name)
  })
  for (const name of langsmith) headers.delete(name)
}

/**
 * Sends `first` (whose `redirect` is `follow`) through `send` with `redirect: 'manual'`, and
 * follows each redirect with a new request built from the caller's own headers, as `fetch`
 * would. Where the runtime hides a manual redirect's target (a browser's `opaqueredirect`),
 * a GET or HEAD (safe to repeat) is sent again for `fetch` to follow, without any trace
 * header; any other method's opaque redirect is returned as it is, since sending it again
 * would repeat its effect.
 */
export async function followRedirects(first: Request, replayable: boolean, send: SendHop): Promise<Response> {
  let method = first.method
  let url = new URL(first.url)
  // A copy of the body for a 307/308 (or a non-POST 301/302), read only if one comes. None
  // for a stream body: fetch cannot resend one either, and the copy would hold all of it.
  let spare = first.body !== null && replayable ? first.clone() : undefined
  let streamed = first.body !== null && !replayable
  let body: ArrayBuffer | null = null
  // `first` comes with `redirect: 'manual'` from the traced fetch, which builds one request
  // instead of two.
  let request = first.redirect === 'manual' ? first : new Request(first, { redirect: 'manual' })
  // Read only when a redirect comes: most requests have none.
  let kept: RequestInit | undefined
  try {
    for (let count = 0; ; count++) {
      // The hop's URL goes with it: parsed once, not again by the hop's span.
      const response = await send(request, count, true, url)
      if (response.type === 'opaqueredirect') {
        if (method !== 'GET' && method !== 'HEAD') return response
        // Its `Referrer-Policy` is hidden here (an opaque redirect has no headers): the
        // runtime's own fetch follows the redirect below, and applies it itself.
        kept ??= keptOptions(first)
        return send(
          new Request(url, {
            ...kept,
            method,
            headers: callerHeaders(request),
            redirect: 'follow',
            signal: first.signal,
          }),
          count + 1,
          false,
          url,
        )
      }
      const location = isRedirectStatus(response.status) ? response.headers.get('location') : null
      if (location === null) {
        if (count > 0) markRedirected(response)
        return response
      }
      // The redirect's own body is never read: release the connection (before any throw).
      response.body?.cancel().catch(noop)
      if (count >= MAX_REDIRECTS) throw new TypeError('fetch failed: redirect count exceeded')
      let next: URL
      try {
        next = new URL(location, url)
      } catch {
        throw new TypeError(`fetch failed: invalid redirect location ${JSON.stringify(location)}`)
      }
      if (next.protocol !== 'http:' && next.protocol !== 'https:') {
        throw new TypeError(`fetch failed: redirect to a ${next.protocol} URL`)
      }
      const status = response.status
      // Copied only when a redirect comes (most requests have none).
      const headers = callerHeaders(request)
      if (
        (status === 303 && method !== 'GET' && method !== 'HEAD') ||
        ((status === 301 || status === 302) && method === 'POST')
      ) {
        method = 'GET'
        body = null
        streamed = false
        spare?.body?.cancel().catch(noop)
        spare = undefined
        for (const name of BODY_HEADERS) headers.delete(name)
      } else if (spare !== undefined) {
        body = await spare.arrayBuffer()
        spare = undefined
      } else if (streamed) {
        throw new TypeError('fetch failed: a redirect asked to send a streamed request body again')
      }
      if (next.origin !== url.origin) for (const name of CREDENTIAL_HEADERS) headers.delete(name)
      kept ??= keptOptions(first)
      followReferrerPolicy(kept, response.headers.get('referrer-policy'), url, next)
      url = next
      const init: RequestInit = { ...kept, method, headers, body, redirect: 'manual', signal: first.signal }
      // Workers' per-request `cf` options travel with every hop, as fetch would keep them.
      const cf = (first as { cf?: unknown }).cf
      if (cf !== undefined) (init as { cf?: unknown }).cf = cf
      request = new Request(next, init)
    }
  } finally {
    // The copy of a body no redirect asked for again: released.
    spare?.body?.cancel().catch(noop)
  }
}

/**
 * The options of `first` a redirect hop keeps, each one only where the runtime exposes it and
 * accepts it back (workerd lacks or rejects `credentials`, `mode`, `cache`; a browser's
 * `navigate` mode cannot be set): never a hop that fails where it did not before. The
 * referrer and its policy then change hop by hop, as `fetch` changes them
 * (`followReferrerPolicy`).
 */
function keptOptions(first: Request): RequestInit {
  const kept: Record<string, unknown> = {}
  for (const name of KEPT_OPTIONS) {
    try {
      const value = (first as unknown as Record<string, unknown>)[name]
      if (value === undefined) continue
      // Checked with the options kept so far: some hold only together (`only-if-cached`).
      new Request(first.url, { ...kept, [name]: value })
      kept[name] = value
    } catch {
      // Not readable or not accepted here: the hop goes without it, as it did before.
    }
  }
  return kept
}

/**
 * The referrer and policy of the hop from `from` to `to`, as Fetch's HTTP-redirect fetch sets
 * them: the redirect's `Referrer-Policy` header, when it names a policy, is the policy from
 * now on (Referrer Policy §8.2), and the referrer is the one the last hop could send, cut
 * again for `to` (§8.3, which main fetch runs on every hop; cut here too, because Node 20's
 * fetch sends the origin under `no-referrer`). Without this a redirect's
 * `no-referrer` would be ignored, and what one hop's policy cut would come back on the next.
 * Kept in `kept` for the later hops; only the options the runtime has, and only if it takes
 * the new values.
 */
function followReferrerPolicy(kept: RequestInit, header: string | null, from: URL, to: URL): void {
  const { referrer, referrerPolicy } = kept
  if (referrer === undefined && referrerPolicy === undefined) return
  const policy = parseReferrerPolicyHeader(header) || referrerPolicy || ''
  const update: RequestInit = {}
  try {
    if (referrerPolicy !== undefined) update.referrerPolicy = policy as ReferrerPolicy
    if (referrer !== undefined) {
      // `about:client` is a referrer only the runtime knows (a global origin, `--location`):
      // what the last hop sent cannot be cut again here, and the runtime would work it out
      // afresh from the client under a policy a redirect may have loosened. The hops after
      // a redirect go without it: never more than `fetch` sends.
      update.referrer =
        referrer === 'about:client'
          ? ''
          : referrerFor(referrerFor(referrer, referrerPolicy ?? '', from), policy, to)
    }
    new Request(to, update)
    Object.assign(kept, update)
  } catch {
    // A referrer or policy the runtime does not take: the hop goes with the referrer and
    // policy of the hop before it.
  }
}

/**
 * The caller's headers for the next hop: the hop just sent less every trace header `send`
 * added (a redirect hop starts without them, and the caller's own copies made for the first
 * URL are not the next one's). A copy: the sent request's headers are left as they were.
 */
function callerHeaders(sent: Request): Headers {
  const headers = new Headers(sent.headers)
  stripTraceHeaders(headers)
  return headers
}

/** `response.redirected`, as `fetch` sets it after following (where the runtime lets us). */
function markRedirected(response: Response): void {
  try {
    Object.defineProperty(response, 'redirected', { value: true, configurable: true })
  } catch {
    // A frozen host object: `redirected` stays false, the response is unchanged.
  }
}

function noop(): void {}
