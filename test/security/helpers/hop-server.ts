// A real HTTP server on 127.0.0.1 (ephemeral port: its own origin) that records every request
// it gets and answers `/redirect?status=302&to=<url>` with that redirect (and `&policy=<value>`
// as its `Referrer-Policy` header), anything else with
// 200 and `{ method, body }`. Two of them are two origins: an allowed host and an attacker.
import { createServer, type IncomingHttpHeaders } from 'node:http'
import type { AddressInfo } from 'node:net'

export interface Hit {
  readonly method: string
  readonly path: string
  readonly headers: IncomingHttpHeaders
  readonly body: string
}

export interface HopServer {
  readonly origin: string
  readonly hits: Hit[]
  /** A URL on this server that redirects with `status` to `to` (with that `Referrer-Policy`). */
  redirect(status: number, to: string, referrerPolicy?: string): string
  close(): Promise<void>
}

/** The trace headers tracehop writes, in any format. */
export const TRACE_HEADER_NAMES = [
  'traceparent',
  'tracestate',
  'baggage',
  'langsmith-trace',
  'x-amzn-trace-id',
]

/** The trace headers a hit carried (any `langsmith-*` too). */
export function traceHeadersOf(hit: Hit): Record<string, string> {
  const out: Record<string, string> = {}
  for (const [k, v] of Object.entries(hit.headers)) {
    if (TRACE_HEADER_NAMES.includes(k) || k.startsWith('langsmith-')) out[k] = String(v)
  }
  return out
}

/**
 * Starts a server; `files` are served as they are (a page and its script for the browser
 * test). Every answer allows any origin to read it (CORS), as a public host would.
 */
export async function startHopServer(
  files: Readonly<Record<string, { type: string; body: string }>> = {},
): Promise<HopServer> {
  const hits: Hit[] = []
  const server = createServer((req, res) => {
    res.setHeader('access-control-allow-origin', '*')
    const file = files[req.url ?? '']
    if (file !== undefined) {
      res.writeHead(200, { 'content-type': file.type }).end(file.body)
      return
    }
    if (req.method === 'OPTIONS') {
      res.writeHead(204, { 'access-control-allow-headers': '*', 'access-control-allow-methods': '*' }).end()
      return
    }
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://x')
      const body = Buffer.concat(chunks).toString()
      hits.push({ method: req.method ?? '', path: url.pathname, headers: req.headers, body })
      const to = url.searchParams.get('to')
      if (url.pathname === '/redirect' && to !== null) {
        const policy = url.searchParams.get('policy')
        const headers = policy === null ? { location: to } : { location: to, 'referrer-policy': policy }
        res.writeHead(Number(url.searchParams.get('status') ?? 302), headers).end('moved')
        return
      }
      res
        .writeHead(200, { 'content-type': 'application/json' })
        .end(JSON.stringify({ method: req.method, body }))
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  return {
    origin,
    hits,
    redirect: (status, to, referrerPolicy) =>
      `${origin}/redirect?status=${status}&to=${encodeURIComponent(to)}` +
      (referrerPolicy === undefined ? '' : `&policy=${encodeURIComponent(referrerPolicy)}`),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}
