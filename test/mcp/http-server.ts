// A real Streamable HTTP MCP server for the tests: the SDK's StreamableHTTPServerTransport on
// node:http (127.0.0.1, ephemeral port), one transport per session, each wrapped by
// traceMcpServer.
import { randomUUID } from 'node:crypto'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js'
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js'
import { type McpTransport, traceMcpServer } from '../../adapters/mcp/index.js'
import type { Tracer } from '../../src/index.js'

export interface McpHttpServer {
  /** The endpoint, `http://127.0.0.1:<port>/mcp`. */
  readonly url: URL
  /** The wrapped transport of each session, in the order they started. */
  readonly wrapped: readonly McpTransport[]
  close(): Promise<void>
}

/** Starts the server; `onPost` sees each POST body (an array is a JSON-RPC batch). */
export async function startMcpHttpServer(
  tracer: Tracer,
  newServer: () => McpServer,
  onPost?: (body: unknown) => void,
): Promise<McpHttpServer> {
  const sessions = new Map<string, StreamableHTTPServerTransport>()
  const wrapped: McpTransport[] = []
  const http = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      void (async () => {
        const body = chunks.length > 0 ? JSON.parse(Buffer.concat(chunks).toString('utf8')) : undefined
        if (req.method === 'POST') onPost?.(body)
        const sid = req.headers['mcp-session-id']
        let transport = typeof sid === 'string' ? sessions.get(sid) : undefined
        if (transport === undefined) {
          if (typeof sid === 'string') {
            res.writeHead(404).end()
            return
          }
          const t = new StreamableHTTPServerTransport({
            sessionIdGenerator: () => randomUUID(),
            onsessioninitialized: (id) => void sessions.set(id, t),
          })
          const traced = traceMcpServer(t, tracer)
          wrapped.push(traced)
          await newServer().connect(traced)
          transport = t
        }
        await transport.handleRequest(req, res, body)
      })().catch(() => res.destroy())
    })
  })
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve))
  return {
    url: new URL(`http://127.0.0.1:${(http.address() as AddressInfo).port}/mcp`),
    wrapped,
    async close() {
      for (const t of wrapped) await t.close()
      http.closeAllConnections()
      await new Promise<void>((resolve) => http.close(() => resolve()))
    },
  }
}
