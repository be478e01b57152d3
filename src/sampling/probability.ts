/**
 * OpenTelemetry consistent probability sampling: the pure math, and the `ot=` tracestate
 * sub-keys `th` (rejection threshold) and `rv` (explicit randomness).
 *
 * Spec: OpenTelemetry "TraceState: Probability Sampling" (trace/tracestate-probability-
 * sampling.md) and "TraceState Handling" (trace/tracestate-handling.md). In short:
 * - R, the randomness, is 56 bits: `rv` when the tracestate carries one, else the trace id's
 *   least-significant 56 bits (W3C Trace Context Level 2 §"Random Trace ID Flag").
 * - T, the rejection threshold, is `(1 - p) * 2^56`; a span is kept iff `R >= T`
 *   (§"Decision algorithm"). A kept span records T in `th` (§"Rejection Threshold").
 * - `th` is 1-14 lower-case hex digits, trailing zeros removed (decode: pad with zeros to
 *   14); `rv` is exactly 14 lower-case hex digits.
 *
 * No BigInt, no 64-bit integers: both R and T are fixed-width 14-digit lower-case hex
 * strings, and for equal-length lower-case hex, string order is numeric order ("Lowercase
 * hexadecimal digits are specified to enable direct lexicographical comparison", tracestate
 * handling §rv). The one place that needs arithmetic, probability → threshold, splits the
 * 56-bit value into two 28-bit halves, each exact in a double.
 *
 * Agreement with other samplers (tested in test/sampling/probability.test.ts):
 * - OTel SDKs' spec `ProbabilitySampler` / new-style `TraceIdRatioBased`, and the Collector's
 *   `probabilistic_sampler` in `proportional` mode on a span with no prior threshold: same
 *   R, same T (the Collector's `ProbabilityToThresholdWithPrecision` with its default
 *   precision 4), so the same decision for every trace id.
 * - `@opentelemetry/sdk-trace-base` 2.x `TraceIdRatioBasedSampler` (JS) does NOT follow the
 *   current spec: it XORs the four 32-bit words of the trace id and compares with
 *   `floor(ratio * 0xffffffff)`, ignoring `rv`, the random flag and `th`. Its decisions
 *   are statistically independent of ours; both keep `ratio` of traces, but a trace kept
 *   by one is kept by the other only with probability `ratio`. Mixing the two in one
 *   system gives incomplete traces unless the other services are parent-based.
 */

/** The `ot` member's value, split into the sub-keys this module understands. */
export interface OtelTraceStateValue {
  /** Rejection threshold, 1-14 lower-case hex digits. */
  readonly th?: string
  /** Explicit randomness, exactly 14 lower-case hex digits. */
  readonly rv?: string
  /** The other sub-keys, `key:value;…`, opaque and in their original order ('' if none). */
  readonly rest: string
}

/** A head decision and what the `ot` tracestate member must become. */
export interface ProbabilityDecision {
  readonly sampled: boolean
  /** The new `ot` member value to write, or undefined to remove the member. */
  readonly ot: string | undefined
}

// W3C tracestate: a member value is at most 256 characters (tracestate handling §"Value").
const MAX_OT_LENGTH = 256
/** Significant hex digits of a threshold we write: the spec's and the Collector's default. */
const DEFAULT_PRECISION = 4
const TWO_28 = 0x10000000
const TWO_56 = 2 ** 56

// ot sub-key grammar (tracestate handling §Key, §Value): key = lcalpha *(lcalpha / DIGIT),
// value = *(ALPHA / DIGIT / "." / "_" / "-"). Checked by char code, without a regex.
function isKeyStart(c: number): boolean {
  return c >= 97 && c <= 122
}
function isKeyChar(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 48 && c <= 57)
}
function isValueChar(c: number): boolean {
  return (
    (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 48 && c <= 57) || c === 46 || c === 95 || c === 45
  )
}

