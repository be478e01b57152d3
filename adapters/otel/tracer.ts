import {
  type Context,
  context,
  INVALID_SPAN_CONTEXT,
  type Span as OtelSpan,
  type SpanOptions as OtelSpanOptions,
  type Tracer as OtelTracer,
  trace,
} from '@opentelemetry/api'
import type { Span } from '../../src/index.js'
import { toSpanOptions } from './convert.js'
import { fromOtelSpan, TracehopOtelSpan } from './otel-span.js'

/** A caller's context argument, or the active one when it is not a Context (never throws). */
function contextOr(ctx: unknown): Context {
  return ctx !== null && typeof ctx === 'object' && typeof (ctx as Context).getValue === 'function'
    ? (ctx as Context)
    : context.active()
}

/**
 * An `@opentelemetry/api` Tracer whose spans become tracehop spans. Bound to a span (from
 * `otelTracer(span)`): new spans join that span's scope, under the span found in the
 * context given (or the active one) when it belongs to the same scope, else under the
 * bound span. Unbound (the global provider of `registerGlobal`): under whichever tracehop
 * span the context holds, and a non-recording span when it holds none.
 */
export class TracehopTracer implements OtelTracer {
  private readonly bound: Span | undefined
  private readonly scopeName: string | undefined

  /** @internal Use {@link otelTracer} or `registerGlobal()`. */
  constructor(bound: Span | undefined, scopeName: string | undefined) {
    this.bound = bound
    this.scopeName = scopeName
  }

  startSpan(name: string, options?: OtelSpanOptions, ctx?: Context): OtelSpan {
    const bound = this.bound
    const parentContext = contextOr(ctx)
    let parent: Span | undefined
    const inContext = fromOtelSpan(trace.getSpan(parentContext))
    if (options?.root === true) {
      // A new trace cannot start inside a scope: a root request lands under the bound span.
      parent = bound
    } else if (inContext !== undefined && (bound === undefined || inContext.scope === bound.scope)) {
      parent = inContext
    } else parent = bound
    if (parent === undefined) {
      // No tracehop span to join (global provider, no scope active): record nothing but
      // keep propagating whatever context there is, as the OTel no-op tracer does (a root
      // request propagates nothing: it asked not to continue the context).
      const foreign = options?.root === true ? undefined : trace.getSpan(parentContext)
      return trace.wrapSpanContext(foreign?.spanContext() ?? INVALID_SPAN_CONTEXT)
    }
    const span = parent.startChild(
      String(name),
      toSpanOptions(typeof options === 'object' ? options : undefined),
    )
    if (this.scopeName !== undefined) span.set('otel.scope.name', this.scopeName)
    return new TracehopOtelSpan(span)
  }

  startActiveSpan<F extends (span: OtelSpan) => unknown>(name: string, fn: F): ReturnType<F>
  startActiveSpan<F extends (span: OtelSpan) => unknown>(
    name: string,
    options: OtelSpanOptions,
    fn: F,
  ): ReturnType<F>
  startActiveSpan<F extends (span: OtelSpan) => unknown>(
    name: string,
    options: OtelSpanOptions,
    context: Context,
    fn: F,
  ): ReturnType<F>
  startActiveSpan<F extends (span: OtelSpan) => unknown>(
    name: string,
    a: F | OtelSpanOptions,
    b?: F | Context,
    c?: F,
  ): ReturnType<F> {
    let options: OtelSpanOptions | undefined
    let ctx: Context | undefined
    let fn: F | undefined
    if (typeof a === 'function') fn = a
    else if (typeof b === 'function') {
      options = a
      fn = b
    } else {
      options = a
      ctx = b
      fn = c
    }
    // No callback: nothing would end the span, so none is started.
    if (typeof fn !== 'function') return undefined as ReturnType<F>
    const parentContext = contextOr(ctx)
    const span = this.startSpan(name, options, parentContext)
    // With a context manager registered, code inside `fn` sees `span` as active; without
    // one (edge runtimes), spans it starts go under the bound span unless given a context.
    return context.with(
      trace.setSpan(parentContext, span),
      fn as (s: OtelSpan) => unknown,
      undefined,
      span,
    ) as ReturnType<F>
  }
}

/**
 * An `@opentelemetry/api` `Tracer` bound to `span`'s scope, for libraries instrumented
 * with OpenTelemetry (the Vercel AI SDK's `experimental_telemetry`, …): the spans they
 * start become tracehop spans of this scope — exported, sampled and propagated with it —
 * parented to the span in the context they pass when it is one of this scope's, else to
 * `span`. No global registration and no AsyncLocalStorage needed.
 *
 * @example
 * const result = await generateText({
 *   model, prompt,
 *   experimental_telemetry: { isEnabled: true, tracer: otelTracer(traceOf(request)) },
 * })
 */
export function otelTracer(span: Span, options?: { readonly scopeName?: string }): OtelTracer {
  return new TracehopTracer(span, options?.scopeName)
}
