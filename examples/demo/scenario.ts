/**
 * What the demo does with its topology: questions to the gateway, one at a time (with the
 * token, within the rate limit), until the 10% head sampler has kept at least one trace,
 * then one question that fails deep in the retrieval Lambda. Then it waits until the
 * collector holds the kept traces whole.
 *
 * Which traces the services keep is known from the trace id alone: the head decision is a
 * pure function of the trace id and the ratio, the same in every service. The client asks
 * the same function (`isHeadSampled` from tracehop), so it knows when to stop, and the
 * collector must agree with it.
 *
 * The failing request asks for its failure in its body, `"failAt": "retrieval"`: the gateway
 * forwards the body as is, and the orchestrator (run with `FAULT_INJECTION=1`) passes it on to
 * its retrieval tool call as the retrieval function's own switch, `x-retrieval-fail: 1`.
 */
import type { CollectedSpan, CollectedTrace } from '../../cli/collector.js'
import { isHeadSampled } from '../../src/index.js'
import type { Topology } from './topology.js'

/** Services on the path of every successful request. */
export const REQUEST_SERVICES: readonly string[] = ['gateway', 'orchestrator', 'retrieval', 'jobs']
/** Services on the path of the failing request that fail with it (jobs succeeds alongside). */
export const ERROR_SERVICES: readonly string[] = ['gateway', 'orchestrator', 'retrieval']
/** Failing requests sent at most, until one's trace is not head-sampled. */
const FAULT_ATTEMPTS = 3

const QUESTIONS = [
  'What changed in v2?',
  'How do I migrate from v1?',
  'How is indexing retried?',
  'What does one trace span?',
  'How is sampling decided?',
]

export interface RequestOutcome {
  /** 1-based. */
  readonly n: number
  readonly question: string
  readonly status: number
  /** From the answer (`traceId`); absent on failures, whose body is the error. */
  readonly traceId?: string
  /** The head decision for `traceId` (ratio of the topology). */
  readonly headSampled?: boolean
  readonly ms: number
  /** The request that was asked to fail deep in retrieval (`"failAt": "retrieval"`). */
  readonly fault: boolean
}

export interface ScenarioOptions {
  /** Upper bound on requests, the failing one included (default 60; never above the rate limit). */
  readonly maxRequests?: number
  /** Requests sent at least, even when one was sampled early (default 5). */
  readonly minRequests?: number
  /** How long to wait for the collector to hold the kept traces whole (default 15 000 ms). */
  readonly waitMs?: number
  readonly log?: (line: string) => void
}

export interface ScenarioResult {
  readonly requests: readonly RequestOutcome[]
  /** Head-sampled request traces, as the collector holds them (newest first). */
  readonly sampled: readonly CollectedTrace[]
  /** A failing request's trace, when one arrived: one not head-sampled (kept only for its error) if any. */
  readonly errorTrace: CollectedTrace | undefined
  /** True when the gateway answered 429 (the client stopped there). */
  readonly rateLimited: boolean
}

function hasService(trace: CollectedTrace, service: string): boolean {
  return trace.spans.some((s) => s.service === service)
}

function byName(trace: CollectedTrace, name: string): CollectedSpan | undefined {
  return trace.spans.find((s) => s.name === name)
}

/**
 * A request trace is whole when every service on the path sent its part and every
 * parent is present: with `jobs` on the path, the queue consumer's `process jobs` span too.
 *
 * @example
 * isWholeRequestTrace(collector.trace(id)!, REQUEST_SERVICES) // true once every hop's part arrived
 */
export function isWholeRequestTrace(trace: CollectedTrace, services: readonly string[]): boolean {
  if (trace.orphans > 0) return false
  for (const s of services) if (!hasService(trace, s)) return false
  if (services.includes('jobs')) {
    const send = byName(trace, 'send jobs')
    const process = byName(trace, 'process jobs')
    if (send === undefined || process === undefined || process.parentSpanId !== send.spanId) return false
    if (byName(trace, 'index document') === undefined) return false
  }
  return true
}

/**
 * Every span of `trace` arrived both ways: as OTLP and as a LangSmith run.
 *
 * @example
 * await collector.waitFor((ts) => ts.some((t) => t.traceId === id && arrivedBothWays(t)))
 */
export function arrivedBothWays(trace: CollectedTrace): boolean {
  return trace.spans.every((s) => s.source === 'otlp' && s.runId !== undefined)
}

/**
 * The failing request's trace: the one where retrieval's `search index` failed.
 *
 * @example
 * const errorTrace = findErrorTrace(collector.traces())
 */
export function findErrorTrace(traces: readonly CollectedTrace[]): CollectedTrace | undefined {
  return traces.find((t) => t.spans.some((s) => s.name === 'search index' && s.status.code === 'error'))
}

/** The newest error trace the head sampler did not keep, else the newest error trace. */
function pickErrorTrace(traces: readonly CollectedTrace[], ratio: number): CollectedTrace | undefined {
  const errors = traces.filter((t) => findErrorTrace([t]) !== undefined)
  return errors.find((t) => !isHeadSampled(t.traceId, { ratio })) ?? errors[0]
}

/**
 * One question to the gateway (with the token); `fault` asks retrieval to fail
 * (`"failAt": "retrieval"` in the body).
 *
 * @example
 * const outcome = await askGateway(topology, 1, 'What changed in v2?', false)
 */
