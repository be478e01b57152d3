import {
  type BaggageEntry,
  baggageEntryMetadataFromString,
  type Context,
  isSpanContextValid,
  propagation,
  type SpanContext,
  type TextMapGetter,
  type TextMapPropagator,
  type TextMapSetter,
  trace,
} from '@opentelemetry/api'
import type {
  BaggageMember,
  CarrierGetter,
  CarrierSetter,
  PropagationFormat,
  Span,
  TraceContext,
} from '../../src/index.js'
import {
  BAGGAGE_HEADER,
  extract,
  formatBaggage,
  inject,
  LANGSMITH_REPLICAS_KEY,
  LANGSMITH_TRACE_HEADER,
  type PropagationHooks,
  parseBaggage,
  parseTracestate,
  type ResolvedFormats,
  resolveFormats,
  TRACEPARENT_HEADER,
  TRACESTATE_HEADER,
  XRAY_HEADER,
} from '../../src/internal.js'
import { fromOtelSpan } from './otel-span.js'
import { RemoteSpan } from './remote-span.js'
import { ListTraceState, membersOf } from './trace-state.js'

/** Options of {@link tracehopPropagator}. */
export interface PropagatorOptions {
  /**
   * Formats read and written. Default `['w3c', 'baggage']`, as the OTel SDK's default
   * propagator: instrumented clients call it for every destination, so the LangSmith
   * headers are opt-in here (tracehop's own `span.fetch()` applies the allow-list).
   */
  readonly formats?: readonly PropagationFormat[]
}

function joinValue(value: string | string[] | undefined): string | undefined {
  if (value === undefined || typeof value === 'string') return value
  return Array.isArray(value) ? value.join(',') : undefined
}

/** An OTel span context as a tracehop `TraceContext` (a parent that lives outside our scopes). */
function fromSpanContext(sc: SpanContext): TraceContext {
  const traceState = membersOf(sc.traceState, parseTracestate)
  return {
    traceId: sc.traceId,
    spanId: sc.spanId,
    flags: sc.traceFlags & 0x03,
    remote: true,
    decided: true,
    ...(traceState !== undefined ? { traceState } : {}),
  }
}

/**
 * The tracehop `TraceContext` an OTel context stands for: the span in it when it is a
 * tracehop span, the context `extract` read (LangSmith parent included), or any other
 * valid OTel span context. Start a scope from it to continue an OTel trace in tracehop.
 *
 * @example
 * const scope = tracer.start(traceContextFromOtel(context.active()))
 */
export function traceContextFromOtel(ctx: Context): TraceContext | undefined {
  const span = trace.getSpan(ctx)
  const ours = fromOtelSpan(span)
  return ours !== undefined ? ours.context() : foreignTraceContext(span)
}

/** The context of an OTel span that is not a tracehop span (or of the one `extract` read). */
function foreignTraceContext(span: ReturnType<typeof trace.getSpan>): TraceContext | undefined {
  if (span instanceof RemoteSpan) return span.traceContext
  const sc = span?.spanContext()
  if (sc === undefined || !isSpanContextValid(sc)) return undefined
  return fromSpanContext(sc)
}

/** Our raw `;prop;k=v` suffix as OTel's metadata string (`prop;k=v`, no leading `;`). */
function propertiesToMetadata(properties: string): string {
  let i = 0
  while (i < properties.length && (properties[i] === ' ' || properties[i] === '\t')) i++
  return properties[i] === ';' ? properties.slice(i + 1) : properties.slice(i)
}

/**
 * A tracehop span's context as sent to a destination nobody checked: an OTel propagator
 * is called for every outgoing request, so baggage keys routed to named destinations
 * only (`propagation.baggage.keys: [{ key, to }]`) are left out.
 */
function contextForAnyDestination(span: Span): TraceContext {
  const tc = span.context()
  const routes = span.scope.tracer.config.baggage.routes
  if (routes.size === 0 || tc.baggage === undefined) return tc
  const kept = tc.baggage.filter((m) => !routes.has(m.key))
  const { baggage: _, ...rest } = tc
  return kept.length > 0 ? { ...rest, baggage: kept } : rest
}

function otelBaggageMembers(ctx: Context): BaggageMember[] | undefined {
  const bag = propagation.getBaggage(ctx)
  if (bag === undefined) return undefined
  let out: BaggageMember[] | undefined
  for (const [key, entry] of bag.getAllEntries()) {
    // Another party's API URLs and keys (set by any propagator): never handed on.
    if (key === LANGSMITH_REPLICAS_KEY) continue
    const meta = entry.metadata?.toString()
    ;(out ??= []).push(
      meta ? { key, value: entry.value, properties: `;${meta}` } : { key, value: entry.value },
    )
  }
  return out
}

/**
 * The OTel carrier and getter as a tracehop `CarrierGetter`, one object reused across calls
 * (no closure per request). A getter that calls back into a propagator gets a fresh one.
 */
class GetterAdapter implements CarrierGetter {
  carrier: unknown = undefined
  getter: TextMapGetter | undefined = undefined
  get(name: string): string | undefined {
    return joinValue(this.getter!.get(this.carrier, name))
  }
  bind(carrier: unknown, getter: TextMapGetter): GetterAdapter {
    const self = this.getter === undefined ? this : new GetterAdapter()
    self.carrier = carrier
    self.getter = getter
    return self
  }
  release(): void {
    this.carrier = undefined
    this.getter = undefined
  }
}

