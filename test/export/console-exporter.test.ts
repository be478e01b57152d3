import { describe, expect, it } from 'vitest'
import { consoleExporter } from '../../src/export/console-exporter.js'
import { batchOf, childSpan, rootSpan } from './helpers.js'

describe('console exporter', () => {
  it('writes one compact line per span: service, ids, parent, kind, name, duration, status', async () => {
    const lines: string[] = []
    const root = rootSpan({ name: 'GET /', kind: 1, durationUs: 12_310 })
    const child = childSpan(root, {
      name: 'db',
      kind: 2,
      status: { code: 2, message: 'boom' },
      durationUs: 1_000,
    })
    const r = await consoleExporter({ log: (l) => lines.push(l) }).export(
      batchOf([root.record, child.record], { 'service.name': 'api' }),
      Date.now() + 1000,
    )
    expect(r).toEqual({ exported: 2, dropped: 0, attempts: 1 })
    expect(lines).toEqual([
      `api ${root.record.traceId} ${root.record.spanId}<-root SERVER "GET /" 12.31ms`,
      `api ${root.record.traceId} ${child.record.spanId}<-${root.record.spanId} CLIENT "db" 1.00ms ERROR: boom`,
    ])
  })

  it('counts the lines a throwing logger lost, and does not throw itself', async () => {
    const exporter = consoleExporter({
      log: () => {
        throw new Error('closed')
      },
    })
    const r = await exporter.export(batchOf([rootSpan().record]), Date.now() + 1000)
    expect(r).toMatchObject({ exported: 0, dropped: 1 })
    expect(r.detail).toContain('closed')
  })
})