/** Lower-case hex digits only, in `s[start, end)`. */
function isLowerHexRange(s: string, start: number, end: number): boolean {
  for (let i = start; i < end; i++) {
    const c = s.charCodeAt(i)
    if (!((c >= 48 && c <= 57) || (c >= 97 && c <= 102))) return false
  }
  return true
}

/** A valid `th` value: 1-14 lower-case hex digits. */
export function isValidThreshold(th: string): boolean {
  return th.length >= 1 && th.length <= 14 && isLowerHexRange(th, 0, th.length)
}

/** A valid `rv` value: exactly 14 lower-case hex digits. */
export function isValidRandomness(rv: string): boolean {
  return rv.length === 14 && isLowerHexRange(rv, 0, 14)
}

interface MutableOtValue {
  th?: string
  rv?: string
  rest: string
}

/**
 * Parses the value of the `ot` tracestate member (`th:…;rv:…;other:…`). Returns undefined
 * when there is no member or its syntax is broken (a member that is not `key:value`, a
 * value above 256 characters). Inside a well-formed value an invalid `th` or `rv` is
 * dropped on its own, as is a repeated one (keys must be unique; the first wins), so the
 * caller erases it rather than propagating it; other sub-keys are kept opaque, in order.
 *
 * @example
 * parseOtelTraceState('th:8;rv:9b8233f7e3a151;xx:1') // { th: '8', rv: '9b8233f7e3a151', rest: 'xx:1' }
 * parseOtelTraceState('th:XYZ;rv:9b8233f7e3a151')    // { rv: '9b8233f7e3a151', rest: '' }
 */
export function parseOtelTraceState(value: string | undefined): OtelTraceStateValue | undefined {
  if (value === undefined || value.length > MAX_OT_LENGTH) return undefined
  const out: MutableOtValue = { rest: '' }
  const n = value.length
  if (n === 0) return out
  let start = 0
  while (start <= n) {
    // key
    if (!isKeyStart(value.charCodeAt(start))) return undefined
    let i = start + 1
    while (i < n && isKeyChar(value.charCodeAt(i))) i++
    if (i >= n || value.charCodeAt(i) !== 58 /* : */) return undefined
    const colon = i
    i++
    // value, up to ';' or the end; one pass also tells whether it is lower-case hex
    let hex = true
    for (let c = value.charCodeAt(i); i < n && c !== 59 /* ; */; c = value.charCodeAt(++i)) {
      if (c >= 48 && c <= 57) continue
      if (c >= 97 && c <= 102) continue
      hex = false
      if (!isValueChar(c)) return undefined
    }
    const end = i
    const keyLength = colon - start
    const valueLength = end - colon - 1
    if (keyLength === 2 && value.charCodeAt(start) === 116 /* t */ && value.charCodeAt(start + 1) === 104) {
      if (out.th === undefined && hex && valueLength >= 1 && valueLength <= 14) {
        out.th = value.slice(colon + 1, end)
      }
    } else if (
      keyLength === 2 &&
      value.charCodeAt(start) === 114 /* r */ &&
      value.charCodeAt(start + 1) === 118
    ) {
      if (out.rv === undefined && hex && valueLength === 14) {
        out.rv = value.slice(colon + 1, end)
      }
    } else {
      const member = value.slice(start, end)
      out.rest = out.rest.length === 0 ? member : `${out.rest};${member}`
    }
    start = end + 1
  }
  return out
}

/** `th`, `rv`, rest joined with `;`, or undefined when all are absent/empty. */
function joinOt(th: string | undefined, rv: string | undefined, rest: string): string | undefined {
  let out = th !== undefined ? `th:${th}` : ''
  if (rv !== undefined) out = out.length === 0 ? `rv:${rv}` : `${out};rv:${rv}`
  if (rest.length > 0) out = out.length === 0 ? rest : `${out};${rest}`
  return out.length === 0 ? undefined : out
}

/**
 * Formats an `ot` member value: `th` first, then `rv`, then the other sub-keys. Undefined
 * when nothing is left (the caller removes the member).
 *
 * @example
 * formatOtelTraceState({ th: 'c', rv: '9b8233f7e3a151', rest: '' }) // 'th:c;rv:9b8233f7e3a151'
 * formatOtelTraceState({ rest: '' })                                // undefined
 */
