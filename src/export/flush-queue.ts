import type { ExportBatch, Resource, SpanRecord } from '../span-record.js'
import type { StatsRecorder } from '../stats.js'
import type { DropReason, Exporter, ExportMeter, ExportResult } from './exporter.js'

export interface FlushQueueOptions {
  /**
   * How long an open batch waits for other scopes' spans before it is sent (ms). Scopes
   * whose flushes overlap share one export request; each scope's `waitUntil` holds the
   * batch it joined, so nothing waits for a request that may never come. 0 sends at once.
   */
  readonly windowMs: number
  /** A batch is sent as soon as it holds this many spans. */
  readonly maxBatchSpans: number
  /** Spans waiting in open batches, per isolate; beyond it new spans are dropped and counted. */
  readonly maxQueuedSpans: number
}

export interface SubmitOptions {
  /** ms since epoch (`Date.now()` clock): the submitting scope's flush is over by then. */
  readonly deadline: number
  /**
   * Send at once, in a batch no other scope joins: for a scope no `waitUntil` holds (the
   * caller awaits it, or nothing does). Its I/O may be cut off when its invocation ends, so
   * no other scope may depend on it; if it never settles it is counted as `no-wait-until`.
   */
  readonly alone: boolean
}

export interface SubmitOutcome {
  readonly exported: number
  readonly dropped: number
  readonly reason?: DropReason
}

/** Per exporter: `undefined` when it delivered some or all of the batch, else why it delivered none. */
type Outcomes = readonly (DropReason | undefined)[]

const PENDING = null

interface Batch {
  readonly spans: SpanRecord[]
  /** When the coalescing window closes. */
  readonly sendAt: number
  /** The earliest deadline of the scopes in it. */
  deadline: number
  readonly alone: boolean
  state: 'open' | 'sending' | 'settled'
  /** Per exporter, once accounted for in the counters. */
  readonly outcomes: (DropReason | undefined | typeof PENDING)[]
  /** Resolvers of the scopes waiting for it, each created in that scope's own invocation. */
  readonly waiting: ((outcomes: Outcomes) => void)[]
  /** Per exporter, once sent: whether it reported its requests through the meter. */
  readonly metered: boolean[]
}

/**
 * A batch still unsettled this long after its deadline has no live invocation left to
 * finish it (a scope without `waitUntil` whose isolate moved on): it is counted as lost.
 */
const ORPHANED_AFTER_MS = 1000
/** Exporters get their deadline this much early (at most), to report their own outcome before the cut. */
const SETTLE_MARGIN_MS = 50

/**
 * The per-tracer export queue: coalesces the spans of scopes that end close together into
 * one request per exporter, bounded in memory and in time, with every span accounted for.
 *
 * Nothing a scope waits for belongs to another invocation: every scope in a batch keeps
 * its own window timer (the first to fire sends the batch, in its own invocation) and its
 * own deadline timer (which cuts the batch, counting what was not delivered as `budget`).
 * On Workers an invocation's timers and I/O die with it, so a batch whose sender is gone
 * cannot hold the scopes after it.
 */
export class FlushQueue {
  readonly #exporters: readonly Exporter[]
  readonly #meta: { readonly resource: Resource; readonly scopeName: string; readonly scopeVersion: string }
  readonly #stats: StatsRecorder
  readonly #options: FlushQueueOptions
  /** The batch scopes may still join. */
  #open: Batch | undefined
  /** Every batch not settled yet (open or sending). */
  readonly #unsettled = new Set<Batch>()
  #queued = 0

  constructor(
    exporters: readonly Exporter[],
    meta: { readonly resource: Resource; readonly scopeName: string; readonly scopeVersion: string },
    stats: StatsRecorder,
    options: FlushQueueOptions,
  ) {
    this.#exporters = exporters
    this.#meta = meta
    this.#stats = stats
    this.#options = options
  }

