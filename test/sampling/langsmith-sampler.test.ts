/**
 * The LangSmith sampling rule and its XXH3-128, against the REAL `langsmith` SDK
 * (`isSampledById`, `XXH3_128`, `uuid7`, `RunTree` ids) and against libxxhash 0.8.1 (the C
 * reference, which Python's `xxhash.xxh3_128` runs) through fixed vectors.
 */
import fc from 'fast-check'
import { uuid7 } from 'langsmith'
import { isSampledById } from 'langsmith/lib/utils/sampling'
import { XXH3_128 } from 'langsmith/lib/utils/xxhash/xxhash'
import { RunTree } from 'langsmith/run_trees'
import { describe, expect, it } from 'vitest'
import { langsmithBucket, langsmithSampled } from '../../src/sampling/langsmith-sampler.js'
import { xxh3_128, xxh3_128Hex, xxh3_128Mod } from '../../src/sampling/xxh3.js'

/** Deterministic input bytes for a length (xorshift32); the Python generator is the same. */
function prngBytes(n: number): Uint8Array {
  let x = (Math.imul(n, 2654435761) + 1) >>> 0 || 1
  const out = new Uint8Array(n)
  for (let i = 0; i < n; i++) {
    x ^= x << 13
    x >>>= 0
    x ^= x >>> 17
    x ^= x << 5
    x >>>= 0
    out[i] = x & 0xff
  }
  return out
}

function fromHex(hex: string): Uint8Array {
  const out = new Uint8Array(hex.length / 2)
  for (let i = 0; i < out.length; i++) out[i] = Number.parseInt(hex.slice(2 * i, 2 * i + 2), 16)
  return out
}

// XXH3_128bits() of libxxhash 0.8.1 (Debian libxxhash0) on prngBytes(n), through Python ctypes.
// Lengths cover every code path: 0, 1–3, 4–8, 9–16, 17–128, 129–240, and > 240 (one stripe,
// several, a full 1024-byte block with its scramble, several blocks, and a partial one).
const PRNG_VECTORS: readonly (readonly [number, string])[] = [
  [0, '99aa06d3014798d86001c324468d497f'],
  [1, '7b20385c5bc80ee2bd7b38f7b4af0b35'],
  [2, 'df8c84aef68abcb26c521a876c8ea1cd'],
  [3, 'b313a3e6098fffaefee0f987b7d679c2'],
  [4, '93a81b96a1f67f8a74e91b3dc45044f7'],
  [5, '2e5f9dbeb52c730a47c7bac815cb3e82'],
  [6, 'e884735f9514c01bbd28b75049860226'],
  [7, '6cf6fe78d847dc435daf28cb7e842fb2'],
  [8, 'cb4366256993ab5abc36cd52ad026a9a'],
  [9, '9c1ce3fdc034488759c54c2397715037'],
  [10, 'b1491605ad70f2a48d7f69ec88620d31'],
  [11, '0d296cd3c428f21287448100acea7508'],
  [12, 'c211747e17151a3c98c725a731ef3cbb'],
  [13, 'fa473e11160e0560dda1cf627c0c5e84'],
  [14, 'e1a9f54ab10bcdf9a4826eb275f47ebe'],
  [15, '5551a613163dcb70822af75e537e4632'],
  [16, '039fbd3c555ae66e32c0f7fb66d42fa8'],
  [17, 'cd149752aea2e25ec45be183c9fb8a13'],
  [18, 'f0a082bd388aaf80a1911a5fd83b279a'],
  [19, 'c3c39ae4468df596e579534491872425'],
  [20, 'cf126a1d7bb2706275aa988fb7bae94b'],
  [31, 'aec43ebeb68a35e30678bbb99a86055c'],
  [32, '069997c3a5b9af8670c1fce09aac30dc'],
  [33, '5f0a7e601927322f70da3a9df0bdaf3e'],
  [47, '5fc569e7cd2ea10c530342f9544917b7'],
  [48, '57087114c68ec833d4853f6c11597fdc'],
  [63, '2ee8a95648f457622b199b30c2bbce4e'],
  [64, 'd69deca753ed93fb271b1f9c1891f588'],
  [65, 'dc7ff114967eb73631236e0aef612199'],
  [96, 'bb8f0d1f0bc71d4dc8b941664ef9ad36'],
  [97, '2ca8a0ac923f3d5133e5d440ae49138a'],
  [127, '156cfdcfdb6c36cdf8b85db7344853c0'],
  [128, 'c67aae9802ef9df6890b08ce44bf6361'],
  [129, '1fe081559499386f1d8b86061e110e60'],
  [159, 'bad6ebb7cd66eec130844616fb57a951'],
  [160, 'c02c7701ebd13a9fdcf0837f197ff1be'],
  [161, '8a4dd8de599fdaae0959dcfae93c42ac'],
  [192, '218bfef7ec39d3d86eb3d22a678b1a65'],
  [200, 'b869cf97d33fcc9aa4015a9c0be082a1'],
  [239, 'aa468003fb17f51d24bbd63b8b88ed89'],
  [240, '21b677032f61147edcbedc9e0744292b'],
  [241, '767197b4c2d9f351c5b9c38183252a96'],
  [255, '41de3cbcbe30e0ba5da1a59e8fa8b739'],
  [256, 'ccf7f69f948acb7dda98a2925d8b6967'],
  [300, 'f3f4c35edb75adde91a737c6568a3051'],
  [512, '0b7ac05158101d489e4b783f90901dc4'],
  [1023, 'a35f27b5bdbe4b3ce82b4947c6181243'],
  [1024, 'cfe01b5cfb042f39fe1652c4748bb8ee'],
  [1025, '6d6a0f6883fba84d6dc0f4bb5029c1c4'],
  [1100, 'a0b6c0bdf0a3e53684188b73db7547e0'],
  [2048, '2c7b3e69af5c24494aee4d70ec0ca98e'],
  [2049, '96631f50e03142d897a4c1c0a357b668'],
  [3000, '22fb28f3c2d0a74cc6107b97cff519f4'],
  [4096, 'ae8ae04c38acd68bdc013b0400e40754'],
  [10000, '60192b59fba9cdef4c581cafa154e681'],
]
const DIVERGENT_VECTORS: readonly (readonly [string, string])[] = [
  ['80', '39f23593542c7e2b6b148c0872500941'],
  ['ff', '7e5dc90380f0640bd6bcec3c6b29d72e'],
  ['0080', 'e4b02fe7c660c8f8602107e185478d3f'],
  ['41ff42', '9c32ccdc0da1dd5d721427bc4ed3daf7'],
  ['6e130fc86367d030f2', '0e9ffb3f3c6c0acb11bfd9d436920898'],
  ['08db5f12db724b7895bc0e88', 'a319a01a56b31ca4c76a4bfd73a30558'],
  ['1f290534ac74cc678b65f7067a0261b1', 'e1c381641a4f4a900671eb0b3d8a8019'],
]

