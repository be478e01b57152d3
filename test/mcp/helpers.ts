// Shared by the MCP tests: a real McpServer with a few tools, tracers with memory exporters,
// and span lookups. The tool handlers reach their span only through traceOf(extra).
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js'
import { z } from 'zod'
import { traceOf } from '../../adapters/mcp/index.js'
import {
  createTracer,
  type MemoryExporter,
  memoryExporter,
  type SpanRecord,
  type Tracer,
} from '../../src/index.js'

export interface Side {
  readonly tracer: Tracer
  readonly memory: MemoryExporter
}

export function side(service: string): Side {
  const memory = memoryExporter()
  return { memory, tracer: createTracer({ service, exporters: [memory], flush: { windowMs: 0 } }) }
}

/** A `_meta` record, with the keys the tests read named. */
export interface Meta {
  [key: string]: unknown
  traceparent?: unknown
  tracestate?: unknown
  baggage?: unknown
  progressToken?: unknown
}

/** What a tool handler saw: its request id, the `_meta` the SDK gave it, and its span ids. */
export interface Seen {
  readonly requestId: string | number
  readonly meta: Record<string, unknown> | undefined
  readonly spanId: string
  readonly traceId: string
}

/**
 * A real McpServer: `search` records a child span (`search index`, attribute `q`) under the
 * request's span; `fail` returns `isError: true`; `throws` throws; `meta` echoes `_meta`;
 * `slow` waits until cancelled; a prompt and a resource for the naming rules.
 */
export function mcpServer(seen: Seen[] = []): McpServer {
  const server = new McpServer({ name: 'tools', version: '1.0.0' })
  server.registerTool('search', { inputSchema: { q: z.string() } }, async ({ q }, extra) => {
    const span = traceOf(extra)
    seen.push({
      requestId: extra.requestId,
      meta: extra._meta as Record<string, unknown> | undefined,
      spanId: span.spanId,
      traceId: span.traceId,
    })
    const text = await span.child('search index', async (s) => {
      s.set('search.q', q)
      s.set('meta.traceparent', String((extra._meta as Meta | undefined)?.traceparent ?? ''))
      // Uneven delays so parallel calls finish out of order.
      await new Promise((r) => setTimeout(r, (q.length * 7) % 13))
      return `hits for ${q}`
    })
    return { content: [{ type: 'text', text }] }
  })
  server.registerTool('fail', { inputSchema: {} }, async () => ({
    content: [{ type: 'text', text: 'no such document' }],
    isError: true,
  }))
  server.registerTool('throws', { inputSchema: {} }, async () => {
    throw new Error('tool blew up')
  })
  server.registerTool('meta', { inputSchema: {} }, async (_args, extra) => ({
    content: [{ type: 'text', text: JSON.stringify(extra._meta ?? null) }],
  }))
  server.registerTool('slow', { inputSchema: {} }, async (_args, extra) => {
    await new Promise<void>((resolve) => {
      if (extra.signal.aborted) resolve()
      extra.signal.addEventListener('abort', () => resolve())
      setTimeout(resolve, 5_000)
    })
    return { content: [{ type: 'text', text: 'late' }] }
  })
  server.registerPrompt('greet', { argsSchema: { who: z.string() } }, ({ who }) => ({
    messages: [{ role: 'user', content: { type: 'text', text: `hello ${who}` } }],
  }))
  server.registerResource('doc', 'mem://docs/1', {}, async (uri) => ({
    contents: [{ uri: uri.href, text: 'one' }],
  }))
  return server
}

export function byName(spans: readonly SpanRecord[], name: string): SpanRecord[] {
  return spans.filter((s) => s.name === name)
}

export function one(spans: readonly SpanRecord[], name: string): SpanRecord {
  const found = byName(spans, name)
  if (found.length !== 1) throw new Error(`expected one span ${name}, got ${found.length}: ${names(spans)}`)
  return found[0]!
}

export function names(spans: readonly SpanRecord[]): string {
  return spans.map((s) => s.name).join(', ')
}

/** Polls until `pred` holds (flushes run in the background), bounded. */
export async function until(pred: () => boolean, ms = 5_000): Promise<void> {
  const end = Date.now() + ms
  while (!pred()) {
    if (Date.now() > end) throw new Error('timed out waiting for spans')
    await new Promise((r) => setTimeout(r, 5))
  }
}

/** The span id a `traceparent` names. */
export function parentOf(traceparent: unknown): string | undefined {
  return typeof traceparent === 'string' ? traceparent.split('-')[2] : undefined
}
