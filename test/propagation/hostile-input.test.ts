// Hostile input stays cheap: every header and `_meta` value is cut to its limit before it is
// parsed. These tests assert what is kept, dropped and counted for oversized input; how long
// it takes is measured in bench/suites/hostile.ts, never here.
import { describe, expect, it } from 'vitest'
import { traceMcpServer } from '../../adapters/mcp/index.js'
import type { JsonRpcMessage, McpTransport } from '../../adapters/mcp/transport.js'
import { createTracer, type Ingress } from '../../src/index.js'

const MB = 1 << 20
const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736'
const TP = `00-${TRACE_ID}-00f067aa0ba902b7-01`
const LS_TRACE = '20240101T000000000000Z4bf92f35-77b3-4da6-a3ce-929d0e0e4736'
const ROOT = '1-5759e988-bd862e3fe1be46a994272793'

function tracerWith(ingress: Ingress = 'trusted') {
  return createTracer({ service: 'edge', propagation: { ingress }, log: () => {} })
}

describe('oversized values are dropped or cut before parsing, and counted', () => {
  it('a 1 MB traceparent is dropped: a fresh trace, counted invalid', () => {
    const tracer = tracerWith()
    const scope = tracer.start({ traceparent: `${TP}${' '.repeat(MB)}` })
    expect(scope.traceId).not.toBe(TRACE_ID)
    expect(tracer.stats().invalid.traceparent).toBe(1)
  })

  it('a 1 MB tracestate is dropped: the trace continues without it, counted invalid', () => {
    const tracer = tracerWith()
    const scope = tracer.start({ traceparent: TP, tracestate: `a=1,${' ,'.repeat(MB / 2)}` })
    expect(scope.traceId).toBe(TRACE_ID)
    expect(scope.root.headers()['tracestate'] ?? '').not.toContain('a=1')
    expect(tracer.stats().invalid.tracestate).toBe(1)
  })

  it('a 1 MB X-Ray header is dropped, counted invalid', () => {
    const tracer = tracerWith()
    const scope = tracer.start({ 'x-amzn-trace-id': `Root=${ROOT};${'Pad=x;'.repeat(MB / 6)}` })
    expect(scope.xray).toBeUndefined()
    expect(tracer.stats().invalid.xray).toBe(1)
  })

  it('a 4 MB baggage header keeps its first whole members, cut at a comma; the cut is counted as a limit', () => {
    const tracer = tracerWith()
    const scope = tracer.start({ traceparent: TP, baggage: `a=1,b=2,huge=${'%41'.repeat((4 * MB) / 3)},c=3` })
    const members = scope.root.context().baggage?.map((m) => `${m.key}=${m.value}`)
    expect(members).toEqual(['a=1', 'b=2'])
    expect(tracer.stats().limits.baggage).toBe(1)
    expect(tracer.stats().invalid.baggage).toBeUndefined()
  })

  it('a baggage header of thousands of malformed members stops early, keeps what came first, counts a limit', () => {
    const tracer = tracerWith()
    const scope = tracer.start({ traceparent: TP, baggage: `a=1,${'x,'.repeat(100_000)}late=1` })
    expect(scope.root.context().baggage?.map((m) => m.key)).toEqual(['a'])
    expect(tracer.stats().limits.baggage).toBe(1)
  })

  for (const key of ['langsmith-metadata', 'langsmith-tags', 'langsmith-project']) {
    it(`a 4 MB ${key} baggage member is never read: nothing adopted, counted as a limit`, () => {
      const tracer = tracerWith()
      const scope = tracer.start({
        'langsmith-trace': LS_TRACE,
        baggage: `${key}=${'%7B'.repeat((4 * MB) / 3)}`,
      })
      const ls = scope.root.context().langsmith
      expect(ls?.traceId).toBe('4bf92f35-77b3-4da6-a3ce-929d0e0e4736')
      expect(ls?.project).toBeUndefined()
      expect(ls?.tags).toBeUndefined()
      expect(ls?.metadata).toBeUndefined()
      expect(tracer.stats().limits.baggage).toBe(1)
    })
  }

  it('a header sent as a million repeated values is joined only as far as it could be read', () => {
    const tracer = tracerWith()
    const values = new Array<string>(MB).fill('k=v')
    values[0] = 'first=1'
    const scope = tracer.start({ traceparent: TP, baggage: values })
    const keys = scope.root.context().baggage?.map((m) => m.key)
    expect(keys?.[0]).toBe('first')
    expect(keys?.length).toBeLessThanOrEqual(64)
    expect(tracer.stats().limits.baggage).toBe(1)
  })
})

/** An in-memory transport: `deliver` plays a client's message into the traced server. */
function loopTransport() {
  const t = {
    onmessage: undefined as ((m: JsonRpcMessage, extra?: unknown) => void) | undefined,
    received: [] as JsonRpcMessage[],
    async start() {},
    async send() {},
    async close() {},
  }
  return t
}

describe('MCP _meta values are cut the same way', () => {
  it('a 4 MB _meta.baggage is cut, a 1 MB _meta.traceparent dropped, nested and non-string values ignored; all counted; the request reaches the server unchanged', () => {
    const tracer = tracerWith('untrusted')
    const inner = loopTransport()
    const traced = traceMcpServer(inner as unknown as McpTransport, tracer)
    const seen: JsonRpcMessage[] = []
    traced.onmessage = (m) => seen.push(m)
    let deep: unknown = { leaf: 1 }
    for (let i = 0; i < 10_000; i++) deep = { deep }
    const messages: JsonRpcMessage[] = [
      {
        jsonrpc: '2.0',
        id: 1,
        method: 'tools/call',
        params: { name: 't', _meta: { traceparent: TP, baggage: 'k=v,'.repeat(MB) } },
      },
      {
        jsonrpc: '2.0',
        id: 2,
        method: 'tools/call',
        params: { name: 't', _meta: { traceparent: 'a'.repeat(MB) } },
      },
      {
        jsonrpc: '2.0',
        id: 3,
        method: 'tools/call',
        params: { name: 't', _meta: { traceparent: TP, baggage: deep } },
      },
      {
        jsonrpc: '2.0',
        id: 4,
        method: 'tools/call',
        params: { name: 't', _meta: { traceparent: TP, baggage: new Array(MB).fill('k=v') } },
      },
    ]
    for (const m of messages) inner.onmessage?.(m)
    expect(seen).toHaveLength(4)
    for (const [i, m] of messages.entries()) expect(seen[i]).toBe(m)
    const stats = tracer.stats()
    expect(stats.limits.baggage).toBe(1)
    expect(stats.invalid.traceparent).toBe(1)
    // A non-string `baggage` (an object, an array) is not a header value: counted, ignored.
    expect(stats.invalid.baggage).toBe(2)
  })
})
