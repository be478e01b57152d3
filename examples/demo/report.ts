/**
 * What the demo prints after its requests: which traces were kept and why, per service,
 * from what the collector received (both exports) and from the services' own counters.
 */
import type { CollectedSpan, CollectedTrace } from '../../cli/collector.js'
import { formatDuration, slowestHop } from '../../cli/collector.js'
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
  /** The jobs consumer's batch traces (`process jobs`: their own traces, sampled on their own). */
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
    if (
      services.size === 1 &&
      services.has('jobs') &&
      t.spans.some((s) => s.parentSpanId === undefined && s.name.startsWith('process '))
    ) {
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

/**
 * What the waterfall's "slowest hop" is made of. The collector's `slowestHop` takes, of the
 * spans that enter a service, the one with the most time of its own: its duration minus the
 * time inside the services it called (their server spans). That self time also holds the
 * time its calls spent outside those services' spans (the network, the callee platform's
 * own path), which no service's span covers.
 */
export interface HopBreakdown {
  readonly span: CollectedSpan
  /** The collector's self time (ms). */
  readonly selfTime: number
  /** Of it: in the hop's calls to other services, outside the callees' spans (ms). */
  readonly outsideCallees: number
  /** Of it: in the service itself, its own code and its untraced waits (ms). */
  readonly inService: number
  /** Each call into another service: the caller's client span and the callee's server span (ms). */
  readonly calls: readonly { readonly service: string; readonly call: number; readonly callee: number }[]
}

/** Total length of the union of intervals (ms). */
function unionLength(intervals: [number, number][]): number {
  intervals.sort((a, b) => a[0] - b[0])
  let total = 0
  let end = Number.NEGATIVE_INFINITY
  for (const [a, b] of intervals) {
    if (b <= end) continue
    total += b - Math.max(a, end)
    end = b
  }
  return total
}

const duration = (s: CollectedSpan): number => s.endTime - s.startTime

/**
 * Splits the slowest hop's self time into time in the service and time in its calls
 * outside the called services' spans; undefined when the trace never changes service.
 *
 * @example
 * const hop = hopBreakdown(trace) // { span, selfTime: 101, inService: 53.5, outsideCallees: 47.9, calls: [...] }
 */
export function hopBreakdown(trace: CollectedTrace): HopBreakdown | undefined {
  const hop = slowestHop(trace)
  if (hop === undefined) return undefined
  const { span } = hop
  const children = new Map<string, CollectedSpan[]>()
  for (const s of trace.spans) {
    if (s.parentSpanId === undefined) continue
    let list = children.get(s.parentSpanId)
    if (list === undefined) children.set(s.parentSpanId, (list = []))
    list.push(s)
  }
  const clip = (s: CollectedSpan): [number, number] => [
    Math.max(s.startTime, span.startTime),
    Math.min(s.endTime, span.endTime),
  ]
  const callIntervals: [number, number][] = []
  const calleeIntervals: [number, number][] = []
  const calls: { service: string; call: number; callee: number }[] = []
  // The hop's own spans (same service, below it); a call is one whose child is in another service.
  const stack = [...(children.get(span.spanId) ?? [])]
  while (stack.length > 0) {
    const s = stack.pop()!
    if (s.service !== span.service) continue
    for (const c of children.get(s.spanId) ?? []) {
      if (c.service === span.service) continue
      callIntervals.push(clip(s))
      calleeIntervals.push(clip(c))
      calls.push({ service: c.service, call: duration(s), callee: duration(c) })
    }
    stack.push(...(children.get(s.spanId) ?? []))
  }
  const valid = (i: [number, number]): boolean => i[1] > i[0]
  const outsideCallees = Math.max(
    0,
    Math.min(
      hop.selfTime,
      unionLength(callIntervals.filter(valid)) - unionLength(calleeIntervals.filter(valid)),
    ),
  )
  // In the order the services first appear in the trace.
  calls.sort((a, b) => trace.services.indexOf(a.service) - trace.services.indexOf(b.service))
  return { span, selfTime: hop.selfTime, outsideCallees, inService: hop.selfTime - outsideCallees, calls }
}

/**
 * The lines that say what the waterfall's `◀ slowest hop` means for `trace`, with its split.
 *
 * @example
 * console.log(explainSlowestHop(trace).join('\n'))
 */
export function explainSlowestHop(trace: CollectedTrace): string[] {
  const b = hopBreakdown(trace)
  if (b === undefined) return []
  const d = formatDuration
  const total = duration(b.span)
  const out = [
    `"slowest hop" = self time incl. network to the next service: ${b.span.service}'s ${b.span.name} took ${d(total)},`,
    `  ${d(total - b.selfTime)} of it inside the services it called; of the other ${d(b.selfTime)},`,
    `  ${d(b.inService).padStart(8)} in ${b.span.service} itself (its code, and waits no service's span covers: the model)`,
  ]
  if (b.calls.length > 0) {
    out.push(
      `  ${d(b.outsideCallees).padStart(8)} in its calls, outside the called services' spans (network, the callee platform):`,
    )
    for (const c of b.calls)
      out.push(
        `             call to ${c.service} ${d(c.call)}, of which its span ${d(c.callee)}${
          c.service === 'retrieval'
            ? `; the rest: network and serverless-offline's path around the Lambda (local emulation, not retrieval's code)`
            : ''
        }`,
      )
  }
  return out
}
