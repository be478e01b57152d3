/**
 * Head-sampling decision cost: tracehop's OpenTelemetry consistent probability sampler
 * (`decideProbability`) against `@opentelemetry/sdk-trace-base` 2.x
 * `TraceIdRatioBasedSampler.shouldSample`, on the same precomputed trace ids.
 *
 * Not the same work: ours also parses/writes the `ot` tracestate member (`th`, `rv`); theirs
 * XORs the id's 32-bit words and writes nothing. The rows say what each case includes.
 */
import { ROOT_CONTEXT } from '@opentelemetry/api'
import { SamplingDecision, TraceIdRatioBasedSampler } from '@opentelemetry/sdk-trace-base'
import { randomTraceId } from '../../src/ids.js'
import { decideProbability } from '../../src/sampling/probability.js'
import { compare, note } from '../harness.js'

const N = 4096 // a power of two: the index wraps with a mask
const MASK = N - 1
const RATIO = 0.1

export async function run(): Promise<void> {
  const ids: string[] = []
  for (let i = 0; i < N; i++) ids.push(randomTraceId())
  const counterIds: string[] = []
  for (let i = 0; i < N; i++) counterIds.push((i + 1).toString(16).padStart(32, '0'))
  const incomingOt: string[] = ids.map((id) => `th:0;rv:${id.slice(18)}`)

  const otel = new TraceIdRatioBasedSampler(RATIO)
  let i = 0
  const theirs = {
    label: '@opentelemetry/sdk-trace-base TraceIdRatioBased',
    fn: () => otel.shouldSample(ROOT_CONTEXT, ids[i++ & MASK]!),
  }

  compare({
    name: `head sampling at ${RATIO}, random W3C ids (random flag: R = low 56 bits)`,
    ours: {
      label: 'tracehop decideProbability',
      fn: () =>
        decideProbability({ traceId: ids[i++ & MASK]!, randomFlag: true, ot: undefined, ratio: RATIO }),
    },
    theirs: [theirs],
  })

  compare({
    name: `head sampling at ${RATIO}, no random flag (R = FNV-1a+fmix64 hash, rv written)`,
    ours: {
      label: 'tracehop decideProbability (hash)',
      fn: () =>
        decideProbability({
          traceId: counterIds[i++ & MASK]!,
          randomFlag: false,
          ot: undefined,
          ratio: RATIO,
        }),
    },
    theirs: [
      {
        label: '@opentelemetry/sdk-trace-base TraceIdRatioBased',
        fn: () => otel.shouldSample(ROOT_CONTEXT, counterIds[i++ & MASK]!),
      },
    ],
  })

  compare({
    name: `head sampling at ${RATIO}, incoming ot=th:0;rv:… (parse + rewrite the member)`,
    ours: {
      label: 'tracehop decideProbability (ot in/out)',
      fn: () => {
        const k = i++ & MASK
        return decideProbability({ traceId: ids[k]!, randomFlag: false, ot: incomingOt[k], ratio: RATIO })
      },
    },
    theirs: [theirs],
  })

  // Decisions on the same ids: both keep ~RATIO, but not the same traces.
  let ours = 0
  let otelKept = 0
  let both = 0
  for (const traceId of ids) {
    const o = decideProbability({ traceId, randomFlag: true, ot: undefined, ratio: RATIO }).sampled
    const t = otel.shouldSample(ROOT_CONTEXT, traceId).decision === SamplingDecision.RECORD_AND_SAMPLED
    if (o) ours++
    if (t) otelKept++
    if (o && t) both++
  }
  note(`decisions on the same ${N} random ids at ${RATIO}`, [
    `tracehop kept ${ours} (${((ours / N) * 100).toFixed(1)}%), OTel JS TraceIdRatioBased kept ${otelKept} (${((otelKept / N) * 100).toFixed(1)}%)`,
    `kept by both: ${both} (${((both / N) * 100).toFixed(2)}%; independent rules give ~${(RATIO * RATIO * 100).toFixed(1)}%)`,
  ])
}