export function formatOtelTraceState(v: OtelTraceStateValue): string | undefined {
  return joinOt(v.th, v.rv, v.rest)
}

/** How many leading hex digits of `x` (0 < x < 1) are zero: the largest k with x·16^k < 1. */
function leadingZeroHexDigits(x: number): number {
  let k = 0
  // Multiplying by 16 is exact in binary floating point, so this is Go's math.Frexp
  // exponent divided by -4, computed without a logarithm.
  while (x * 16 < 1) {
    x *= 16
    k++
  }
  return k
}

function hex7(x: number): string {
  return x.toString(16).padStart(7, '0')
}

// A one-entry cache of a pure function (the ratio rarely changes): not per-request state.
let memoRatio = Number.NaN
let memoPrecision = 0
let memoTh: string | undefined

/**
 * The `th` value for sampling probability `ratio`: `T = 2^56 - round(ratio * 2^56)`,
 * rounded half-up to `precision` significant hex digits (default 4), where leading `f`
 * digits (small ratios) and leading `0` digits (ratios near 1) do not count — exactly the
 * OpenTelemetry Collector's `sampling.ProbabilityToThresholdWithPrecision`, which its
 * `probabilistic_sampler` calls with `sampling_precision` (default 4). Trailing zeros are
 * removed; `'0'` for ratio 1. Undefined for ratio 0 or NaN (never sample: "never" is not a
 * probability, spec §"Sampling Probability"), and for ratios below 2^-57, which round to
 * zero kept traces out of 2^56. Ratios above 1 are treated as 1. (The Collector reads
 * `sampling_percentage` as a float32, so for a ratio that float32 cannot hold exactly and
 * that sits on a rounding boundary its last digit may differ from ours.)
 *
 * @example
 * thresholdForRatio(1)     // '0'
 * thresholdForRatio(0.25)  // 'c'
 * thresholdForRatio(0.1)   // 'e666'
 * thresholdForRatio(0.01)  // 'fd70a' (a leading f is not significant, so 5 digits)
 * thresholdForRatio(0)     // undefined
 */
export function thresholdForRatio(ratio: number, precision: number = DEFAULT_PRECISION): string | undefined {
  if (ratio === memoRatio && precision === memoPrecision) return memoTh
  const th = computeThreshold(ratio, precision)
  memoRatio = ratio
  memoPrecision = precision
  memoTh = th
  return th
}

function computeThreshold(ratio: number, precision: number): string | undefined {
  if (!(ratio > 0)) return undefined
  if (ratio >= 1) return '0'
  // ratio * 2^56 is exact (a power-of-two scaling); Math.round and Go's math.Round agree on
  // positive values. Above 2^53 the product is already an integer.
  const scaled = Math.round(ratio * TWO_56)
  if (scaled === 0) return undefined
  // T = 2^56 - scaled, as two 28-bit halves (each exact in a double).
  const sHi = Math.floor(scaled / TWO_28)
  const sLo = scaled - sHi * TWO_28
  let tHi: number
  let tLo: number
  if (sLo === 0) {
    tHi = TWO_28 - sHi
    tLo = 0
  } else {
    tHi = TWO_28 - sHi - 1
    tLo = TWO_28 - sLo
  }
  // Precision: the Collector raises it by the number of leading `f` digits (expF) or leading
  // `0` digits (expR), whichever is more, capped at 14.
  // Precision 0 (or nonsense) means full precision, as in the Collector.
  let digits = precision >= 1 ? Math.min(14, Math.floor(precision)) : 14
  digits = Math.min(14, digits + Math.max(leadingZeroHexDigits(ratio), leadingZeroHexDigits(1 - ratio)))
  const shift = 4 * (14 - digits)
  if (shift > 0 && shift <= 28) {
    const unit = 2 ** shift
    const r = tLo % unit
    tLo -= r
    if (r >= unit / 2) tLo += unit
    if (tLo === TWO_28) {
      tLo = 0
      tHi += 1
    }
  } else if (shift > 28) {
    const unit = 2 ** (shift - 28)
    const rHi = tHi % unit
    tHi -= rHi
    // The discarded remainder is rHi·2^28 + tLo < 2^shift <= 2^52: exact.
    if (rHi * TWO_28 + tLo >= 2 ** (shift - 1)) tHi += unit
    tLo = 0
  }
  // Rounding up cannot reach 2^56 (the precision boost for small ratios keeps the rounding
  // step below the kept count), but a threshold must stay within 56 bits regardless.
  if (tHi >= TWO_28) return 'ffffffffffffff'
  let s = hex7(tHi) + hex7(tLo)
  let end = s.length
  while (end > 1 && s.charCodeAt(end - 1) === 48) end--
  if (end < s.length) s = s.slice(0, end)
  return s
}

