/**
 * W3C propagation cost: reading and re-writing `traceparent` + `tracestate`, and `baggage`,
 * tracehop's pure functions on a plain header record against `@opentelemetry/core` 2.x
 * `W3CTraceContextPropagator` / `W3CBaggagePropagator` `extract` + `inject`, with the
 * `@opentelemetry/api` context and default getter/setter (what an OTel SDK does per request).
 *
 * Same work on both sides: parse every field (OTel's TraceState is lazy, but `inject`
 * serializes it, which parses it), then write the headers into a fresh record. Inputs rotate
 * through a pool of distinct header sets so neither side sees one constant string.
 */
import { defaultTextMapGetter, defaultTextMapSetter, ROOT_CONTEXT } from '@opentelemetry/api'
import { W3CBaggagePropagator, W3CTraceContextPropagator } from '@opentelemetry/core'
import { tracehopPropagator } from '../../adapters/otel/propagator.js'
import { randomSpanId, randomTraceId } from '../../src/ids.js'
import { createTracer } from '../../src/index.js'
import { BAGGAGE_HEADER, formatBaggage, parseBaggage } from '../../src/propagation/baggage.js'
import { formatTraceparent, parseTraceparent, TRACEPARENT_HEADER } from '../../src/propagation/traceparent.js'
import { formatTracestate, parseTracestate, TRACESTATE_HEADER } from '../../src/propagation/tracestate.js'
import { compare } from '../harness.js'

const N = 256 // a power of two: the index wraps with a mask
const MASK = N - 1

type Headers = Record<string, string>

/**
 * A flat copy of a string. Header values that arrive from the network are flat strings;
 * the template literals that build the pool are rope (cons) strings, which every character
 * read would otherwise have to go through, on both sides.
 */
function flat(s: string): string {
  return JSON.parse(JSON.stringify(s)) as string
}

/** A realistic incoming request's headers: the trace headers among the usual others. */
function requestHeaders(extra: Headers): Headers {
  const headers: Headers = {
    host: 'api.example.com',
    'user-agent': 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko)',
    accept: 'application/json',
    'accept-encoding': 'gzip, br',
    'content-type': 'application/json',
    'x-request-id': randomSpanId(),
  }
  for (const [name, value] of Object.entries(extra)) headers[name] = flat(value)
  return headers
}

