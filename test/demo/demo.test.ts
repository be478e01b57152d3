/**
 * The demo topology end to end (examples/demo): a gateway Worker and a jobs Worker with a
 * Queue in workerd, the orchestrator in edge-runtime, the retrieval Lambda in
 * serverless-offline, every service sampling 10% with errors always kept, all exporting
 * OTLP/protobuf and LangSmith runs to one dev collector. Then the waterfall page of the
 * stitched trace in headless Chromium.
 */

import { existsSync, mkdirSync, statSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { CollectedSpan, CollectedTrace } from '../../cli/collector.js'
import {
  askGateway,
  findErrorTrace,
  type RequestOutcome,
  runScenario,
  type ScenarioResult,
} from '../../examples/demo/scenario.js'
import { startTopology, type Topology } from '../../examples/demo/topology.js'
import { hexToUuid } from '../../src/ids.js'
import { isHeadSampled, type TracerStats } from '../../src/index.js'
import { CHROMIUM_PATH as CHROMIUM, launchChromium } from '../support/chromium.js'

const ROOT = fileURLToPath(new URL('../../', import.meta.url))
const SCREENSHOT = `${ROOT}test-results/demo-trace.png`
const RATIO = 0.1
/** The head decision every service makes at RATIO (tracehop's public `isHeadSampled`). */
const headSampled = (traceId: string): boolean => isHeadSampled(traceId, { ratio: RATIO })

let topology: Topology
let scenario: ScenarioResult
/** Every request sent, the extra failing ones included. */
let requests: RequestOutcome[]
/** A head-sampled request trace, whole. */
let stitched: CollectedTrace
/** A failing request's trace that the head sampler did not keep. */
let errorTrace: CollectedTrace

function spansOf(trace: CollectedTrace, service: string): CollectedSpan[] {
  return trace.spans.filter((s) => s.service === service)
}

function one(trace: CollectedTrace, name: string, service?: string): CollectedSpan {
  const found = trace.spans.filter((s) => s.name === name && (service === undefined || s.service === service))
  expect(found, `${name} in trace ${trace.traceId}`).toHaveLength(1)
  return found[0]!
}

function parentOf(trace: CollectedTrace, span: CollectedSpan): CollectedSpan {
  const p = trace.spans.find((s) => s.spanId === span.parentSpanId)
  expect(p, `parent of ${span.name} (${span.service})`).toBeDefined()
  return p!
}

/** A service's scope roots: the SERVER span of a request, the CONSUMER span of a batch or message. */
function scopeRoots(trace: CollectedTrace, service: string): CollectedSpan[] {
  return spansOf(trace, service).filter((s) => s.kind === 'server' || s.kind === 'consumer')
}

function isBatchTrace(t: CollectedTrace): boolean {
  return t.services.length === 1 && t.services[0] === 'jobs' && t.name === 'process jobs'
}

interface Totals {
  started: number
  sampled: number
  keptForError: number
  notSampled: number
  exported: number
  dropped: number
}

function totals(stats: readonly TracerStats[] | undefined): Totals | undefined {
  if (stats === undefined) return undefined
  const t: Totals = { started: 0, sampled: 0, keptForError: 0, notSampled: 0, exported: 0, dropped: 0 }
  for (const s of stats) {
    t.started += s.scopes.started
    t.sampled += s.scopes.sampled
    t.keptForError += s.scopes.keptForError
    t.notSampled += s.scopes.notSampled
    t.exported += s.spans.exported
    for (const n of Object.values(s.spans.dropped)) t.dropped += n ?? 0
  }
  return t
}

/** What the collector received from `service`: spans each way, and kept scopes by reason. */
function received(service: string): { otlp: number; runs: number; sampled: number; error: number } {
  const r = { otlp: 0, runs: 0, sampled: 0, error: 0 }
  for (const t of topology.collector.traces()) {
    for (const s of spansOf(t, service)) {
      if (s.source === 'otlp') r.otlp++
      if (s.runId !== undefined) r.runs++
      if (s.kind === 'server' || s.kind === 'consumer') {
        if (s.attributes['tracehop.kept_reason'] === 'error') r.error++
        else r.sampled++
      }
    }
  }
  return r
}

beforeAll(async () => {
  // A rate limit above the bound on requests: the client never meets it here.
  topology = await startTopology({ port: 0, samplingRatio: RATIO, rateLimitPerMinute: 150 })
  scenario = await runScenario(topology, { maxRequests: 120, minRequests: 20, waitMs: 20_000 })
  requests = [...scenario.requests]
  // The failing request's own trace id may be head-sampled too (10%): then ask again, so
  // that one error trace is kept only because it failed.
  const errorTraces = (): CollectedTrace[] =>
    topology.collector.traces().filter((t) => findErrorTrace([t]) !== undefined)
  for (let i = 0; i < 4 && !errorTraces().some((t) => !headSampled(t.traceId)); i++) {
    const before = errorTraces().length
    requests.push(await askGateway(topology, requests.length + 1, 'Why is the index slow?', true))
    await topology.collector.waitFor(() => errorTraces().length > before, 10_000)
  }
  const sampled = scenario.sampled[0]
  expect(sampled, 'a head-sampled request trace').toBeDefined()
  stitched = sampled!
  const unsampledError = errorTraces().find((t) => !headSampled(t.traceId))
  expect(unsampledError, 'an error trace the head sampler did not keep').toBeDefined()
  // Wait until it holds every hop's part, both ways.
  await topology.collector.waitFor((traces) => {
    const t = traces.find((x) => x.traceId === unsampledError!.traceId)
    return (
      t !== undefined &&
      ['gateway', 'orchestrator', 'retrieval'].every((s) => t.services.includes(s)) &&
      t.orphans === 0 &&
      t.spans.every((s) => s.source === 'otlp' && s.runId !== undefined)
    )
  }, 10_000)
  errorTrace = topology.collector.trace(unsampledError!.traceId)!
}, 120_000)

afterAll(async () => {
  await topology?.stop()
}, 30_000)

describe('demo topology (examples/demo) on real local runtimes', () => {
  it('answers the questions within the rate limit, and the failing one with 5xx through every hop', () => {
    const ok = requests.filter((r) => !r.fault)
    expect(ok.length).toBeGreaterThanOrEqual(20)
    expect(ok.length).toBeLessThanOrEqual(119)
    for (const r of ok) {
      expect(r.status).toBe(200)
      expect(r.traceId).toMatch(/^[0-9a-f]{32}$/)
    }
    expect(scenario.rateLimited).toBe(false)
    for (const r of requests.filter((x) => x.fault)) expect(r.status).toBe(500)
    // Each hop answered 5xx to its caller.
    expect(one(errorTrace, 'POST /chat', 'gateway').attributes['http.response.status_code']).toBe(500)
    expect(scopeRoots(errorTrace, 'retrieval')[0]!.attributes['http.response.status_code']).toBe(500)
    const toRetrieval = parentOf(errorTrace, scopeRoots(errorTrace, 'retrieval')[0]!)
    expect(toRetrieval.attributes['http.response.status_code']).toBe(500)
    const toOrchestrator = parentOf(errorTrace, scopeRoots(errorTrace, 'orchestrator')[0]!)
    expect(toOrchestrator.attributes['http.response.status_code']).toBe(500)
  })

  it('stitches one trace id across the gateway, orchestrator, retrieval and the queue hop, both ways', () => {
    const ids = new Set(requests.map((r) => r.traceId))
    expect(ids.has(stitched.traceId)).toBe(true) // the orchestrator's answer named the same trace
    expect([...stitched.services].sort()).toEqual(['gateway', 'jobs', 'orchestrator', 'retrieval'])
    for (const name of ['send jobs', 'process jobs', 'index document']) one(stitched, name, 'jobs')
    for (const s of stitched.spans) {
      expect(s.traceId).toBe(stitched.traceId)
      // OTLP and LangSmith both delivered this span.
      expect(s.source).toBe('otlp')
      expect(s.runId, `${s.name} as a LangSmith run`).toMatch(/^[0-9a-f-]{36}$/)
    }
    // LangSmith: the root run's id is the trace id.
    expect(one(stitched, 'POST /chat', 'gateway').runId).toBe(hexToUuid(stitched.traceId))
  })

  it('links every span to its parent: one root, the queue consumer under its producer, hops under client spans', () => {
    for (const trace of [stitched, errorTrace]) {
      const roots = trace.spans.filter((s) => s.parentSpanId === undefined)
      expect(roots.map((s) => `${s.service}:${s.name}`)).toEqual(['gateway:POST /chat'])
      expect(roots[0]!.kind).toBe('server')
      expect(trace.orphans).toBe(0)
      for (const s of trace.spans) if (s.parentSpanId !== undefined) parentOf(trace, s)
      // Every cross-service edge: the callee's server span under the caller's client span.
      const edges: string[] = []
      for (const s of trace.spans) {
        if (s.parentSpanId === undefined) continue
        const p = parentOf(trace, s)
        if (p.service === s.service) continue
        expect(s.kind, `${s.service}:${s.name}`).toBe('server')
        expect(p.kind, `parent of ${s.service}:${s.name}`).toBe('client')
        edges.push(`${p.service}->${s.service}`)
      }
      expect(edges.sort()).toEqual(
        trace === stitched
          ? ['gateway->orchestrator', 'orchestrator->jobs', 'orchestrator->retrieval']
          : ['gateway->orchestrator', 'orchestrator->retrieval'],
      )
      // The client span of each tool call sits under that tool's span.
      const retrievalRoot = scopeRoots(trace, 'retrieval')[0]!
      expect(parentOf(trace, parentOf(trace, retrievalRoot)).name).toBe('execute_tool retrieve')
      expect(parentOf(trace, scopeRoots(trace, 'orchestrator')[0]!).service).toBe('gateway')
    }
    const jobsRoot = one(stitched, 'POST /jobs', 'jobs')
    expect(parentOf(stitched, parentOf(stitched, jobsRoot)).name).toBe('execute_tool enqueue')
    const send = one(stitched, 'send jobs', 'jobs')
    const process = one(stitched, 'process jobs', 'jobs')
    expect(send.kind).toBe('producer')
    expect(send.parentSpanId).toBe(jobsRoot.spanId)
    expect(process.kind).toBe('consumer')
    expect(process.parentSpanId).toBe(send.spanId)
    expect(one(stitched, 'index document', 'jobs').parentSpanId).toBe(process.spanId)
    // The consumer's batch span (its own trace) and the message's span link to each other.
    const batchLink = process.links.find((l) => l.traceId !== stitched.traceId)
    expect(batchLink).toBeDefined()
    const batch = topology.collector.trace(batchLink!.traceId)
    if (batch !== undefined) expect(batch.spans.some((s) => s.spanId === batchLink!.spanId)).toBe(true)
    else expect(headSampled(batchLink!.traceId)).toBe(false) // not kept: not sampled
  })

  it('keeps the failing request at 10% sampling: every hop it failed through, for its error', () => {
    expect(headSampled(errorTrace.traceId)).toBe(false)
    for (const service of ['gateway', 'orchestrator', 'retrieval']) {
      const roots = scopeRoots(errorTrace, service)
      expect(roots, service).toHaveLength(1)
      expect(roots[0]!.status.code, service).toBe('error')
      expect(roots[0]!.attributes['tracehop.kept_reason'], service).toBe('error')
    }
    // It failed because the client asked, through the gateway, in its body (`failAt`).
    expect(one(errorTrace, 'execute_tool retrieve', 'orchestrator').attributes['demo.fail_at']).toBe(
      'retrieval',
    )
    const search = one(errorTrace, 'search index', 'retrieval')
    expect(search.status).toEqual({ code: 'error', message: 'index shard docs-2 unavailable' })
    // The enqueue call succeeded: not sampled and no error, so the jobs service kept nothing.
    expect(spansOf(errorTrace, 'jobs')).toEqual([])
  })

  it('keeps the same head-sampled traces in every service: no fragments', () => {
    const traces = topology.collector.traces()
    const byId = new Map(traces.map((t) => [t.traceId, t]))
    const answered = requests.filter((r) => r.traceId !== undefined)
    let sampledCount = 0
    for (const r of answered) {
      const t = byId.get(r.traceId!)
      if (headSampled(r.traceId!)) {
        sampledCount++
        expect(t, `sampled trace ${r.traceId}`).toBeDefined()
        expect([...t!.services].sort(), r.traceId).toEqual(['gateway', 'jobs', 'orchestrator', 'retrieval'])
        expect(t!.orphans).toBe(0)
        expect(t!.spans.some((s) => s.name === 'process jobs')).toBe(true)
        for (const s of t!.spans) expect(s.attributes['tracehop.kept_reason']).toBeUndefined()
      } else {
        expect(t, `not-sampled trace ${r.traceId} has no part anywhere`).toBeUndefined()
      }
    }
    expect(sampledCount).toBeGreaterThanOrEqual(1)
    expect(sampledCount).toBeLessThan(answered.length)
    // Nothing else arrived: request traces above, error traces, and the consumer's batch traces.
    const answeredIds = new Set(answered.map((r) => r.traceId))
    for (const t of traces) {
      if (answeredIds.has(t.traceId)) continue
      if (isBatchTrace(t)) {
        // A batch span starts its own trace and samples it on its own, by the same rule.
        expect(headSampled(t.traceId), t.traceId).toBe(true)
        continue
      }
      expect(findErrorTrace([t]), `unexpected trace ${t.name} ${t.traceId}`).toBeDefined()
    }
  })

  it('loses nothing: each service exported exactly what the collector received, both ways', async () => {
    const services = ['gateway', 'orchestrator', 'retrieval', 'jobs'] as const
    const check = async (): Promise<
      { service: string; counters: Totals | undefined; got: ReturnType<typeof received> }[]
    > => {
      const counters = await topology.counters()
      return services.map((service) => ({
        service,
        counters: totals(counters[service]),
        got: received(service),
      }))
    }
    const agree = (r: Awaited<ReturnType<typeof check>>[number]): boolean =>
      r.counters !== undefined &&
      r.counters.exported === r.got.otlp + r.got.runs &&
      r.counters.sampled === r.got.sampled &&
      r.counters.keptForError === r.got.error
    let rows = await check()
    // A flush may still be on its way for a moment (bounded).
    for (let i = 0; i < 50 && !rows.every(agree); i++) {
      await new Promise((r) => setTimeout(r, 100))
      rows = await check()
    }
    const n = requests.length
    for (const { service, counters, got } of rows) {
      expect(counters, `${service} counters`).toBeDefined()
      const c = counters!
      expect(c.dropped, service).toBe(0)
      expect(c.exported, `${service}: exported = received (OTLP + LangSmith)`).toBe(got.otlp + got.runs)
      expect(got.otlp, `${service}: the same spans both ways`).toBe(got.runs)
      expect(c.sampled, service).toBe(got.sampled)
      expect(c.keptForError, service).toBe(got.error)
      expect(c.sampled + c.keptForError + c.notSampled, service).toBe(c.started)
      // One scope per request in each HTTP service; jobs: a request, a message, and batches.
      if (service === 'jobs') expect(c.started).toBeGreaterThan(2 * n)
      else expect(c.started, service).toBe(n)
    }
  })

  it('draws the stitched trace on the waterfall page, every service present (headless Chromium)', async (ctx) => {
    if (!existsSync(CHROMIUM)) {
      if (process.env['CI']) throw new Error(`${CHROMIUM} is missing (apt-get install -y chromium)`)
      ctx.skip()
      return
    }
    const browser = await launchChromium()
    try {
      const page = await browser.newPage({ viewport: { width: 1440, height: 1000 } })
      await page.goto(`${topology.collector.url}/#trace=${stitched.traceId}`, { timeout: 15_000 })
      const rows = page.locator('.wf-row[data-span-id]')
      await rows.nth(stitched.spans.length - 1).waitFor({ timeout: 15_000 })
      const drawn = await rows.evaluateAll((els) =>
        els.map((e) => ({ id: e.getAttribute('data-span-id'), service: e.getAttribute('data-service') })),
      )
      expect(drawn.map((d) => d.id).sort()).toEqual(stitched.spans.map((s) => s.spanId).sort())
      expect([...new Set(drawn.map((d) => d.service))].sort()).toEqual([
        'gateway',
        'jobs',
        'orchestrator',
        'retrieval',
      ])
      // biome-ignore lint/performance/useDomNodeTextContent: what the page shows, as rendered
      const text = await page.locator('#view').innerText()
      for (const name of ['POST /chat', 'agent', 'execute_tool retrieve', 'search index', 'process jobs'])
        expect(text).toContain(name)
      mkdirSync(`${ROOT}test-results`, { recursive: true })
      await page.screenshot({ path: SCREENSHOT, fullPage: true })
      expect(statSync(SCREENSHOT).size).toBeGreaterThan(10_000)
    } finally {
      await browser.close()
    }
  }, 60_000)
})
