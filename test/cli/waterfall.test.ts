// The terminal waterfall: nesting, error marks, orphans, the slowest hop, colours, widths.
import { stripVTControlCharacters } from 'node:util'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { createTraceStore } from '../../cli/trace-store.js'
import type { CollectedSpan, CollectedTrace } from '../../cli/types.js'
import {
  assignColors,
  formatDuration,
  renderWaterfall,
  SERVICE_PALETTE,
  slowestHop,
  waterfallRows,
} from '../../cli/waterfall.js'

const T0 = 1_700_000_000_000
const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736'

function span(
  id: string,
  parent: string | undefined,
  name: string,
  service: string,
  start: number,
  end: number,
  error?: string,
): CollectedSpan {
  return {
    traceId: TRACE,
    spanId: id.padStart(16, '0'),
    ...(parent !== undefined ? { parentSpanId: parent.padStart(16, '0') } : {}),
    name,
    service,
    kind: 'internal',
    startTime: T0 + start,
    endTime: T0 + end,
    attributes: {},
    events: [],
    links: [],
    status: error !== undefined ? { code: 'error', message: error } : { code: 'unset' },
    resource: { 'service.name': service },
    source: 'otlp',
  }
}

/** Through the real store, so the trace summary (name, services, counts) is the collector's. */
function traceOf(spans: readonly CollectedSpan[]): CollectedTrace {
  const store = createTraceStore({
    quietMs: 1000,
    maxTraces: 10,
    maxStoredBytes: 2 ** 30,
    maxSpansPerTrace: 10_000,
    onFinished: () => {},
    onChange: () => {},
  })
  store.add(spans)
  return store.get(spans[0]?.traceId ?? TRACE)!
}

const agentTrace = (): CollectedTrace =>
  traceOf([
    span('1', undefined, 'POST /chat', 'gateway', 0, 1240),
    span('2', '1', 'agent.run', 'orchestrator', 20, 1200),
    span('3', '2', 'llm.chat', 'orchestrator', 40, 640),
    span('4', '2', 'search', 'retrieval', 700, 1000, 'index timeout'),
    span('5', '4', 'vector.query', 'retrieval', 710, 990),
  ])

