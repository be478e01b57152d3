// tracehop/otel: the OpenTelemetry API over tracehop scopes.
export { otelTracer, TracehopTracer } from './tracer.js'
export { otelSpan, fromOtelSpan, TracehopOtelSpan } from './otel-span.js'
export { tracehopPropagator, traceContextFromOtel } from './propagator.js'
export type { PropagatorOptions } from './propagator.js'
export { registerGlobal, tracehopTracerProvider, withActiveSpan } from './register.js'
export type { RegisterOptions, Registration } from './register.js'
export { AsyncLocalStorageContextManager } from './context-manager.js'
export type { AsyncLocalStorageClass, AsyncLocalStorageLike } from './context-manager.js'
