import { ROOT_CONTEXT } from '@opentelemetry/api'
import { SamplingDecision, TraceIdRatioBasedSampler } from '@opentelemetry/sdk-trace-base'
import fc from 'fast-check'
import { uuid7 } from 'langsmith'
import { RunTree } from 'langsmith/run_trees'
import { describe, expect, it } from 'vitest'
import { randomTraceId, uuidToHex, uuidv7Hex } from '../../src/ids.js'
import {
  consistentParentOt,
  decideProbability,
  formatOtelTraceState,
  keepByThreshold,
  parseOtelTraceState,
  randomnessFromHash,
  randomnessFromTraceId,
  thresholdForRatio,
} from '../../src/sampling/probability.js'

const TWO_56 = 1n << 56n
const hexString = (length: number) =>
  fc.string({ unit: fc.constantFrom(...'0123456789abcdef'), minLength: length, maxLength: length })
const traceIdArb = hexString(32).filter((s) => !/^0+$/.test(s))

/** The threshold `th` stands for, as a 56-bit BigInt (tracestate handling §th: pad to 14). */
function thValue(th: string): bigint {
  return BigInt(`0x${th.padEnd(14, '0')}`)
}

/** The largest double below `x` (Go's math.Nextafter(x, 0) for positive x). */
function nextDown(x: number, steps = 1): number {
  const view = new DataView(new ArrayBuffer(8))
  view.setFloat64(0, x)
  view.setBigUint64(0, view.getBigUint64(0) - BigInt(steps))
  return view.getFloat64(0)
}

/** Reference hash in BigInt, written from the documented definition (not from the code). */
function referenceHash(traceId: string): string {
  const M = (1n << 64n) - 1n
  let h = 0xcbf29ce484222325n
  for (let i = 0; i < 32; i += 2) {
    h ^= BigInt(Number.parseInt(traceId.slice(i, i + 2), 16))
    h = (h * 0x100000001b3n) & M
  }
  h ^= h >> 33n
  h = (h * 0xff51afd7ed558ccdn) & M
  h ^= h >> 33n
  h = (h * 0xc4ceb9fe1a85ec53n) & M
  h ^= h >> 33n
  return (h >> 8n).toString(16).padStart(14, '0')
}

function keptShare(ids: readonly string[], randomFlag: boolean, ratio: number): number {
  let kept = 0
  for (const traceId of ids)
    if (decideProbability({ traceId, randomFlag, ot: undefined, ratio }).sampled) kept++
  return kept / ids.length
}

function otelRatioSampled(sampler: TraceIdRatioBasedSampler, traceId: string): boolean {
  return sampler.shouldSample(ROOT_CONTEXT, traceId).decision === SamplingDecision.RECORD_AND_SAMPLED
}

