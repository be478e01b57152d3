import { baggageAttributes, filterIncoming, filterOutgoing } from './baggage-policy.js'
import { now } from './clock.js'
import { hexToUuid, uuidv7Hex } from './ids.js'
import type { Limits } from './limits.js'
import type { Incoming } from './propagation/extract.js'
import { formatTracestate } from './propagation/tracestate.js'
import { decideHead } from './sampling/head-sampler.js'
import { Span, type SpanOptions } from './span.js'
import { type Attributes, SpanKind, type SpanRecord, StatusCode } from './span-record.js'
import type { StatsRecorder } from './stats.js'
import { TRACE_FLAG_RANDOM, type TraceContext, type TraceState, type XRayHeader } from './trace-context.js'
import type { Tracer } from './tracer.js'

// Ref: @cloudflare/workers-types ExecutionContext.waitUntil, Vercel's `waitUntil`.
/** Keeps the runtime alive until `promise` settles, after the response has been sent. */
export type WaitUntil = (promise: Promise<unknown>) => void

/** Options for one invocation's scope. */
export interface ScopeOptions {
  /** The root span's name (adapters use `GET /users/:id`, `process my-queue`, …). Default `invocation`. */
  readonly name?: string
  /** Default `SERVER`. */
  readonly kind?: SpanKind
  readonly attributes?: Attributes
  readonly links?: readonly TraceContext[]
  readonly startTime?: number
  /** Given: the flush is handed to it and `end()` does not delay the response. */
  readonly waitUntil?: WaitUntil
  /** The incoming request's origin, allowed to receive trace headers (same-origin rule). */
  readonly origin?: string
  /** Flush budget for this scope in ms (Lambda: remaining time minus a margin). */
  readonly flushBudgetMs?: number
  /** LangSmith run type of the root span. */
  readonly runType?: string
}

/** What happened to a scope's spans at its flush. */
export interface FlushReport {
  /** Whether the scope was exported, and why. */
  readonly kept: boolean
  readonly reason: 'sampled' | 'error' | 'not-sampled'
  readonly spans: number
  /** Span deliveries that succeeded (per exporter). */
  readonly exported: number
  /** Span deliveries that failed (per exporter), with the first reason. */
  readonly dropped: number
  readonly dropReason?: string
  /** Spans still open at the deadline, ended by the flush and marked `tracehop.force_ended`. */
  readonly forceEnded: number
}

/** The result an invocation ended with: a Response, a status code, or a thrown error. */
export type InvocationResult = Response | { readonly status?: number; readonly error?: unknown } | undefined

const NOT_KEPT: Omit<FlushReport, 'spans'> = {
  kept: false,
  reason: 'not-sampled',
  exported: 0,
  dropped: 0,
  forceEnded: 0,
}

/**
 * One invocation (a request, a queue batch, a Lambda event): owns the span tree, the
 * sampling decision, the outgoing context and the flush. Passed explicitly, never ambient.
 *
 * @example
 * const scope = tracer.start(request, { waitUntil: ctx.waitUntil.bind(ctx), name: 'POST /chat' })
 * try { return scope.end(await handle(request, scope.root)) } …
 */
export class Scope {
  readonly tracer: Tracer
  readonly traceId: string
  /** The head-sampling decision (errors are kept regardless when `keepErrors` is on). */
  readonly sampled: boolean
  /** Flags this scope propagates. */
  readonly flags: number
  readonly traceState: TraceState | undefined
  /** @internal */ readonly traceStateHeader: string | undefined
  readonly root: Span
  readonly origin: string | undefined
  /** @internal */ readonly limits: Limits
  /** @internal */ readonly stats: StatsRecorder
  /** @internal LangSmith trace id (UUID) of every run in this scope. */
  readonly runTraceId: string
  /** @internal */ readonly remoteParent: boolean
  /** @internal Trace-level LangSmith project/tags/metadata to propagate and export. */
  readonly langsmithView: TraceContext['langsmith']
  /** The incoming remote parent, if the trace continues from elsewhere. */
  readonly parent: TraceContext | undefined
  /** X-Ray correlation from the carrier (not a continuation). */
  readonly xray: XRayHeader | undefined
  private readonly baggage: TraceContext['baggage']
  /** @internal Baggage members recorded on every span (identity: session.id, user.id). */
  readonly baggageAttributes: Attributes | undefined
  private readonly waitUntil: WaitUntil | undefined
  private readonly flushBudgetMs: number
  private readonly spans: Span[] = []
  private open = 0
  private allEnded: (() => void) | undefined
  private failedFlag = false
  private recorded = 0
  private flushing: Promise<FlushReport> | undefined
  /** Set when the flush takes its snapshot: spans started later cannot be exported. */
  private sealed = false
  private deferred: (() => unknown)[] | undefined

