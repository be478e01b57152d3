/**
 * Spans grouped by trace, with the "finished" rule of the dev collector: a trace is
 * finished when no span for it arrived for `quietMs`. A late span reopens it, and it is
 * reported again when it goes quiet again.
 *
 * The same span may arrive twice: a LangSmith run as its create and then its patch, or one
 * tracehop span exported both as OTLP and as a LangSmith run. Spans are keyed by span id
 * within their trace, and the OTLP form wins over the run form (it carries kind, scope and
 * typed attributes), keeping the run id and run type from the run.
 */
import { spanIdFromRunId } from '../src/ids.js'
import { spanBytes } from './span-limits.js'
import type { CollectedSpan, CollectedTrace } from './types.js'

export interface TraceStoreOptions {
  readonly quietMs: number
  /** Oldest traces (by first arrival) are evicted beyond this many. */
  readonly maxTraces: number
  /** Oldest traces are evicted while the stored spans' estimated size is above this. */
  readonly maxStoredBytes: number
  /** Spans beyond this many in one trace are dropped (and counted). */
  readonly maxSpansPerTrace: number
  readonly onFinished: (trace: CollectedTrace) => void
  readonly onChange: () => void
  /** Called after traces were evicted to stay within `maxTraces` / `maxStoredBytes`. */
  readonly onEvicted?: (traces: number, spans: number) => void
}

/** What the store evicted to stay within its limits, since it started. */
export interface Evictions {
  readonly traces: number
  readonly spans: number
}

export interface TraceStore {
  /** Adds or merges spans; reports the spans as stored (after merging). */
  add(spans: readonly CollectedSpan[]): CollectedSpan[]
  get(traceId: string): CollectedTrace | undefined
  /** Newest first (by first arrival). */
  list(): CollectedTrace[]
  spans(): CollectedSpan[]
  /** The stored span for a LangSmith run id, if any. */
  findRun(runId: string): CollectedSpan | undefined
  /** Spans dropped by `maxSpansPerTrace`. */
  dropped(): number
  /** Traces (and their spans) evicted by `maxTraces` and `maxStoredBytes`. */
  evicted(): Evictions
  /** The stored spans' estimated size in bytes. */
  storedBytes(): number
  /** Reports every unfinished trace as finished now. */
  finishAll(): void
  clear(): void
}

interface Entry {
  readonly traceId: string
  readonly spans: Map<string, CollectedSpan>
  readonly firstSeen: number
  lastSeen: number
  /** Estimated size of `spans`. */
  bytes: number
  finished: boolean
  timer: ReturnType<typeof setTimeout> | undefined
  snapshot: CollectedTrace | undefined
}

function bySpanOrder(a: CollectedSpan, b: CollectedSpan): number {
  const d = a.startTime - b.startTime
  if (d !== 0) return d
  if (b.parentSpanId === a.spanId) return -1
  if (a.parentSpanId === b.spanId) return 1
  return 0
}

function snapshotOf(e: Entry): CollectedTrace {
  if (e.snapshot) return e.snapshot
  const spans = [...e.spans.values()].sort(bySpanOrder)
  let startTime = Number.POSITIVE_INFINITY
  let endTime = Number.NEGATIVE_INFINITY
  let errors = 0
  let orphans = 0
  let root: CollectedSpan | undefined
  let orphanRoot: CollectedSpan | undefined
  const services: string[] = []
  for (const s of spans) {
    if (s.startTime < startTime) startTime = s.startTime
    if (s.endTime > endTime) endTime = s.endTime
    if (s.status.code === 'error') errors++
    if (!services.includes(s.service)) services.push(s.service)
    if (s.parentSpanId === undefined) root ??= s
    else if (!e.spans.has(s.parentSpanId)) {
      orphans++
      orphanRoot ??= s
    }
  }
  if (spans.length === 0) startTime = endTime = e.firstSeen
  e.snapshot = {
    traceId: e.traceId,
    spans,
    name: (root ?? orphanRoot ?? spans[0])?.name ?? '',
    services,
    startTime,
    endTime,
    duration: Math.max(0, endTime - startTime),
    errors,
    orphans,
    finished: e.finished,
    firstSeen: e.firstSeen,
    lastSeen: e.lastSeen,
  }
  return e.snapshot
}

function merge(prev: CollectedSpan | undefined, next: CollectedSpan): CollectedSpan {
  if (prev === undefined || prev.source === next.source) return next
  // One span sent both ways: keep the OTLP form, add the run identity.
  const otlp = next.source === 'otlp' ? next : prev
  const run = next.source === 'otlp' ? prev : next
  return {
    ...otlp,
    ...(run.runId !== undefined ? { runId: run.runId } : {}),
    ...(run.runType !== undefined ? { runType: run.runType } : {}),
  }
}

