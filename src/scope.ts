import { baggageAttributes, filterIncoming, filterOutgoing } from './baggage-policy.js'
import { now } from './clock.js'
import type { SubmitOutcome } from './export/flush-queue.js'
import { hexToUuid, uuidv7Hex } from './ids.js'
import type { Limits } from './limits.js'
import type { Incoming } from './propagation/extract.js'
import { formatTracestate } from './propagation/tracestate.js'
import { freezesAfterResponse } from './runtime.js'
import { decideHead } from './sampling/head-sampler.js'
import { ERROR, SERVER, Span, type SpanOptions } from './span.js'
import type { Attributes, SpanKind, SpanRecord } from './span-record.js'
import type { StatsRecorder } from './stats.js'
import { TRACE_FLAG_RANDOM, type TraceContext, type TraceState, type XRayHeader } from './trace-context.js'
import type { Tracer } from './tracer.js'
import type { Writable } from './writable.js'

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
  /**
   * Given: the flush is handed to it and `end()` does not delay the response; spans started
   * after the flush (in your own `waitUntil` work) are sent in a follow-up export handed to
   * it too. Without it, await `end()` before responding: the flush then sends at once and
   * has the short budget of a response that waits (`flush.budgetMs`).
   */
  readonly waitUntil?: WaitUntil
  /**
   * The caller awaits `end()` before responding (the adapters do when there is no
   * `waitUntil`): on Workers and Vercel Edge, no "no waitUntil" warning is logged.
   */
  readonly awaited?: boolean
  /**
   * The service's own origin for this request, as the platform vouches for it (a Workers or
   * Vercel request URL, API Gateway's domain): allowed to receive trace headers (same-origin rule).
   */
  readonly origin?: string
  /**
   * An origin built from the client's `Host` or `X-Forwarded-Host` (a Node server's request
   * URL, an ALB event): the scope's origin only with `propagation.trustHostHeader`.
   */
  readonly hostOrigin?: string
  /**
   * Flush budget for this scope in ms (Lambda: remaining time minus a margin). Default
   * `flush.budgetMs` if configured, else 10 000 with a `waitUntil` and 2 000 without.
   */
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