  /** @internal Use `tracer.start()`. */
  constructor(tracer: Tracer, incoming: Incoming, options: ScopeOptions | undefined) {
    this.tracer = tracer
    this.limits = tracer.config.limits
    this.stats = tracer.statsRecorder
    this.waitUntil = options?.waitUntil
    this.origin = options?.origin
    this.flushBudgetMs = options?.flushBudgetMs ?? tracer.config.flush.budgetMs
    this.xray = incoming.xray
    const parent = incoming.parent
    this.parent = parent
    const startTime = options?.startTime ?? now()

    let rootIdentity: { spanId: string; runId: string } | undefined
    let traceState: TraceState | undefined
    let flags: number
    let followParent: boolean
    if (parent !== undefined) {
      this.traceId = parent.traceId
      flags = parent.flags
      traceState = parent.traceState
      followParent = parent.decided
      this.remoteParent = true
    } else {
      // A new trace: a UUIDv7 id (time-ordered, as LangSmith mints) whose low 62 bits are random.
      this.traceId = uuidv7Hex(startTime)
      // The random flag stays off by default (some OTel propagators drop a `-03` header);
      // the sampler then derives randomness from a hash and writes it as `ot=rv:`.
      flags = tracer.config.randomFlag ? TRACE_FLAG_RANDOM : 0
      followParent = false
      this.remoteParent = false
      // A LangSmith root run's id is its trace id.
      rootIdentity = { spanId: this.traceId.slice(16), runId: hexToUuid(this.traceId) }
    }
    const decision = decideHead(tracer.config.sampling, this.traceId, flags, traceState, followParent)
    this.sampled = decision.sampled
    this.flags = decision.flags
    this.traceState = decision.traceState
    this.traceStateHeader = decision.traceState ? formatTracestate(decision.traceState) : undefined
    this.baggage = filterIncoming(parent?.baggage, tracer.config.baggage)
    this.baggageAttributes = baggageAttributes(this.baggage, tracer.config.baggage)

    const ls = parent?.langsmith
    this.langsmithView = ls
    // Without a LangSmith parent the local root is a LangSmith root: its run id is the trace id.
    this.runTraceId = ls ? ls.traceId : parent ? '' : hexToUuid(this.traceId)
    const parentInfo =
      parent === undefined
        ? undefined
        : {
            spanId: parent.spanId,
            runId: ls?.runId,
            dottedOrder: ls?.dottedOrder ?? '',
            startTime: ls?.startTime ?? 0,
          }

    this.stats.scopesStarted++
    const root = new Span(
      this,
      options?.name ?? 'invocation',
      parentInfo,
      {
        kind: options?.kind ?? SpanKind.SERVER,
        startTime,
        ...(options?.attributes ? { attributes: options.attributes } : {}),
        ...(options?.runType ? { runType: options.runType } : {}),
      },
      rootIdentity,
      true,
    )
    if (this.runTraceId === '') {
      // W3C-only parent: LangSmith cannot attach to a run it has no dotted order for, so
      // this service's root becomes a LangSmith root (its run id is its trace id there).
      ;(this as { runTraceId: string }).runTraceId = root.runId
    }
    this.root = root
    this.track(root)
    for (const l of options?.links ?? []) root.link(l)
    for (const l of incoming.links) root.link(l)
    if (incoming.xray) root.set('aws.xray.trace_id', incoming.xray.root)
  }

  /**
   * Registers work the flush must wait for (a bridged SDK's pending batches, say): it runs
   * once every span has ended (a streamed body included), inside the same `waitUntil` and
   * flush budget as the export, concurrently with it. Its failures are swallowed.
   *
   * @example
   * scope.defer(() => client.awaitPendingTraceBatches())
   */
  defer(work: () => unknown): void {
    ;(this.deferred ??= []).push(work)
  }

  /** Whether any span failed or the invocation ended in error. */
  get failed(): boolean {
    return this.failedFlag
  }

  /** @internal */
  markFailed(): void {
    this.failedFlag = true
  }

  /** @internal Creates a span under `parent`, within the scope's span limit. */
  createSpan(name: string, parent: Span, options: SpanOptions | undefined): Span {
    const limit = this.sampled ? this.limits.spansPerScope : this.limits.spansPerUnsampledScope
    const recording = this.recorded < limit && !this.sealed
    if (!recording) this.stats.countLimit('spans')
    const span = new Span(this, name, parent.parentInfo(), options, undefined, recording)
    if (recording) this.track(span)
    return span
  }

  private track(span: Span): void {
    this.recorded++
    this.stats.spansRecorded++
    this.spans.push(span)
    this.open++
  }

  /** @internal */
  spanEnded(span: Span): void {
    if (!span.isRecording) return
    this.open--
    if (this.open === 0 && this.allEnded) this.allEnded()
  }