  /**
   * Adds one scope's spans; resolves when the batch they joined has been exported, dropped,
   * or cut at `deadline`, whichever comes first. Never rejects.
   */
  async submit(spans: readonly SpanRecord[], options: SubmitOptions): Promise<SubmitOutcome> {
    const n = spans.length
    const exporters = this.#exporters
    const { maxBatchSpans, maxQueuedSpans, windowMs } = this.#options
    this.sweep()
    if (n === 0 || exporters.length === 0) return { exported: 0, dropped: 0 }
    if (this.#queued + n > maxQueuedSpans) {
      for (const e of exporters) this.#stats.countDropped('queue-full', n, `${e.name}: export queue full`)
      return { exported: 0, dropped: n * exporters.length, reason: 'queue-full' }
    }
    const { deadline, alone } = options
    const open = alone ? undefined : this.#open
    // A full batch is left to its own scopes' timers: sending it from here would tie its
    // request to this invocation, which does not wait for it.
    const batch =
      open !== undefined && open.spans.length + n <= maxBatchSpans
        ? open
        : this.#openBatch(deadline, alone ? 0 : windowMs, alone)
    batch.spans.push(...spans)
    this.#queued += n
    batch.deadline = Math.min(batch.deadline, deadline)
    let resolveOwn!: (outcomes: Outcomes) => void
    const settled = new Promise<Outcomes>((resolve) => {
      resolveOwn = resolve
    })
    batch.waiting.push(resolveOwn)
    let windowTimer: ReturnType<typeof setTimeout> | undefined
    if (alone || windowMs <= 0 || batch.spans.length >= maxBatchSpans) this.#send(batch)
    else windowTimer = setTimeout(() => this.#send(batch), Math.max(0, batch.sendAt - Date.now()))
    const deadlineTimer = setTimeout(
      () => {
        this.#cut(batch, 'budget')
        resolveOwn(batch.outcomes as Outcomes)
      },
      Math.max(0, deadline - Date.now()),
    )
    const outcomes = await settled
    clearTimeout(windowTimer)
    clearTimeout(deadlineTimer)
    let exported = 0
    let dropped = 0
    let reason: DropReason | undefined
    for (const o of outcomes) {
      if (o === undefined) exported += n
      else {
        dropped += n
        reason ??= o
      }
    }
    return reason === undefined ? { exported, dropped } : { exported, dropped, reason }
  }

  /**
   * Counts batches that no live invocation can finish any more (their scopes' timers and
   * I/O died with the invocation) as lost, and frees their room in the queue.
   */
  sweep(): void {
    if (this.#unsettled.size === 0) return
    const now = Date.now()
    for (const batch of this.#unsettled) {
      if (now > batch.deadline + ORPHANED_AFTER_MS) this.#cut(batch, batch.alone ? 'no-wait-until' : 'budget')
    }
  }

  #openBatch(deadline: number, windowMs: number, alone: boolean): Batch {
    const batch: Batch = {
      spans: [],
      sendAt: Date.now() + windowMs,
      deadline,
      alone,
      state: 'open',
      outcomes: this.#exporters.map(() => PENDING),
      waiting: [],
      metered: this.#exporters.map(() => false),
    }
    this.#unsettled.add(batch)
    if (!alone) this.#open = batch
    return batch
  }

  /** Sends `batch` (once), from whichever of its scopes gets there first. */
  #send(batch: Batch): void {
    if (batch.state !== 'open') return
    batch.state = 'sending'
    if (this.#open === batch) this.#open = undefined
    const record: ExportBatch = { ...this.#meta, spans: batch.spans }
    const deadline = batch.deadline
    // Exporters stop a little before the cut, so a well-behaved one reports its own outcome.
    const exportDeadline = deadline - Math.min(SETTLE_MARGIN_MS, Math.max(0, deadline - Date.now()) / 10)
    const counts = this.#stats.exports
    this.#exporters.forEach((exporter, i) => {
      // Requests are counted as they start, so the counts match what the receiver saw.
      const meter: ExportMeter = {
        onRequest(retry: boolean): void {
          batch.metered[i] = true
          counts.requests++
          if (retry) counts.retries++
        },
      }
      new Promise<ExportResult>((resolve) => resolve(exporter.export(record, exportDeadline, meter))).then(
        (result) => this.#settle(batch, i, result, undefined, batch.metered[i] === true),
        (err: unknown) => this.#settle(batch, i, undefined, err, batch.metered[i] === true),
      )
    })
  }