describe('thresholdForRatio (spec table, precision 4, as the Collector computes it)', () => {
  // Values from the spec's table "1-in-N ... Threshold (precision 3, 4, 5)", precision-4 column
  // (tracestate-probability-sampling.md §"Converting floating-point probability to threshold
  // value"), which the Collector's ProbabilityToThresholdWithPrecision(p, 4) reproduces.
  const table: [number, string][] = [
    [1, '0'],
    [0.5, '8'],
    [1 / 3, 'aaab'],
    [0.25, 'c'],
    [0.2, 'cccd'],
    [0.125, 'e'],
    [0.1, 'e666'],
    [0.0625, 'f'],
    // Leading f digits are not significant: 0.01 is written with 5 digits, `fd70a`; `fd71`
    // is the precision-3 value.
    [0.01, 'fd70a'],
    [0.001, 'ffbe77'],
    [0.0001, 'fff9724'],
    [0.00001, 'ffff583a'],
    [0.000001, 'ffffef39'],
  ]
  for (const [p, th] of table) {
    it(`p=${p} -> th:${th}`, () => {
      expect(thresholdForRatio(p)).toBe(th)
    })
  }

  it('p=0 -> undefined: never sampling is not a probability (spec §Sampling Probability)', () => {
    expect(thresholdForRatio(0)).toBeUndefined()
    expect(thresholdForRatio(Number.NaN)).toBeUndefined()
    expect(thresholdForRatio(-0.5)).toBeUndefined()
  })

  it('p below 2^-57 rounds to zero kept traces -> undefined; p=2^-56 keeps 1 in 2^56', () => {
    expect(thresholdForRatio(2 ** -58)).toBeUndefined()
    expect(thresholdForRatio(2 ** -56)).toBe('ffffffffffffff')
  })

  it('p above 1 is treated as 1', () => {
    expect(thresholdForRatio(1.5)).toBe('0')
  })

  it('is the exact (1 - p) * 2^56 at precision 14 (Collector ExampleProbabilityToThreshold_limitedprecision)', () => {
    // Go: ProbabilityToThreshold(math.Nextafter(...)) outputs from pkg/sampling/probability_test.go.
    const cases: [number, string][] = [
      [15 / 16, '1'],
      [nextDown(15 / 16), '10000000000008'],
      [nextDown(15 / 16, 2), '1000000000001'],
      [nextDown(15 / 16, 3), '10000000000018'],
      [nextDown(8 / 16), '80000000000004'],
      [nextDown(8 / 16, 3), '8000000000000c'],
      [nextDown(4 / 16), 'c0000000000002'],
      [nextDown(2 / 16, 3), 'e0000000000003'],
      [1 / 16, 'f'],
      [nextDown(1 / 16), 'f'],
      [nextDown(1 / 16, 2), 'f0000000000001'],
      [1 / 3, 'aaaaaaaaaaaaac'],
    ]
    for (const [p, th] of cases) expect(thresholdForRatio(p, 14)).toBe(th)
  })

  it('rounds half up to the requested significant digits (Collector TestProbabilityToThresholdWithPrecision)', () => {
    const cases: [number, number, string][] = [
      [1 - 0x456789a * 2 ** -28, 14, '456789a'],
      [1 - 0x456789a * 2 ** -28, 6, '45678a'],
      [1 - 0x456789a * 2 ** -28, 5, '45679'],
      [1 - 0x456789a * 2 ** -28, 4, '4568'],
      [1 - 0x456789a * 2 ** -28, 1, '4'],
      // Leading zeros (p near 1) are not significant either.
      [1 - 0x456789a * 2 ** -40, 4, '0004568'],
      [1 - 0x456789a * 2 ** -40, 1, '0004'],
      [1 - 0x789abcdef * 2 ** -40, 8, '0789abcdf'],
      [1 - 0x789abcdef * 2 ** -40, 3, '078a'],
      [1 - 0x789abcdef * 2 ** -40, 1, '08'],
      [1 - 0x12345678 * 2 ** -32, 4, '1234'],
      [1 - 0x80801 * 2 ** -28, 3, '00808'],
      [1 - 0x80801 * 2 ** -28, 1, '008'],
    ]
    for (const [p, precision, th] of cases) expect(thresholdForRatio(p, precision)).toBe(th)
  })

  it('raises precision for very small p (Collector ExampleProbabilityToThreshold_verysmall)', () => {
    const cases: [number, string][] = [
      [2 ** -56, 'ffffffffffffff'],
      [2 * 2 ** -56, 'fffffffffffffe'],
      [3 * 2 ** -56, 'fffffffffffffd'],
      [4 * 2 ** -56, 'fffffffffffffc'],
      [8 * 2 ** -56, 'fffffffffffff8'],
      [16 * 2 ** -56, 'fffffffffffff'],
    ]
    for (const [p, th] of cases) expect(thresholdForRatio(p, 3)).toBe(th)
  })

  it('is always a valid th: 1-14 lower-case hex digits without trailing zeros, or 0', () => {
    fc.assert(
      fc.property(fc.double({ min: 2 ** -56, max: 1, noNaN: true }), (p) => {
        const th = thresholdForRatio(p)!
        expect(th).toMatch(/^(0|[0-9a-f]{0,13}[1-9a-f])$/)
      }),
    )
  })

  it('is within one rounding step of (1 - p) * 2^56 (checked in BigInt)', () => {
    fc.assert(
      fc.property(fc.double({ min: 2 ** -40, max: 1 - 2 ** -40, noNaN: true }), (p) => {
        const exact = TWO_56 - BigInt(Math.round(p * 2 ** 56))
        const got = thValue(thresholdForRatio(p, 14)!)
        expect(got).toBe(exact)
        const rounded = thValue(thresholdForRatio(p)!)
        const diff = rounded > exact ? rounded - exact : exact - rounded
        // 4 significant digits after at most 13 leading f/0 digits: step <= 2^(4*(14-4)).
        expect(diff <= 1n << 40n).toBe(true)
      }),
    )
  })

  it('never raises the threshold when p grows, so decisions nest (spec §Consistent Sampling Decision)', () => {
    fc.assert(
      fc.property(
        fc.double({ min: 2 ** -56, max: 1, noNaN: true }),
        fc.double({ min: 2 ** -56, max: 1, noNaN: true }),
        (a, b) => {
          const [lo, hi] = a <= b ? [a, b] : [b, a]
          expect(thValue(thresholdForRatio(hi)!) <= thValue(thresholdForRatio(lo)!)).toBe(true)
        },
      ),
      { numRuns: 5000 },
    )
  })
})

