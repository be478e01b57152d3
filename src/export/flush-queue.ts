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
  timer: ReturnType<typeof setTimeout> | undefined
  readonly done: Promise<readonly ExporterOutcome[]>
  send: () => void
}

interface ExporterOutcome {
  readonly ok: boolean
  readonly reason?: DropReason
}

/**
 * The per-tracer export queue: coalesces the spans of scopes that end close together
 * into one request per exporter, bounded in memory, with every span accounted for.
 */
export class FlushQueue {
  private open: OpenBatch | undefined
  private queued = 0

  constructor(
    private readonly exporters: readonly Exporter[],
    private readonly meta: {
      readonly resource: Resource
      readonly scopeName: string
      readonly scopeVersion: string
    },
    private readonly stats: StatsRecorder,
    private readonly options: FlushQueueOptions,
  ) {}

  /** Adds one scope's spans; resolves when the batch they joined has been exported (or dropped). */
  async submit(spans: readonly SpanRecord[], deadline: number): Promise<SubmitOutcome> {
    const n = spans.length
    if (n === 0 || this.exporters.length === 0) return { exported: 0, dropped: 0 }
    if (this.queued + n > this.options.maxQueuedSpans) {
      for (const e of this.exporters) this.stats.countDropped('queue-full', n, `${e.name}: export queue full`)
      return { exported: 0, dropped: n * this.exporters.length, reason: 'queue-full' }
    }
    let batch = this.open
    if (batch === undefined || batch.spans.length + n > this.options.maxBatchSpans) {
      if (batch) batch.send()
      batch = this.openBatch(deadline)
    }
    for (const s of spans) batch.spans.push(s)
    this.queued += n
    batch.deadline = Math.min(batch.deadline, deadline)
    if (batch.spans.length >= this.options.maxBatchSpans || this.options.windowMs <= 0) batch.send()
    const outcomes = await batch.done
    let exported = 0
    let dropped = 0
    let reason: DropReason | undefined
    for (const o of outcomes) {
      if (o.ok) exported += n
      else {
        dropped += n
        reason ??= o.reason
      }
    }
    return reason === undefined ? { exported, dropped } : { exported, dropped, reason }
  }

  private openBatch(deadline: number): OpenBatch {
    let resolve!: (o: readonly ExporterOutcome[]) => void
    const done = new Promise<readonly ExporterOutcome[]>((r) => {
      resolve = r
    })
    const batch: OpenBatch = {
      spans: [],
      deadline,
      timer: undefined,
      done,
      send: () => {
        if (this.open === batch) this.open = undefined
        if (batch.timer !== undefined) clearTimeout(batch.timer)
        batch.timer = undefined
        batch.send = () => {}
        this.exportBatch(batch.spans, batch.deadline).then(resolve)
      },
    }
    this.open = batch
    if (this.options.windowMs > 0) batch.timer = setTimeout(() => batch.send(), this.options.windowMs)
    return batch
  }

  private async exportBatch(
    spans: readonly SpanRecord[],
    deadline: number,
  ): Promise<readonly ExporterOutcome[]> {
    const batch: ExportBatch = { ...this.meta, spans }
    const n = spans.length
    const outcomes = await Promise.all(
      this.exporters.map(async (exporter): Promise<ExporterOutcome> => {
        this.stats.exportRequests++
        try {
          const result = await exporter.export(batch, deadline)
          if (result.attempts > 1) this.stats.exportRetries += result.attempts - 1
          this.stats.spansExported += result.exported
          if (result.dropped > 0) {
            this.stats.exportFailed++
            const reason = result.reason ?? 'network'
            this.stats.countDropped(
              reason,
              result.dropped,
              `${exporter.name}${result.detail ? `: ${result.detail}` : ''}`,
            )
            return result.exported > 0 ? { ok: true } : { ok: false, reason }
          }
          return { ok: true }
        } catch (err) {
          // Exporters must not throw; one that does still cannot reach the user's handler.
          this.stats.exportFailed++
          this.stats.countDropped(
            'encode',
            n,
            `${exporter.name} threw: ${err instanceof Error ? err.message : String(err)}`,
          )
          return { ok: false, reason: 'encode' }
        }
      }),
    )
    this.queued -= n
    return outcomes
  }
}
