import { TracehopError } from '../../src/index.js'

/**
 * Normalises the configured `origin` (`https://api.example/` → `https://api.example`) once,
 * when the handler is wrapped: a malformed one fails the deployment, not a request.
 */
export function normalizeOrigins(origin: string | readonly string[] | undefined): readonly string[] {
  if (origin === undefined) return []
  const list = typeof origin === 'string' ? [origin] : origin
  if (!Array.isArray(list)) throw new TracehopError('origin must be a URL string or an array of them')
  return list.map((o: unknown) => {
    try {
      if (typeof o !== 'string') throw new TypeError()
      const url = new URL(o)
      if (url.origin === 'null') throw new TypeError()
      return url.origin
    } catch {
      throw new TracehopError(
        `origin must be an absolute http(s) URL such as https://api.example, got ${String(o)}`,
      )
    }
  })
}

/**
 * The origins that count as this service's own for one request: the configured ones, plus
 * the request URL's origin only when `trustHostHeader` is on. On Node, Deno and Bun that URL
 * is built from the client's `Host` header, so trusting it by default would let any client
 * point our trace headers at a host of its choosing.
 */
export function ownOrigins(
  configured: readonly string[],
  trustHostHeader: boolean,
  url: URL | undefined,
): readonly string[] {
  if (!trustHostHeader || url === undefined || url.origin === 'null' || configured.includes(url.origin)) {
    return configured
  }
  return [...configured, url.origin]
}
