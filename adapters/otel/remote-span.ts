/**
 * The non-recording OTel span `extract` puts in the context for a remote parent, carrying
 * the whole tracehop context it was read from (LangSmith parent, baggage, tracestate list).
 * One object instead of OTel's `NonRecordingSpan` plus a second context entry: every
 * extract would otherwise copy the context twice.
 */
import type {
  Exception,
  Link,
  Attributes as OtelAttributes,
  Span as OtelSpan,
  SpanAttributeValue,
  SpanContext,
  SpanStatus,
  TimeInput,
} from '@opentelemetry/api'
import type { TraceContext } from '../../src/index.js'

export class RemoteSpan implements OtelSpan {
  /** What tracehop read from the carrier: the same span as `spanContext()`, and more. */
  readonly traceContext: TraceContext
  readonly #spanContext: SpanContext

  constructor(spanContext: SpanContext, traceContext: TraceContext) {
    this.#spanContext = spanContext
    this.traceContext = traceContext
  }

  spanContext(): SpanContext {
    return this.#spanContext
  }
  setAttribute(_key: string, _value: SpanAttributeValue): this {
    return this
  }
  setAttributes(_attributes: OtelAttributes): this {
    return this
  }
  addEvent(_name: string, _attributesOrStartTime?: OtelAttributes | TimeInput, _startTime?: TimeInput): this {
    return this
  }
  addLink(_link: Link): this {
    return this
  }
  addLinks(_links: Link[]): this {
    return this
  }
  setStatus(_status: SpanStatus): this {
    return this
  }
  updateName(_name: string): this {
    return this
  }
  end(_endTime?: TimeInput): void {}
  isRecording(): boolean {
    return false
  }
  recordException(_exception: Exception, _time?: TimeInput): void {}
}
