// tracehop/otel: the OpenTelemetry API over tracehop scopes.

export type { AsyncLocalStorageClass, AsyncLocalStorageLike } from './context-manager.js'
export { TracehopContextManager } from './context-manager.js'
export { fromOtelSpan, otelSpan, TracehopOtelSpan } from './otel-span.js'
export type { PropagatorOptions } from './propagator.js'
export { traceContextFromOtel, tracehopPropagator } from './propagator.js'
export type { RegisterOptions, Registration } from './register.js'
export { registerGlobal, tracehopTracerProvider, withActiveSpan } from './register.js'
export { otelTracer, TracehopTracer } from './tracer.js'