describe('renderWaterfall', () => {
  it('draws one line per span, nested under its parent, with service, duration and bar', () => {
    expect(renderWaterfall(agentTrace(), { width: 80 }).split('\n')).toEqual([
      `trace ${TRACE}  POST /chat  ·  5 spans · 3 services · 1.24 s · ✗ 1 error`,
      '                                               0                          1.24 s',
      'gateway       POST /chat               1.24 s  █████████████████████████████████',
      'orchestrator  └─ agent.run             1.18 s  ████████████████████████████████',
      'orchestrator     ├─ llm.chat           600 ms   █████████████████',
      'retrieval        └─ ✗ search           300 ms                    █████████',
      'retrieval           └─ vector.query    280 ms                    █████████',
      '',
      '  ✗ search (retrieval): index timeout',
    ])
  })

  it('positions each bar on the trace time axis', () => {
    const lines = renderWaterfall(agentTrace(), { width: 100 }).split('\n').slice(2, 7)
    const bar = (l: string): [number, number] => [l.indexOf('█'), l.lastIndexOf('█') + 1]
    const [rootStart, rootEnd] = bar(lines[0]!)
    const width = rootEnd - rootStart
    const [searchStart, searchEnd] = bar(lines[3]!)
    // search: 700–1000 ms of 1240 ms.
    expect(searchStart - rootStart).toBe(Math.floor((700 / 1240) * width))
    expect(searchEnd - rootStart).toBe(Math.ceil((1000 / 1240) * width))
    // Every line ends within the requested width.
    for (const l of lines) expect(l.length).toBeLessThanOrEqual(100)
  })

  it('marks errors with ✗ on the line and lists their messages', () => {
    const text = renderWaterfall(agentTrace())
    expect(text.split('\n').filter((l) => l.includes('✗')).length).toBe(3) // header, row, footnote
    expect(text).toContain('  ✗ search (retrieval): index timeout')
  })

  it('marks spans whose parent is missing as orphans, at the top level', () => {
    const t = traceOf([
      span('1', undefined, 'root', 'a', 0, 100),
      span('2', '9', 'lost.consumer', 'worker', 50, 90),
      span('3', '2', 'lost.child', 'worker', 60, 80),
    ])
    expect(t.orphans).toBe(1)
    const text = renderWaterfall(t)
    expect(text).toContain('lost.consumer [orphan]')
    expect(text).toContain('└─ lost.child')
    expect(text).not.toContain('lost.child [orphan]')
    expect(text).toContain('[orphan] lost.consumer (worker): parent 0000000000000009 is not in this trace')
    expect(text.split('\n')[0]).toContain('1 orphan')
  })

  it('shows spans caught in a parent cycle instead of losing them', () => {
    const t = traceOf([span('1', '2', 'a', 's', 0, 10), span('2', '1', 'b', 's', 1, 5)])
    const rows = waterfallRows(t)
    expect(rows.map((r) => [r.span.name, r.depth, r.orphan])).toEqual([
      ['a', 0, true],
      ['b', 1, false],
    ])
  })

  it('with highlightSlowest, marks the hop that spent the most time itself', () => {
    // agent.run (orchestrator) lasts 1180 ms, of which 300 ms are the retrieval hop below it:
    // 880 ms of its own beats search's 300 ms.
    const t = agentTrace()
    expect(slowestHop(t)).toMatchObject({ span: { name: 'agent.run' }, selfTime: 880 })
    const text = renderWaterfall(t, { highlightSlowest: true })
    expect(text).toContain('agent.run ◀ slowest hop')
    expect(text).toContain('◀ slowest hop: orchestrator · agent.run · 880 ms of its own')
    expect(renderWaterfall(t)).not.toContain('slowest')
  })

  it('finds the bottleneck three services deep', () => {
    const t = traceOf([
      span('1', undefined, 'POST /chat', 'gateway', 0, 1000),
      span('2', '1', 'agent.run', 'orchestrator', 10, 990),
      span('3', '2', 'search', 'retrieval', 50, 950),
    ])
    expect(slowestHop(t)?.span.name).toBe('search')
    expect(slowestHop(traceOf([span('1', undefined, 'only', 'one', 0, 5)]))).toBeUndefined()
  })

  it('colours services and errors with ANSI only when asked, without changing the layout', () => {
    const t = agentTrace()
    const plain = renderWaterfall(t, { highlightSlowest: true })
    const colored = renderWaterfall(t, { highlightSlowest: true, color: true })
    expect(plain).not.toContain('\x1b[')
    expect(colored).toContain('\x1b[')
    expect(stripVTControlCharacters(colored)).toBe(plain)
    const colors = assignColors(t.services)
    const retrieval = SERVICE_PALETTE[colors.get('retrieval')!]![0]
    expect(colored).toContain(`\x1b[38;5;${retrieval}mretrieval`)
    expect(colored).toContain('\x1b[38;5;196m✗ ')
  })

  it('gives each service of a trace its own colour, the same in every trace', () => {
    const services = ['gateway', 'orchestrator', 'retrieval', 'worker', 'billing']
    const a = assignColors(services)
    expect(new Set(a.values()).size).toBe(services.length)
    expect(assignColors(['retrieval']).get('retrieval')).toBe(
      assignColors(['retrieval', 'x']).get('retrieval'),
    )
  })

  it('renders a trace of one zero-length span', () => {
    const text = renderWaterfall(traceOf([span('1', undefined, 'tick', 'cron', 0, 0)]))
    expect(text).toContain('tick')
    expect(text).toContain('0 µs')
    expect(text).toContain('█')
  })

  it('never throws and keeps one line per span for any set of spans', () => {
    const arb = fc.array(
      fc.record({
        id: fc.integer({ min: 1, max: 12 }),
        parent: fc.option(fc.integer({ min: 1, max: 14 }), { nil: undefined }),
        name: fc.string({ maxLength: 80 }),
        service: fc.string({ maxLength: 30 }),
        start: fc.double({ min: 0, max: 1e6, noNaN: true }),
        length: fc.double({ min: 0, max: 1e6, noNaN: true }),
        error: fc.option(fc.string(), { nil: undefined }),
      }),
      { minLength: 1, maxLength: 12 },
    )
    fc.assert(
      fc.property(arb, fc.integer({ min: 0, max: 300 }), fc.boolean(), (specs, width, color) => {
        const t = traceOf(
          specs.map((s) =>
            span(
              String(s.id),
              s.parent === undefined ? undefined : String(s.parent),
              s.name,
              s.service,
              s.start,
              s.start + s.length,
              s.error,
            ),
          ),
        )
        const rows = waterfallRows(t)
        expect(rows).toHaveLength(t.spans.length)
        const text = renderWaterfall(t, { width, color, highlightSlowest: true })
        expect(text.split('\n').length).toBeGreaterThanOrEqual(t.spans.length + 2)
      }),
      { numRuns: 300 },
    )
  })
})

describe('formatDuration', () => {
  it('picks a unit people read at a glance', () => {
    expect(formatDuration(0.42)).toBe('420 µs')
    expect(formatDuration(2.345)).toBe('2.35 ms')
    expect(formatDuration(42.42)).toBe('42.4 ms')
    expect(formatDuration(420.4)).toBe('420 ms')
    expect(formatDuration(1240)).toBe('1.24 s')
    expect(formatDuration(12_400)).toBe('12.4 s')
    expect(formatDuration(62_000)).toBe('1m 02s')
    expect(formatDuration(Number.NaN)).toBe('?')
  })
})
