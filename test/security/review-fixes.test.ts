// Findings of an outside review of the security work, each pinned by a test that failed
// before its fix.
import { describe, expect, it } from 'vitest'
import { createTracer } from '../../src/index.js'
import { redactQuery, resolveRedaction } from '../../src/redact-url.js'

describe('allow rules never see userinfo', () => {
  it('a RegExp rule written for a host does not match that host spelled as userinfo of another', () => {
    const tracer = createTracer({ service: 's', propagation: { allow: [/^https:\/\/api\.allowed\.com/] } })
    const span = tracer.start().root
    expect(span.mayReceive('https://api.allowed.com/x')).toBe(true)
    // workerd accepts this URL in a redirect's Location: the host is evil.example.
    expect(span.mayReceive('https://api.allowed.com@evil.example/x')).toBe(false)
    expect(span.headers('https://api.allowed.com@evil.example/x')).toEqual({})
  })
})

describe('query redaction with many empty parameters', () => {
  it('redacts the one sensitive value after 16 K `&` (the scan is linear: cost in bench/suites/redact.ts)', () => {
    const query = `${'&'.repeat(16_384)}sig=secret&q=1`
    expect(redactQuery(query, resolveRedaction(undefined))).toBe(`${'&'.repeat(16_384)}sig=REDACTED&q=1`)
  })

  it('keeps the = search right when it lies several segments ahead', () => {
    const r = resolveRedaction({ queryParams: ['token'] })
    expect(redactQuery('a&b&token=t&c=1&sig=s', r)).toBe('a&b&token=REDACTED&c=1&sig=REDACTED')
    expect(redactQuery('=x&&token=&sig', r)).toBe('=x&&token=REDACTED&sig')
  })
})

describe('tracehop dev counts every stored string', () => {
  it('a LangSmith run type counts toward the stored size', async () => {
    const { spanBytes } = await import('../../cli/span-limits.js')
    const base = {
      traceId: 'a'.repeat(32),
      spanId: 'b'.repeat(16),
      name: 'n',
      service: 's',
      kind: 1,
      startTime: 0,
      endTime: 1,
      attributes: {},
      events: [],
      links: [],
      status: { code: 0 },
      resource: {},
      source: 'langsmith',
    } as unknown as Parameters<typeof spanBytes>[0]
    const big = { ...base, runType: 'x'.repeat(100_000) } as Parameters<typeof spanBytes>[0]
    expect(spanBytes(big) - spanBytes(base)).toBeGreaterThanOrEqual(100_000)
  })
})

describe('MCP _meta from a late span', () => {
  it('carries no trace context (its parent would never arrive), the caller’s own _meta kept', async () => {
    const { withContext } = await import('../../adapters/mcp/meta.js')
    const tracer = createTracer({ service: 'mcp-client', flush: { windowMs: 0 } })
    const scope = tracer.start({ traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' })
    await scope.end() // awaited flush done: a child now is late
    const late = scope.root.startChild('tools/call search')
    const message = {
      jsonrpc: '2.0' as const,
      id: 1,
      method: 'tools/call',
      params: { _meta: { progressToken: 7 } },
    }
    const sent = withContext(message, late, null) as { params: { _meta: Record<string, unknown> } }
    expect(sent.params._meta).toEqual({ progressToken: 7 })
  })
})
