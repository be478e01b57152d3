// traceMcp sends identity baggage routed to named destinations only to theirs: the URL of an
// HTTP transport, or the name given for stdio / in-memory ones; `langsmith-replicas` never
// travels in `_meta`. The real @modelcontextprotocol/sdk, in memory and over Streamable HTTP.
import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js'
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js'
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type McpClientOptions, traceMcp, traceMcpServer, traceOf } from '../../adapters/mcp/index.js'
import { createTracer, memoryExporter, TracehopError, type Tracer } from '../../src/index.js'
import { side } from '../mcp/helpers.js'
import { type McpHttpServer, startMcpHttpServer } from '../mcp/http-server.js'

const TP = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01'
const REPLICAS = encodeURIComponent(
  JSON.stringify([{ api_url: 'https://attacker.example', api_key: 'lsv2_x' }]),
)

/** A server whose `echo` tool answers the `_meta` it got and the headers its span would send on. */
function echoServer(): McpServer {
  const server = new McpServer({ name: 'tools', version: '1.0.0' })
  server.registerTool('echo', { inputSchema: {} }, async (_args, extra) => ({
    content: [
      {
        type: 'text',
        text: JSON.stringify({ meta: extra._meta ?? null, onward: traceOf(extra).headers() }),
      },
    ],
  }))
  return server
}

interface Echo {
  meta: { baggage?: string } | null
  onward: Record<string, string>
}

function agentTracer(routes: { userTo: string; tenantTo: string }): Tracer {
  return createTracer({
    service: 'agent',
    exporters: [memoryExporter()],
    flush: { windowMs: 0 },
    propagation: {
      write: ['w3c', 'baggage'],
      baggage: {
        keys: [
          'session.id',
          { key: 'user.id', to: [routes.userTo] },
          { key: 'tenant', to: [routes.tenantTo] },
        ],
      },
    },
  })
}

async function callEcho(client: Client, meta?: Record<string, unknown>): Promise<Echo> {
  const result = await client.callTool({ name: 'echo', arguments: {}, ...(meta ? { _meta: meta } : {}) })
  return JSON.parse((result.content as { text: string }[])[0]!.text) as Echo
}

async function inMemory(tracer: Tracer, options?: McpClientOptions): Promise<{ echo: Echo; client: Client }> {
  const [c, s] = InMemoryTransport.createLinkedPair()
  await echoServer().connect(traceMcpServer(s, side('tools').tracer))
  const scope = tracer.start({ traceparent: TP, baggage: 'session.id=s1,user.id=u1,tenant=t1' })
  const client = new Client({ name: 'agent', version: '1.0.0' })
  await client.connect(traceMcp(c, scope.root, options))
  const echo = await callEcho(client)
  await client.close()
  await scope.end()
  return { echo, client }
}

describe('traceMcp: routed baggage goes only to its destination', () => {
  const tracer = agentTracer({ userTo: 'mcp://search', tenantTo: 'https://retrieval.internal' })

  it('in memory without a destination name: no routed key is sent, unrouted ones are', async () => {
    const { echo } = await inMemory(tracer)
    expect(echo.meta?.baggage).toBe('session.id=s1')
  })

  it("in memory named 'mcp://search': the key routed there is sent, the one routed elsewhere is not", async () => {
    const { echo } = await inMemory(tracer, { destination: 'mcp://search' })
    expect(echo.meta?.baggage).toContain('session.id=s1')
    expect(echo.meta?.baggage).toContain('user.id=u1')
    expect(echo.meta?.baggage).not.toContain('tenant')
  })

  it('another named destination does not match (mcp://searcher, mcp://other)', async () => {
    for (const destination of ['mcp://other', 'mcp://searcher', 'mcp://search.evil']) {
      const { echo } = await inMemory(tracer, { destination })
      expect(echo.meta?.baggage).toBe('session.id=s1')
    }
  })

  it('a destination that is not a URL is a configuration error, before wrapping', () => {
    const [c] = InMemoryTransport.createLinkedPair()
    expect(() => traceMcp(c, tracer.start().root, { destination: 'search' })).toThrow(TracehopError)
  })
})

describe('traceMcp over Streamable HTTP: the transport URL is the destination', () => {
  let server: McpHttpServer
  beforeAll(async () => {
    server = await startMcpHttpServer(side('tools').tracer, echoServer)
  })
  afterAll(() => server?.close())

  async function overHttp(tracer: Tracer): Promise<Echo> {
    const scope = tracer.start({ traceparent: TP, baggage: 'session.id=s1,user.id=u1,tenant=t1' })
    const client = new Client({ name: 'agent', version: '1.0.0' })
    await client.connect(traceMcp(new StreamableHTTPClientTransport(server.url), scope.root))
    const echo = await callEcho(client)
    await client.close()
    await scope.end()
    return echo
  }

  it("the key routed to the server's origin is sent; the one routed elsewhere is not", async () => {
    const echo = await overHttp(
      agentTracer({ userTo: server.url.origin, tenantTo: 'https://retrieval.internal' }),
    )
    expect(echo.meta?.baggage).toContain('user.id=u1')
    expect(echo.meta?.baggage).toContain('session.id=s1')
    expect(echo.meta?.baggage).not.toContain('tenant')
  })

  it('keys routed only to other destinations never reach this server', async () => {
    const echo = await overHttp(
      agentTracer({ userTo: 'https://retrieval.internal', tenantTo: 'mcp://search' }),
    )
    expect(echo.meta?.baggage).toBe('session.id=s1')
  })
})

describe('MCP _meta never carries langsmith-replicas', () => {
  it("neither from the client's scope nor from the caller's own _meta baggage", async () => {
    const tracer = createTracer({
      service: 'agent',
      propagation: { read: ['w3c', 'baggage'], write: ['w3c', 'baggage'] },
    })
    const [c, s] = InMemoryTransport.createLinkedPair()
    await echoServer().connect(traceMcpServer(s, side('tools').tracer))
    const scope = tracer.start({ traceparent: TP, baggage: `a=1,langsmith-replicas=${REPLICAS}` })
    const client = new Client({ name: 'agent', version: '1.0.0' })
    await client.connect(traceMcp(c, scope.root))
    const echo = await callEcho(client, { baggage: `b=2,langsmith-replicas=${REPLICAS}` })
    expect(echo.meta?.baggage).toContain('a=1')
    expect(echo.meta?.baggage).toContain('b=2')
    expect(echo.meta?.baggage).not.toContain('replicas')
    await client.close()
    await scope.end()
  })

  it('a server reading it from an untraced client does not pass it on, in any read format', async () => {
    for (const read of [undefined, ['w3c', 'baggage'] as const]) {
      const memory = memoryExporter()
      const tools = createTracer({
        service: 'tools',
        exporters: [memory],
        flush: { windowMs: 0 },
        propagation: read ? { read: [...read], write: [...read] } : {},
      })
      const [c, s] = InMemoryTransport.createLinkedPair()
      await echoServer().connect(traceMcpServer(s, tools))
      const client = new Client({ name: 'plain', version: '1.0.0' })
      await client.connect(c)
      const echo = await callEcho(client, { traceparent: TP, baggage: `a=1,langsmith-replicas=${REPLICAS}` })
      expect(echo.onward['traceparent']).toBeDefined()
      expect(echo.onward['baggage'] ?? '').not.toContain('replicas')
      await client.close()
    }
  })
})