  /** @internal The context a span hands out; `destination` filters identity baggage by route. */
  contextOf(span: Span, destination?: URL): TraceContext {
    const ls = this.langsmithView
    const baggage = filterOutgoing(this.baggage, this.tracer.config.baggage, destination)
    return {
      traceId: this.traceId,
      spanId: span.spanId,
      flags: this.flags,
      remote: false,
      decided: true,
      ...(this.traceState ? { traceState: this.traceState } : {}),
      ...(baggage ? { baggage } : {}),
      langsmith: {
        dottedOrder: span.dottedOrder,
        runId: span.runId,
        traceId: this.runTraceId,
        startTime: span.startTime,
        ...(ls?.project !== undefined ? { project: ls.project } : {}),
        ...(ls?.tags !== undefined ? { tags: ls.tags } : {}),
        ...(ls?.metadata !== undefined ? { metadata: ls.metadata } : {}),
        ...(ls?.passthrough !== undefined ? { passthrough: ls.passthrough } : {}),
      },
      ...(this.parent?.xray ? { xray: this.parent.xray } : {}),
    }
  }

  /**
   * Ends the invocation: records the result on the root span (HTTP status; 5xx or an
   * error marks it failed), ends the root (or, with `until`, when `until` settles — a
   * streamed body), then flushes once. With a `waitUntil` the flush is handed to it and
   * the returned promise need not be awaited; without one, await it before returning.
   * Never throws and never rejects.
   */
  end(result?: InvocationResult, options?: { readonly until?: Promise<unknown> }): Promise<FlushReport> {
    if (this.flushing) return this.flushing
    const root = this.root
    try {
      recordResult(root, result)
    } catch {
      // Reading a hostile result object must not break the user's response.
    }
    if (options?.until) {
      options.until.then(
        () => root.end(),
        (err: unknown) => {
          root.error(err)
          root.end()
        },
      )
    } else root.end()
    const flushing = this.flush()
    this.flushing = flushing
    if (this.waitUntil) {
      try {
        this.waitUntil(flushing)
      } catch {
        // A waitUntil that throws (context already finished): the promise still runs.
      }
    }
    return flushing
  }

  private async flush(): Promise<FlushReport> {
    const deadline = Date.now() + this.flushBudgetMs
    let forceEnded = 0
    if (this.open > 0) {
      // Spans ending inside the user's own waitUntil work or a streamed body: wait for
      // them, keeping a third of the budget (at most 1 s) for the export itself.
      const waitMs = Math.max(0, this.flushBudgetMs - Math.min(1000, this.flushBudgetMs / 3))
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, waitMs)
        this.allEnded = () => {
          clearTimeout(timer)
          resolve()
        }
      })
      this.allEnded = undefined
      for (const span of this.spans) {
        if (!span.ended) {
          span.set('tracehop.force_ended', true)
          span.end()
          forceEnded++
        }
      }
      this.stats.spansForceEnded += forceEnded
    }
    const deferred = this.runDeferred(deadline)
    const report = await this.exportSpans(deadline, forceEnded)
    await deferred
    return report
  }

  private runDeferred(deadline: number): Promise<void> {
    const work = this.deferred
    if (work === undefined) return Promise.resolve()
    this.deferred = undefined
    const settled = Promise.all(
      work.map((w) => {
        try {
          return Promise.resolve(w()).then(noop, noop)
        } catch {
          return undefined
        }
      }),
    )
    let timer: ReturnType<typeof setTimeout> | undefined
    const timeout = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, Math.max(0, deadline - Date.now()))
    })
    return Promise.race([settled, timeout]).then(() => clearTimeout(timer))
  }

  private async exportSpans(deadline: number, forceEnded: number): Promise<FlushReport> {
    this.sealed = true
    const config = this.tracer.config
    const spans = this.spans.length
    let reason: FlushReport['reason']
    if (this.sampled) {
      reason = 'sampled'
      this.stats.scopesSampled++
    } else if (this.failedFlag && config.sampling.keepErrors) {
      reason = 'error'
      this.stats.scopesKeptForError++
      this.root.setAfterEnd('tracehop.kept_reason', 'error')
    } else {
      this.stats.scopesNotSampled++
      return { ...NOT_KEPT, spans, forceEnded }
    }
    const records: SpanRecord[] = []
    for (const span of this.spans) records.push(span.toRecord())
    const outcome = await this.tracer.queue.submit(records, deadline)
    return {
      kept: true,
      reason,
      spans,
      exported: outcome.exported,
      dropped: outcome.dropped,
      ...(outcome.reason !== undefined ? { dropReason: outcome.reason } : {}),
      forceEnded,
    }
  }
}

function noop(): void {}

function recordResult(root: Span, result: InvocationResult): void {
  if (result === undefined) return
  if (typeof Response !== 'undefined' && result instanceof Response) {
    setStatus(root, result.status)
    return
  }
  const r = result as { readonly status?: unknown; readonly error?: unknown }
  if (r.error !== undefined) root.error(r.error)
  if (typeof r.status === 'number') setStatus(root, r.status)
}

function setStatus(root: Span, status: number): void {
  root.set('http.response.status_code', status)
  // OTel HTTP semconv: a server span is an error for 5xx only (4xx is the client's fault).
  if (status >= 500) root.setStatus(StatusCode.ERROR, `HTTP ${status}`)
}
