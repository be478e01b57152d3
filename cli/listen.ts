/** Starts an HTTP server listening, with the errors people hit said plainly. */
import type { Server } from 'node:http'
import { TracehopError } from '../src/errors.js'

/** Resolves once `server` listens on `host:port`; rejects with a `TracehopError`. */
export function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const onError = (e: NodeJS.ErrnoException): void => {
      server.off('listening', onListening)
      if (e.code === 'EADDRINUSE')
        reject(
          new TracehopError(
            `port ${port} on ${host} is already in use (another collector?); choose another with --port`,
            { cause: e },
          ),
        )
      else if (e.code === 'EADDRNOTAVAIL' || e.code === 'ENOTFOUND')
        reject(new TracehopError(`cannot listen on host ${host}: ${e.code}`, { cause: e }))
      else if (e.code === 'EACCES')
        reject(new TracehopError(`no permission to listen on ${host}:${port}`, { cause: e }))
      else reject(new TracehopError(`cannot listen on ${host}:${port}: ${e.message}`, { cause: e }))
    }
    const onListening = (): void => {
      server.off('error', onError)
      resolve()
    }
    server.once('error', onError)
    server.once('listening', onListening)
    server.listen(port, host)
  })
}