describe('keepByThreshold: keep iff R >= T (spec §Decision algorithm)', () => {
  it('keeps the Collector example: th c, rv d29d6a7215ced0', () => {
    expect(keepByThreshold('d29d6a7215ced0', 'c')).toBe(true)
  })

  it('keeps at equality, drops one below', () => {
    expect(keepByThreshold('80000000000000', '8')).toBe(true)
    expect(keepByThreshold('7fffffffffffff', '8')).toBe(false)
  })

  it('th:0 keeps every randomness value', () => {
    expect(keepByThreshold('00000000000000', '0')).toBe(true)
  })

  it('agrees with the 56-bit integer comparison', () => {
    fc.assert(
      fc.property(
        hexString(14),
        fc.integer({ min: 1, max: 14 }).chain((n) => hexString(n)),
        (r, th) => {
          expect(keepByThreshold(r, th)).toBe(BigInt(`0x${r}`) >= thValue(th))
        },
      ),
      { numRuns: 5000 },
    )
  })
})

describe('randomness sources', () => {
  it('takes the least-significant 56 bits of the trace id (Collector ExampleTraceIDToRandomness)', () => {
    expect(randomnessFromTraceId('abababababababababd29d6a7215ced0')).toBe('d29d6a7215ced0')
  })

  it('hash: FNV-1a 64 over the 16 id bytes, fmix64, top 56 bits — matches a BigInt reference', () => {
    fc.assert(
      fc.property(traceIdArb, (id) => {
        expect(randomnessFromHash(id)).toBe(referenceHash(id))
      }),
      { numRuns: 3000 },
    )
  })

  it('hash: pinned values stay the same forever (other services and languages rely on them)', () => {
    // Computed once from the BigInt reference above.
    expect(randomnessFromHash('00000000000000000000000000000001')).toBe('b55b74000d5600')
    expect(randomnessFromHash('4bf92f3577b34da6a3ce929d0e0e4736')).toBe('1778d07a7364eb')
    expect(randomnessFromHash('0af7651916cd43dd8448eb211c80319c')).toBe('6fbe6c49227dd5')
  })

  it('hash: is 14 lower-case hex digits for any input, and never throws', () => {
    fc.assert(
      fc.property(fc.string(), (s) => {
        expect(randomnessFromHash(s)).toMatch(/^[0-9a-f]{14}$/)
      }),
    )
  })
})

