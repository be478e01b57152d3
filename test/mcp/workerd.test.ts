// The MCP server inside a Worker in workerd (miniflare): the SDK's web-standard Streamable
// HTTP transport, wrapped with traceMcpServer, flushed per request through ctx.waitUntil to
// a real OTLP/HTTP JSON receiver on 127.0.0.1. The agent side runs here, in Node.
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { fileURLToPath } from 'node:url'
import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js'
import { build } from 'esbuild'
import { Miniflare } from 'miniflare'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { traceMcp } from '../../adapters/mcp/index.js'
import { StatusCode } from '../../src/index.js'
import { byName, one, parentOf, side, until } from './helpers.js'

interface OtlpSpan {
  readonly traceId: string
  readonly spanId: string
  readonly parentSpanId?: string
  readonly name: string
  readonly kind: number
  readonly attributes?: { key: string; value: Record<string, unknown> }[]
  readonly status?: { code?: number; message?: string }
}

const received: { service: string; span: OtlpSpan }[] = []
let receiver: Server
let mf: Miniflare
let url: URL

function attr(span: OtlpSpan, key: string): unknown {
  const v = span.attributes?.find((a) => a.key === key)?.value
  return v === undefined ? undefined : Object.values(v)[0]
}

beforeAll(async () => {
  receiver = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as {
        resourceSpans: {
          resource: { attributes: { key: string; value: { stringValue?: string } }[] }
          scopeSpans: { spans: OtlpSpan[] }[]
        }[]
      }
      for (const rs of body.resourceSpans) {
        const service = rs.resource.attributes.find((a) => a.key === 'service.name')?.value.stringValue ?? ''
        for (const ss of rs.scopeSpans) for (const span of ss.spans) received.push({ service, span })
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}')
    })
  })
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve))
  const otlpUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/v1/traces`

  const bundled = await build({
    entryPoints: [fileURLToPath(new URL('./fixtures/mcp-worker.ts', import.meta.url))],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    conditions: ['workerd', 'worker', 'browser'],
    target: 'es2022',
    write: false,
    logLevel: 'silent',
  })
  mf = new Miniflare({
    modules: true,
    script: bundled.outputFiles[0]!.text,
    compatibilityDate: '2026-04-01',
    bindings: { OTLP_URL: otlpUrl },
  })
  url = new URL('/mcp', await mf.ready)
})

afterAll(async () => {
  await mf?.dispose()
  receiver?.closeAllConnections()
  await new Promise<void>((resolve) => (receiver ? receiver.close(() => resolve()) : resolve()))
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

    const inTrace = () => received.filter((r) => r.span.traceId === scope.traceId).map((r) => r.span)
    // 6 searches + 6 handler children + 1 failed call (initialize is its own request too).
    await until(() => inTrace().filter((s) => s.name !== 'initialize').length >= 13, 10_000)
    const spans = inTrace()
    expect(new Set(received.filter((r) => r.span.traceId === scope.traceId).map((r) => r.service))).toEqual(
      new Set(['worker-tools']),
    )
    const clients = byName(agent.memory.spans(), 'tools/call search')
    const servers = spans.filter((s) => s.name === 'tools/call search')
    const children = spans.filter((s) => s.name === 'search index')
    expect(clients).toHaveLength(6)
    expect(servers).toHaveLength(6)
    expect(children).toHaveLength(6)
    for (const child of children) {
      const server = servers.find((s) => s.spanId === child.parentSpanId)
      const clientSpan = clients.find((c) => c.spanId === parentOf(attr(child, 'meta.traceparent')))
      expect(server).toBeDefined()
      expect(clientSpan).toBeDefined()
      expect(server!.parentSpanId).toBe(clientSpan!.spanId)
      expect(clientSpan!.parentSpanId).toBe(scope.root.spanId)
      expect(attr(server!, 'gen_ai.tool.name')).toBe('search')
      expect(attr(server!, 'mcp.protocol.version')).toMatch(/^\d{4}-\d{2}-\d{2}$/)
    }
    const failedServer = spans.find((s) => s.name === 'tools/call fail')!
    expect(failedServer.status?.code).toBe(StatusCode.ERROR)
    expect(attr(failedServer, 'error.type')).toBe('tool_error')
    expect(failedServer.parentSpanId).toBe(one(agent.memory.spans(), 'tools/call fail').spanId)
  })
})
