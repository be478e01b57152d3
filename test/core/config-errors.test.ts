// Configuration mistakes are reported at creation, in words that say how to fix them.
import { describe, expect, it, vi } from 'vitest'
import { langsmith } from '../../src/export/langsmith-exporter.js'
import { memoryExporter } from '../../src/export/memory-exporter.js'
import { otlp } from '../../src/export/otlp-exporter.js'
import { createTracer, TracehopError } from '../../src/index.js'

describe('exporter endpoints', () => {
  it("otlp({ url: 'localhost:4318' }) is refused at creation, with the fix suggested", () => {
    // `localhost:` parses as a URL scheme: accepted before, then every send failed.
    expect(() => otlp({ url: 'localhost:4318' })).toThrow(TracehopError)
    expect(() => otlp({ url: 'localhost:4318' })).toThrow(
      /absolute http: or https: URL.*did you mean "http:\/\/localhost:4318"/,
    )
    expect(() => otlp({ url: 'collector:4318/v1/traces' })).toThrow(/did you mean/)
    expect(() => otlp({ url: 'ftp://collector/v1/traces' })).toThrow(/http: or https:/)
    expect(() => otlp({ url: undefined as never })).toThrow(/expected a URL string .*got undefined/)
    expect(() => otlp({ url: 'http://localhost:4318/v1/traces' })).not.toThrow()
    expect(() => otlp({ url: 'https://otel.example.com/v1/traces' })).not.toThrow()
  })

  it('langsmith apiUrl: the same rule', () => {
    expect(() => langsmith({ apiUrl: 'localhost:1984' })).toThrow(/did you mean "http:\/\/localhost:1984"/)
    expect(() => langsmith({ apiUrl: 'file:///tmp/x', apiKey: 'k' })).toThrow(/http: or https:/)
  })

  it('langsmith() without an API key is refused unless the endpoint is loopback', () => {
    expect(() => langsmith()).toThrow(/apiKey is missing/)
    expect(() => langsmith({ apiKey: '' })).toThrow(/apiKey is empty/)
    expect(() => langsmith({ apiUrl: 'https://eu.api.smith.langchain.com' })).toThrow(/apiKey/)
    expect(() => langsmith({ apiKey: 'lsv2_x' })).not.toThrow()
    for (const apiUrl of [
      'http://127.0.0.1:1984',
      'http://localhost:1984',
      'http://[::1]:1984',
      'http://127.1.2.3',
    ])
      expect(() => langsmith({ apiUrl })).not.toThrow()
    expect(() => langsmith({ apiKey: 42 as never })).toThrow(/apiKey: expected a string, got number 42/)
  })
})

describe('wrongly typed options say what was wrong with the type', () => {
  it("sampling.ratio: '0.1' → expected a number, got string '0.1'", () => {
    expect(() => createTracer({ service: 's', sampling: { ratio: '0.1' as never } })).toThrow(
      /sampling\.ratio: expected a number within \[0, 1\], got string '0\.1'/,
    )
    expect(() => createTracer({ service: 's', sampling: { ratio: 2 } })).toThrow(/within \[0, 1\], got 2/)
  })

  it('flush, limits, service, exporters and exporter options', () => {
    expect(() => createTracer({ service: 's', flush: { budgetMs: '500' as never } })).toThrow(
      /flush\.budgetMs: expected a number .*got string '500'/,
    )
    expect(() => createTracer({ service: 's', limits: { spansPerScope: '10' as never } })).toThrow(
      /got string '10'/,
    )
    expect(() => createTracer({ service: 42 as never })).toThrow(/got number 42/)
    expect(() => createTracer({ service: 's', exporters: otlp as never })).toThrow(/expected an array/)
    expect(() => createTracer({ service: 's', exporters: [otlp as never] })).toThrow(/call it/)
    expect(() => otlp({ url: 'http://127.0.0.1:4318/v1/traces', timeoutMs: '100' as never })).toThrow(
      /otlp\.timeoutMs: expected a number/,
    )
  })
})

describe('no exporters', () => {
  it('warns once per process, naming the fix', async () => {
    vi.resetModules()
    const { createTracer: fresh } = await import('../../src/tracer.js')
    const lines: string[] = []
    fresh({ service: 'a', log: (l) => lines.push(l) })
    fresh({ service: 'b', log: (l) => lines.push(l) })
    fresh({ service: 'c', exporters: [memoryExporter()], log: (l) => lines.push(l) })
    expect(lines).toHaveLength(1)
    expect(lines[0]).toMatch(/service 'a' has no exporters.*otlp\(\{ url \}\)/)
  })
})