/** The OTel carrier and setter as a tracehop `CarrierSetter`, reused like {@link GetterAdapter}. */
class SetterAdapter implements CarrierSetter {
  carrier: unknown = undefined
  setter: TextMapSetter | undefined = undefined
  set(name: string, value: string): void {
    this.setter!.set(this.carrier, name, value)
  }
  bind(carrier: unknown, setter: TextMapSetter): SetterAdapter {
    const self = this.setter === undefined ? this : new SetterAdapter()
    self.carrier = carrier
    self.setter = setter
    return self
  }
  release(): void {
    this.carrier = undefined
    this.setter = undefined
  }
}

const GETTER = new GetterAdapter()
const SETTER = new SetterAdapter()

// The OTel API has nowhere to count malformed input: it is ignored, as OTel's propagators do.
const IGNORE_INVALID: PropagationHooks = { onInvalid: () => {} }

/**
 * An OpenTelemetry `TextMapPropagator` built on tracehop's own parsers and formatters:
 * W3C `traceparent`/`tracestate` and `baggage` (and, if asked, `langsmith-trace` and
 * X-Ray). `inject` writes the context of the span in the OTel context — a tracehop span
 * (with its scope's tracestate and baggage) or any other OTel span — and OTel baggage;
 * `extract` returns a context holding the remote span context and baggage, from which
 * {@link traceContextFromOtel} recovers everything tracehop read. Malformed headers are
 * ignored, never thrown.
 *
 * @example
 * propagation.setGlobalPropagator(tracehopPropagator())
 * propagation.inject(trace.setSpan(context.active(), otelSpan(span)), headers)
 */
export function tracehopPropagator(options?: PropagatorOptions): TextMapPropagator {
  const formats: ResolvedFormats = resolveFormats(options?.formats ?? ['w3c', 'baggage'], 'formats')
  const fields: string[] = []
  if (formats.w3c) fields.push(TRACEPARENT_HEADER, TRACESTATE_HEADER)
  if (formats.baggage || formats.langsmith) fields.push(BAGGAGE_HEADER)
  if (formats.langsmith) fields.push(LANGSMITH_TRACE_HEADER)
  if (formats.xray) fields.push(XRAY_HEADER)
  return {
    inject(ctx: Context, carrier: unknown, setter: TextMapSetter): void {
      try {
        const span = trace.getSpan(ctx)
        const ours = fromOtelSpan(span)
        const tc = ours !== undefined ? contextForAnyDestination(ours) : foreignTraceContext(span)
        const extra = formats.baggage ? otelBaggageMembers(ctx) : undefined
        // OTel baggage set in this context wins over the scope's incoming baggage.
        const existing = extra !== undefined ? formatBaggage(extra) : undefined
        if (tc === undefined && existing === undefined) return
        const target = SETTER.bind(carrier, setter)
        try {
          if (tc !== undefined) inject(tc, target, formats, existing)
          else target.set(BAGGAGE_HEADER, existing!)
        } finally {
          target.release()
        }
      } catch {
        // A carrier whose setter throws: nothing injected, nothing thrown into the caller.
      }
    },
    extract(ctx: Context, carrier: unknown, getter: TextMapGetter): Context {
      try {
        const source = GETTER.bind(carrier, getter)
        try {
          return extractInto(ctx, source, formats)
        } finally {
          source.release()
        }
      } catch {
        return ctx
      }
    },
    fields(): string[] {
      return fields.slice()
    },
  }
}

function extractInto(ctx: Context, source: CarrierGetter, formats: ResolvedFormats): Context {
  const incoming = extract(source, formats, 'trusted', IGNORE_INVALID)
  let out = ctx
  const parent = incoming.parent
  if (parent !== undefined) {
    // OTel gets the list already parsed, not a string it would parse again.
    const sc: SpanContext = {
      traceId: parent.traceId,
      spanId: parent.spanId,
      traceFlags: parent.flags,
      isRemote: true,
    }
    if (parent.traceState !== undefined) sc.traceState = new ListTraceState(parent.traceState)
    out = trace.setSpan(out, new RemoteSpan(sc, parent))
  }
  if (formats.baggage) {
    // Baggage travels without a trace too (W3C Baggage is independent of Trace Context).
    const raw = source.get(BAGGAGE_HEADER)
    const members = raw !== undefined ? parseBaggage(raw) : undefined
    if (members !== undefined) {
      const entries: Record<string, BaggageEntry> = {}
      let any = false
      for (const m of members) {
        // With the LangSmith format on, its members are read as LangSmith's, not baggage.
        if (formats.langsmith && m.key.startsWith('langsmith-')) continue
        // Another party's API URLs and keys: never handed on (inject drops it too).
        if (m.key === LANGSMITH_REPLICAS_KEY) continue
        const props = m.properties !== undefined ? propertiesToMetadata(m.properties) : undefined
        entries[m.key] = props
          ? { value: m.value, metadata: baggageEntryMetadataFromString(props) }
          : { value: m.value }
        any = true
      }
      if (any) out = propagation.setBaggage(out, propagation.createBaggage(entries))
    }
  }
  return out
}
