// The wrappers as transports: what goes on the wire, what the peer sees, bounds, failures,
// and hostile `_meta` sent by a raw peer to a real McpServer.
import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js'
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { type JsonRpcMessage, traceMcp, traceMcpServer } from '../../adapters/mcp/index.js'
import { StatusCode } from '../../src/index.js'
import { byName, type Meta, mcpServer, one, side } from './helpers.js'

const TRACE_KEYS = new Set(['traceparent', 'tracestate', 'baggage', 'langsmith-trace'])

/** A wrapped client transport whose peer is a raw transport recording what arrives. */
async function rawPeer(options?: Parameters<typeof traceMcp>[2]) {
  const agent = side('agent')
  const scope = agent.tracer.start(undefined, { name: 'agent turn' })
  const [a, b] = InMemoryTransport.createLinkedPair()
  const got: JsonRpcMessage[] = []
  b.onmessage = (m) => void got.push(m)
  await b.start()
  const wrapped = traceMcp(a, scope.root, options)
  await wrapped.start()
  return { agent, scope, wrapped, peer: b, got }
}

function metaOf(m: JsonRpcMessage | undefined): Meta {
  return (m?.params as { _meta: Meta } | undefined)?._meta ?? {}
}

describe('traceMcp on the wire', () => {
  it('writes traceparent, tracestate, baggage and langsmith-trace under those exact keys', async () => {
    const TP = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01'
    const agent = side('agent')
    const scope = agent.tracer.start({ traceparent: TP, tracestate: 'vendor=abc', baggage: 'session.id=s1' })
    const [a, b] = InMemoryTransport.createLinkedPair()
    const got: JsonRpcMessage[] = []
    b.onmessage = (m) => void got.push(m)
    const wrapped = traceMcp(a, scope.root)
    await wrapped.send({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'search' } })
    const meta = metaOf(got[0])
    expect(meta.traceparent).toMatch(/^00-0af7651916cd43dd8448eb211c80319c-[0-9a-f]{16}-01$/)
    expect(meta.traceparent).not.toContain('b7ad6b7169203331') // the client span, not the hop
    expect(meta.tracestate).toContain('vendor=abc')
    expect(meta.baggage).toBe('session.id=s1')
    expect(typeof meta['langsmith-trace']).toBe('string')
    expect(Object.keys(meta).every((k) => k === k.toLowerCase() && !k.includes('/'))).toBe(true)
    expect(meta['x-amzn-trace-id']).toBeUndefined()
  })

  it('merges the caller baggage (its members win) and replaces stale trace keys', async () => {
    const { wrapped, got } = await rawPeer()
    const callerMeta = { baggage: 'user.tier=gold', traceparent: 'stale', 'com.example/x': { deep: true } }
    const message = {
      jsonrpc: '2.0' as const,
      id: 2,
      method: 'tools/call',
      params: { name: 'x', _meta: callerMeta },
    }
    await wrapped.send(message)
    const meta = metaOf(got[0])
    expect(meta.baggage).toContain('user.tier=gold')
    expect(meta.traceparent).toMatch(/^00-/)
    expect(meta['com.example/x']).toEqual({ deep: true })
    // The caller's objects are untouched.
    expect(callerMeta.traceparent).toBe('stale')
    expect(message.params._meta).toBe(callerMeta)
  })

  it('adds _meta to messages that have no params, and leaves non-object params and _meta alone', async () => {
    const { wrapped, got } = await rawPeer()
    await wrapped.send({ jsonrpc: '2.0', id: 3, method: 'ping' })
    await wrapped.send({ jsonrpc: '2.0', id: 4, method: 'odd', params: [1, 2] })
    await wrapped.send({ jsonrpc: '2.0', id: 5, method: 'odd', params: { _meta: 'not an object' } })
    expect(metaOf(got[0]).traceparent).toMatch(/^00-/)
    expect(got[1]?.params).toEqual([1, 2])
    expect(got[2]?.params).toEqual({ _meta: 'not an object' })
  })

  it('carries the hop context on notifications without starting a span for them', async () => {
    const { wrapped, got, scope, agent } = await rawPeer()
    await wrapped.send({ jsonrpc: '2.0', method: 'notifications/initialized' })
    expect(metaOf(got[0]).traceparent).toContain(scope.root.spanId)
    await scope.end()
    expect(agent.memory.spans().map((s) => s.name)).toEqual(['agent turn'])
  })

  it('keeps span names short when the target is huge (names must stay low-cardinality)', async () => {
    const { wrapped, scope, agent } = await rawPeer()
    await wrapped.send({ jsonrpc: '2.0', id: 6, method: 'tools/call', params: { name: 'n'.repeat(100_000) } })
    await wrapped.close()
    await scope.end()
    const span = agent.memory.spans().find((s) => s.name.startsWith('tools/call '))!
    expect(span.name).toBe(`tools/call ${'n'.repeat(100)}`)
  })

  it('passes responses (to server-initiated requests) through untouched', async () => {
    const { wrapped, got } = await rawPeer()
    const response = { jsonrpc: '2.0' as const, id: 'srv-1', result: { ok: true } }
    await wrapped.send(response)
    expect(got[0]).toBe(response)
  })

  it('bounds pending calls: past maxPending the oldest is force-ended and counted', async () => {
    const { wrapped, scope, agent } = await rawPeer({ maxPending: 2 })
    for (const id of [1, 2, 3])
      await wrapped.send({ jsonrpc: '2.0', id, method: 'tools/call', params: { name: `t${id}` } })
    expect(agent.tracer.stats().limits.spans).toBe(1)
    await wrapped.close()
    await scope.end()
    const first = one(agent.memory.spans(), 'tools/call t1')
    expect(first.attributes['tracehop.force_ended']).toBe(true)
    expect(one(agent.memory.spans(), 'tools/call t3').status.message).toBe('transport closed')
  })

  it('ends the span with the send error and rethrows it unchanged', async () => {
    const { wrapped, peer, scope, agent } = await rawPeer()
    await peer.close()
    const err = await wrapped
      .send({ jsonrpc: '2.0', id: 9, method: 'tools/call', params: { name: 'gone' } })
      .catch((e: unknown) => e)
    expect(err).toBeInstanceOf(Error)
    expect((err as Error).message).toBe('Not connected')
    await scope.end()
    const span = one(agent.memory.spans(), 'tools/call gone')
    expect(span.status).toEqual({ code: StatusCode.ERROR, message: 'Not connected' })
  })

  it('keeps callbacks set on the original transport before wrapping', async () => {
    const agent = side('agent')
    const scope = agent.tracer.start()
    // The same scenario unwrapped and wrapped: the user's onclose runs as often in both.
    const counts: number[] = []
    for (const wrap of [false, true]) {
      const [a, b] = InMemoryTransport.createLinkedPair()
      let closed = 0
      a.onclose = () => void closed++
      const client = new Client({ name: 'c', version: '1' })
      await mcpServer().connect(b)
      await client.connect(wrap ? traceMcp(a, scope.root) : a)
      await client.close()
      counts.push(closed)
    }
    expect(counts[0]).toBeGreaterThan(0)
    expect(counts[1]).toBe(counts[0])
  })
})

