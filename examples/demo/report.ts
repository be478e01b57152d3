/**
 * What the demo prints after its requests: which traces were kept and why, per service,
 * from what the collector received (both exports) and from the services' own counters.
 */
import type { CollectedSpan, CollectedTrace } from '../../cli/collector.js'
import type { TracerStats } from '../../src/index.js'
import type { RequestOutcome } from './scenario.js'
import type { ServiceCounters, ServiceInfo } from './topology.js'

/** Why a scope's spans reached the collector. */
export type KeptReason = 'sampled' | 'error'

/** One service's part of the run. */
export interface ServiceSummary {
  readonly service: ServiceInfo['name']
  readonly runtime: string
  /** Scopes (invocations) whose spans arrived, by why they were kept. */
  readonly kept: Readonly<Record<KeptReason, number>>
  /** Spans that arrived as OTLP, and as LangSmith runs. */
  readonly otlpSpans: number
  readonly langsmithRuns: number
  /** The service's counters summed over its isolates / Lambda instances, when readable. */
  readonly counters: CounterTotals | undefined
}

export interface CounterTotals {
  /** Isolates or Lambda instances that reported. */
  readonly instances: number
  readonly started: number
  readonly sampled: number
  readonly keptForError: number
  readonly notSampled: number
  /** Span deliveries the exporters confirmed (one per span per exporter). */
  readonly exported: number
  readonly dropped: number
  readonly forceEnded: number
}

/**
 * The counters of one service, summed over its isolates.
 *
 * @example
 * totals((await topology.counters()).gateway ?? []).exported
 */
export function totals(counters: ServiceCounters): CounterTotals {
  const t = {
    instances: counters.length,
    started: 0,
    sampled: 0,
    keptForError: 0,
    notSampled: 0,
    exported: 0,
    dropped: 0,
    forceEnded: 0,
  }
  for (const s of counters as readonly TracerStats[]) {
    t.started += s.scopes.started
    t.sampled += s.scopes.sampled
    t.keptForError += s.scopes.keptForError
    t.notSampled += s.scopes.notSampled
    t.exported += s.spans.exported
    t.forceEnded += s.spans.forceEnded
    for (const n of Object.values(s.spans.dropped)) t.dropped += n ?? 0
  }
  return t
}

/**
 * A scope's root span: each invocation starts one SERVER span (a request) or CONSUMER span
 * (a queue batch, a queued message); every other span of this topology is INTERNAL, CLIENT
 * or PRODUCER.
 *
 * @example
 * trace.spans.filter(isScopeRoot).length // invocations that sent this trace's spans
 */
export function isScopeRoot(span: CollectedSpan): boolean {
  return span.kind === 'server' || span.kind === 'consumer'
}

/**
 * Why the scope rooted at `root` was exported (tracehop marks roots kept for an error).
 *
 * @example
 * keptReason(root) // 'sampled' or 'error'
 */
export function keptReason(root: CollectedSpan): KeptReason {
  return root.attributes['tracehop.kept_reason'] === 'error' ? 'error' : 'sampled'
}

/**
 * Per-service summary of everything the collector holds, with the services' counters.
 *
 * @example
 * const rows = summarize(collector.traces(), topology.services, await topology.counters())
 */
export function summarize(
  traces: readonly CollectedTrace[],
  services: readonly ServiceInfo[],
  counters: Readonly<Record<string, ServiceCounters | undefined>>,
): ServiceSummary[] {
  return services.map((info) => {
    const kept = { sampled: 0, error: 0 }
    let otlpSpans = 0
    let langsmithRuns = 0
    for (const t of traces) {
      for (const s of t.spans) {
        if (s.service !== info.name) continue
        if (s.source === 'otlp') otlpSpans++
        if (s.runId !== undefined) langsmithRuns++
        if (isScopeRoot(s)) kept[keptReason(s)]++
      }
    }
    const c = counters[info.name]
    return {
      service: info.name,
      runtime: info.runtime,
      kept,
      otlpSpans,
      langsmithRuns,
      counters: c === undefined ? undefined : totals(c),
    }
  })
}

/**
 * Spans a service handed to its exporters that did not arrive (both exports counted), or
 * undefined without counters.
 *
 * @example
 * summarize(traces, services, counters).every((row) => lost(row) === 0)
 */
export function lost(summary: ServiceSummary): number | undefined {
  if (summary.counters === undefined) return undefined
  return summary.counters.exported - (summary.otlpSpans + summary.langsmithRuns) + summary.counters.dropped
}

/** How the request traces ended up: kept whole, kept for an error, fragments, queue batches. */
export interface TraceTally {
  readonly requests: number
  readonly headSampled: number
  readonly keptForError: number
  readonly notKept: number
  /** Request traces in the collector that are neither head-sampled nor failing: should be 0. */
  readonly fragments: number
  /** The jobs consumer's batch traces (`receive jobs`: their own traces, sampled on their own). */
  readonly batchTraces: number
}

/**
 * Counts the request traces by outcome.
 *
 * @example
 * const tally = tallyTraces(collector.traces(), result.requests)
 */
export function tallyTraces(
  traces: readonly CollectedTrace[],
  requests: readonly RequestOutcome[],
): TraceTally {
  const sampledIds = new Set<string>()
  for (const r of requests) if (r.headSampled && r.traceId !== undefined) sampledIds.add(r.traceId)
  let headSampled = 0
  let keptForError = 0
  let fragments = 0
  let batchTraces = 0
  for (const t of traces) {
    const services = new Set(t.spans.map((s) => s.service))
    if (services.size === 1 && services.has('jobs') && t.spans.some((s) => s.name.startsWith('receive '))) {
      batchTraces++
      continue
    }
    const root = t.spans.find((s) => s.parentSpanId === undefined)
    if (root === undefined || t.orphans > 0) fragments++
    else if (keptReason(root) === 'error') keptForError++
    // A failing request whose trace id was head-sampled too: kept as sampled.
    else if (sampledIds.has(t.traceId) || t.errors > 0) headSampled++
    else fragments++
  }
  return {
    requests: requests.length,
    headSampled,
    keptForError,
    notKept: requests.length - headSampled - keptForError,
    fragments,
    batchTraces,
  }
}

function pad(text: string | number, width: number, right = false): string {
  const s = String(text)
  return right ? s.padStart(width) : s.padEnd(width)
}

/**
 * The per-service table as text.
 *
 * @example
 * console.log(formatSummary(summarize(traces, services, counters)))
 */
export function formatSummary(rows: readonly ServiceSummary[]): string {
  const head = `${pad('service', 13)}${pad('runtime', 40)}${pad('scopes', 7, true)}${pad('sampled', 9, true)}${pad(
    'error',
    7,
    true,
  )}${pad('not kept', 10, true)}${pad('OTLP', 7, true)}${pad('LangSmith', 11, true)}${pad('lost', 6, true)}`
  const out = [head, '─'.repeat(head.length)]
  for (const r of rows) {
    const c = r.counters
    const l = lost(r)
    out.push(
      `${pad(r.service, 13)}${pad(r.runtime, 40)}${pad(c?.started ?? '?', 7, true)}${pad(r.kept.sampled, 9, true)}${pad(
        r.kept.error,
        7,
        true,
      )}${pad(c?.notSampled ?? '?', 10, true)}${pad(r.otlpSpans, 7, true)}${pad(r.langsmithRuns, 11, true)}${pad(
        l ?? '?',
        6,
        true,
      )}`,
    )
  }
  return out.join('\n')
}