/** What the follow-up exports of late spans add to a flush report. */
type Tally = Writable<Pick<FlushReport, 'spans' | 'exported' | 'dropped' | 'forceEnded' | 'dropReason'>>

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
  /** @internal Baggage members recorded on every span (identity: session.id, user.id). */
  readonly baggageAttributes: Attributes | undefined
  #baggage: TraceContext['baggage']
  #waitUntil: WaitUntil | undefined
  readonly #awaited: boolean
  #budgetMs: number
  /** Every recording span, late ones included (the span limit counts them all). */
  #spans: Span[] = []
  #open = 0
  #allEnded: (() => void) | undefined
  #failed = false
  #flushing: Promise<FlushReport> | undefined
  /** Set when the flush takes its snapshot: spans started later go to a follow-up export. */
  #sealed = false
  /** Whether the snapshot was kept (sampled, or failed with keepErrors). */
  #kept = false
  /** Late spans (started after the snapshot) not exported yet. */
  #late: Span[] = []
  /** A flush or follow-up export will still pick up spans added to `#late`. */
  #draining = false
  /** Spans that will never be exported: they send no trace headers. */
  #neverExported: WeakSet<Span> | undefined
  /** The flush's deadline and the time after which spans are no longer waited for. */
  #deadline = 0
  #waitEnd = 0
  #deferred: (() => unknown)[] = []

  /** @internal Use `tracer.start()`. */
  constructor(tracer: Tracer, incoming: Incoming, options: ScopeOptions | undefined) {
    const config = tracer.config
    const parent = incoming.parent
    const ls = parent?.langsmith
    const startTime = options?.startTime ?? now()
    this.tracer = tracer
    this.limits = config.limits
    this.stats = tracer.statsRecorder
    const waitUntil = options?.waitUntil
    this.#waitUntil = waitUntil
    this.#awaited = options?.awaited === true
    this.origin = options?.origin ?? (config.destinations.trustHostHeader ? options?.hostOrigin : undefined)
    // A response that waits for the flush gets the short budget.
    this.#budgetMs =
      options?.flushBudgetMs ?? (waitUntil ? config.flush.budgetMs : config.flush.awaitedBudgetMs)
    this.xray = incoming.xray
    this.parent = parent
    this.langsmithView = ls
    this.remoteParent = parent !== undefined
    // A new trace: a UUIDv7 id (time-ordered, as LangSmith mints) whose low 62 bits are random.
    const traceId = (this.traceId = parent?.traceId ?? uuidv7Hex(startTime))
    // The random flag stays off by default on traces we start (some OTel propagators drop a
    // `-03` header); the sampler then derives randomness from a hash and writes `ot=rv:`.
    const flags = parent ? parent.flags : config.randomFlag ? TRACE_FLAG_RANDOM : 0
    const decision = decideHead(config.sampling, traceId, flags, parent?.traceState, parent?.decided ?? false)
    this.sampled = decision.sampled
    this.flags = decision.flags
    this.traceState = decision.traceState
    this.traceStateHeader = decision.traceState && formatTracestate(decision.traceState)
    this.#baggage = filterIncoming(parent ? parent.baggage : incoming.baggage, config.baggage)
    this.baggageAttributes = baggageAttributes(this.#baggage, config.baggage)
    this.stats.scopes.started++
    const root = new Span(
      this,
      options?.name ?? 'invocation',
      parent && {
        spanId: parent.spanId,
        runId: ls?.runId,
        dottedOrder: ls?.dottedOrder ?? '',
        startTime: ls?.startTime ?? 0,
      },
      {
        kind: options?.kind ?? SERVER,
        startTime,
        attributes: options?.attributes,
        runType: options?.runType,
      } as SpanOptions,
      // A LangSmith root run's id is its trace id.
      parent ? undefined : { spanId: traceId.slice(16), runId: hexToUuid(traceId) },
      true,
    )
    // Without a LangSmith parent (none, or a W3C-only one), this service's root is a LangSmith
    // root: LangSmith cannot attach to a run it has no dotted order for.
    this.runTraceId = ls ? ls.traceId : root.runId
    this.root = root
    this.#track(root)
    for (const l of options?.links ?? []) root.link(l)
    for (const l of incoming.links) root.link(l)
    root.set('aws.xray.trace_id', incoming.xray?.root)
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
    this.#deferred.push(work)
  }

  /** Whether any span failed or the invocation ended in error. */
  get failed(): boolean {
    return this.#failed
  }

  /** @internal */
  markFailed(): void {
    this.#failed = true
  }

  /** @internal Creates a span under `parent`, within the scope's span limit. */
  createSpan(name: string, parent: Span, options: SpanOptions | undefined): Span {
    let recording = true
    let overLimit = false
    if (this.#sealed && !this.#kept) {
      // Not kept at the flush: nothing more of this scope is exported (sampling).
      recording = false
    } else if (
      this.#spans.length >= (this.sampled ? this.limits.spansPerScope : this.limits.spansPerUnsampledScope)
    ) {
      recording = false
      overLimit = true
      this.stats.countLimit('spans')
    } else if (this.#sealed && !this.#acceptLate()) {
      recording = false
    }
    const span = new Span(this, name, parent, options, undefined, recording)
    if (recording) {
      this.#track(span)
      if (this.#sealed) this.#late.push(span)
    } else if (this.#sealed && this.#kept) this.#markLate(span, !overLimit)
    return span
  }

  /**
   * Whether a span started after the snapshot can still be exported: while the flush is
   * running, or in a follow-up export handed to `waitUntil`, before the wait for spans ends.
   */
  #acceptLate(): boolean {
    if (Date.now() >= this.#waitEnd) return false
    if (this.#draining) return true
    const waitUntil = this.#waitUntil
    if (waitUntil === undefined) return false
    let open!: () => void
    const gate = new Promise<void>((resolve) => {
      open = resolve
    })
    const followUp = gate.then(() => this.#drainLate())
    try {
      waitUntil(followUp)
    } catch {
      // The invocation is over: nothing would hold the export.
      return false
    }
    this.#draining = true
    open()
    return true
  }

  /**
   * A span past the limit and late is counted once, under `limits.spans`: the limit is
   * checked first and alone keeps it out of any export, follow-up included (`count` false).
   * It still sends no trace headers, like every span started after the flush and not exported.
   */
  #markLate(span: Span, count: boolean): void {
    ;(this.#neverExported ??= new WeakSet()).add(span)
    if (!count) return
    this.stats.spans.late++
    this.stats.warnOnce(
      'late',
      'tracehop: a span started after its scope was flushed is not exported (counted in stats().spans.late); ' +
        'start it before the response, or inside the waitUntil work the scope was given, within flush.budgetMs',
    )
  }

  /** @internal Whether `span` may send trace headers: not when it will never be exported. */
  propagates(span: Span): boolean {
    return this.#neverExported === undefined || !this.#neverExported.has(span)
  }

  #track(span: Span): void {
    this.stats.spans.recorded++
    this.#spans.push(span)
    this.#open++
  }

  /** @internal */
  spanEnded(span: Span): void {
    if (span.isRecording && --this.#open === 0) this.#allEnded?.()
  }

  /**
   * @internal The context a span hands out; `destination` filters identity baggage by route
   * (undefined: ours by construction, every key; null: an unnamed destination, no routed key).
   */
  contextOf(span: Span, destination?: URL | null): TraceContext {
    const ctx: Writable<TraceContext> = {
      traceId: this.traceId,
      spanId: span.spanId,
      flags: this.flags,
      remote: false,
      decided: true,
      langsmith: {
        ...this.langsmithView,
        dottedOrder: span.dottedOrder,
        runId: span.runId,
        traceId: span.runTraceId,
        startTime: span.startTime,
      },
    }
    const baggage = filterOutgoing(this.#baggage, this.tracer.config.baggage, destination)
    if (this.traceState) ctx.traceState = this.traceState
    if (baggage) ctx.baggage = baggage
    // Lineage (Lambda's recursive-loop hop count) travels on whichever header was continued.
    const xray = this.parent?.xray ?? this.xray
    if (xray) ctx.xray = xray
    return ctx
  }

  /**
   * Ends the invocation: records the result on the root span (HTTP status; 5xx or an
   * error marks it failed), ends the root (or, with `until`, when `until` settles — a
   * streamed body), then flushes once. With a `waitUntil` the flush is handed to it and
   * the returned promise need not be awaited; without one, await it before returning.
   * Never throws and never rejects.
   */
  end(result?: InvocationResult, options?: { readonly until?: Promise<unknown> }): Promise<FlushReport> {
    if (this.#flushing) return this.#flushing
    const root = this.root
    try {
      recordResult(root, result)
    } catch {
      // Reading a hostile result object must not break the user's response.
    }
    const until = options?.until
    if (until)
      until.then(
        () => root.end(),
        (err: unknown) => root.error(err).end(),
      )
    else root.end()
    const flushing = this.#flush()
    this.#flushing = flushing
    if (this.#waitUntil === undefined) {
      if (!this.#awaited && freezesAfterResponse())
        this.stats.warnOnce(
          'no-wait-until',
          'tracehop: no waitUntil: spans may be lost at freeze (pass waitUntil to tracer.start, or await scope.end() before responding)',
        )
    } else {
      try {
        this.#waitUntil(flushing)
      } catch {
        // A waitUntil that throws (context already finished): the promise still runs.
      }
    }
    return flushing
  }

  async #flush(): Promise<FlushReport> {
    const budgetMs = this.#budgetMs
    const deadline = Date.now() + budgetMs
    this.#deadline = deadline
    // Spans ending inside the user's own waitUntil work or a streamed body are waited for,
    // keeping a third of the budget (at most 1 s) for the export itself.
    this.#waitEnd = deadline - Math.min(1000, budgetMs / 3)
    await this.#allSpansEnded()
    const forceEnded = this.#forceEnd(this.#spans)
    // Deferred work runs concurrently with the export, bounded by the same deadline.
    const work = this.#deferred
    this.#deferred = []
    let timer: ReturnType<typeof setTimeout> | undefined
    const deferred =
      work.length > 0 &&
      Promise.race([
        Promise.all(work.map((w) => new Promise((resolve) => resolve(w())).catch(noop))),
        new Promise((resolve) => {
          timer = setTimeout(resolve, Math.max(0, deadline - Date.now()))
        }),
      ])
    const report = await this.#export(forceEnded)
    await deferred
    clearTimeout(timer)
    return report
  }

  /** Resolves when every recording span has ended, or at `#waitEnd`. */
  #allSpansEnded(): Promise<void> {
    if (this.#open === 0) return Promise.resolve()
    return new Promise<void>((resolve) => {
      const done = (): void => {
        this.#allEnded = undefined
        clearTimeout(timer)
        resolve()
      }
      const timer = setTimeout(done, Math.max(0, this.#waitEnd - Date.now()))
      this.#allEnded = done
    })
  }

  /** Ends the spans still open at the deadline, marked `tracehop.force_ended`; returns how many. */
  #forceEnd(spans: readonly Span[]): number {
    let forceEnded = 0
    for (const span of spans) {
      if (!span.ended) {
        span.set('tracehop.force_ended', true).end()
        forceEnded++
      }
    }
    this.stats.spans.forceEnded += forceEnded
    return forceEnded
  }

  #submit(spans: readonly Span[]): Promise<SubmitOutcome> {
    return this.tracer.queue.submit(spans.map(toRecord), {
      deadline: this.#deadline,
      alone: this.#waitUntil === undefined,
    })
  }

  async #export(forceEnded: number): Promise<FlushReport> {
    this.#sealed = true
    const stats = this.stats.scopes
    let reason: FlushReport['reason'] = 'sampled'
    if (this.sampled) stats.sampled++
    else if (this.#failed && this.tracer.config.sampling.keepErrors) {
      reason = 'error'
      stats.keptForError++
      this.root.setAfterEnd('tracehop.kept_reason', 'error')
    } else {
      stats.notSampled++
      return {
        kept: false,
        reason: 'not-sampled',
        spans: this.#spans.length,
        exported: 0,
        dropped: 0,
        forceEnded,
      }
    }
    this.#kept = true
    // Spans started from here on (during the export) are sent by #drainLate before the flush resolves.
    this.#draining = true
    const snapshot = this.#spans.slice()
    const outcome = await this.#submit(snapshot)
    const report: Writable<FlushReport> = {
      kept: true,
      reason,
      spans: snapshot.length,
      exported: outcome.exported,
      dropped: outcome.dropped,
      forceEnded,
    }
    if (outcome.reason !== undefined) report.dropReason = outcome.reason
    const late = await this.#drainLate()
    report.spans += late.spans
    report.exported += late.exported
    report.dropped += late.dropped
    report.forceEnded += late.forceEnded
    if (report.dropReason === undefined && late.dropReason !== undefined) report.dropReason = late.dropReason
    return report
  }

  /**
   * Exports late spans (started after the snapshot) once they have ended, within the
   * flush's deadline, until none are left; `#draining` is cleared in the same turn as the
   * last check, so a span started later gets a follow-up export of its own.
   */
  async #drainLate(): Promise<Tally> {
    const tally: Tally = {
      spans: 0,
      exported: 0,
      dropped: 0,
      forceEnded: 0,
    }
    for (;;) {
      await this.#allSpansEnded()
      const late = this.#late
      if (late.length === 0) {
        this.#draining = false
        return tally
      }
      this.#late = []
      tally.forceEnded += this.#forceEnd(late)
      const outcome = await this.#submit(late)
      tally.spans += late.length
      tally.exported += outcome.exported
      tally.dropped += outcome.dropped
      if (outcome.reason !== undefined) tally.dropReason ??= outcome.reason
    }
  }
}

function noop(): void {}

function toRecord(span: Span): SpanRecord {
  return span.toRecord()
}

function recordResult(root: Span, result: InvocationResult): void {
  // A Response has a status and no `error` property.
  const r = result as { readonly status?: unknown; readonly error?: unknown } | undefined
  if (r === undefined) return
  // `'error' in`: a handler may throw `undefined` (a Response has no such property).
  if ('error' in r) root.error(r.error)
  const status = r.status
  if (typeof status === 'number') {
    root.set('http.response.status_code', status)
    // OTel HTTP semconv: a server span is an error for 5xx only (4xx is the client's fault),
    // and `error.type` is then the exception's type, else the status code.
    if (status >= 500) {
      if (root.get('error.type') === undefined) root.set('error.type', String(status))
      root.status(ERROR, `HTTP ${status}`)
    }
  }
}