  /** Accounts for one exporter's outcome, unless the batch was cut first. */
  #settle(
    batch: Batch,
    i: number,
    result: ExportResult | undefined,
    thrown: unknown,
    metered: boolean,
  ): void {
    if (batch.outcomes[i] !== PENDING) return
    const exporter = this.#exporters[i]!
    const stats = this.#stats
    const n = batch.spans.length
    let dropped = n
    let exported = 0
    let reason: DropReason = 'encode'
    let detail: string
    if (result !== undefined) {
      if (!metered) {
        // An exporter that does not report its requests: its attempts stand for them.
        stats.exports.requests += result.attempts
        stats.exports.retries += Math.max(0, result.attempts - 1)
      }
      stats.spans.exported += exported = result.exported
      dropped = result.dropped
      reason = result.reason ?? 'network'
      detail = result.detail ? `: ${result.detail}` : ''
      if (dropped > 0 && result.drops !== undefined && result.drops.length > 0) {
        // Drops by reason (never attempted: budget; sent, unanswered: timeout).
        stats.exports.failed++
        for (const d of result.drops)
          stats.countDropped(d.reason, d.count, exporter.name + (d.detail ? `: ${d.detail}` : ''))
        batch.outcomes[i] = exported > 0 ? undefined : reason
        if (batch.outcomes.every((o) => o !== PENDING)) this.#finish(batch)
        return
      }
    } else {
      // Exporters must not throw; one that does still cannot reach the user's handler.
      detail = ` threw: ${thrown instanceof Error ? thrown.message : String(thrown)}`
    }
    if (dropped > 0) {
      stats.exports.failed++
      stats.countDropped(reason, dropped, exporter.name + detail)
    }
    batch.outcomes[i] = exported > 0 || !(dropped > 0) ? undefined : reason
    if (batch.outcomes.every((o) => o !== PENDING)) this.#finish(batch)
  }

  /** Ends `batch` now: what no exporter reported on yet is counted as dropped for `reason`. */
  #cut(batch: Batch, reason: 'budget' | 'no-wait-until'): void {
    if (batch.state === 'settled') return
    const n = batch.spans.length
    const sent = batch.state === 'sending'
    if (this.#open === batch) this.#open = undefined
    this.#exporters.forEach((exporter, i) => {
      if (batch.outcomes[i] !== PENDING) return
      batch.outcomes[i] = reason
      if (sent) {
        this.#stats.exports.failed++
        // An exporter that reports no requests and never settled: its one call was a request.
        if (batch.metered[i] !== true) this.#stats.exports.requests++
      }
      const detail =
        reason === 'no-wait-until'
          ? 'no waitUntil: the invocation ended before its export did'
          : sent
            ? 'export() did not settle within the flush budget'
            : 'the flush budget ended before the batch was sent'
      this.#stats.countDropped(reason, n, `${exporter.name}: ${detail}`)
    })
    // An orphan's scopes are gone with their invocation: resolving their promises from
    // this one would only make workerd warn about a cross-request resolution.
    this.#finish(batch, reason !== 'no-wait-until')
  }

  #finish(batch: Batch, notify = true): void {
    if (batch.state === 'settled') return
    batch.state = 'settled'
    this.#unsettled.delete(batch)
    this.#queued -= batch.spans.length
    const outcomes = batch.outcomes as Outcomes
    if (notify) for (const resolve of batch.waiting) resolve(outcomes)
  }
}
