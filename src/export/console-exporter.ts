/** A development exporter: one compact line per span, to the console or any logger. */
import type { ExportBatch, SpanRecord } from '../span-record.js'
import type { Exporter, ExportResult } from './exporter.js'

export interface ConsoleExporterOptions {
  /** Where lines go; `console.log` by default. */
  readonly log?: (line: string) => void
}

const KINDS = ['INTERNAL', 'SERVER', 'CLIENT', 'PRODUCER', 'CONSUMER']
const STATUS = ['', ' OK', ' ERROR']

/**
 * `orchestrator 0af7651916cd43dd8448eb211c80319c b7ad6b7169203331<-00f067aa0ba902b7 SERVER "GET /" 12.31ms ERROR: boom`
 */
function line(service: string, s: SpanRecord): string {
  const ms = (s.endTime - s.startTime).toFixed(2)
  const status = `${STATUS[s.status.code] ?? ''}${s.status.message ? `: ${s.status.message}` : ''}`
  return `${service} ${s.traceId} ${s.spanId}<-${s.parentSpanId ?? 'root'} ${KINDS[s.kind] ?? s.kind} ${JSON.stringify(s.name)} ${ms}ms${status}`
}

/**
 * Creates an exporter that writes one line per finished span; for local development.
 *
 * @example
 * createTracer({ service: 'api', exporters: [consoleExporter()] })
 * // api 0af7651916cd43dd8448eb211c80319c b7ad6b7169203331<-root SERVER "GET /" 12.31ms
 */
export function consoleExporter(options?: ConsoleExporterOptions): Exporter {
  const log = options?.log ?? ((l: string) => console.log(l))
  return {
    name: 'console',
    async export(batch: ExportBatch): Promise<ExportResult> {
      const service = String(batch.resource.attributes['service.name'] ?? batch.scopeName)
      let exported = 0
      let detail: string | undefined
      for (const s of batch.spans) {
        try {
          log(line(service, s))
          exported++
        } catch (err) {
          detail ??= `log threw: ${err instanceof Error ? err.message : String(err)}`
        }
      }
      const dropped = batch.spans.length - exported
      if (dropped === 0) return { exported, dropped: 0, attempts: 1 }
      return { exported, dropped, reason: 'network', attempts: 1, ...(detail ? { detail } : {}) }
    },
  }
}
