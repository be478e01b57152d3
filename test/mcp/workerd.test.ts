// The MCP server inside a Worker in workerd (miniflare): the SDK's web-standard Streamable
// HTTP transport, wrapped with traceMcpServer, flushed per request through ctx.waitUntil to
// a real OTLP/HTTP JSON receiver on 127.0.0.1. The agent side runs here, in Node.
import { fileURLToPath } from 'node:url'
import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js'
import { Miniflare } from 'miniflare'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { traceMcp } from '../../adapters/mcp/index.js'
import { StatusCode } from '../../src/index.js'
import { type OtlpReceiver, startOtlpReceiver } from '../support/otlp-receiver.js'
import { bundleForWorkerd } from '../support/workerd-bundle.js'
import { byName, one, parentOf, side, until } from './helpers.js'

let receiver: OtlpReceiver
let mf: Miniflare
let url: URL

beforeAll(async () => {
  receiver = await startOtlpReceiver()
  mf = new Miniflare({
    modules: true,
    script: await bundleForWorkerd(fileURLToPath(new URL('./fixtures/mcp-worker.ts', import.meta.url)), {
      platform: 'browser',
    }),
    compatibilityDate: '2026-04-01',
    bindings: { OTLP_URL: receiver.url },
  })
  url = new URL('/mcp', await mf.ready)
})

afterAll(async () => {
  await mf?.dispose()
  await receiver?.close()
})

describe('tracehop/mcp with the server in workerd', () => {
  it('parents sequential and parallel tool calls to the agent client spans, flushed by waitUntil', async () => {
    const agent = side('agent')
    const scope = agent.tracer.start(undefined, { name: 'agent turn' })
    const client = new Client({ name: 'agent', version: '1.0.0' })
    await client.connect(traceMcp(new StreamableHTTPClientTransport(url), scope.root))
    await client.callTool({ name: 'search', arguments: { q: 'first' } })
    const qs = ['a', 'bb', 'ccc', 'dddd', 'eeeee']
    const results = await Promise.all(qs.map((q) => client.callTool({ name: 'search', arguments: { q } })))
    expect(results.map((r) => (r.content as { text: string }[])[0]?.text)).toEqual(
      qs.map((q) => `hits for ${q}`),
    )
    const failed = await client.callTool({ name: 'fail', arguments: {} })
    expect(failed.isError).toBe(true)
    await client.close()
    await scope.end()

    const inTrace = () => receiver.spans.filter((s) => s.traceId === scope.traceId)
    // 6 searches + 6 handler children + 1 failed call (initialize is its own request too).
    await until(() => inTrace().filter((s) => s.name !== 'initialize').length >= 13, 10_000)
    const spans = inTrace()
    expect(new Set(inTrace().map((s) => s.service))).toEqual(new Set(['worker-tools']))
    const clients = byName(agent.memory.spans(), 'tools/call search')
    const servers = spans.filter((s) => s.name === 'tools/call search')
    const children = spans.filter((s) => s.name === 'search index')
    expect(clients).toHaveLength(6)
    expect(servers).toHaveLength(6)
    expect(children).toHaveLength(6)
    for (const child of children) {
      const server = servers.find((s) => s.spanId === child.parentSpanId)
      const clientSpan = clients.find((c) => c.spanId === parentOf(child.attributes['meta.traceparent']))
      expect(server).toBeDefined()
      expect(clientSpan).toBeDefined()
      expect(server!.parentSpanId).toBe(clientSpan!.spanId)
      expect(clientSpan!.parentSpanId).toBe(scope.root.spanId)
      expect(server!.attributes['gen_ai.tool.name']).toBe('search')
      expect(server!.attributes['mcp.protocol.version']).toMatch(/^\d{4}-\d{2}-\d{2}$/)
    }
    const failedServer = spans.find((s) => s.name === 'tools/call fail')!
    expect(failedServer.status).toBe(StatusCode.ERROR)
    expect(failedServer.attributes['error.type']).toBe('tool_error')
    expect(failedServer.parentSpanId).toBe(one(agent.memory.spans(), 'tools/call fail').spanId)
  })
})
