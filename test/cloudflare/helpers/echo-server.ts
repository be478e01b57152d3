// An upstream HTTP server for the Worker tests to call: answers with the request headers it
// received, so a test sees what the Worker's traced fetch sent.
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'

/** An upstream HTTP server that answers with the request headers it received, as JSON. */
export async function startEchoServer(delayMs = 0): Promise<{ origin: string; close(): Promise<void> }> {
  const server = createServer((req, res) => {
    const send = (): void => {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(req.headers))
    }
    const wait = Number(new URL(req.url ?? '/', 'http://x').searchParams.get('wait') ?? delayMs)
    if (wait > 0) setTimeout(send, wait)
    else send()
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    origin: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}
