// The real SDK's Client and McpServer over its in-memory transport, both wrapped.
import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js'
import { describe, expect, it } from 'vitest'
import {
  type McpClientOptions,
  type McpServerOptions,
  traceMcp,
  traceMcpServer,
} from '../../adapters/mcp/index.js'
import {
  createTracer,
  type FlushReport,
  memoryExporter,
  type Scope,
  SpanKind,
  StatusCode,
  TracehopError,
  type TracerConfig,
} from '../../src/index.js'
import { byName, type Meta, mcpServer, names, one, parentOf, type Seen, side, until } from './helpers.js'

interface Setup {
  agentScope: Scope
  client: Client
  clientTransport: ReturnType<typeof traceMcp>
  serverTransport: ReturnType<typeof traceMcpServer>
  seen: Seen[]
  agent: ReturnType<typeof side>
  tools: ReturnType<typeof side>
  close(): Promise<void>
}

async function connect(
  options: {
    agentConfig?: Partial<TracerConfig>
    toolsConfig?: Partial<TracerConfig>
    client?: McpClientOptions
    server?: McpServerOptions
  } = {},
): Promise<Setup> {
  const agentMemory = memoryExporter()
  const toolsMemory = memoryExporter()
  const agent = {
    memory: agentMemory,
    tracer: createTracer({
      service: 'agent',
      exporters: [agentMemory],
      flush: { windowMs: 0 },
      ...options.agentConfig,
    }),
  }
  const tools = {
    memory: toolsMemory,
    tracer: createTracer({
      service: 'tools',
      exporters: [toolsMemory],
      flush: { windowMs: 0 },
      ...options.toolsConfig,
    }),
  }
  const seen: Seen[] = []
  const server = mcpServer(seen)
  const [c, s] = InMemoryTransport.createLinkedPair()
  const serverTransport = traceMcpServer(s, tools.tracer, options.server)
  await server.connect(serverTransport)
  const agentScope = agent.tracer.start(undefined, { name: 'agent turn' })
  const clientTransport = traceMcp(c, agentScope.root, options.client)
  const client = new Client({ name: 'agent', version: '1.0.0' })
  await client.connect(clientTransport)
  return {
    agentScope,
    client,
    clientTransport,
    serverTransport,
    seen,
    agent,
    tools,
    async close() {
      await client.close()
      await server.close()
      await agentScope.end()
    },
  }
}

