import type { ExportBatch, SpanRecord } from '../span-record.js'
import type { Exporter, ExportResult } from './exporter.js'

/** An exporter that keeps what it receives: for your own tests and for local inspection. */
export interface MemoryExporter extends Exporter {
  /** Every span received, in arrival order. */
  spans(): readonly SpanRecord[]
  /** Every batch received (one per export request). */
  batches(): readonly ExportBatch[]
  clear(): void
}

/**
 * Creates an in-memory exporter, bounded to `maxSpans` (oldest dropped first).
 *
 * @example
 * const memory = memoryExporter()
 * const tracer = createTracer({ service: 'test', exporters: [memory] })
 * await tracer.start().end()
 * memory.spans().length // 1
 */
export function memoryExporter(options?: { readonly maxSpans?: number }): MemoryExporter {
  const max = options?.maxSpans ?? 100_000
  let spans: SpanRecord[] = []
  let batches: ExportBatch[] = []
  return {
    name: 'memory',
    async export(batch: ExportBatch): Promise<ExportResult> {
      batches.push(batch)
      for (const s of batch.spans) spans.push(s)
      if (spans.length > max) spans = spans.slice(spans.length - max)
      if (batches.length > max) batches = batches.slice(batches.length - max)
      return { exported: batch.spans.length, dropped: 0, attempts: 1 }
    },
    spans: () => spans,
    batches: () => batches,
    clear() {
      spans = []
      batches = []
    },
  }
}