/**
 * The trace id's least-significant 56 bits: its last 14 hex digits. Only meaningful when
 * those bits are random (W3C Level 2 random flag, or ids minted by `randomTraceId`/
 * `uuidv7Hex`). `traceId` must be 32 lower-case hex digits.
 *
 * @example
 * randomnessFromTraceId('4bf92f3577b34da6a3ce929d0e0e4736') // 'ce929d0e0e4736'
 */
export function randomnessFromTraceId(traceId: string): string {
  return traceId.slice(traceId.length - 14)
}

// Two lower-case hex digits per byte value.
const HEX2: string[] = []
for (let i = 0; i < 256; i++) HEX2.push(i.toString(16).padStart(2, '0'))

// Hex digit values by char code; anything else reads as 0 (only defined for valid ids).
const HEX_VALUE = new Uint8Array(128)
for (let i = 0; i < 10; i++) HEX_VALUE[48 + i] = i
for (let i = 0; i < 6; i++) {
  HEX_VALUE[65 + i] = 10 + i
  HEX_VALUE[97 + i] = 10 + i
}

/**
 * 56 bits of randomness derived from the trace id, for ids whose low bits are not known to
 * be random (no W3C random flag: LangSmith ids from `RunTree` have a zero sequence there,
 * ids from other tracers may be counters). The hash, reproducible in any language:
 *
 *   h = FNV-1a 64 over the 16 bytes of the trace id (offset 0xcbf29ce484222325,
 *       prime 0x100000001b3, `h = (h ^ byte) * prime` per byte)
 *   h = murmur3 fmix64(h): h ^= h >> 33; h *= 0xff51afd7ed558ccd; h ^= h >> 33;
 *       h *= 0xc4ceb9fe1a85ec53; h ^= h >> 33   (all mod 2^64)
 *   rv = the top 56 bits of h (h >> 8), as 14 lower-case hex digits
 *
 * Which ids need it: LangSmith `RunTree` ids (`uuid7FromTime`, sequence 0) have zeros in the
 * top 14 of their low 56 bits, so trusting them keeps nothing at ratio 0.1 (tested); the
 * `langsmith` `uuid7()` ids carry a per-millisecond counter there, so decisions for ids
 * minted in one millisecond are correlated. Ids tracehop mints (`randomTraceId`,
 * `uuidv7Hex`) are random there and may carry the W3C random flag.
 *
 * FNV-1a alone mixes its last bytes poorly into its high bits (sequential ids then sample
 * at the wrong rate: tested); the fmix64 finalizer spreads every input bit over all output
 * bits. Pure JS on 16-bit limbs held in locals (products < 2^35, exact in a double): the
 * same result in every runtime, no BigInt.
 *
 * @example
 * randomnessFromHash('00000000000000000000000000000001') // 'b55b74000d5600'
 */