describe('tracehop/mcp over the in-memory transport', () => {
  it('puts a tool call in one trace: agent hop -> client span -> server span -> handler child', async () => {
    const t = await connect()
    const result = await t.client.callTool({ name: 'search', arguments: { q: 'tracing' } })
    expect(result.content).toEqual([{ type: 'text', text: 'hits for tracing' }])
    await t.close()

    const agentSpans = t.agent.memory.spans()
    const toolSpans = t.tools.memory.spans()
    const hop = one(agentSpans, 'agent turn')
    const client = one(agentSpans, 'tools/call search')
    const server = one(toolSpans, 'tools/call search')
    const child = one(toolSpans, 'search index')
    expect(client.parentSpanId).toBe(hop.spanId)
    expect(client.kind).toBe(SpanKind.CLIENT)
    expect(server.kind).toBe(SpanKind.SERVER)
    expect(server.parentSpanId).toBe(client.spanId)
    expect(server.remoteParent).toBe(true)
    expect(child.parentSpanId).toBe(server.spanId)
    for (const s of [client, server, child]) expect(s.traceId).toBe(hop.traceId)
    // LangSmith: the server span is a child run of the client run, in the same LangSmith trace.
    expect(server.parentRunId).toBe(client.runId)
    expect(server.runTraceId).toBe(hop.runTraceId)
    expect(server.dottedOrder.startsWith(`${client.dottedOrder}.`)).toBe(true)
  })

  it('names spans `{mcp.method.name} {target}` with the OTel MCP attributes', async () => {
    const t = await connect()
    await t.client.callTool({ name: 'search', arguments: { q: 'x' } })
    await t.client.getPrompt({ name: 'greet', arguments: { who: 'ada' } })
    await t.client.readResource({ uri: 'mem://docs/1' })
    await t.client.listTools()
    await t.close()

    for (const spans of [t.agent.memory.spans(), t.tools.memory.spans()]) {
      const call = one(spans, 'tools/call search')
      expect(call.attributes).toMatchObject({
        'mcp.method.name': 'tools/call',
        'gen_ai.tool.name': 'search',
        'gen_ai.operation.name': 'execute_tool',
        'mcp.protocol.version': expect.stringMatching(/^\d{4}-\d{2}-\d{2}$/),
        'langsmith.span.kind': 'tool',
      })
      expect(call.attributes['jsonrpc.request.id']).toMatch(/^\d+$/)
      const prompt = one(spans, 'prompts/get greet')
      expect(prompt.attributes['gen_ai.prompt.name']).toBe('greet')
      expect(prompt.attributes['gen_ai.operation.name']).toBeUndefined()
      // URIs stay out of span names unless asked for (semconv: high cardinality).
      const read = one(spans, 'resources/read')
      expect(read.attributes['mcp.resource.uri']).toBe('mem://docs/1')
      expect(one(spans, 'tools/list').attributes['gen_ai.tool.name']).toBeUndefined()
      const init = one(spans, 'initialize')
      expect(init.attributes['mcp.protocol.version']).toBe(call.attributes['mcp.protocol.version'])
    }
  })

  it('names resources/read by its uri with resourceUriInName', async () => {
    const t = await connect({ client: { resourceUriInName: true }, server: { resourceUriInName: true } })
    await t.client.readResource({ uri: 'mem://docs/1' })
    await t.close()
    one(t.agent.memory.spans(), 'resources/read mem://docs/1')
    one(t.tools.memory.spans(), 'resources/read mem://docs/1')
  })

  it('gives each of five parallel tool calls its own parent chain', async () => {
    const t = await connect()
    const qs = ['a', 'bb', 'ccc', 'dddd', 'eeeee']
    const results = await Promise.all(qs.map((q) => t.client.callTool({ name: 'search', arguments: { q } })))
    expect(results.map((r) => (r.content as { text: string }[])[0]?.text)).toEqual(
      qs.map((q) => `hits for ${q}`),
    )
    await t.close()

    const clientSpans = byName(t.agent.memory.spans(), 'tools/call search')
    const serverSpans = byName(t.tools.memory.spans(), 'tools/call search')
    const children = byName(t.tools.memory.spans(), 'search index')
    expect(clientSpans).toHaveLength(5)
    expect(serverSpans).toHaveLength(5)
    expect(children).toHaveLength(5)
    expect(new Set(clientSpans.map((s) => s.spanId)).size).toBe(5)
    for (const child of children) {
      // The SDK bound this `_meta` to this handler call; its traceparent names the client span.
      const clientSpanId = parentOf(child.attributes['meta.traceparent'])
      const server = serverSpans.find((s) => s.spanId === child.parentSpanId)
      const client = clientSpans.find((s) => s.spanId === clientSpanId)
      expect(server, `server span of ${String(child.attributes['search.q'])}`).toBeDefined()
      expect(client).toBeDefined()
      expect(server!.parentSpanId).toBe(client!.spanId)
      expect(server!.attributes['jsonrpc.request.id']).toBe(client!.attributes['jsonrpc.request.id'])
      expect(child.traceId).toBe(t.agentScope.traceId)
    }
  })

  it('gives several sequential calls on one transport their own server spans', async () => {
    const t = await connect()
    for (const q of ['one', 'two', 'three']) await t.client.callTool({ name: 'search', arguments: { q } })
    await t.close()
    const clientIds = byName(t.agent.memory.spans(), 'tools/call search').map((s) => s.spanId)
    const parents = byName(t.tools.memory.spans(), 'tools/call search').map((s) => s.parentSpanId)
    expect(parents.sort()).toEqual(clientIds.sort())
    expect(new Set(parents).size).toBe(3)
  })

  it('marks client and server spans as errors for an isError result, kept when not sampled', async () => {
    const t = await connect({
      agentConfig: { sampling: { ratio: 0, keepErrors: true } },
      toolsConfig: { sampling: { ratio: 0, keepErrors: true } },
    })
    const ok = await t.client.callTool({ name: 'search', arguments: { q: 'fine' } })
    expect(ok.isError).toBeFalsy()
    const failed = await t.client.callTool({ name: 'fail', arguments: {} })
    expect(failed.isError).toBe(true)
    await t.close()

    // Always-keep-errors: the unsampled agent turn is exported because a tool failed.
    const client = one(t.agent.memory.spans(), 'tools/call fail')
    expect(client.status).toEqual({ code: StatusCode.ERROR, message: 'tool_error' })
    expect(client.attributes['error.type']).toBe('tool_error')
    const server = one(t.tools.memory.spans(), 'tools/call fail')
    expect(server.status.code).toBe(StatusCode.ERROR)
    expect(server.attributes['error.type']).toBe('tool_error')
    // The successful call's server scope was not sampled and had no error: not exported.
    expect(byName(t.tools.memory.spans(), 'tools/call search')).toHaveLength(0)
    expect(t.tools.tracer.stats().scopes.keptForError).toBe(1)
  })

  it('marks a thrown tool error (returned by McpServer as isError) on both sides', async () => {
    const t = await connect()
    const result = await t.client.callTool({ name: 'throws', arguments: {} })
    expect(result.isError).toBe(true)
    await t.close()
    expect(one(t.agent.memory.spans(), 'tools/call throws').status.code).toBe(StatusCode.ERROR)
    expect(one(t.tools.memory.spans(), 'tools/call throws').status.code).toBe(StatusCode.ERROR)
  })

  it('records a JSON-RPC error response: error.type and rpc.response.status_code = code, status = message', async () => {
    const t = await connect()
    await expect(t.client.readResource({ uri: 'mem://missing' })).rejects.toThrow(/not found/)
    await t.close()
    for (const spans of [t.agent.memory.spans(), t.tools.memory.spans()]) {
      const read = one(spans, 'resources/read')
      expect(read.attributes['error.type']).toBe(read.attributes['rpc.response.status_code'])
      expect(read.attributes['error.type']).toMatch(/^-32\d{3}$/)
      expect(read.status.code).toBe(StatusCode.ERROR)
      expect(read.status.message).toMatch(/mem:\/\/missing not found/)
    }
  })

  it('keeps the caller _meta (copied, not mutated) and the handler sees it with the trace keys', async () => {
    const t = await connect()
    const callerMeta = { 'com.example/tenant': 'acme', baggage: 'user.tier=gold', progressToken: 7 }
    const before = structuredClone(callerMeta)
    const result = await t.client.callTool({ name: 'meta', arguments: {}, _meta: callerMeta })
    expect(callerMeta).toEqual(before)
    const seen = JSON.parse((result.content as { text: string }[])[0]!.text) as Meta
    await t.close()

    const client = one(t.agent.memory.spans(), 'tools/call meta')
    expect(seen['com.example/tenant']).toBe('acme')
    expect(seen.progressToken).toBe(7)
    expect(seen.traceparent).toBe(`00-${client.traceId}-${client.spanId}-0${client.flags}`)
    expect(seen['langsmith-trace']).toBe(client.dottedOrder)
    expect(seen.baggage).toContain('user.tier=gold')
    // Exactly the SEP-414 keys plus langsmith-trace were added; nothing else.
    expect(Object.keys(seen).sort()).toEqual(
      ['baggage', 'com.example/tenant', 'langsmith-trace', 'progressToken', 'traceparent'].sort(),
    )
  })

  it('writes no langsmith-trace key when the LangSmith format is not written', async () => {
    const t = await connect({ agentConfig: { propagation: { write: ['w3c', 'baggage'] } } })
    const result = await t.client.callTool({ name: 'meta', arguments: {} })
    await t.close()
    const seen = JSON.parse((result.content as { text: string }[])[0]!.text) as Meta
    expect(seen.traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-0[0-3]$/)
    expect(seen['langsmith-trace']).toBeUndefined()
  })

  it('sends no context with propagate: false, but still records client spans', async () => {
    const t = await connect({ client: { propagate: false } })
    const result = await t.client.callTool({ name: 'meta', arguments: {} })
    await t.close()
    expect((result.content as { text: string }[])[0]!.text).toBe('null')
    one(t.agent.memory.spans(), 'tools/call meta')
    const server = one(t.tools.memory.spans(), 'tools/call meta')
    expect(server.parentSpanId).toBeUndefined()
    expect(server.traceId).not.toBe(t.agentScope.traceId)
  })

  it('finds the span for handlers of a client that sends no _meta (fresh traces, parallel calls)', async () => {
    const tools = side('tools')
    const seen: Seen[] = []
    const server = mcpServer(seen)
    const [c, s] = InMemoryTransport.createLinkedPair()
    const serverTransport = traceMcpServer(s, tools.tracer)
    await server.connect(serverTransport)
    const client = new Client({ name: 'plain', version: '1.0.0' })
    await client.connect(c)
    await Promise.all(['p', 'qq', 'rrr'].map((q) => client.callTool({ name: 'search', arguments: { q } })))
    await client.close()
    await server.close()
    const servers = byName(tools.memory.spans(), 'tools/call search')
    expect(servers).toHaveLength(3)
    for (const child of byName(tools.memory.spans(), 'search index')) {
      const parent = servers.find((x) => x.spanId === child.parentSpanId)
      expect(parent).toBeDefined()
      expect(parent!.parentSpanId).toBeUndefined()
    }
    for (const v of seen) {
      const server = servers.find((x) => x.spanId === v.spanId)!
      expect(server.attributes['jsonrpc.request.id']).toBe(String(v.requestId))
    }
  })

  it('ends pending spans with an error when the transport closes', async () => {
    const t = await connect()
    const call = t.client.callTool({ name: 'slow', arguments: {} }).catch((e: unknown) => e)
    await until(() => t.tools.tracer.stats().scopes.started >= 2)
    await t.clientTransport.close()
    expect(await call).toBeInstanceOf(Error)
    await t.serverTransport.close()
    await t.agentScope.end()
    const client = one(t.agent.memory.spans(), 'tools/call slow')
    expect(client.status).toEqual({ code: StatusCode.ERROR, message: 'transport closed' })
    expect(client.attributes['error.type']).toBe('transport_closed')
    const server = one(t.tools.memory.spans(), 'tools/call slow')
    expect(server.status).toEqual({ code: StatusCode.ERROR, message: 'transport closed' })
  })

  it('ends both spans when the client cancels a call (timeout -> notifications/cancelled)', async () => {
    const t = await connect()
    await expect(
      t.client.callTool({ name: 'slow', arguments: {} }, undefined, { timeout: 50 }),
    ).rejects.toThrow(/timed out/i)
    await until(() => byName(t.tools.memory.spans(), 'tools/call slow').length === 1)
    const server = one(t.tools.memory.spans(), 'tools/call slow')
    expect(server.attributes['error.type']).toBe('cancelled')
    expect(server.events.map((e) => e.name)).toContain('cancelled')
    await t.close()
    const client = one(t.agent.memory.spans(), 'tools/call slow')
    expect(client.status).toEqual({ code: StatusCode.ERROR, message: 'cancelled' })
  })

  it('close() waits for the background flushes of server scopes', async () => {
    const t = await connect()
    await t.client.callTool({ name: 'search', arguments: { q: 'x' } })
    await t.client.close()
    await t.serverTransport.close()
    // No polling: the spans are there when close() resolves.
    expect(names(t.tools.memory.spans())).toContain('tools/call search')
    await t.agentScope.end()
  })

  it('hands each server flush to waitUntil when given', async () => {
    const flushes: Promise<unknown>[] = []
    const t = await connect({ server: { waitUntil: (p) => void flushes.push(p) } })
    await t.client.callTool({ name: 'search', arguments: { q: 'x' } })
    await t.close()
    // initialize, tools/call: one scope and one flush each.
    expect(flushes).toHaveLength(2)
    const reports = (await Promise.all(flushes)) as FlushReport[]
    expect(reports.every((r) => r.kept && r.exported > 0)).toBe(true)
  })

  it('throws a TracehopError from traceOf when the server transport was not wrapped', async () => {
    const { traceOf } = await import('../../adapters/mcp/index.js')
    const { McpServer } = await import('@modelcontextprotocol/sdk/server/mcp.js')
    const server = new McpServer({ name: 'plain', version: '1.0.0' })
    let caught: unknown
    server.registerTool('probe', { inputSchema: {} }, async (_a, extra) => {
      try {
        traceOf(extra)
      } catch (e) {
        caught = e
      }
      return { content: [] }
    })
    const [c, s] = InMemoryTransport.createLinkedPair()
    await server.connect(s)
    const client = new Client({ name: 'plain', version: '1.0.0' })
    await client.connect(c)
    await client.callTool({ name: 'probe', arguments: {} })
    await client.close()
    expect(caught).toBeInstanceOf(TracehopError)
  })
})