describe('ot tracestate member (tracestate handling §th, §rv)', () => {
  it('parses th, rv and keeps other sub-keys opaque, in order', () => {
    expect(parseOtelTraceState('zz:1;th:8;rv:9b8233f7e3a151;aa:B-2.x_y')).toEqual({
      th: '8',
      rv: '9b8233f7e3a151',
      rest: 'zz:1;aa:B-2.x_y',
    })
  })

  it('absent member -> undefined', () => {
    expect(parseOtelTraceState(undefined)).toBeUndefined()
  })

  it('ignores an invalid th on its own: upper case, more than 14 digits, empty, non-hex', () => {
    for (const th of ['C', 'fffffffffffffff', '', 'g']) {
      expect(parseOtelTraceState(`th:${th};rv:9b8233f7e3a151`)).toEqual({ rv: '9b8233f7e3a151', rest: '' })
    }
  })

  it('ignores an invalid rv on its own: not exactly 14 lower-case hex digits', () => {
    for (const rv of ['9b8233f7e3a15', '9b8233f7e3a1511', '9B8233F7E3A151', 'zb8233f7e3a151']) {
      expect(parseOtelTraceState(`th:c;rv:${rv}`)).toEqual({ th: 'c', rest: '' })
    }
  })

  it('keeps the first of a repeated th or rv (keys must be unique)', () => {
    expect(parseOtelTraceState('th:8;th:c;rv:11111111111111;rv:22222222222222')).toEqual({
      th: '8',
      rv: '11111111111111',
      rest: '',
    })
  })

  it('rejects a syntactically broken member: bad key, missing colon, bad characters, over 256', () => {
    expect(parseOtelTraceState('Th:8')).toBeUndefined()
    expect(parseOtelTraceState('1a:8')).toBeUndefined()
    expect(parseOtelTraceState('th8')).toBeUndefined()
    expect(parseOtelTraceState('th:8;;rv:11111111111111')).toBeUndefined()
    expect(parseOtelTraceState('th:8;x:a b')).toBeUndefined()
    expect(parseOtelTraceState(`x:${'a'.repeat(255)}`)).toBeUndefined()
  })

  it('formats th, then rv, then the rest; nothing left -> undefined', () => {
    expect(formatOtelTraceState({ rv: '9b8233f7e3a151', th: '8', rest: 'zz:1' })).toBe(
      'th:8;rv:9b8233f7e3a151;zz:1',
    )
    expect(formatOtelTraceState({ rest: 'zz:1' })).toBe('zz:1')
    expect(formatOtelTraceState({ rest: '' })).toBeUndefined()
  })

  it('round-trips valid values, and never throws on any input', () => {
    const member = fc.oneof(
      hexString(14).map((v) => `rv:${v}`),
      fc.integer({ min: 1, max: 14 }).chain((n) => hexString(n).map((v) => `th:${v}`)),
      fc.constantFrom('p:8', 'zz:1', 'k1:ab-c'),
    )
    fc.assert(
      fc.property(
        fc.uniqueArray(member, { selector: (m) => m.slice(0, m.indexOf(':')), maxLength: 5 }),
        (ms) => {
          const v = parseOtelTraceState(ms.join(';'))!
          expect(parseOtelTraceState(formatOtelTraceState(v) ?? '')).toEqual(v)
        },
      ),
    )
    fc.assert(
      fc.property(fc.string(), (s) => {
        parseOtelTraceState(s)
      }),
    )
  })
})