export function randomnessFromHash(traceId: string): string {
  // h = 0xcbf29ce484222325 as limbs a3 a2 a1 a0 (high to low)
  let a0 = 0x2325
  let a1 = 0x8422
  let a2 = 0x9ce4
  let a3 = 0xcbf2
  let t: number
  let r0: number
  let r1: number
  let r2: number
  const n = traceId.length
  for (let i = 0; i + 1 < n; i += 2) {
    a0 ^= ((HEX_VALUE[traceId.charCodeAt(i)]! << 4) | HEX_VALUE[traceId.charCodeAt(i + 1)]!) & 0xff
    // h *= 0x100000001b3 = h * 0x1b3 + (h << 40); h << 40 only reaches limbs 2 and 3.
    t = a0 * 0x1b3
    r0 = t & 0xffff
    t = a1 * 0x1b3 + (t >>> 16)
    r1 = t & 0xffff
    t = a2 * 0x1b3 + a0 * 0x100 + (t >>> 16)
    r2 = t & 0xffff
    a3 = (a3 * 0x1b3 + a1 * 0x100 + (t >>> 16)) & 0xffff
    a2 = r2
    a1 = r1
    a0 = r0
  }
  // h ^= h >> 33: the high 32 bits shifted right by one, into the low 32.
  let s = (a3 * 0x10000 + a2) >>> 1
  a0 ^= s & 0xffff
  a1 ^= s >>> 16
  // h *= 0xff51afd7ed558ccd (limbs 0xff51 0xafd7 0xed55 0x8ccd)
  t = a0 * 0x8ccd
  r0 = t & 0xffff
  t = a0 * 0xed55 + a1 * 0x8ccd + (t - r0) / 0x10000
  r1 = t & 0xffff
  t = a0 * 0xafd7 + a1 * 0xed55 + a2 * 0x8ccd + (t - r1) / 0x10000
  r2 = t & 0xffff
  a3 = (a0 * 0xff51 + a1 * 0xafd7 + a2 * 0xed55 + a3 * 0x8ccd + (t - r2) / 0x10000) & 0xffff
  a2 = r2
  a1 = r1
  a0 = r0
  s = (a3 * 0x10000 + a2) >>> 1
  a0 ^= s & 0xffff
  a1 ^= s >>> 16
  // h *= 0xc4ceb9fe1a85ec53 (limbs 0xc4ce 0xb9fe 0x1a85 0xec53)
  t = a0 * 0xec53
  r0 = t & 0xffff
  t = a0 * 0x1a85 + a1 * 0xec53 + (t - r0) / 0x10000
  r1 = t & 0xffff
  t = a0 * 0xb9fe + a1 * 0x1a85 + a2 * 0xec53 + (t - r1) / 0x10000
  r2 = t & 0xffff
  a3 = (a0 * 0xc4ce + a1 * 0xb9fe + a2 * 0x1a85 + a3 * 0xec53 + (t - r2) / 0x10000) & 0xffff
  a2 = r2
  a1 = r1
  a0 = r0
  s = (a3 * 0x10000 + a2) >>> 1
  a0 ^= s & 0xffff
  a1 ^= s >>> 16
  // Top 56 bits: limbs 3, 2, 1 and the high byte of limb 0. A table, not toString(16),
  // which takes a slow path for numbers above 2^31.
  return (
    HEX2[a3 >>> 8]! +
    HEX2[a3 & 0xff]! +
    HEX2[a2 >>> 8]! +
    HEX2[a2 & 0xff]! +
    HEX2[a1 >>> 8]! +
    HEX2[a1 & 0xff]! +
    HEX2[a0 >>> 8]!
  )
}

/**
 * Consistent decision: keep iff R >= T, with `randomness14hex` the 14-digit R and `th` the
 * 1-14 digit threshold (implicitly padded with zeros to 14, tracestate handling §th).
 * Compares digit by digit, no allocation; hex letters compare case-insensitively.
 *
 * @example
 * keepByThreshold('9b8233f7e3a151', '8')  // true  (0x9b… >= 0x80…)
 * keepByThreshold('7fffffffffffff', '8')  // false
 * keepByThreshold('00000000000000', '0')  // true  (th 0 keeps everything)
 */
