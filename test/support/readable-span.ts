// A SpanRecord as the OpenTelemetry SDK would hold it (a ReadableSpan), for the reference
// serializers of @opentelemetry/otlp-transformer: the exporter tests and the export bench
// compare our encoders with theirs on the same spans.
import type { HrTime } from '@opentelemetry/api'
import { TraceState } from '@opentelemetry/core'
import { resourceFromAttributes } from '@opentelemetry/resources'
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base'
import type { ExportBatch, SpanRecord } from '../../src/span-record.js'

/** A record with its times as the exact whole µs it was built from. */
export interface TimedRecord {
  readonly record: SpanRecord
  readonly startUs: number
  readonly endUs: number
  /** One per event, in order. */
  readonly eventsUs: readonly number[]
}

function hr(us: number): HrTime {
  return [Math.floor(us / 1e6), (us % 1e6) * 1000]
}

/**
 * The OpenTelemetry SDK's view of the same spans, built from the exact µs integers (not
 * from our ms doubles), so the reference serializers check our time conversion too.
 */
export function toReadableSpans(built: readonly TimedRecord[], batch: ExportBatch): ReadableSpan[] {
  const resource = resourceFromAttributes(
    batch.resource.attributes as Record<string, string | number | boolean>,
  )
  const scope = { name: batch.scopeName, version: batch.scopeVersion }
  return built.map(({ record: s, startUs, endUs, eventsUs }) => {
    const traceState = s.traceState ? new TraceState(s.traceState) : undefined
    return {
      name: s.name,
      kind: s.kind,
      spanContext: () => ({
        traceId: s.traceId,
        spanId: s.spanId,
        traceFlags: s.flags,
        ...(traceState ? { traceState } : {}),
      }),
      ...(s.parentSpanId
        ? {
            parentSpanContext: {
              traceId: s.traceId,
              spanId: s.parentSpanId,
              traceFlags: s.flags,
              isRemote: s.remoteParent,
            },
          }
        : {}),
      startTime: hr(startUs),
      endTime: hr(endUs),
      duration: hr(endUs - startUs),
      status: s.status,
      attributes: s.attributes,
      links: s.links.map((l) => ({
        context: {
          traceId: l.traceId,
          spanId: l.spanId,
          traceFlags: l.flags ?? 0,
          ...(l.traceState ? { traceState: new TraceState(l.traceState) } : {}),
        },
        ...(l.attributes ? { attributes: l.attributes } : {}),
      })),
      events: s.events.map((e, i) => ({
        name: e.name,
        time: hr(eventsUs[i]!),
        ...(e.attributes ? { attributes: e.attributes } : {}),
      })),
      ended: true,
      resource,
      instrumentationScope: scope,
      droppedAttributesCount: s.droppedAttributes,
      droppedEventsCount: s.droppedEvents,
      droppedLinksCount: s.droppedLinks,
    } as ReadableSpan
  })
}