describe('decideProbability', () => {
  const RANDOM_ID = '4bf92f3577b34da6a3ce929d0e0e4736' // low 56 bits 0xce929d0e0e4736

  it('R from the trace id under the random flag; keep writes th (Collector ExampleThreshold_ShouldSample_traceid)', () => {
    expect(
      decideProbability({
        traceId: 'abababababababababd29d6a7215ced0',
        randomFlag: true,
        ot: undefined,
        ratio: 0.25,
      }),
    ).toEqual({ sampled: true, ot: 'th:c' })
  })

  it('drop erases th and writes nothing else when R came from the trace id', () => {
    expect(decideProbability({ traceId: RANDOM_ID, randomFlag: true, ot: undefined, ratio: 0.1 })).toEqual({
      sampled: false,
      ot: undefined,
    })
  })

  it('a valid rv wins over the trace id and is kept (Collector README: th:0;rv:9b8233f7e3a151 at 50%)', () => {
    expect(
      decideProbability({ traceId: RANDOM_ID, randomFlag: true, ot: 'th:0;rv:9b8233f7e3a151', ratio: 0.5 }),
    ).toEqual({ sampled: true, ot: 'th:8;rv:9b8233f7e3a151' })
    // Same id, an rv below the threshold: dropped although the id's own bits would keep it.
    expect(
      decideProbability({ traceId: RANDOM_ID, randomFlag: true, ot: 'rv:00000000000001', ratio: 0.5 }),
    ).toEqual({ sampled: false, ot: 'rv:00000000000001' })
  })

  it('spec rv example 6e6d1a75832a2f: kept from p≈0.569 up, dropped below', () => {
    // (The spec text says "41.1%"; 1 - 0x6e6d1a75832a2f / 2^56 is 0.5686.)
    const ot = 'rv:6e6d1a75832a2f'
    expect(decideProbability({ traceId: RANDOM_ID, randomFlag: true, ot, ratio: 0.57 }).sampled).toBe(true)
    expect(decideProbability({ traceId: RANDOM_ID, randomFlag: true, ot, ratio: 0.56 }).sampled).toBe(false)
  })

  it('without the random flag, R is the hash and is written as rv, kept or dropped', () => {
    const id = '00000000000000000000000000000001'
    const rv = randomnessFromHash(id)
    for (const ratio of [1, 0.5, 0.1, 0.01]) {
      const d = decideProbability({ traceId: id, randomFlag: false, ot: undefined, ratio })
      expect(d.sampled).toBe(keepByThreshold(rv, thresholdForRatio(ratio)!))
      expect(d.ot).toBe(d.sampled ? `th:${thresholdForRatio(ratio)};rv:${rv}` : `rv:${rv}`)
    }
  })

  it('an invalid incoming rv is ignored and replaced by the hash', () => {
    const id = '00000000000000000000000000000001'
    const d = decideProbability({ traceId: id, randomFlag: false, ot: 'rv:XYZ', ratio: 1 })
    expect(d.ot).toBe(`th:0;rv:${randomnessFromHash(id)}`)
  })

  it('erases an inconsistent incoming th (claims 100% but R is below our threshold)', () => {
    const d = decideProbability({ traceId: RANDOM_ID, randomFlag: true, ot: 'th:0;zz:1', ratio: 0.1 })
    expect(d).toEqual({ sampled: false, ot: 'zz:1' })
  })

  it('erases an invalid incoming th and writes its own on keep', () => {
    const d = decideProbability({ traceId: RANDOM_ID, randomFlag: true, ot: 'th:ZZ;zz:1', ratio: 0.5 })
    expect(d).toEqual({ sampled: true, ot: 'th:8;zz:1' })
  })

  it('keeps unknown sub-keys, in order', () => {
    const d = decideProbability({ traceId: RANDOM_ID, randomFlag: true, ot: 'a:1;th:8;b:2', ratio: 1 })
    expect(d).toEqual({ sampled: true, ot: 'th:0;a:1;b:2' })
  })

  it('replaces a malformed ot member', () => {
    const d = decideProbability({ traceId: RANDOM_ID, randomFlag: true, ot: 'not valid', ratio: 0.5 })
    expect(d).toEqual({ sampled: true, ot: 'th:8' })
  })

  it('gives up opaque sub-keys rather than exceed the 256-character member limit', () => {
    const big = `zz:${'a'.repeat(250)}`
    const d = decideProbability({ traceId: RANDOM_ID, randomFlag: false, ot: big, ratio: 1 })
    expect(d.ot).toBe(`th:0;rv:${randomnessFromHash(RANDOM_ID)}`)
  })

  it('ratio 0 never samples; ratio 1 always samples with th:0', () => {
    fc.assert(
      fc.property(traceIdArb, fc.boolean(), (traceId, randomFlag) => {
        expect(decideProbability({ traceId, randomFlag, ot: undefined, ratio: 0 }).sampled).toBe(false)
        const all = decideProbability({ traceId, randomFlag, ot: undefined, ratio: 1 })
        expect(all.sampled).toBe(true)
        expect(all.ot?.startsWith('th:0')).toBe(true)
      }),
    )
  })

  it('is deterministic: the same id and ratio give the same decision on every call', () => {
    fc.assert(
      fc.property(
        traceIdArb,
        fc.boolean(),
        fc.double({ min: 0, max: 1, noNaN: true }),
        (traceId, randomFlag, ratio) => {
          const a = decideProbability({ traceId, randomFlag, ot: undefined, ratio })
          // Another ratio in between must not disturb the memoized threshold.
          decideProbability({ traceId, randomFlag, ot: undefined, ratio: 0.37 })
          const b = decideProbability({ traceId, randomFlag, ot: undefined, ratio })
          expect(b).toEqual(a)
        },
      ),
    )
  })

  it('nests across ratios: kept at p1 implies kept at every p2 >= p1', () => {
    fc.assert(
      fc.property(
        traceIdArb,
        fc.boolean(),
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        (traceId, randomFlag, a, b) => {
          const [lo, hi] = a <= b ? [a, b] : [b, a]
          if (decideProbability({ traceId, randomFlag, ot: undefined, ratio: lo }).sampled) {
            expect(decideProbability({ traceId, randomFlag, ot: undefined, ratio: hi }).sampled).toBe(true)
          }
        },
      ),
    )
  })

  it('never throws on malformed input', () => {
    fc.assert(
      fc.property(
        fc.string(),
        fc.boolean(),
        fc.option(fc.string(), { nil: undefined }),
        fc.double(),
        (t, f, o, r) => {
          decideProbability({ traceId: t, randomFlag: f, ot: o, ratio: r })
        },
      ),
    )
  })
})

