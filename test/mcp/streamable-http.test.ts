// The real SDK over Streamable HTTP: StreamableHTTPServerTransport on a node:http server
// (127.0.0.1, ephemeral port) and StreamableHTTPClientTransport, both wrapped.
import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js'
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js'
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { traceMcp } from '../../adapters/mcp/index.js'
import { byName, type Meta, mcpServer, one, parentOf, type Seen, side } from './helpers.js'
import { type McpHttpServer, startMcpHttpServer } from './http-server.js'

const tools = side('tools')
const seen: Seen[] = []
/** Every POST body the server received: arrays are JSON-RPC batches (one HTTP request, one stream). */
const posts: unknown[] = []
let server: McpHttpServer
let url: URL

beforeAll(async () => {
  server = await startMcpHttpServer(
    tools.tracer,
    () => mcpServer(seen),
    (body) => posts.push(body),
  )
  url = server.url
})

afterAll(() => server?.close())

/** Closes the client and the server side of its session, so every server flush has run. */
async function finish(client: Client, sessionId: string | undefined): Promise<void> {
  await client.close()
  const t = server.wrapped.find((w) => w.sessionId === sessionId)
  await t?.close()
}

describe('tracehop/mcp over Streamable HTTP', () => {
  it('parents sequential and parallel tool calls of one session to their client spans, in one trace', async () => {
    const agent = side('agent')
    const scope = agent.tracer.start(undefined, { name: 'agent turn' })
    const inner = new StreamableHTTPClientTransport(url)
    const transport = traceMcp(inner, scope.root)
    const client = new Client({ name: 'agent', version: '1.0.0' })
    await client.connect(transport)
    // Every member is delegated: the session id and the negotiated protocol version.
    expect(transport.sessionId).toBeDefined()
    expect(transport.sessionId).toBe(inner.sessionId)
    expect(inner.protocolVersion).toMatch(/^\d{4}-\d{2}-\d{2}$/)

    for (const q of ['first', 'second']) await client.callTool({ name: 'search', arguments: { q } })
    const qs = ['a', 'bb', 'ccc', 'dddd', 'eeeee']
    await Promise.all(qs.map((q) => client.callTool({ name: 'search', arguments: { q } })))
    const sessionId = transport.sessionId
    await finish(client, sessionId)
    await scope.end()

    const hop = one(agent.memory.spans(), 'agent turn')
    const clients = byName(agent.memory.spans(), 'tools/call search')
    const mine = byName(tools.memory.spans(), 'tools/call search').filter(
      (s) => s.attributes['mcp.session.id'] === sessionId,
    )
    const children = byName(tools.memory.spans(), 'search index').filter((c) => c.traceId === hop.traceId)
    expect(clients).toHaveLength(7)
    expect(mine).toHaveLength(7)
    expect(children).toHaveLength(7)
    for (const c of clients) {
      expect(c.parentSpanId).toBe(hop.spanId)
      expect(c.attributes['mcp.session.id']).toBe(sessionId)
      expect(c.attributes['mcp.protocol.version']).toBe(inner.protocolVersion)
    }
    for (const child of children) {
      const server = mine.find((s) => s.spanId === child.parentSpanId)
      const client = clients.find((s) => s.spanId === parentOf(child.attributes['meta.traceparent']))
      expect(server).toBeDefined()
      expect(client).toBeDefined()
      expect(server!.parentSpanId).toBe(client!.spanId)
      expect(server!.traceId).toBe(hop.traceId)
      expect(server!.attributes['mcp.protocol.version']).toBe(inner.protocolVersion)
    }
  })

  it('gives each tool call inside one HTTP request (a JSON-RPC batch, one SSE stream) its own parent', async () => {
    const agent = side('agent')
    const scope = agent.tracer.start(undefined, { name: 'agent turn' })
    const inner = new BatchingTransport(url)
    const client = new Client({ name: 'agent', version: '1.0.0' })
    await client.connect(traceMcp(inner, scope.root))
    const before = posts.length
    const qs = ['v', 'ww', 'xxx', 'yyyy']
    const results = await Promise.all(qs.map((q) => client.callTool({ name: 'search', arguments: { q } })))
    expect(results.map((r) => (r.content as { text: string }[])[0]?.text)).toEqual(
      qs.map((q) => `hits for ${q}`),
    )
    // The four calls travelled in one POST: HTTP headers could not have told them apart.
    const batch = posts
      .slice(before)
      .filter((p): p is JSONRPCMessage[] => Array.isArray(p))
      .flatMap((p) => p.filter((m) => 'method' in m && m.method === 'tools/call'))
    expect(batch).toHaveLength(4)
    expect(posts.slice(before).filter((p) => Array.isArray(p))).toHaveLength(1)
    expect(inner.contentTypes).toContain('text/event-stream')
    const sessionId = inner.sessionId
    await finish(client, sessionId)
    await scope.end()

    const clients = byName(agent.memory.spans(), 'tools/call search')
    const servers = byName(tools.memory.spans(), 'tools/call search').filter(
      (s) => s.traceId === scope.traceId,
    )
    const children = byName(tools.memory.spans(), 'search index').filter((s) => s.traceId === scope.traceId)
    expect(clients).toHaveLength(4)
    expect(servers).toHaveLength(4)
    expect(children).toHaveLength(4)
    for (const msg of batch) {
      const meta = (msg as { params: { _meta: Meta } }).params._meta
      const client = clients.find((c) => c.spanId === parentOf(meta.traceparent))!
      const server = servers.find((s) => s.parentSpanId === client.spanId)!
      const child = children.find((c) => c.parentSpanId === server.spanId)!
      expect(child.attributes['meta.traceparent']).toBe(meta.traceparent)
      expect(server.attributes['jsonrpc.request.id']).toBe(String((msg as { id: number }).id))
    }
  })
})

