// An unreachable collector as seen from the client: a TCP server on 127.0.0.1 that accepts
// connections and never answers (a firewall that drops, a hung proxy).

import type { AddressInfo } from 'node:net'
import { createServer, type Socket } from 'node:net'

export interface Blackhole {
  /** `http://127.0.0.1:<port>/v1/traces` */
  readonly url: string
  /** Connections accepted so far. */
  readonly accepted: () => number
  close(): Promise<void>
}

export async function startBlackhole(): Promise<Blackhole> {
  const sockets = new Set<Socket>()
  let accepted = 0
  const server = createServer((socket) => {
    accepted++
    sockets.add(socket)
    socket.on('error', () => {})
    socket.on('close', () => sockets.delete(socket))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}/v1/traces`,
    accepted: () => accepted,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy()
        server.close(() => resolve())
      }),
  }
}

/** The per-attempt limit an exporter logged (`no response within N ms`), if any. */
export function attemptLimitMs(lines: readonly string[]): number | undefined {
  for (const line of lines) {
    const m = /no response within (\d+) ms/.exec(line)
    if (m) return Number(m[1])
  }
  return undefined
}