describe('traceMcpServer with hostile _meta', () => {
  const hostileValue = fc.oneof(
    fc.string(),
    fc.integer(),
    fc.constant(null),
    fc.array(fc.string(), { maxLength: 3 }),
    fc.dictionary(fc.string(), fc.string(), { maxKeys: 3 }),
    fc.constant('x'.repeat(200_000)),
    fc.constant('00-0af7651916cd43dd8448eb211c80319c-0000000000000000-01'),
    fc.constant('00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01'),
  )
  const hostileMeta = fc.oneof(
    fc.record(
      {
        traceparent: hostileValue,
        tracestate: hostileValue,
        baggage: hostileValue,
        'langsmith-trace': hostileValue,
      },
      { requiredKeys: [] },
    ),
    fc.anything(),
  )

  it('never throws into the SDK or the handler: valid requests are answered, each gets a span', async () => {
    const tools = side('tools')
    const server = mcpServer()
    const [peer, s] = InMemoryTransport.createLinkedPair()
    const wrapped = traceMcpServer(s, tools.tracer)
    await server.connect(wrapped)
    const answers = new Map<number, JSONRPCMessage>()
    peer.onmessage = (m) => {
      if ('id' in m && typeof m.id === 'number') answers.set(m.id, m)
    }
    await peer.start()
    await peer.send({
      jsonrpc: '2.0',
      id: 0,
      method: 'initialize',
      params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'raw', version: '1' } },
    })
    let id = 1
    let valid = 0
    await fc.assert(
      fc.asyncProperty(hostileMeta, async (meta) => {
        const n = id++
        const isObject = typeof meta === 'object' && meta !== null && !Array.isArray(meta)
        if (isObject || meta === undefined) valid++
        await peer.send({
          jsonrpc: '2.0',
          id: n,
          method: 'tools/call',
          params: { name: 'search', arguments: { q: 'x' }, _meta: meta },
        } as JSONRPCMessage)
        // The SDK itself drops a request whose `_meta` is not an object (no answer, onerror);
        // one with a valid `_meta` object is answered, whatever its trace keys hold.
        if (meta === undefined || (isObject && Object.keys(meta).every((k) => TRACE_KEYS.has(k)))) {
          for (let i = 0; i < 500 && !answers.has(n); i++) await new Promise((r) => setTimeout(r, 1))
          expect(answers.has(n)).toBe(true)
        }
      }),
      { numRuns: 150 },
    )
    await wrapped.close()
    // One span per request the SDK accepts as a request; close() ended any left unanswered.
    const spans = byName(tools.memory.spans(), 'tools/call search')
    expect(spans).toHaveLength(valid)
    // Only the one valid traceparent is ever continued; everything else is a fresh trace.
    for (const s of spans) {
      if (s.parentSpanId !== undefined) expect(s.parentSpanId).toBe('b7ad6b7169203331')
    }
    const invalid = tools.tracer.stats().invalid
    expect((invalid.traceparent ?? 0) + (invalid.envelope ?? 0)).toBeGreaterThan(0)
  })

  it('counts a traceparent of the wrong type or a malformed one, and starts fresh traces', async () => {
    const tools = side('tools')
    const server = mcpServer()
    const [c, s] = InMemoryTransport.createLinkedPair()
    const wrapped = traceMcpServer(s, tools.tracer)
    await server.connect(wrapped)
    const client = new Client({ name: 'raw', version: '1' })
    await client.connect(c)
    await client.callTool({
      name: 'search',
      arguments: { q: 'a' },
      _meta: { traceparent: 42 as unknown as string },
    })
    await client.callTool({ name: 'search', arguments: { q: 'b' }, _meta: { traceparent: '00-zz-bad-01' } })
    await client.close()
    await wrapped.close()
    expect(tools.tracer.stats().invalid.traceparent).toBe(2)
    for (const span of byName(tools.memory.spans(), 'tools/call search'))
      expect(span.parentSpanId).toBeUndefined()
  })
})