describe('consistentParentOt (spec §General requirements, parent-based)', () => {
  it('keeps a consistent th on a sampled context', () => {
    expect(
      consistentParentOt({ traceId: 'x', randomFlag: false, sampled: true, ot: 'th:8;rv:9b8233f7e3a151' }),
    ).toBe('th:8;rv:9b8233f7e3a151')
  })

  it('erases th when sampled but rv < th', () => {
    expect(
      consistentParentOt({ traceId: 'x', randomFlag: false, sampled: true, ot: 'th:8;rv:10000000000000' }),
    ).toBe('rv:10000000000000')
  })

  it('checks against the trace id under the random flag', () => {
    const id = 'abababababababababd29d6a7215ced0'
    expect(consistentParentOt({ traceId: id, randomFlag: true, sampled: true, ot: 'th:c' })).toBe('th:c')
    expect(consistentParentOt({ traceId: id, randomFlag: true, sampled: true, ot: 'th:e' })).toBeUndefined()
  })

  it('keeps th when randomness is unknown (no rv, no random flag): the test is not simple', () => {
    expect(consistentParentOt({ traceId: 'x', randomFlag: false, sampled: true, ot: 'th:e' })).toBe('th:e')
  })

  it('erases an invalid th and removes a malformed member', () => {
    expect(consistentParentOt({ traceId: 'x', randomFlag: false, sampled: true, ot: 'th:E;zz:1' })).toBe(
      'zz:1',
    )
    expect(
      consistentParentOt({ traceId: 'x', randomFlag: false, sampled: true, ot: 'bad member' }),
    ).toBeUndefined()
  })
})

describe('measured rates over 100,000 ids', () => {
  const N = 100_000
  const cases: [number, number][] = [
    [0.1, 0.005],
    [0.01, 0.002],
  ]
  const kinds: { name: string; randomFlag: boolean; make: (i: number) => string }[] = [
    { name: 'fully random W3C ids, random flag set', randomFlag: true, make: () => randomTraceId() },
    {
      name: 'sequential counters, no random flag (hash)',
      randomFlag: false,
      make: (i) => (i + 1).toString(16).padStart(32, '0'),
    },
    {
      name: 'random high bits, zero low 56 bits, no random flag (hash)',
      randomFlag: false,
      make: () => `${randomTraceId().slice(0, 18)}00000000000000`,
    },
    {
      name: 'fixed prefix + counter + zero tail, no random flag (hash)',
      randomFlag: false,
      make: (i) => `5759e988${i.toString(16).padStart(8, '0')}0000000000000000`,
    },
    {
      name: 'tracehop uuidv7Hex, random flag set',
      randomFlag: true,
      make: (i) => uuidv7Hex(1_700_000_000_000 + i),
    },
    { name: 'langsmith uuid7(), no random flag (hash)', randomFlag: false, make: () => uuidToHex(uuid7()) },
    {
      name: 'langsmith RunTree trace ids, no random flag (hash)',
      randomFlag: false,
      make: () => uuidToHex(new RunTree({ name: 'x' }).trace_id),
    },
  ]
  for (const kind of kinds) {
    it(`${kind.name}: within ±0.5pp at 0.1 and ±0.2pp at 0.01`, () => {
      const ids = Array.from({ length: N }, (_, i) => kind.make(i))
      for (const [ratio, tolerance] of cases) {
        expect(Math.abs(keptShare(ids, kind.randomFlag, ratio) - ratio)).toBeLessThanOrEqual(tolerance)
      }
    })
  }

  it('langsmith RunTree ids are NOT random in their low 56 bits: trusting them keeps nothing at 0.1', () => {
    // RunTree ids come from uuid7FromTime (seq 0): after the version and variant bits, the top
    // 14 bits of the 56 are zero, so R < th for any ratio below ~0.9999. Such ids must take the
    // hash path (no random flag); this pins why.
    const ids = Array.from({ length: 2000 }, () => uuidToHex(new RunTree({ name: 'x' }).trace_id))
    expect(keptShare(ids, true, 0.1)).toBe(0)
    expect(keptShare(ids, false, 0.1)).toBeGreaterThan(0.05)
  })
})

