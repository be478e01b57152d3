// A plain HTTP server on 127.0.0.1 (ephemeral port) that answers `up` and records each
// request's path and query: what an upstream really received.
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'

export interface RecordingServer {
  /** `http://127.0.0.1:<port>` */
  readonly url: string
  /** The request targets received, in order (`/path?query`). */
  readonly received: readonly string[]
  close(): Promise<void>
}

export async function startRecordingServer(): Promise<RecordingServer> {
  const received: string[] = []
  const server = createServer((req, res) => {
    received.push(req.url ?? '')
    res.end('up')
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    received,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  }
}
