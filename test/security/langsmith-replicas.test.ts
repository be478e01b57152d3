// `langsmith-replicas` can carry another party's LangSmith API URL and key: it is never
// forwarded, whatever formats a service reads and writes, through the core, the OTel
// propagator (extract then inject) and the OTel baggage it hands to other propagators.
import {
  defaultTextMapGetter,
  defaultTextMapSetter,
  propagation,
  ROOT_CONTEXT,
  trace,
} from '@opentelemetry/api'
import { W3CBaggagePropagator } from '@opentelemetry/core'
import { describe, expect, it } from 'vitest'
import { otelSpan, tracehopPropagator } from '../../adapters/otel/index.js'
import { createTracer, memoryExporter, type PropagationFormat } from '../../src/index.js'

const TP = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01'
const REPLICAS = encodeURIComponent(
  JSON.stringify([{ api_url: 'https://attacker.example', api_key: 'lsv2_secret', project_name: 'x' }]),
)
const BAGGAGE = `user.id=7,langsmith-replicas=${REPLICAS},langsmith-project=p`

const CONFIGS: readonly { read?: PropagationFormat[]; write?: PropagationFormat[] }[] = [
  {}, // defaults
  { read: ['w3c', 'baggage'], write: ['w3c', 'baggage'] }, // baggage-only: langsmith-* is plain baggage
  { read: ['w3c', 'baggage', 'langsmith'], write: ['w3c', 'baggage'] },
  { read: ['w3c', 'baggage'], write: ['w3c', 'baggage', 'langsmith'] },
  { read: ['baggage'], write: ['baggage'] },
]

describe('langsmith-replicas is never forwarded', () => {
  for (const formats of CONFIGS) {
    it(`read ${formats.read ?? 'default'} / write ${formats.write ?? 'default'}`, async () => {
      const memory = memoryExporter()
      const tracer = createTracer({
        service: 's',
        exporters: [memory],
        flush: { windowMs: 0 },
        propagation: { ...formats, allow: ['*'], baggage: { attributes: true } },
      })
      const scope = tracer.start({ traceparent: TP, baggage: BAGGAGE })
      const out = scope.root.headers('https://next.example/')
      expect(out['baggage']).toContain('user.id=7')
      expect(out['baggage'] ?? '').not.toContain('langsmith-replicas')
      expect(JSON.stringify(scope.root.context())).not.toContain('replicas')
      await scope.end()
      // Not recorded either (attributes: true records every other member).
      expect(memory.spans()[0]!.attributes['user.id']).toBe('7')
      expect(JSON.stringify(memory.spans())).not.toContain('lsv2_secret')
    })
  }

  it('a caller-supplied baggage header merged by span.fetch() loses it too', async () => {
    const seen: Request[] = []
    const tracer = createTracer({
      service: 's',
      propagation: { write: ['w3c', 'baggage'], allow: ['*'] },
      fetch: async (input) => {
        seen.push(input as Request)
        return new Response('ok')
      },
    })
    const scope = tracer.start()
    await scope.root.fetch('https://next.example/', { headers: { baggage: BAGGAGE } })
    expect(seen[0]!.headers.get('baggage')).toContain('user.id=7')
    expect(seen[0]!.headers.get('baggage')).not.toContain('langsmith-replicas')
    await scope.end()
  })

  it('tracehopPropagator: extract then inject drops it, and OTel baggage never holds it', async () => {
    for (const formats of [undefined, ['w3c', 'baggage', 'langsmith'] as PropagationFormat[]]) {
      const p = tracehopPropagator(formats ? { formats } : undefined)
      const ctx = p.extract(ROOT_CONTEXT, { traceparent: TP, baggage: BAGGAGE }, defaultTextMapGetter)
      expect(propagation.getBaggage(ctx)?.getEntry('langsmith-replicas')).toBeUndefined()
      expect(propagation.getBaggage(ctx)?.getEntry('user.id')?.value).toBe('7')
      const out: Record<string, string> = {}
      p.inject(ctx, out, defaultTextMapSetter)
      expect(out['traceparent']).toBeDefined()
      expect(out['baggage']).toContain('user.id=7')
      expect(out['baggage']).not.toContain('langsmith-replicas')
    }
  })

  it('tracehopPropagator: injecting OTel baggage another propagator extracted drops it (with and without a span)', async () => {
    const fromOtel = new W3CBaggagePropagator().extract(
      ROOT_CONTEXT,
      { baggage: BAGGAGE },
      defaultTextMapGetter,
    )
    expect(propagation.getBaggage(fromOtel)?.getEntry('langsmith-replicas')).toBeDefined()
    const noSpan: Record<string, string> = {}
    tracehopPropagator().inject(fromOtel, noSpan, defaultTextMapSetter)
    expect(noSpan['baggage']).toContain('user.id=7')
    expect(noSpan['baggage']).not.toContain('langsmith-replicas')

    const tracer = createTracer({ service: 's' })
    const scope = tracer.start()
    const withSpan: Record<string, string> = {}
    tracehopPropagator().inject(trace.setSpan(fromOtel, otelSpan(scope.root)), withSpan, defaultTextMapSetter)
    expect(withSpan['traceparent']).toBeDefined()
    expect(withSpan['baggage']).not.toContain('langsmith-replicas')
    await scope.end()
  })
})
