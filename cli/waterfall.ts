/**
 * A trace as a terminal waterfall: one line per span, nested by parent, with the service,
 * the span name, its duration and a bar on the trace's time axis. The browser page draws
 * the same tree with the same service colours (see `SERVICE_PALETTE`, `assignColors`).
 */
import { terminalSafe } from './terminal-text.js'
import type { CollectedSpan, CollectedTrace } from './types.js'

export interface WaterfallOptions {
  /** Total line width in columns (default 100). */
  readonly width?: number
  /** ANSI colours: one per service, errors red (default false). */
  readonly color?: boolean
  /** Marks the service-boundary span that spent the most time itself (default false). */
  readonly highlightSlowest?: boolean
}

/** One line of the waterfall, in display order. */
export interface WaterfallRow {
  readonly span: CollectedSpan
  readonly depth: number
  /** Tree guides for this line, e.g. `│  └─ `. */
  readonly prefix: string
  /** The span's parent id is set but that span is not in the trace (or forms a cycle). */
  readonly orphan: boolean
}

/** Service colours: [xterm-256 index, CSS colour], distinct on light and dark backgrounds. */
export const SERVICE_PALETTE: readonly (readonly [number, string])[] = [
  [33, '#2f7ef6'],
  [208, '#f08c00'],
  [35, '#12a150'],
  [170, '#c84fd0'],
  [37, '#0ea5b7'],
  [178, '#c9a000'],
  [99, '#7c5cff'],
  [24, '#2a6496'],
  [66, '#5b8a8f'],
  [136, '#a3772f'],
]
const ERROR_ANSI = 196
const ESC = '\x1b['
const RESET = '\x1b[0m'

/** FNV-1a 32-bit: a stable per-name starting slot, so a service keeps its colour across traces. */
function hashName(name: string): number {
  let h = 0x811c9dc5
  for (let i = 0; i < name.length; i++) {
    h ^= name.charCodeAt(i)
    h = Math.imul(h, 0x01000193)
  }
  return h >>> 0
}

/**
 * A palette index per service: each service starts at its name's hash slot and probes to
 * the next free one, so colours are stable across traces and distinct within one (up to
 * the palette's size).
 *
 * @example
 * assignColors(['gateway', 'retrieval']) // Map { 'gateway' => 3, 'retrieval' => 7 }
 */
export function assignColors(services: readonly string[]): Map<string, number> {
  const n = SERVICE_PALETTE.length
  const taken = new Set<number>()
  const out = new Map<string, number>()
  for (const s of services) {
    if (out.has(s)) continue
    let slot = hashName(s) % n
    if (taken.size < n) while (taken.has(slot)) slot = (slot + 1) % n
    taken.add(slot)
    out.set(s, slot)
  }
  return out
}

/**
 * A duration for people: µs below 1 ms, ms below 1 s, then seconds, then minutes.
 *
 * @example
 * formatDuration(0.42) // '420 µs'
 * formatDuration(1240) // '1.24 s'
 */
export function formatDuration(ms: number): string {
  if (!(ms >= 0)) return '?'
  if (ms < 1) return `${Math.round(ms * 1000)} µs`
  if (ms < 10) return `${ms.toFixed(2)} ms`
  if (ms < 100) return `${ms.toFixed(1)} ms`
  if (ms < 1000) return `${Math.round(ms)} ms`
  if (ms < 60_000) return `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`
  const m = Math.floor(ms / 60_000)
  return `${m}m ${String(Math.round((ms - m * 60_000) / 1000)).padStart(2, '0')}s`
}

/**
 * The spans in tree order (depth first, children by start time), with tree guides.
 * Spans whose parent is missing start their own subtree at depth 0 and are marked orphans;
 * so are spans caught in a parent cycle, which no root reaches.
 *
 * @example
 * for (const row of waterfallRows(trace)) console.log(row.prefix + row.span.name)
 */
export function waterfallRows(trace: CollectedTrace): WaterfallRow[] {
  const byId = new Map<string, CollectedSpan>()
  for (const s of trace.spans) byId.set(s.spanId, s)
  const children = new Map<string, CollectedSpan[]>()
  const tops: CollectedSpan[] = []
  for (const s of trace.spans) {
    const p = s.parentSpanId
    if (p === undefined || !byId.has(p) || p === s.spanId) tops.push(s)
    else {
      let list = children.get(p)
      if (!list) children.set(p, (list = []))
      list.push(s)
    }
  }
  const rows: WaterfallRow[] = []
  const seen = new Set<string>()
  // Iterative depth-first walk: deep traces must not exhaust the stack.
  const visit = (top: CollectedSpan, orphan: boolean): void => {
    const stack: { span: CollectedSpan; depth: number; guides: string; last: boolean }[] = [
      { span: top, depth: 0, guides: '', last: true },
    ]
    while (stack.length > 0) {
      const { span, depth, guides, last } = stack.pop()!
      if (seen.has(span.spanId)) continue
      seen.add(span.spanId)
      rows.push({
        span,
        depth,
        prefix: depth === 0 ? '' : `${guides}${last ? '└─ ' : '├─ '}`,
        orphan: depth === 0 && orphan,
      })
      const kids = children.get(span.spanId)
      if (!kids) continue
      const nextGuides = depth === 0 ? '' : `${guides}${last ? '   ' : '│  '}`
      for (let i = kids.length - 1; i >= 0; i--)
        stack.push({ span: kids[i]!, depth: depth + 1, guides: nextGuides, last: i === kids.length - 1 })
    }
  }
  for (const s of tops) visit(s, s.parentSpanId !== undefined)
  // Whatever is left sits in a parent cycle: show it rather than lose it.
  for (const s of trace.spans) if (!seen.has(s.spanId)) visit(s, true)
  return rows
}

