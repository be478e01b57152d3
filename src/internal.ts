// tracehop/internal: the one entry the adapters (adapters/**) import core helpers from,
// besides the public `index`. Not a public subpath: nothing here is part of the API, and
// a helper is added here only when an adapter needs it (enforced by biome.json).

export { buildOrUntraced, checkOnConfigError } from './config-error.js'
export {
  CALL_MARKER,
  ENVELOPE_KEY,
  ENVELOPE_VERSION,
  readContext,
  takeCallMarker,
  unwrapEnvelope,
  wrapEnvelope,
} from './envelope.js'
export { clientErrorType, exceptionAttributes } from './exception.js'
export { installExportFetch } from './export/export-fetch.js'
export type { FetchLike } from './export/retry.js'
export { BAGGAGE_HEADER, formatBaggage, parseBaggage } from './propagation/baggage.js'
export { extract } from './propagation/extract.js'
export type { PropagationHooks, ResolvedFormats } from './propagation/formats.js'
export { resolveFormats } from './propagation/formats.js'
export { inject } from './propagation/inject.js'
export { LANGSMITH_REPLICAS_KEY } from './propagation/langsmith-baggage.js'
export { LANGSMITH_TRACE_HEADER } from './propagation/langsmith-trace.js'
export { TRACEPARENT_HEADER } from './propagation/traceparent.js'
export {
  deleteTracestateMember,
  formatTracestate,
  getTracestateMember,
  parseTracestate,
  setTracestateMember,
  TRACESTATE_HEADER,
} from './propagation/tracestate.js'
export { parseXRay, XRAY_HEADER, xrayRootToTraceId } from './propagation/xray.js'
export { redactQuery, redactUrl } from './redact-url.js'
export { bindSpan, findSpan, spanOf } from './registry.js'
export type { OnSettled } from './settle.js'
export { endScope, settle } from './settle.js'
export { tracedFetch } from './span.js'
export type { StatsRecorder } from './stats.js'
export type { Writable } from './writable.js'