/**
 * A client Transport that sends every message queued in one macrotask as one POST (a
 * JSON-RPC batch), and reads the answer (JSON or one SSE stream) back into onmessage.
 */
class BatchingTransport implements Transport {
  onclose?: () => void
  onerror?: (error: Error) => void
  onmessage?: (message: JSONRPCMessage) => void
  sessionId: string | undefined
  readonly contentTypes: string[] = []
  private version: string | undefined
  private queue: JSONRPCMessage[] = []
  private readonly url: URL
  constructor(url: URL) {
    this.url = url
  }
  async start(): Promise<void> {}
  setProtocolVersion(version: string): void {
    this.version = version
  }
  async send(message: JSONRPCMessage): Promise<void> {
    this.queue.push(message)
    if (this.queue.length === 1) setTimeout(() => void this.flush(), 0)
  }
  async close(): Promise<void> {
    if (this.sessionId)
      await fetch(this.url, { method: 'DELETE', headers: { 'mcp-session-id': this.sessionId } })
    this.onclose?.()
  }
  private async flush(): Promise<void> {
    const batch = this.queue
    this.queue = []
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
    }
    if (this.sessionId) headers['mcp-session-id'] = this.sessionId
    if (this.version) headers['mcp-protocol-version'] = this.version
    const res = await fetch(this.url, {
      method: 'POST',
      headers,
      body: JSON.stringify(batch.length === 1 ? batch[0] : batch),
    })
    this.sessionId = res.headers.get('mcp-session-id') ?? this.sessionId
    if (res.status === 202) return
    this.contentTypes.push(res.headers.get('content-type') ?? '')
    const text = await res.text()
    const messages: JSONRPCMessage[] = res.headers.get('content-type')?.includes('text/event-stream')
      ? text
          .split('\n')
          .filter((l) => l.startsWith('data:'))
          .map((l) => JSON.parse(l.slice(5)) as JSONRPCMessage)
      : ([] as JSONRPCMessage[]).concat(JSON.parse(text) as JSONRPCMessage)
    for (const m of messages) this.onmessage?.(m)
  }
}
