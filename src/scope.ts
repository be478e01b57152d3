import { baggageAttributes, filterIncoming, filterOutgoing } from './baggage-policy.js'
import { now } from './clock.js'
import { hexToUuid, uuidv7Hex } from './ids.js'
import type { Limits } from './limits.js'
import type { Incoming } from './propagation/extract.js'
import { formatTracestate } from './propagation/tracestate.js'
import { decideHead } from './sampling/head-sampler.js'
import { ERROR, SERVER, Span, type SpanOptions } from './span.js'
import type { Attributes, SpanKind, SpanRecord } from './span-record.js'
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

type Writable<T> = { -readonly [K in keyof T]: T[K] }

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
  #budgetMs: number
  #spans: Span[] = []
  #open = 0
  #allEnded: (() => void) | undefined
  #failed = false
  #flushing: Promise<FlushReport> | undefined
  /** Set when the flush takes its snapshot: spans started later cannot be exported. */
  #sealed = false
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
    this.#waitUntil = options?.waitUntil
    this.origin = options?.origin
    this.#budgetMs = options?.flushBudgetMs ?? config.flush.budgetMs
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
    const recording =
      this.#spans.length < (this.sampled ? this.limits.spansPerScope : this.limits.spansPerUnsampledScope) &&
      !this.#sealed
    if (!recording) this.stats.countLimit('spans')
    const span = new Span(this, name, parent, options, undefined, recording)
    if (recording) this.#track(span)
    return span
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

  /** @internal The context a span hands out; `destination` filters identity baggage by route. */
  contextOf(span: Span, destination?: URL): TraceContext {
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
    try {
      this.#waitUntil?.(flushing)
    } catch {
      // A waitUntil that throws (context already finished): the promise still runs.
    }
    return flushing
  }

  async #flush(): Promise<FlushReport> {
    const budgetMs = this.#budgetMs
    const deadline = Date.now() + budgetMs
    let forceEnded = 0
    if (this.#open > 0) {
      // Spans ending inside the user's own waitUntil work or a streamed body: wait for
      // them, keeping a third of the budget (at most 1 s) for the export itself.
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.max(0, budgetMs - Math.min(1000, budgetMs / 3)))
        this.#allEnded = () => {
          clearTimeout(timer)
          resolve()
        }
      })
      this.#allEnded = undefined
      for (const span of this.#spans) {
        if (!span.ended) {
          span.set('tracehop.force_ended', true).end()
          forceEnded++
        }
      }
      this.stats.spans.forceEnded += forceEnded
    }
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
    const report = await this.#export(deadline, forceEnded)
    await deferred
    clearTimeout(timer)
    return report
  }

  async #export(deadline: number, forceEnded: number): Promise<FlushReport> {
    this.#sealed = true
    const stats = this.stats.scopes
    const spans = this.#spans.length
    let reason: FlushReport['reason'] = 'sampled'
    if (this.sampled) stats.sampled++
    else if (this.#failed && this.tracer.config.sampling.keepErrors) {
      reason = 'error'
      stats.keptForError++
      this.root.setAfterEnd('tracehop.kept_reason', 'error')
    } else {
      stats.notSampled++
      return { kept: false, reason: 'not-sampled', spans, exported: 0, dropped: 0, forceEnded }
    }
    const outcome = await this.tracer.queue.submit(this.#spans.map(toRecord), deadline)
    const report: Writable<FlushReport> = {
      kept: true,
      reason,
      spans,
      exported: outcome.exported,
      dropped: outcome.dropped,
      forceEnded,
    }
    if (outcome.reason !== undefined) report.dropReason = outcome.reason
    return report
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
      root.setStatus(ERROR, `HTTP ${status}`)
    }
  }
}
