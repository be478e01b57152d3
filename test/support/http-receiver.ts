// The one HTTP server the tests receive exports with: a real node:http server on 127.0.0.1
// (ephemeral port) that records every request with its whole body, then lets a handler
// answer. The OTLP and LangSmith receivers are handlers on top of it.
import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http'
import { type AddressInfo, connect } from 'node:net'

export interface Recorded {
  readonly method: string
  /** The request target: path and query. */
  readonly path: string
  readonly headers: IncomingHttpHeaders
  readonly body: Buffer
  /** When the whole body had arrived (ms since epoch). */
  readonly at: number
}

export type Handler = (req: Recorded, res: ServerResponse) => unknown

export interface Receiver {
  /** `http://127.0.0.1:<port>`, no trailing slash. */
  readonly url: string
  readonly requests: Recorded[]
  /** Replaces the handler for the requests still to come. */
  handle(h: Handler): void
  close(): Promise<void>
}

const answerEmptyJson: Handler = (_, res) => {
  res.writeHead(200, { 'content-type': 'application/json' }).end('{}')
}

/** A real HTTP receiver on 127.0.0.1, ephemeral port; 200 `{}` unless told otherwise. */
export async function startReceiver(handler: Handler = answerEmptyJson): Promise<Receiver> {
  let current = handler
  const requests: Recorded[] = []
  const server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const rec: Recorded = {
        method: req.method ?? '',
        path: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks),
        at: Date.now(),
      }
      requests.push(rec)
      void Promise.resolve()
        .then(() => current(rec, res))
        .catch(() => res.destroy())
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    handle(h) {
      current = h
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}

/**
 * A TCP port on 127.0.0.1 that was free a moment ago: bound, then released (for a server
 * that cannot report an ephemeral port, such as serverless-offline; retry on EADDRINUSE).
 */
export async function freePort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', resolve)
  })
  const { port } = server.address() as AddressInfo
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return port
}

// Privileged ports no test can be given by listen(0) (ephemeral ports start far above) and
// not on the Fetch standard's "bad port" list, which fetch would refuse before connecting.
const NEVER_EPHEMERAL = [4, 6, 8]

/** Whether a TCP connection to 127.0.0.1:`port` is refused (nothing listens there). */
function refuses(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port })
    socket.setTimeout(1000, () => {
      socket.destroy()
      resolve(false)
    })
    socket.once('connect', () => {
      socket.destroy()
      resolve(false)
    })
    socket.once('error', (err: NodeJS.ErrnoException) => resolve(err.code === 'ECONNREFUSED'))
  })
}

/**
 * An origin on 127.0.0.1 where nothing listens. A privileged port that refuses, so that a
 * server another test file starts in parallel can never take it; a released ephemeral port
 * only where every such port is in use.
 */
export async function refusedUrl(): Promise<string> {
  for (const port of NEVER_EPHEMERAL) if (await refuses(port)) return `http://127.0.0.1:${port}`
  return `http://127.0.0.1:${await freePort()}`
}
