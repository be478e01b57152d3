/**
 * Who may send to the collector from a browser. Any page the developer visits can POST to
 * 127.0.0.1:4318; only the developer's own pages should land spans. By default those are
 * pages served from loopback (`http://localhost:*`, `http://127.0.0.1:*`, `http://[::1]:*`,
 * and their https forms); `--cors-origin` adds one served elsewhere.
 *
 * A request from a browser carries `Origin`. One from an allowed origin gets CORS headers
 * naming that origin; one from any other origin gets none and is refused (403), because
 * a simple request (a form POST, `fetch` with `mode: 'no-cors'`) is delivered even when
 * the page may not read the answer. A request without `Origin` is not from a page's
 * script or form (an SDK, curl) and is not affected.
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import { HttpError, LOOPBACK_HOST } from './http.js'

/**
 * `text` as an origin (`scheme://host[:port]`, http or https), lower case, or undefined.
 *
 * @example
 * parseOrigin('https://App.example.com/') // 'https://app.example.com'
 */
export function parseOrigin(text: string): string | undefined {
  let url: URL
  try {
    url = new URL(text)
  } catch {
    return undefined
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return undefined
  if (url.username || url.password || url.search || url.hash || (url.pathname !== '/' && url.pathname !== ''))
    return undefined
  return url.origin
}

export interface OriginPolicy {
  /** True for a loopback origin or one of the configured ones. */
  allows(origin: string): boolean
  /**
   * Applies the policy to a request for an ingest route: refuses (403) a disallowed
   * `Origin`, adds CORS headers for an allowed one, and answers a preflight. True when
   * the request was answered.
   */
  answer(req: IncomingMessage, res: ServerResponse): boolean
}

export function createOriginPolicy(extraOrigins: readonly string[] = []): OriginPolicy {
  const extra = new Set<string>()
  for (const o of extraOrigins) {
    const origin = parseOrigin(o)
    if (origin === undefined) throw new TypeError(`not an http(s) origin: ${o}`)
    extra.add(origin)
  }
  const allows = (text: string): boolean => {
    const origin = parseOrigin(text)
    if (origin === undefined) return false // includes `null` (sandboxed frames, file: pages)
    if (extra.has(origin)) return true
    return LOOPBACK_HOST.test(new URL(origin).hostname)
  }
  return {
    allows,
    answer(req, res) {
      const origin = req.headers.origin
      if (origin !== undefined) {
        if (!allows(origin))
          throw new HttpError(
            403,
            `requests from origin ${origin} are refused; to allow a page served there, start with --cors-origin ${origin}`,
          )
        res.setHeader('access-control-allow-origin', origin)
        res.setHeader('vary', 'Origin')
      }
      if (req.method !== 'OPTIONS') return false
      const headers: Record<string, string> = {
        'access-control-allow-methods': 'GET, POST, PATCH, OPTIONS',
        'access-control-allow-headers': String(
          req.headers['access-control-request-headers'] ?? 'content-type',
        ),
        'access-control-max-age': '600',
      }
      // Chrome's Private Network Access: a page on a public address asks before it reaches loopback.
      if (origin !== undefined && req.headers['access-control-request-private-network'] === 'true')
        headers['access-control-allow-private-network'] = 'true'
      res.writeHead(204, headers).end()
      return true
    },
  }
}
