/**
 * The local servers the suites send to: bound to 127.0.0.1 on a free port, closed by the
 * suite when it is done.
 */
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'

/** Listens on 127.0.0.1 (a free port) and resolves with the server's base URL. */
export function listen(server: Server): Promise<string> {
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () =>
      resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`),
    ),
  )
}

export interface ExportReceiver {
  /** `http://127.0.0.1:<port>`, without a path. */
  readonly url: string
  /** Requests received, all of them or those to one path. */
  count(path?: string): number
  /** Request body bytes received, all of them or those to one path. */
  bytes(path?: string): number
  close(): void
}

/**
 * An export sink: reads each request to its end, answers `{}` (what OTLP/HTTP and the
 * LangSmith endpoints accept) and counts requests and their bytes by path, to show that
 * every contender exported.
 */
export async function startExportReceiver(): Promise<ExportReceiver> {
  const byPath = new Map<string, number>()
  const bytesByPath = new Map<string, number>()
  let total = 0
  let totalBytes = 0
  const server = createServer((req, res) => {
    let size = 0
    req.on('data', (chunk: Buffer) => {
      size += chunk.length
    })
    req.on('end', () => {
      total++
      totalBytes += size
      const path = req.url ?? ''
      byPath.set(path, (byPath.get(path) ?? 0) + 1)
      bytesByPath.set(path, (bytesByPath.get(path) ?? 0) + size)
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}')
    })
  })
  const url = await listen(server)
  return {
    url,
    count: (path) => (path === undefined ? total : (byPath.get(path) ?? 0)),
    bytes: (path) => (path === undefined ? totalBytes : (bytesByPath.get(path) ?? 0)),
    close: () => server.close(),
  }
}