export async function askGateway(
  topology: Topology,
  n: number,
  question: string,
  fault: boolean,
): Promise<RequestOutcome> {
  const t0 = performance.now()
  const res = await fetch(`${topology.gatewayUrl}chat`, {
    method: 'POST',
    headers: { authorization: `Bearer ${topology.apiToken}`, 'content-type': 'application/json' },
    body: JSON.stringify(fault ? { question, failAt: 'retrieval' } : { question }),
    signal: AbortSignal.timeout(15_000),
  })
  const text = await res.text()
  const ms = performance.now() - t0
  let traceId: string | undefined
  try {
    const body = JSON.parse(text) as { traceId?: unknown }
    if (typeof body.traceId === 'string') traceId = body.traceId
  } catch {
    // An error answer (text/plain from a failing hop): no trace id in it.
  }
  return {
    n,
    question,
    status: res.status,
    ...(traceId !== undefined
      ? { traceId, headSampled: isHeadSampled(traceId, { ratio: topology.samplingRatio }) }
      : {}),
    ms,
    fault,
  }
}

/**
 * Runs the demo's requests against `topology` and waits for their traces.
 *
 * @example
 * const result = await runScenario(await startTopology(), { log: console.log })
 * result.sampled[0]?.traceId
 */
export async function runScenario(
  topology: Topology,
  options: ScenarioOptions = {},
): Promise<ScenarioResult> {
  const log = options.log ?? ((): void => {})
  // The failing request counts against the rate limit too.
  const budget = Math.max(
    FAULT_ATTEMPTS + 1,
    Math.min(options.maxRequests ?? 60, topology.rateLimitPerMinute),
  )
  const minRequests = Math.min(options.minRequests ?? 5, budget - FAULT_ATTEMPTS)
  const requests: RequestOutcome[] = []
  let rateLimited = false
  let sampledCount = 0
  while (requests.length < budget - FAULT_ATTEMPTS) {
    const n = requests.length + 1
    const outcome = await askGateway(topology, n, QUESTIONS[(n - 1) % QUESTIONS.length]!, false)
    requests.push(outcome)
    if (outcome.status === 429) {
      rateLimited = true
      log(`#${n} 429 too many requests: the client stops here`)
      break
    }
    if (outcome.status !== 200) {
      log(
        `#${n} ${outcome.status} ${Math.round(outcome.ms)} ms: the gateway refused or failed; stopping here`,
      )
      break
    }
    if (outcome.headSampled) sampledCount++
    log(
      `#${n} ${outcome.status} ${Math.round(outcome.ms)} ms  trace ${outcome.traceId ?? '?'}  ${
        outcome.headSampled ? 'head-sampled: kept by every service' : 'not sampled'
      }`,
    )
    if (sampledCount > 0 && n >= minRequests) break
  }
  // The failing request. Its trace id may be head-sampled too (10%): then it is kept either
  // way, so ask again (at most 3 times) for one that only always-keep-errors keeps.
  const errorTraces = (): CollectedTrace[] =>
    topology.collector.traces().filter((t) => findErrorTrace([t]) !== undefined)
  for (let attempt = 0; attempt < FAULT_ATTEMPTS && !rateLimited; attempt++) {
    const n = requests.length + 1
    const before = errorTraces().length
    const outcome = await askGateway(topology, n, 'Why is the index slow?', true)
    requests.push(outcome)
    log(
      `#${n} ${outcome.status} ${Math.round(outcome.ms)} ms  (asked retrieval to fail: "failAt": "retrieval")`,
    )
    if (outcome.status < 500) break
    try {
      await topology.collector.waitFor(() => errorTraces().length > before, 10_000)
    } catch {
      break // reported below: the error trace did not arrive
    }
    const id = errorTraces()[0]?.traceId
    if (id === undefined || !isHeadSampled(id, { ratio: topology.samplingRatio })) break
    if (attempt + 1 < FAULT_ATTEMPTS)
      log(`   its trace ${id} was head-sampled as well; once more, for one kept only for its error`)
  }

  const wanted = new Set<string>()
  for (const r of requests) if (r.headSampled && r.traceId !== undefined) wanted.add(r.traceId)
  const expectError = requests.some((r) => r.fault && r.status >= 500)
  const ready = (traces: readonly CollectedTrace[]): boolean => {
    for (const id of wanted) {
      const t = traces.find((x) => x.traceId === id)
      if (t === undefined || !isWholeRequestTrace(t, REQUEST_SERVICES) || !arrivedBothWays(t)) return false
    }
    if (expectError) {
      const e = pickErrorTrace(traces, topology.samplingRatio)
      if (e === undefined) return false
      // A head-sampled error trace holds every service's part, the queue hop's too.
      const path = isHeadSampled(e.traceId, { ratio: topology.samplingRatio })
        ? REQUEST_SERVICES
        : ERROR_SERVICES
      if (!isWholeRequestTrace(e, path) || !arrivedBothWays(e)) return false
    }
    return true
  }
  try {
    await topology.collector.waitFor(ready, options.waitMs ?? 15_000)
  } catch (e) {
    log(`not everything arrived: ${(e as Error).message}`)
  }
  const traces = topology.collector.traces()
  return {
    requests,
    sampled: traces.filter((t) => wanted.has(t.traceId)),
    errorTrace: pickErrorTrace(traces, topology.samplingRatio),
    rateLimited,
  }
}
