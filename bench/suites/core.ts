/**
 * Core hot paths, end to end through the public API, against the OpenTelemetry SDK:
 * - extract an incoming request's context and inject it into an outgoing one;
 * - span start + end (a child of the invocation's root).
 */
import { context, ROOT_CONTEXT, trace } from '@opentelemetry/api'
import { CompositePropagator, W3CBaggagePropagator, W3CTraceContextPropagator } from '@opentelemetry/core'
import { BasicTracerProvider } from '@opentelemetry/sdk-trace-base'
import { recordSetter } from '../../src/carrier.js'
import { createTracer, type Scope } from '../../src/index.js'
import { inject } from '../../src/propagation/inject.js'
import type { TraceContext } from '../../src/trace-context.js'
import { compare } from '../harness.js'

const incoming: Record<string, string> = {
  traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
  tracestate: 'congo=t61rcWkgMzE,rojo=00f067aa0ba902b7,ot=th:8',
  baggage: 'session.id=s-42,user.id=u-7',
}

const getter = {
  keys: (c: Record<string, string>) => Object.keys(c),
  get: (c: Record<string, string>, k: string) => c[k],
}
const setter = {
  set: (c: Record<string, string>, k: string, v: string) => {
    c[k] = v
  },
}

export async function run(): Promise<void> {
  const otelPropagator = new CompositePropagator({
    propagators: [new W3CTraceContextPropagator(), new W3CBaggagePropagator()],
  })
  const tracer = createTracer({ service: 'bench', propagation: { write: ['w3c', 'baggage'] }, log: () => {} })
  compare({
    name: 'extract + inject (traceparent, tracestate, baggage)',
    ours: {
      label: 'tracehop tracer.extract + inject',
      fn: () => {
        const { parent } = tracer.extract(incoming)
        const out: Record<string, string> = {}
        if (parent) scopeHeaders(parent, out)
        return out
      },
    },
    theirs: [
      {
        label: '@opentelemetry/core W3C propagators',
        fn: () => {
          const ctx = otelPropagator.extract(ROOT_CONTEXT, incoming, getter)
          const out: Record<string, string> = {}
          otelPropagator.inject(ctx, out, setter)
          return out
        },
      },
    ],
  })

  // Span start + end: ours as a child of an invocation root (a new scope every 500 spans,
  // its cost included); OTel with a provider whose processor does nothing with the span.
  const provider = new BasicTracerProvider({ spanProcessors: [] })
  const otelTracer = provider.getTracer('bench')
  const parentCtx = trace.setSpan(context.active(), otelTracer.startSpan('root'))
  const recordAll = createTracer({ service: 'bench', limits: { spansPerScope: 1000 }, log: () => {} })
  let scope: Scope = recordAll.start()
  let n = 0
  compare({
    name: 'span start + end (child of the invocation span, 2 attributes)',
    ours: {
      label: 'tracehop span.startChild + end',
      fn: () => {
        if (++n === 500) {
          n = 0
          scope = recordAll.start()
        }
        const s = scope.root.startChild('work', { attributes: { 'gen_ai.request.model': 'm', k: 1 } })
        s.end()
        return s
      },
    },
    theirs: [
      {
        label: '@opentelemetry/sdk-trace-base startSpan + end',
        fn: () => {
          const s = otelTracer.startSpan(
            'work',
            { attributes: { 'gen_ai.request.model': 'm', k: 1 } },
            parentCtx,
          )
          s.end()
          return s
        },
      },
    ],
  })
}

// The same injection span.headers() performs, on the extracted context.
const writeFormats = { w3c: true, baggage: true, langsmith: false, xray: false }
function scopeHeaders(ctx: TraceContext, out: Record<string, string>): void {
  inject(ctx, recordSetter(out), writeFormats)
}