const M64 = (1n << 64n) - 1n
const P64_1 = 0x9e3779b185ebca87n
// readLE64(secret + 32) ^ readLE64(secret + 40): XXH3 9–16-byte path's bitflipl (seed 0).
const BITFLIP_9TO16 = 0x78e5c0cc4ee679cbn ^ 0x2172ffcc7dd05a82n

function le64(b: Uint8Array, o: number): bigint {
  let v = 0n
  for (let i = 7; i >= 0; i--) v = (v << 8n) | BigInt(b[o + i]!)
  return v
}

/**
 * The two input classes where langsmith JS 0.12's BigInt port (`XXH3_128`) differs from the
 * reference: a 1–3-byte input whose middle byte is ≥ 0x80 (`n(byte << 24)` sign-extends), and a
 * 9–16-byte input where `low64(m128) + ((len - 1) << 54)` carries out of 64 bits (the port ORs
 * the carry into the high half instead of dropping it).
 */
function langsmithJsDiffers(b: Uint8Array): boolean {
  const n = b.length
  if (n >= 1 && n <= 3) return b[n >> 1]! >= 0x80
  if (n >= 9 && n <= 16) {
    const m = ((le64(b, 0) ^ le64(b, n - 8) ^ BITFLIP_9TO16) * P64_1) & M64
    return m + (BigInt(n - 1) << 54n) > M64
  }
  return false
}

describe('xxh3_128', () => {
  it('matches libxxhash on every code path (0, 1–3, 4–8, 9–16, 17–128, 129–240, > 240 bytes)', () => {
    for (const [n, want] of PRNG_VECTORS) {
      expect([n, xxh3_128Hex(prngBytes(n))]).toEqual([n, want])
      expect([n, xxh3_128(prngBytes(n))]).toEqual([n, BigInt(`0x${want}`)])
    }
  })

  it('follows libxxhash where langsmith JS differs (1–3 bytes with a high middle byte, 9–16-byte carries)', () => {
    for (const [hex, want] of DIVERGENT_VECTORS) {
      const bytes = fromHex(hex)
      expect(langsmithJsDiffers(bytes)).toBe(true)
      expect(xxh3_128Hex(bytes)).toBe(want)
      expect(XXH3_128(bytes)).not.toBe(BigInt(`0x${want}`))
    }
  })

  it('equals langsmith XXH3_128 on random bytes of every length 0..300, outside those two classes', () => {
    let compared = 0
    let differing = 0
    for (let n = 0; n <= 300; n++) {
      for (let k = 0; k < (n <= 16 ? 60 : 6); k++) {
        const bytes = crypto.getRandomValues(new Uint8Array(n))
        const ours = xxh3_128(bytes)
        const theirs = XXH3_128(bytes)
        if (langsmithJsDiffers(bytes)) differing++
        else {
          compared++
          if (ours !== theirs)
            expect({ n, hex: Buffer.from(bytes).toString('hex'), ours, theirs }).toBeUndefined()
        }
      }
    }
    expect(compared).toBeGreaterThan(2500)
    expect(differing).toBeLessThan(compared / 10)
  })

  it('equals langsmith XXH3_128 on arbitrary byte strings (fast-check), long ones included', () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.uint8Array({ maxLength: 300 }), fc.uint8Array({ minLength: 241, maxLength: 4000 })),
        (bytes) => langsmithJsDiffers(bytes) || xxh3_128(bytes) === XXH3_128(bytes),
      ),
      { numRuns: 1500 },
    )
  })

  it('agrees with itself across the bigint, hex and modulo forms', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 400 }), fc.integer({ min: 1, max: 2 ** 21 }), (bytes, m) => {
        const v = xxh3_128(bytes)
        return (
          xxh3_128Hex(bytes) === v.toString(16).padStart(32, '0') &&
          xxh3_128Mod(bytes, m) === Number(v % BigInt(m))
        )
      }),
      { numRuns: 1000 },
    )
  })

  it('hashes only the first `length` bytes of a reused buffer', () => {
    const buf = prngBytes(100)
    expect(xxh3_128Mod(buf, 1_000_000, 36)).toBe(Number(xxh3_128(buf.subarray(0, 36)) % 1_000_000n))
  })

  it('refuses a modulus it cannot reduce exactly', () => {
    expect(() => xxh3_128Mod(new Uint8Array(1), 2 ** 21 + 1)).toThrow(RangeError)
    expect(() => xxh3_128Mod(new Uint8Array(1), 0)).toThrow(RangeError)
    expect(() => xxh3_128Mod(new Uint8Array(1), 1.5)).toThrow(RangeError)
  })
})

