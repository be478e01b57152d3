/**
 * The small HTTP vocabulary the collector's routes share: an error that carries its
 * status, JSON answers, the request's media type and path, and Host names.
 */
import type { IncomingMessage, ServerResponse } from 'node:http'

/** Thrown by a route to answer `status` with `{ detail: message }`. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    /** Extra response headers, e.g. Retry-After. */
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(message)
  }
}

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body))
}

/** The Content-Type without parameters, lower case ('' when absent). */
export function mediaType(req: IncomingMessage): string {
  return String(req.headers['content-type'] ?? '')
    .split(';')[0]!
    .trim()
    .toLowerCase()
}

/** The request path without its query and without a trailing slash (except `/`). */
export function requestPath(req: IncomingMessage): string {
  const url = req.url ?? '/'
  const q = url.indexOf('?')
  const path = q < 0 ? url : url.slice(0, q)
  return path.length > 1 && path.endsWith('/') ? path.slice(0, -1) : path
}

/** Names that reach only this machine. */
export const LOOPBACK_HOST: RegExp = /^(localhost|[^.]+\.localhost|127(?:\.\d{1,3}){3}|\[::1\]|::1)$/i

/** The host name of a `Host` header value, without its port (`[::1]` keeps its brackets). */
export function hostName(hostHeader: string): string {
  return hostHeader.startsWith('[')
    ? hostHeader.slice(0, hostHeader.indexOf(']') + 1)
    : hostHeader.split(':')[0]!
}