function unionLength(intervals: [number, number][]): number {
  intervals.sort((a, b) => a[0] - b[0])
  let total = 0
  let end = Number.NEGATIVE_INFINITY
  for (const [s, e] of intervals) {
    if (e <= end) continue
    total += e - Math.max(s, end)
    end = e
  }
  return total
}

/**
 * The slowest hop: of the spans that enter another service (their parent is in a
 * different service), the one with the most time of its own, i.e. its duration minus the
 * time covered by the next hops below it. Undefined when the trace never changes service.
 *
 * @example
 * const hop = slowestHop(trace) // { span, selfTime: 812.4 }
 */
export function slowestHop(trace: CollectedTrace): { span: CollectedSpan; selfTime: number } | undefined {
  const byId = new Map<string, CollectedSpan>()
  for (const s of trace.spans) byId.set(s.spanId, s)
  const children = new Map<string, CollectedSpan[]>()
  for (const s of trace.spans) {
    if (s.parentSpanId === undefined || !byId.has(s.parentSpanId)) continue
    let list = children.get(s.parentSpanId)
    if (!list) children.set(s.parentSpanId, (list = []))
    list.push(s)
  }
  const isHop = (s: CollectedSpan): boolean => {
    const p = s.parentSpanId === undefined ? undefined : byId.get(s.parentSpanId)
    return p !== undefined && p.service !== s.service && p.spanId !== s.spanId
  }
  let best: { span: CollectedSpan; selfTime: number } | undefined
  for (const hop of trace.spans) {
    if (!isHop(hop)) continue
    const covered: [number, number][] = []
    const stack = [...(children.get(hop.spanId) ?? [])]
    const seen = new Set<string>([hop.spanId])
    while (stack.length > 0) {
      const s = stack.pop()!
      if (seen.has(s.spanId)) continue
      seen.add(s.spanId)
      if (isHop(s)) {
        const a = Math.max(s.startTime, hop.startTime)
        const b = Math.min(s.endTime, hop.endTime)
        if (b > a) covered.push([a, b])
      } else stack.push(...(children.get(s.spanId) ?? []))
    }
    const selfTime = hop.endTime - hop.startTime - unionLength(covered)
    if (
      !best ||
      selfTime > best.selfTime ||
      (selfTime === best.selfTime && hop.endTime - hop.startTime > best.span.endTime - best.span.startTime)
    )
      best = { span: hop, selfTime }
  }
  return best
}

function clip(text: string, width: number): string {
  if (width <= 0) return ''
  if (text.length <= width) return text.padEnd(width)
  return width === 1 ? '…' : `${text.slice(0, width - 1)}…`
}

function paint(on: boolean, code: string, text: string): string {
  return on && code !== '' && text !== '' ? `${ESC}${code}m${text}${RESET}` : text
}

const fg = (n: number): string => `38;5;${n}`

/** The trace with every field the waterfall prints made safe for a terminal. */
function printable(trace: CollectedTrace): CollectedTrace {
  const spans = trace.spans.map((s) => ({
    ...s,
    name: terminalSafe(s.name),
    service: terminalSafe(s.service),
    status:
      s.status.message === undefined ? s.status : { ...s.status, message: terminalSafe(s.status.message) },
    ...(s.parentSpanId !== undefined ? { parentSpanId: terminalSafe(s.parentSpanId) } : {}),
  }))
  return {
    ...trace,
    traceId: terminalSafe(trace.traceId),
    name: terminalSafe(trace.name),
    services: [...new Set(trace.services.map(terminalSafe))],
    spans,
  }
}

/**
 * The waterfall of one trace as text (one line per span, no trailing newline).
 * Columns: service, the span name indented under its parent (`✗` marks errors,
 * `[orphan]` spans whose parent is missing), duration, and a bar on the trace's time axis.
 * Footnotes list error messages, orphans' missing parents and, with `highlightSlowest`,
 * the slowest hop (also marked `◀ slowest hop` on its line). Escape sequences and control
 * characters in span fields are removed (`terminalSafe`): the text is safe to print.
 *
 * @example
 * console.log(renderWaterfall(collector.trace(id)!, { width: process.stdout.columns, color: true }))
 */