export function keepByThreshold(randomness14hex: string, th: string): boolean {
  for (let i = 0; i < 14; i++) {
    // `| 0x20` lower-cases A-F and leaves 0-9 unchanged.
    const r = randomness14hex.charCodeAt(i) | 0x20
    const t = i < th.length ? th.charCodeAt(i) | 0x20 : 48
    if (r !== t) return r > t
  }
  return true
}

/**
 * The head decision of a consistent probability sampler (spec: the `ProbabilitySampler`
 * / `TraceIdRatioBased` base case, which ignores any parent threshold):
 * - R is `rv` from `ot` when present and valid; else, with the W3C random flag, the trace
 *   id's low 56 bits; else {@link randomnessFromHash}, which is then written as `rv` so every
 *   later OTel sampler (SDKs, the Collector) uses the same randomness ("If randomness was
 *   derived from an explicit randomness value, the identical rv value must be set").
 * - T from `ratio` ({@link thresholdForRatio}); keep iff R >= T.
 * - Kept: `th` is our threshold ("the sampler's effective T is encoded in th"). Dropped: `th`
 *   is erased (a span of unknown probability carries none). An incoming `th` never
 *   survives, so an inconsistent or invalid one is always erased. `rv` and unknown
 *   sub-keys are kept; a malformed `ot` member is replaced.
 *
 * @example
 * decideProbability({ traceId: '4bf92f3577b34da6a3ce929d0e0e4736', randomFlag: true, ot: undefined, ratio: 0.25 })
 * // { sampled: true, ot: 'th:c' }   (R = 0xce929d0e0e4736 >= 0xc0000000000000)
 */
export function decideProbability(input: {
  traceId: string
  randomFlag: boolean
  ot: string | undefined
  ratio: number
}): ProbabilityDecision {
  const parsed = input.ot === undefined ? undefined : parseOtelTraceState(input.ot)
  let rv = parsed === undefined ? undefined : parsed.rv
  let randomness: string
  if (rv !== undefined) randomness = rv
  else if (input.randomFlag && input.traceId.length === 32) randomness = randomnessFromTraceId(input.traceId)
  else randomness = rv = randomnessFromHash(input.traceId)
  const th = thresholdForRatio(input.ratio)
  const sampled = th !== undefined && keepByThreshold(randomness, th)
  const keptTh = sampled ? th : undefined
  const rest = parsed === undefined ? '' : parsed.rest
  let ot = joinOt(keptTh, rv, rest)
  // Adding `th`/`rv` may push the member over the W3C limit: then give up the opaque
  // sub-keys, never the sampling ones.
  if (ot !== undefined && ot.length > MAX_OT_LENGTH) ot = joinOt(keptTh, rv, '')
  return { sampled, ot }
}

/**
 * For a parent-based sampler that follows a trusted parent's decision: the `ot` value to
 * propagate, with `th` erased when it is apparently inconsistent (spec §"General
 * requirements": a sampled context whose `rv >= th` does not hold, or whose `th` is
 * invalid). R is `rv`, or the trace id's low bits under the random flag; when neither is
 * known the test is not simple and `th` is kept. A malformed `ot` member is removed.
 *
 * @example
 * consistentParentOt({ traceId: '…', randomFlag: false, sampled: true, ot: 'th:8;rv:10000000000000' }) // 'rv:10000000000000'
 */
export function consistentParentOt(input: {
  traceId: string
  randomFlag: boolean
  sampled: boolean
  ot: string | undefined
}): string | undefined {
  if (input.ot === undefined) return undefined
  const parsed = parseOtelTraceState(input.ot)
  if (parsed === undefined) return undefined
  let th = parsed.th
  if (th !== undefined && input.sampled) {
    const randomness =
      parsed.rv ??
      (input.randomFlag && input.traceId.length === 32 ? randomnessFromTraceId(input.traceId) : undefined)
    if (randomness !== undefined && !keepByThreshold(randomness, th)) th = undefined
  }
  return joinOt(th, parsed.rv, parsed.rest)
}