describe('@opentelemetry/sdk-trace-base 2.x TraceIdRatioBasedSampler (a different algorithm)', () => {
  // The JS SDK's TraceIdRatioBased XORs the four 32-bit words of the trace id and keeps iff the
  // result < floor(ratio * 0xffffffff); the current spec (and we) compare the low 56 bits (or
  // rv) with T = (1 - ratio) * 2^56. Both keep `ratio` of random ids, but independently of each
  // other: they agree on all ids only at ratio 0 and 1; elsewhere on p² + (1-p)² of them.
  const N = 100_000
  const ids = Array.from({ length: N }, () => randomTraceId())

  it('agrees at ratio 1 (keep all) and ratio 0 (keep none)', () => {
    const all = new TraceIdRatioBasedSampler(1)
    const none = new TraceIdRatioBasedSampler(0)
    for (const traceId of ids.slice(0, 2000)) {
      expect(decideProbability({ traceId, randomFlag: true, ot: undefined, ratio: 1 }).sampled).toBe(
        otelRatioSampled(all, traceId),
      )
      expect(decideProbability({ traceId, randomFlag: true, ot: undefined, ratio: 0 }).sampled).toBe(
        otelRatioSampled(none, traceId),
      )
    }
  })

  it('disagrees on specific ids: the two rules read different bits', () => {
    const half = new TraceIdRatioBasedSampler(0.5)
    // XOR of the words is 1 (OTel keeps); low 56 bits are 1 (we drop).
    const a = '00000000000000000000000000000001'
    expect(otelRatioSampled(half, a)).toBe(true)
    expect(decideProbability({ traceId: a, randomFlag: true, ot: undefined, ratio: 0.5 }).sampled).toBe(false)
    // XOR is 0xffffffff (OTel drops); low 56 bits are all ones (we keep).
    const b = 'ffffffff00000000ffffffffffffffff'
    expect(otelRatioSampled(half, b)).toBe(false)
    expect(decideProbability({ traceId: b, randomFlag: true, ot: undefined, ratio: 0.5 }).sampled).toBe(true)
  })

  for (const ratio of [0.5, 0.1]) {
    it(`at ${ratio}: both keep ~${ratio}, and agree on ~p²+(1-p)² of random ids (independent)`, () => {
      const sampler = new TraceIdRatioBasedSampler(ratio)
      let theirs = 0
      let ours = 0
      let agree = 0
      for (const traceId of ids) {
        const t = otelRatioSampled(sampler, traceId)
        const o = decideProbability({ traceId, randomFlag: true, ot: undefined, ratio }).sampled
        if (t) theirs++
        if (o) ours++
        if (t === o) agree++
      }
      expect(Math.abs(theirs / N - ratio)).toBeLessThan(0.005)
      expect(Math.abs(ours / N - ratio)).toBeLessThan(0.005)
      expect(Math.abs(agree / N - (ratio * ratio + (1 - ratio) * (1 - ratio)))).toBeLessThan(0.01)
    })
  }
})