export function renderWaterfall(received: CollectedTrace, options: WaterfallOptions = {}): string {
  const trace = printable(received)
  const width = Math.max(50, Math.floor(options.width ?? 100))
  const color = options.color === true
  const rows = waterfallRows(trace)
  const colors = assignColors(trace.services)
  const hop = options.highlightSlowest ? slowestHop(trace) : undefined
  const lines: string[] = []

  const counts = [
    `${trace.spans.length} span${trace.spans.length === 1 ? '' : 's'}`,
    `${trace.services.length} service${trace.services.length === 1 ? '' : 's'}`,
    formatDuration(trace.duration),
  ]
  if (trace.errors > 0)
    counts.push(paint(color, fg(ERROR_ANSI), `✗ ${trace.errors} error${trace.errors === 1 ? '' : 's'}`))
  if (trace.orphans > 0) counts.push(`${trace.orphans} orphan${trace.orphans === 1 ? '' : 's'}`)
  lines.push(
    `${paint(color, '1', `trace ${trace.traceId}`)}  ${paint(color, '1', trace.name)}  ·  ${counts.join(' · ')}`,
  )
  if (rows.length === 0) return lines.join('\n')

  const labels = rows.map((r) => {
    const marks = `${r.span.status.code === 'error' ? '✗ ' : ''}`
    const suffix = `${r.orphan ? ' [orphan]' : ''}${hop?.span === r.span ? ' ◀ slowest hop' : ''}`
    return { prefix: r.prefix, marks, name: r.span.name || '(unnamed)', suffix }
  })
  let serviceWidth = 7
  for (const s of trace.services) serviceWidth = Math.max(serviceWidth, s.length)
  serviceWidth = Math.min(serviceWidth, 18)
  let nameWidth = 12
  for (const l of labels)
    nameWidth = Math.max(nameWidth, l.prefix.length + l.marks.length + l.name.length + l.suffix.length)
  const durationWidth = 9
  // Layout: service ␣␣ name ␣ duration ␣␣ bar
  const fixed = serviceWidth + 2 + 1 + durationWidth + 2
  nameWidth = Math.min(nameWidth, Math.max(20, Math.floor(width * 0.45)), width - fixed - 10)
  const barWidth = Math.max(10, width - fixed - nameWidth)

  const t0 = trace.startTime
  const total = trace.duration
  const axisStart = '0'
  const axisEnd = formatDuration(total)
  lines.push(
    paint(
      color,
      '2',
      `${' '.repeat(fixed - 2 + nameWidth)}  ${axisStart}${axisEnd.padStart(barWidth - axisStart.length)}`,
    ),
  )

  for (let i = 0; i < rows.length; i++) {
    const { span } = rows[i]!
    const label = labels[i]!
    const error = span.status.code === 'error'
    const svcColor = fg(SERVICE_PALETTE[colors.get(span.service) ?? 0]![0])
    const service = paint(color, svcColor, clip(span.service, serviceWidth))

    const room = nameWidth - label.prefix.length - label.marks.length - label.suffix.length
    const name = room >= 4 ? clip(label.name, room).trimEnd() : ''
    const used = label.prefix.length + label.marks.length + name.length + label.suffix.length
    const nameCell =
      paint(color, '2', label.prefix) +
      paint(color, fg(ERROR_ANSI), label.marks) +
      paint(color, error ? fg(ERROR_ANSI) : '', name) +
      paint(color, hop?.span === span ? '1;33' : '33', label.suffix) +
      ' '.repeat(Math.max(0, nameWidth - used))

    const d = span.endTime - span.startTime
    const duration = paint(color, error ? fg(ERROR_ANSI) : '', formatDuration(d).padStart(durationWidth))

    let from = 0
    let cells = 1
    if (total > 0) {
      from = Math.min(barWidth - 1, Math.max(0, Math.floor(((span.startTime - t0) / total) * barWidth)))
      const to = Math.min(barWidth, Math.ceil(((span.endTime - t0) / total) * barWidth))
      cells = Math.max(1, to - from)
    }
    const bar = `${' '.repeat(from)}${paint(color, error ? fg(ERROR_ANSI) : svcColor, '█'.repeat(cells))}`
    lines.push(`${service}  ${nameCell} ${duration}  ${bar}`.trimEnd())
  }

  const notes: string[] = []
  for (const r of rows) {
    const s = r.span
    if (s.status.code === 'error')
      notes.push(paint(color, fg(ERROR_ANSI), `✗ ${s.name} (${s.service}): ${s.status.message ?? 'error'}`))
  }
  for (const r of rows) {
    if (r.orphan)
      notes.push(
        `[orphan] ${r.span.name} (${r.span.service}): parent ${r.span.parentSpanId ?? '?'} is not in this trace`,
      )
  }
  if (hop)
    notes.push(
      paint(
        color,
        '1;33',
        `◀ slowest hop: ${hop.span.service} · ${hop.span.name} · ${formatDuration(hop.selfTime)} of its own`,
      ),
    )
  if (notes.length > 0) lines.push('', ...notes.map((n) => `  ${n}`))
  return lines.join('\n')
}
