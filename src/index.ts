// tracehop: one distributed trace across every hop, with context as a value you hold.

export type { BaggageConfig } from './baggage-policy.js'
export type { CarrierGetter, CarrierInput, CarrierSetter, HeaderRecord } from './carrier.js'
export { recordCarrier, recordSetter } from './carrier.js'
export type { OnConfigError } from './config-error.js'
export type { DestinationRule } from './destinations.js'
export { TracehopError } from './errors.js'
export type { ConsoleExporterOptions } from './export/console-exporter.js'
export { consoleExporter } from './export/console-exporter.js'
export type { DropCount, DropReason, Exporter, ExportMeter, ExportResult } from './export/exporter.js'
export type { LangSmithExporterOptions } from './export/langsmith-exporter.js'
export { langsmith } from './export/langsmith-exporter.js'
export type { MemoryExporter } from './export/memory-exporter.js'
export { memoryExporter } from './export/memory-exporter.js'
export type { OtlpExporterOptions } from './export/otlp-exporter.js'
export { otlp } from './export/otlp-exporter.js'
export type { Limits } from './limits.js'
export { DEFAULT_LIMITS } from './limits.js'
export type { Incoming } from './propagation/extract.js'
export type { Ingress, PropagationFormat } from './propagation/formats.js'
export type { RedactConfig } from './redact-url.js'
export { DEFAULT_REDACTED_QUERY_PARAMS } from './redact-url.js'
export type { SamplingAlgorithm, SamplingConfig, SamplingRule } from './sampling/head-sampler.js'
export { isHeadSampled } from './sampling/is-head-sampled.js'
export { langsmithSampling } from './sampling/langsmith-rule.js'
export type { FlushReport, InvocationResult, ScopeOptions, WaitUntil } from './scope.js'
export { Scope } from './scope.js'
export type { SpanOptions } from './span.js'
export { Span } from './span.js'
export type {
  Attributes,
  AttributeValue,
  ExportBatch,
  Resource,
  SpanEvent,
  SpanLink,
  SpanRecord,
  SpanStatus,
} from './span-record.js'
export { SpanKind, StatusCode } from './span-record.js'
export type { InvalidInput, LimitHit, TracerStats } from './stats.js'
export type {
  Baggage,
  BaggageMember,
  LangSmithParent,
  TraceContext,
  TraceState,
  XRayHeader,
} from './trace-context.js'
export { TRACE_FLAG_RANDOM, TRACE_FLAG_SAMPLED } from './trace-context.js'
export type { FlushConfig, PropagationConfig, StartOptions, TracerConfig } from './tracer.js'
export { createTracer, Tracer } from './tracer.js'
