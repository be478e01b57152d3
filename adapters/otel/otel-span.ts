import {
  createTraceState,
  type Exception,
  type Link,
  type Attributes as OtelAttributes,
  type Span as OtelSpan,
  type SpanAttributeValue,
  type SpanContext,
  type SpanStatus,
  type TimeInput,
} from '@opentelemetry/api'
import { type Attributes, type Span, StatusCode } from '../../src/index.js'
import { toAttributes, toAttributeValue, toEpochMs, toSpanLink } from './convert.js'

function isTimeInput(x: unknown): x is TimeInput {
  return typeof x === 'number' || Array.isArray(x) || x instanceof Date
}

/**
 * The OpenTelemetry API's `Span` over a tracehop span: what OTel-instrumented code holds.
 * Every call writes through to the tracehop span, so it is exported with the scope.
 */
export class TracehopOtelSpan implements OtelSpan {
  /** The tracehop span behind this OTel span. */
  readonly span: Span
  private ctx: SpanContext | undefined

  /** @internal Use {@link otelSpan} or a tracer from `otelTracer()`. */
  constructor(span: Span) {
    this.span = span
  }

  spanContext(): SpanContext {
    if (this.ctx !== undefined) return this.ctx
    const scope = this.span.scope
    const state = scope.traceStateHeader
    this.ctx = {
      traceId: this.span.traceId,
      spanId: this.span.spanId,
      traceFlags: scope.flags,
      isRemote: false,
      ...(state !== undefined ? { traceState: createTraceState(state) } : {}),
    }
    return this.ctx
  }

  // OTel API: an attribute key MUST be a non-empty string; the SDK drops the others.
  setAttribute(key: string, value: SpanAttributeValue): this {
    const v = toAttributeValue(value)
    if (v !== undefined && typeof key === 'string' && key !== '') this.span.set(key, v)
    return this
  }

  setAttributes(attributes: OtelAttributes): this {
    for (const key in attributes) {
      const v = toAttributeValue(attributes[key])
      if (v !== undefined && key !== '') this.span.set(key, v)
    }
    return this
  }

  addEvent(name: string, attributesOrStartTime?: OtelAttributes | TimeInput, startTime?: TimeInput): this {
    let attributes: Attributes | undefined
    let time: TimeInput | undefined = startTime
    if (isTimeInput(attributesOrStartTime)) time = attributesOrStartTime
    else attributes = toAttributes(attributesOrStartTime)
    this.span.event(String(name), attributes, toEpochMs(time))
    return this
  }

  addLink(link: Link): this {
    const l = toSpanLink(link)
    if (l !== undefined) this.span.link(l)
    return this
  }

  addLinks(links: Link[]): this {
    if (Array.isArray(links)) for (const link of links) this.addLink(link)
    return this
  }

  setStatus(status: SpanStatus): this {
    const code = status?.code
    // OTel API: "An attempt to set value Unset SHOULD be ignored."
    if (code === StatusCode.OK || code === StatusCode.ERROR) {
      this.span.status(code, typeof status.message === 'string' ? status.message : undefined)
    }
    return this
  }

  updateName(name: string): this {
    if (!this.span.ended && typeof name === 'string') this.span.name = name
    return this
  }

  end(endTime?: TimeInput): void {
    this.span.end(toEpochMs(endTime))
  }

  isRecording(): boolean {
    return this.span.isRecording && !this.span.ended
  }

  /**
   * An `exception` event (OTel semantic conventions). As in the OTel SDK it does not set
   * the status: instrumentations call `setStatus` themselves.
   */
  recordException(exception: Exception, time?: TimeInput): void {
    const attributes: Attributes = {}
    if (typeof exception === 'string') attributes['exception.message'] = exception
    else if (exception !== null && typeof exception === 'object') {
      if (exception.code !== undefined && exception.code !== null)
        attributes['exception.type'] = String(exception.code)
      else if (typeof exception.name === 'string') attributes['exception.type'] = exception.name
      if (typeof exception.message === 'string') attributes['exception.message'] = exception.message
      if (typeof exception.stack === 'string') attributes['exception.stacktrace'] = exception.stack
    }
    // As the SDK: no event for an exception that has neither a type nor a message.
    if (attributes['exception.type'] === undefined && attributes['exception.message'] === undefined) return
    this.span.event('exception', attributes, toEpochMs(time))
  }
}

const wrappers = new WeakMap<Span, TracehopOtelSpan>()

/**
 * The OpenTelemetry `Span` for a tracehop span (the same object each time), to put in an
 * OTel `Context` with `trace.setSpan(ctx, otelSpan(span))`.
 *
 * @example
 * const ctx = trace.setSpan(context.active(), otelSpan(traceOf(request)))
 * tracer.startSpan('work', {}, ctx) // a child of the request's span
 */
export function otelSpan(span: Span): OtelSpan {
  let w = wrappers.get(span)
  if (w === undefined) {
    w = new TracehopOtelSpan(span)
    wrappers.set(span, w)
  }
  return w
}

/**
 * The tracehop span behind an OTel span, if it is one of ours (else `undefined`).
 *
 * @example
 * const span = fromOtelSpan(trace.getSpan(ctx))
 */
export function fromOtelSpan(span: OtelSpan | undefined): Span | undefined {
  return span instanceof TracehopOtelSpan ? span.span : undefined
}