export async function run(): Promise<void> {
  const traceHeaders: Headers[] = []
  const baggageHeaders: Headers[] = []
  const encodedBaggageHeaders: Headers[] = []
  for (let k = 0; k < N; k++) {
    const traceId = randomTraceId()
    traceHeaders.push(
      requestHeaders({
        traceparent: `00-${traceId}-${randomSpanId()}-0${k & 3}`,
        tracestate: `rojo=${randomSpanId()},congo=t61rcWkgMzE${k},ot=th:8;rv:${traceId.slice(18)}`,
      }),
    )
    baggageHeaders.push(
      requestHeaders({
        baggage: `userId=user-${k},tenant=acme-corp,isProduction=false,region=eu-west-1,session=${randomSpanId()};ttl=60`,
      }),
    )
    encodedBaggageHeaders.push(
      requestHeaders({
        baggage: `userId=Am%C3%A9lie${k},serverNode=DF%2028,query=what%20is%20a%20span%3F,tenant=acme-corp,session=${randomSpanId()};ttl=60`,
      }),
    )
  }

  const traceContext = new W3CTraceContextPropagator()
  const baggage = new W3CBaggagePropagator()
  let i = 0

  const oursTrace = (): Headers => {
    const headers = traceHeaders[i++ & MASK]!
    const out: Headers = {}
    const tp = parseTraceparent(headers[TRACEPARENT_HEADER]!)
    if (tp === undefined) return out
    out[TRACEPARENT_HEADER] = formatTraceparent(tp.traceId, tp.spanId, tp.flags)
    const ts = parseTracestate(headers[TRACESTATE_HEADER]!)
    const state = ts === undefined ? undefined : formatTracestate(ts)
    if (state !== undefined) out[TRACESTATE_HEADER] = state
    return out
  }
  const otelTrace = (): Headers => {
    const out: Headers = {}
    const ctx = traceContext.extract(ROOT_CONTEXT, traceHeaders[i++ & MASK]!, defaultTextMapGetter)
    traceContext.inject(ctx, out, defaultTextMapSetter)
    return out
  }
  checkSame(oursTrace, otelTrace, () => i--)

  compare({
    name: 'traceparent + tracestate (3 members): extract + inject',
    ours: { label: 'tracehop parse+format traceparent/tracestate', fn: oursTrace },
    theirs: [{ label: '@opentelemetry/core W3CTraceContextPropagator', fn: otelTrace }],
  })

  // The OTel bridge: tracehop's TextMapPropagator as an OTel SDK calls it, against OTel's own,
  // through the same OTel API context, getter and setter (W3C only on both sides).
  const bridge = tracehopPropagator({ formats: ['w3c'] })
  const bridgeTrace = (): Headers => {
    const out: Headers = {}
    const ctx = bridge.extract(ROOT_CONTEXT, traceHeaders[i++ & MASK]!, defaultTextMapGetter)
    bridge.inject(ctx, out, defaultTextMapSetter)
    return out
  }
  checkSame(bridgeTrace, otelTrace, () => i--)
  compare({
    name: 'OTel TextMapPropagator, traceparent + tracestate (3 members): extract + inject',
    ours: { label: 'tracehop/otel tracehopPropagator()', fn: bridgeTrace },
    theirs: [{ label: '@opentelemetry/core W3CTraceContextPropagator', fn: otelTrace }],
  })

  // The native public path, no span: tracer.extract from the request's headers, tracer.inject
  // into a fresh record (a relay passing the trace on), W3C formats as OTel's.
  const tracer = createTracer({
    service: 'bench',
    propagation: { read: ['w3c'], write: ['w3c'] },
    log: () => {},
  })
  const nativeTrace = (): Headers => {
    const out: Headers = {}
    const { parent } = tracer.extract(traceHeaders[i++ & MASK]!)
    if (parent !== undefined) tracer.inject(parent, out)
    return out
  }
  checkSame(nativeTrace, otelTrace, () => i--)
  compare({
    name: 'public API, traceparent + tracestate (3 members): tracer.extract + tracer.inject',
    ours: { label: 'tracehop tracer.extract + tracer.inject', fn: nativeTrace },
    theirs: [{ label: '@opentelemetry/core W3CTraceContextPropagator', fn: otelTrace }],
  })

  for (const [name, pool] of [
    ['baggage (5 members, one with a property): extract + inject', baggageHeaders],
    ['baggage (5 members, percent-encoded UTF-8 values): extract + inject', encodedBaggageHeaders],
  ] as const) {
    const oursBaggage = (): Headers => {
      const out: Headers = {}
      const parsed = parseBaggage(pool[i++ & MASK]![BAGGAGE_HEADER]!)
      const header = parsed === undefined ? undefined : formatBaggage(parsed)
      if (header !== undefined) out[BAGGAGE_HEADER] = header
      return out
    }
    const otelBaggage = (): Headers => {
      const out: Headers = {}
      const ctx = baggage.extract(ROOT_CONTEXT, pool[i++ & MASK]!, defaultTextMapGetter)
      baggage.inject(ctx, out, defaultTextMapSetter)
      return out
    }
    // Encodings differ (OTel also encodes `/`, `:`...): compare what each side's header means.
    for (let k = 0; k < N; k++) {
      const a = JSON.stringify(parseBaggage(oursBaggage()[BAGGAGE_HEADER]!))
      i--
      const b = JSON.stringify(parseBaggage(otelBaggage()[BAGGAGE_HEADER]!))
      if (a !== b) throw new Error(`w3c bench: baggage outputs differ: ${a} vs ${b}`)
    }
    compare({
      name,
      ours: { label: 'tracehop parseBaggage+formatBaggage', fn: oursBaggage },
      theirs: [{ label: '@opentelemetry/core W3CBaggagePropagator', fn: otelBaggage }],
    })
  }
}

/** Guards the comparison: both sides must write the same trace headers for the same input. */
function checkSame(ours: () => Headers, theirs: () => Headers, rewind: () => void): void {
  for (let k = 0; k < N; k++) {
    const a = ours()
    rewind()
    const b = theirs()
    if (a[TRACEPARENT_HEADER] !== b[TRACEPARENT_HEADER] || a[TRACESTATE_HEADER] !== b[TRACESTATE_HEADER]) {
      throw new Error(`w3c bench: outputs differ: ${JSON.stringify(a)} vs ${JSON.stringify(b)}`)
    }
  }
}
