import type { ExportBatch, Resource, SpanRecord } from '../span-record.js'
import type { StatsRecorder } from '../stats.js'
import type { DropReason, Exporter } from './exporter.js'

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

export interface SubmitOutcome {
  readonly exported: number
  readonly dropped: number
  readonly reason?: DropReason
}

interface OpenBatch {
  readonly spans: SpanRecord[]
  deadline: number
  timer?: ReturnType<typeof setTimeout>
  readonly done: Promise<readonly (DropReason | undefined)[]>
  /** Sends the batch (once). */
  send?: () => void
}

/**
 * The per-tracer export queue: coalesces the spans of scopes that end close together
 * into one request per exporter, bounded in memory, with every span accounted for.
 */
export class FlushQueue {
  readonly #exporters: readonly Exporter[]
  readonly #meta: { readonly resource: Resource; readonly scopeName: string; readonly scopeVersion: string }
  readonly #stats: StatsRecorder
  readonly #options: FlushQueueOptions
  #open: OpenBatch | undefined
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

  /** Adds one scope's spans; resolves when the batch they joined has been exported (or dropped). */
  async submit(spans: readonly SpanRecord[], deadline: number): Promise<SubmitOutcome> {
    const n = spans.length
    const exporters = this.#exporters
    const { maxBatchSpans, maxQueuedSpans, windowMs } = this.#options
    if (n === 0 || exporters.length === 0) return { exported: 0, dropped: 0 }
    if (this.#queued + n > maxQueuedSpans) {
      for (const e of exporters) this.#stats.countDropped('queue-full', n, `${e.name}: export queue full`)
      return { exported: 0, dropped: n * exporters.length, reason: 'queue-full' }
    }
    let batch = this.#open
    if (batch === undefined || batch.spans.length + n > maxBatchSpans) {
      batch?.send?.()
      batch = this.#openBatch(deadline, windowMs)
    }
    batch.spans.push(...spans)
    this.#queued += n
    batch.deadline = Math.min(batch.deadline, deadline)
    if (batch.spans.length >= maxBatchSpans || windowMs <= 0) batch.send?.()
    let exported = 0
    let dropped = 0
    let reason: DropReason | undefined
    for (const o of await batch.done) {
      if (o === undefined) exported += n
      else {
        dropped += n
        reason ??= o
      }
    }
    return reason === undefined ? { exported, dropped } : { exported, dropped, reason }
  }

  #openBatch(deadline: number, windowMs: number): OpenBatch {
    let send!: () => void
    const batch: OpenBatch = {
      spans: [],
      deadline,
      done: new Promise((resolve) => {
        send = () => {
          if (this.#open === batch) this.#open = undefined
          clearTimeout(batch.timer)
          delete batch.send
          this.#exportBatch(batch.spans, batch.deadline).then(resolve)
        }
      }),
    }
    batch.send = send
    this.#open = batch
    if (windowMs > 0) batch.timer = setTimeout(send, windowMs)
    return batch
  }

  /** Per exporter, why it delivered none of the spans (`undefined`: some or all arrived). */
  async #exportBatch(
    spans: readonly SpanRecord[],
    deadline: number,
  ): Promise<readonly (DropReason | undefined)[]> {
    const batch: ExportBatch = { ...this.#meta, spans }
    const n = spans.length
    const stats = this.#stats
    const counts = stats.exports
    const outcomes = await Promise.all(
      this.#exporters.map(async (exporter): Promise<DropReason | undefined> => {
        let dropped = n
        let exported = 0
        let reason: DropReason = 'encode'
        let detail: string
        // Requests are counted as they start, so the counts match what the receiver saw.
        let metered = false
        const meter = {
          onRequest(retry: boolean): void {
            metered = true
            counts.requests++
            if (retry) counts.retries++
          },
        }
        try {
          const r = await exporter.export(batch, deadline, meter)
          if (!metered) {
            // An exporter that does not report its requests: its attempts stand for them.
            counts.requests += r.attempts
            counts.retries += Math.max(0, r.attempts - 1)
          }
          stats.spans.exported += exported = r.exported
          dropped = r.dropped
          if (!(dropped > 0)) return undefined
          reason = r.reason ?? 'network'
          if (r.drops !== undefined && r.drops.length > 0) {
            counts.failed++
            for (const d of r.drops)
              stats.countDropped(d.reason, d.count, exporter.name + (d.detail ? `: ${d.detail}` : ''))
            return exported > 0 ? undefined : reason
          }
          detail = r.detail ? `: ${r.detail}` : ''
        } catch (err) {
          // Exporters must not throw; one that does still cannot reach the user's handler.
          detail = ` threw: ${err instanceof Error ? err.message : String(err)}`
        }
        counts.failed++
        stats.countDropped(reason, dropped, exporter.name + detail)
        return exported > 0 ? undefined : reason
      }),
    )
    this.#queued -= n
    return outcomes
  }
}
