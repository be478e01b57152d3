import { context, propagation, type TextMapPropagator, type TracerProvider, trace } from '@opentelemetry/api'
import type { Span } from '../../src/index.js'
import {
  type AsyncLocalStorageClass,
  resolveAsyncLocalStorage,
  TracehopContextManager,
} from './context-manager.js'
import { otelSpan } from './otel-span.js'
import { tracehopPropagator } from './propagator.js'
import { TracehopTracer } from './tracer.js'

/** Options of {@link registerGlobal}. */
export interface RegisterOptions {
  /** Register the tracehop `TracerProvider` as the global one. Default true. */
  readonly tracerProvider?: boolean
  /** The global propagator: tracehop's by default, another one, or `false` to leave it alone. */
  readonly propagator?: TextMapPropagator | false
  /**
   * Opt-in: a context manager over `AsyncLocalStorage`, so instrumentations that rely on
   * the active context nest their spans. `true` uses `globalThis.AsyncLocalStorage` (and
   * throws if the runtime has none); `{ AsyncLocalStorage }` uses the class you pass.
   * Default false: no AsyncLocalStorage is touched.
   */
  readonly contextManager?: boolean | { readonly AsyncLocalStorage: AsyncLocalStorageClass }
}

/** What {@link registerGlobal} registered (OTel refuses a second global of each kind). */
export interface Registration {
  readonly tracerProvider: boolean
  readonly propagator: boolean
  readonly contextManager: boolean
  /** Removes what was registered here (the OTel API's `disable()` for each). */
  unregister(): void
}

/**
 * A `TracerProvider` whose tracers start tracehop spans under whichever tracehop span
 * the (explicit or active) OTel context holds. With none, they return non-recording spans.
 *
 * @example
 * trace.setGlobalTracerProvider(tracehopTracerProvider())
 */
export function tracehopTracerProvider(): TracerProvider {
  const tracers = new Map<string, TracehopTracer>()
  return {
    getTracer(name: string, version?: string): TracehopTracer {
      const key = `${name}@${version ?? ''}`
      let t = tracers.get(key)
      if (t === undefined) {
        t = new TracehopTracer(undefined, name)
        tracers.set(key, t)
      }
      return t
    },
  }
}

/**
 * Registers tracehop with the OpenTelemetry API globals, for runtimes that have
 * AsyncLocalStorage (Node, Workers with `nodejs_compat`) and code that uses
 * `trace.getTracer()` and `propagation` unchanged: a tracer provider whose spans join the
 * tracehop scope found in the context, the tracehop propagator, and — only if you opt
 * in — a context manager over AsyncLocalStorage. Make a span active with
 * {@link withActiveSpan}. Configuration errors (no AsyncLocalStorage) throw a
 * `TracehopError`.
 *
 * @example
 * import { AsyncLocalStorage } from 'node:async_hooks'
 * registerGlobal({ contextManager: { AsyncLocalStorage } })
 * await withActiveSpan(scope.root, () => instrumentedLibrary.call())
 */
export function registerGlobal(options?: RegisterOptions): Registration {
  const cm = options?.contextManager
  // Resolve first: a configuration error must not leave half of the globals registered.
  const manager =
    cm === undefined || cm === false
      ? undefined
      : new TracehopContextManager(resolveAsyncLocalStorage(cm === true ? undefined : cm.AsyncLocalStorage))
  const provider = options?.tracerProvider === false ? undefined : tracehopTracerProvider()
  const propagator = options?.propagator === false ? undefined : (options?.propagator ?? tracehopPropagator())
  const registered = {
    contextManager: manager !== undefined && context.setGlobalContextManager(manager),
    tracerProvider: provider !== undefined && trace.setGlobalTracerProvider(provider),
    propagator: propagator !== undefined && propagation.setGlobalPropagator(propagator),
  }
  return {
    ...registered,
    unregister(): void {
      if (registered.tracerProvider) trace.disable()
      if (registered.propagator) propagation.disable()
      if (registered.contextManager) context.disable()
    },
  }
}

/**
 * Runs `fn` with `span` as the active OpenTelemetry span (through the registered context
 * manager; without one, `fn` simply runs). For code that calls `trace.getTracer()` and
 * relies on the active context.
 *
 * @example
 * const answer = await withActiveSpan(traceOf(request), () => agent.run(input))
 */
export function withActiveSpan<T>(span: Span, fn: () => T): T {
  return context.with(trace.setSpan(context.active(), otelSpan(span)), fn)
}
