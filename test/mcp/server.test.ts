// traceMcpServer alone: raw JSON-RPC peers against a real McpServer, for the rules that a
// well-behaved Client never exercises.
import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js'
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js'
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js'
import { describe, expect, it } from 'vitest'
import { traceMcp, traceMcpServer, traceOf } from '../../adapters/mcp/index.js'
import { memoryExporter, TracehopError } from '../../src/index.js'
import { byName, mcpServer, one, side, until } from './helpers.js'

const INIT: JSONRPCMessage = {
  jsonrpc: '2.0',
  id: 'init',
  method: 'initialize',
  params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'raw', version: '1' } },
}

/** A real McpServer behind traceMcpServer, driven by a raw transport. */
async function rawServer(options?: Parameters<typeof traceMcpServer>[2]) {
  const tools = side('tools')
  const [peer, s] = InMemoryTransport.createLinkedPair()
  const wrapped = traceMcpServer(s, tools.tracer, options)
  await mcpServer().connect(wrapped)
  const answers = new Map<unknown, JSONRPCMessage>()
  peer.onmessage = (m) => void ('id' in m && answers.set(m.id, m))
  await peer.start()
  await peer.send(INIT)
  await until(() => answers.has('init'))
  return { tools, wrapped, peer, answers }
}

describe('traceMcpServer', () => {
  it('starts no scope for a request whose _meta is not an object (the SDK drops it), and counts it', async () => {
    const { tools, wrapped, peer } = await rawServer()
    for (const meta of [5, 'x', null, [1]]) {
      await peer.send({
        jsonrpc: '2.0',
        id: String(meta),
        method: 'tools/call',
        params: { name: 'search', arguments: { q: 'x' }, _meta: meta },
      } as unknown as JSONRPCMessage)
    }
    await wrapped.close()
    expect(tools.tracer.stats().invalid.envelope).toBe(4)
    expect(byName(tools.memory.spans(), 'tools/call search')).toHaveLength(0)
  })

  it('bounds pending requests: past maxPending (or on a reused id) the oldest is force-ended and counted', async () => {
    const { tools, wrapped, peer } = await rawServer({ maxPending: 2 })
    const call = (id: number) =>
      peer.send({ jsonrpc: '2.0', id, method: 'tools/call', params: { name: 'slow', arguments: {} } })
    await call(1)
    await call(2)
    await call(3) // evicts 1
    await call(3) // reuses 3: the first 3 is ended
    expect(tools.tracer.stats().limits.spans).toBe(2)
    await wrapped.close()
    const spans = byName(tools.memory.spans(), 'tools/call slow')
    expect(spans).toHaveLength(4)
    expect(spans.filter((s) => s.attributes['tracehop.force_ended'] === true)).toHaveLength(2)
    expect(spans.filter((s) => s.status.message === 'transport closed')).toHaveLength(2)
  })

  it('accepts a TracerConfig and reuses one tracer per config object', async () => {
    const memory = memoryExporter()
    const config = { service: 'configured-tools', exporters: [memory], flush: { windowMs: 0 } }
    const wrappedServers = []
    for (let i = 0; i < 2; i++) {
      const [c, s] = InMemoryTransport.createLinkedPair()
      const wrapped = traceMcpServer(s, config)
      wrappedServers.push(wrapped)
      await mcpServer().connect(wrapped)
      const client = new Client({ name: 'c', version: '1' })
      await client.connect(c)
      await client.callTool({ name: 'search', arguments: { q: String(i) } })
      await client.close()
    }
    for (const w of wrappedServers) await w.close()
    expect(byName(memory.spans(), 'tools/call search')).toHaveLength(2)
    const services = new Set(memory.batches().map((b) => b.resource.attributes['service.name']))
    expect(services).toEqual(new Set(['configured-tools']))
  })

  it('links instead of continuing with ingress: link', async () => {
    const agent = side('agent')
    const tools = side('tools')
    const scope = agent.tracer.start()
    const [c, s] = InMemoryTransport.createLinkedPair()
    const wrapped = traceMcpServer(s, tools.tracer, { ingress: 'link' })
    await mcpServer().connect(wrapped)
    const client = new Client({ name: 'c', version: '1' })
    await client.connect(traceMcp(c, scope.root))
    await client.callTool({ name: 'search', arguments: { q: 'x' } })
    await client.close()
    await wrapped.close()
    await scope.end()
    const clientSpan = one(agent.memory.spans(), 'tools/call search')
    const server = one(tools.memory.spans(), 'tools/call search')
    expect(server.traceId).not.toBe(clientSpan.traceId)
    expect(server.links).toEqual([
      expect.objectContaining({ traceId: clientSpan.traceId, spanId: clientSpan.spanId }),
    ])
  })

  it('passes _meta to the handler as the very object that arrived', async () => {
    const tools = side('tools')
    const [peer, s] = InMemoryTransport.createLinkedPair()
    const server = new McpServer({ name: 't', version: '1' })
    let seen: unknown
    server.registerTool('probe', { inputSchema: {} }, async (_a, extra) => {
      seen = extra._meta
      return { content: [] }
    })
    await server.connect(traceMcpServer(s, tools.tracer))
    const done = new Promise<void>((resolve) => {
      peer.onmessage = (m) => void ('id' in m && m.id === 1 && resolve())
    })
    await peer.start()
    await peer.send(INIT)
    const meta = {
      traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
      'x.example/k': [1],
    }
    await peer.send({
      jsonrpc: '2.0',
      id: 1,
      method: 'tools/call',
      params: { name: 'probe', arguments: {}, _meta: meta },
    })
    await done
    expect(seen).toBe(meta)
    expect(meta).toEqual({
      traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
      'x.example/k': [1],
    })
  })

  it('refuses to guess: traceOf throws when two unanchored transports serve the same id at once', async () => {
    // Two in-memory servers, clients sending no _meta, both handling request id 1 together.
    const errors: unknown[] = []
    let started = 0
    let checked = 0
    const pairs = []
    for (let i = 0; i < 2; i++) {
      const tools = side(`tools-${i}`)
      const server = new McpServer({ name: 't', version: '1' })
      server.registerTool('probe', { inputSchema: {} }, async (_a, extra) => {
        started++
        await until(() => started === 2)
        try {
          traceOf(extra)
        } catch (e) {
          errors.push(e)
        }
        checked++
        await until(() => checked === 2) // both answer only after both looked
        return { content: [] }
      })
      const [c, s] = InMemoryTransport.createLinkedPair()
      const wrapped = traceMcpServer(s, tools.tracer)
      await server.connect(wrapped)
      const client = new Client({ name: 'c', version: '1' })
      await client.connect(c)
      pairs.push({ client, wrapped })
    }
    await Promise.all(pairs.map((p) => p.client.callTool({ name: 'probe', arguments: {} })))
    for (const p of pairs) {
      await p.client.close()
      await p.wrapped.close()
    }
    expect(errors).toHaveLength(2)
    for (const e of errors) expect(e).toBeInstanceOf(TracehopError)
  })
})