function randomV4(): string {
  return crypto.randomUUID()
}

describe('langsmithSampled', () => {
  const RATIOS = [0.01, 0.1, 0.5]

  it('equals langsmith isSampledById on 6,000 ids (SDK uuid7, RunTree ids, random v4, uppercase) at 0.01, 0.1, 0.5', () => {
    const ids: string[] = []
    for (let i = 0; i < 2500; i++) ids.push(uuid7())
    for (let i = 0; i < 500; i++) ids.push(new RunTree({ name: 'r' }).id)
    for (let i = 0; i < 2500; i++) ids.push(randomV4())
    for (let i = 0; i < 500; i++) ids.push(uuid7().toUpperCase())
    let kept = 0
    for (const id of ids) {
      for (const ratio of RATIOS) {
        const ours = langsmithSampled(id, ratio)
        if (ours !== isSampledById(id, ratio)) expect({ id, ratio, ours }).toBeUndefined()
        if (ours) kept++
      }
    }
    expect(kept).toBeGreaterThan(ids.length * 0.5) // the cases exercise both answers
    expect(kept).toBeLessThan(ids.length * 0.7)
  })

  it("equals isSampledById on arbitrary strings and ratios (outside the XXH3 port's two bug classes)", () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.uuid(), fc.string({ unit: 'grapheme', maxLength: 40 }), fc.string({ maxLength: 300 })),
        fc.oneof(fc.double({ min: -1, max: 2, noNaN: true }), fc.constantFrom(0, 1, 0.1, Number.NaN)),
        (id, ratio) =>
          langsmithJsDiffers(new TextEncoder().encode(id.toLowerCase())) ||
          langsmithSampled(id, ratio) === isSampledById(id, ratio),
      ),
      { numRuns: 2000 },
    )
    expect(langsmithSampled('İSTANBUL-ÉTÉ', 0.5)).toBe(isSampledById('İSTANBUL-ÉTÉ', 0.5))
  })

  it('keeps everything at ratio >= 1 and nothing at ratio <= 0 or NaN', () => {
    const id = uuid7()
    expect([langsmithSampled(id, 1), langsmithSampled(id, 1.5)]).toEqual([true, true])
    expect([langsmithSampled(id, 0), langsmithSampled(id, -1), langsmithSampled(id, Number.NaN)]).toEqual([
      false,
      false,
      false,
    ])
  })

  it('is the bucket rule: kept iff bucket / 1e6 < ratio, a bucket being the hash mod 1e6', () => {
    const id = '0190d9d3-7c3b-7b3e-9c8e-3a1f2b4c5d6e'
    const bucket = langsmithBucket(id)
    expect(bucket).toBe(Number(XXH3_128(new TextEncoder().encode(id)) % 1_000_000n))
    expect(langsmithSampled(id, bucket / 1e6)).toBe(false)
    expect(langsmithSampled(id, (bucket + 1) / 1e6)).toBe(true)
    expect(langsmithBucket(id.toUpperCase())).toBe(bucket)
  })

  it('keeps 10% ± 0.5 points of 100,000 ids minted by the langsmith SDK', () => {
    let kept = 0
    const N = 100_000
    for (let i = 0; i < N; i++) if (langsmithSampled(uuid7(), 0.1)) kept++
    expect(Math.abs(kept / N - 0.1)).toBeLessThan(0.005)
  })

  it('keeps 10% ± 0.5 points of 20,000 RunTree ids (uuid7 from the start time, sequence 0)', () => {
    let kept = 0
    const N = 20_000
    for (let i = 0; i < N; i++) if (langsmithSampled(new RunTree({ name: 'r' }).id, 0.1)) kept++
    // 20k draws: one standard deviation is 0.21 points.
    expect(Math.abs(kept / N - 0.1)).toBeLessThan(0.01)
  })
})
