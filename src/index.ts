// tracehop: one distributed trace across every hop, with context as a value you hold.
export { createTracer, Tracer } from './tracer.js'
export type { TracerConfig, PropagationConfig, FlushConfig, StartOptions } from './tracer.js'
export { Scope } from './scope.js'
export type { ScopeOptions, FlushReport, InvocationResult, WaitUntil } from './scope.js'
export { Span } from './span.js'
export type { SpanOptions } from './span.js'
export { SpanKind, StatusCode } from './span-record.js'
export type {
  Attributes,
  AttributeValue,
  SpanRecord,
  SpanLink,
  SpanEvent,
  SpanStatus,
  ExportBatch,
  Resource,
} from './span-record.js'
export { TRACE_FLAG_SAMPLED, TRACE_FLAG_RANDOM } from './trace-context.js'
export type { TraceContext, Baggage, BaggageMember, LangSmithParent, TraceState, XRayHeader } from './trace-context.js'
export type { CarrierGetter, CarrierSetter, CarrierInput, HeaderRecord } from './carrier.js'
export { recordCarrier, recordSetter } from './carrier.js'
export type { PropagationFormat, Ingress } from './propagation/formats.js'
export type { SamplingConfig, SamplingAlgorithm } from './sampling/head-sampler.js'
export type { DestinationRule } from './destinations.js'
export type { Limits } from './limits.js'
export { DEFAULT_LIMITS } from './limits.js'
export type { TracerStats, InvalidInput, LimitHit } from './stats.js'
export type { Exporter, ExportResult, DropReason } from './export/exporter.js'
export { TracehopError } from './errors.js'
export { createMemoryExporter } from './export/memory-exporter.js'
export type { MemoryExporter } from './export/memory-exporter.js'
export { bindSpan, findSpan, spanOf } from './registry.js'
export { tracedFetch } from './span.js'
export type { Incoming } from './propagation/extract.js'
export type { BaggageConfig } from './baggage-policy.js'
export { createOtlpExporter, otlp } from './export/otlp-exporter.js'
export type { OtlpExporterOptions } from './export/otlp-exporter.js'
export { createLangSmithExporter, langsmith } from './export/langsmith-exporter.js'
export type { LangSmithExporterOptions } from './export/langsmith-exporter.js'
export { createConsoleExporter, consoleExporter } from './export/console-exporter.js'
export type { ConsoleExporterOptions } from './export/console-exporter.js'
export { langsmithSampling } from './sampling/langsmith-rule.js'
export type { SamplingRule } from './sampling/head-sampler.js'