/**
 * A trace store with quiet-period completion.
 *
 * @example
 * const store = createTraceStore({ quietMs: 1500, maxTraces: 1000, maxStoredBytes: 256 * 2 ** 20, maxSpansPerTrace: 10_000,
 *   onFinished: (t) => console.log(renderWaterfall(t)), onChange: () => {} })
 * store.add(spans)
 */
export function createTraceStore(options: TraceStoreOptions): TraceStore {
  const traces = new Map<string, Entry>()
  const runs = new Map<string, Entry>()
  let droppedSpans = 0
  let storedBytes = 0
  let evictedTraces = 0
  let evictedSpans = 0

  function finish(e: Entry): void {
    e.timer = undefined
    if (!traces.has(e.traceId) || e.finished) return
    e.finished = true
    e.snapshot = undefined
    // Report first, then notify: a waiter may be waiting for what onFinished does.
    options.onFinished(snapshotOf(e))
    options.onChange()
  }

  function forget(e: Entry): void {
    if (e.timer) clearTimeout(e.timer)
    e.timer = undefined
    traces.delete(e.traceId)
    storedBytes -= e.bytes
    for (const s of e.spans.values()) if (s.runId !== undefined) runs.delete(s.runId)
  }

  /** Evicts the oldest traces (first arrival) until both limits hold. */
  function evictOldest(): void {
    let traceCount = 0
    let spanCount = 0
    while (traces.size > options.maxTraces || (storedBytes > options.maxStoredBytes && traces.size > 0)) {
      const oldest = traces.values().next().value
      if (oldest === undefined) break
      traceCount++
      spanCount += oldest.spans.size
      forget(oldest)
    }
    if (traceCount === 0) return
    evictedTraces += traceCount
    evictedSpans += spanCount
    options.onEvicted?.(traceCount, spanCount)
  }

  return {
    add(spans) {
      const stored: CollectedSpan[] = []
      if (spans.length === 0) return stored
      const now = Date.now()
      const touched = new Set<Entry>()
      for (const span of spans) {
        let e = traces.get(span.traceId)
        if (!e) {
          e = {
            traceId: span.traceId,
            spans: new Map(),
            firstSeen: now,
            lastSeen: now,
            bytes: 0,
            finished: false,
            timer: undefined,
            snapshot: undefined,
          }
          traces.set(span.traceId, e)
        }
        const prev = e.spans.get(span.spanId)
        if (prev === undefined && e.spans.size >= options.maxSpansPerTrace) {
          droppedSpans++
          continue
        }
        const merged = merge(prev, span)
        const delta = spanBytes(merged) - (prev === undefined ? 0 : spanBytes(prev))
        e.bytes += delta
        storedBytes += delta
        e.spans.set(span.spanId, merged)
        if (merged.runId !== undefined) runs.set(merged.runId, e)
        stored.push(merged)
        touched.add(e)
      }
      for (const e of touched) {
        e.lastSeen = now
        e.finished = false
        e.snapshot = undefined
        // One timer per trace, pushed back by every span (refresh keeps the same handle).
        if (e.timer) e.timer.refresh()
        else {
          e.timer = setTimeout(finish, options.quietMs, e)
          e.timer.unref?.()
        }
      }
      evictOldest()
      if (stored.length > 0) options.onChange()
      return stored
    },
    get(traceId) {
      const e = traces.get(traceId)
      return e ? snapshotOf(e) : undefined
    },
    list() {
      const out: CollectedTrace[] = []
      for (const e of traces.values()) out.push(snapshotOf(e))
      return out.reverse()
    },
    spans() {
      const out: CollectedSpan[] = []
      for (const e of traces.values()) for (const s of e.spans.values()) out.push(s)
      return out
    },
    findRun(runId) {
      const id = runId.toLowerCase()
      return runs.get(id)?.spans.get(spanIdFromRunId(id))
    },
    dropped() {
      return droppedSpans
    },
    evicted() {
      return { traces: evictedTraces, spans: evictedSpans }
    },
    storedBytes() {
      return storedBytes
    },
    finishAll() {
      for (const e of [...traces.values()]) {
        if (e.finished) continue
        if (e.timer) clearTimeout(e.timer)
        finish(e)
      }
    },
    clear() {
      for (const e of [...traces.values()]) forget(e)
      options.onChange()
    },
  }
}
