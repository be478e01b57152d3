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

import { charClass, HEX, HEX_LC, OT_VALUE, skip, TS_KEY_FIRST } from '../chars.js'

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

/** A valid `th` value: 1-14 lower-case hex digits. */
export function isValidThreshold(th: string): boolean {
  return th.length >= 1 && th.length <= 14 && skip(th, 0, th.length, HEX_LC) === th.length
}

/** A valid `rv` value: exactly 14 lower-case hex digits. */
export function isValidRandomness(rv: string): boolean {
  return rv.length === 14 && isValidThreshold(rv)
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
  const out: { th?: string; rv?: string; rest: string } = { rest: '' }
  const n = value.length
  // Sub-keys (tracestate handling §Key, §Value): key = lcalpha *(lcalpha / DIGIT),
  // value = *(ALPHA / DIGIT / "." / "_" / "-"), `key:value` joined by `;`. One pass.
  for (let start = 0; n > 0; ) {
    const first = value.charCodeAt(start)
    if (!(first >= 97 && first <= 122)) return undefined
    let i = skip(value, start + 1, n, TS_KEY_FIRST)
    const colon = i
    if (value.charCodeAt(colon) !== 58 /* : */) return undefined
    let hex = true
    for (let c: number; ++i < n && (c = value.charCodeAt(i)) !== 59 /* ; */; ) {
      if (!(charClass(c) & OT_VALUE)) return undefined
      if (!(charClass(c) & HEX_LC)) hex = false
    }
    const len = i - colon - 1
    // `th` or `rv`: a two-letter key, told apart by its first letter.
    const key = colon - start === 2 && value.charCodeAt(start + 1) === (first === 116 ? 104 : 118) ? first : 0
    if (key === 116 /* th */) {
      if (out.th === undefined && hex && len > 0 && len < 15) out.th = value.slice(colon + 1, i)
    } else if (key === 114 /* rv */) {
      if (out.rv === undefined && hex && len === 14) out.rv = value.slice(colon + 1, i)
    } else out.rest = joinOt(out.rest, value.slice(start, i))
    if (i >= n) break
    start = i + 1
  }
  return out
}

/** `a` and `b` joined by `;`, either one possibly empty. */
function joinOt(a: string, b: string): string {
  return a && b ? `${a};${b}` : a || b
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
  return otValue(v.th, v.rv, v.rest)
}

/** `th`, `rv`, rest joined with `;`, or undefined when all are absent/empty. */
function otValue(th: string | undefined, rv: string | undefined, rest: string): string | undefined {
  return (
    joinOt(joinOt(th === undefined ? '' : `th:${th}`, rv === undefined ? '' : `rv:${rv}`), rest) || undefined
  )
}

/** How many leading hex digits of `x` (0 < x < 1) are zero: the largest k with x·16^k < 1. */
function leadingZeroHexDigits(x: number): number {
  let k = 0
  // Multiplying by 16 is exact in binary floating point, so this is Go's math.Frexp
  // exponent divided by -4, computed without a logarithm.
  for (; x * 16 < 1; k++) x *= 16
  return k
}

// A one-entry cache of a pure function (the ratio rarely changes): not per-request state.
let memoRatio = Number.NaN
let memoPrecision = 0
let memoTh: string | undefined
const TRAILING_ZEROS = /0+$/

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
  if (ratio !== memoRatio || precision !== memoPrecision) {
    memoRatio = ratio
    memoPrecision = precision
    memoTh = computeThreshold(ratio, precision)
  }
  return memoTh
}

function computeThreshold(ratio: number, precision: number): string | undefined {
  if (!(ratio > 0)) return undefined
  if (ratio >= 1) return '0'
  // ratio * 2^56 is exact (a power-of-two scaling); Math.round and Go's math.Round agree on
  // positive values. Above 2^53 the product is already an integer. BigInt for the 56-bit
  // arithmetic: this runs once per ratio (memoized), so its cost does not matter.
  const scaled = Math.round(ratio * 2 ** 56)
  if (scaled === 0) return undefined
  // Precision: the Collector raises it by the number of leading `f` digits (expF) or leading
  // `0` digits (expR), whichever is more, capped at 14. Precision 0 (or nonsense) means full
  // precision, as in the Collector.
  const digits = Math.min(
    14,
    (precision >= 1 ? Math.min(14, Math.floor(precision)) : 14) +
      Math.max(leadingZeroHexDigits(ratio), leadingZeroHexDigits(1 - ratio)),
  )
  const unit = BigInt(2 ** (4 * (14 - digits)))
  const t = BigInt(2 ** 56) - BigInt(scaled)
  const r = t % unit
  // Half-up. Rounding up cannot reach 2^56 (the precision boost for small ratios keeps the
  // rounding step below the kept count), but a threshold must stay within 56 bits regardless.
  const th = t - r + (r * BigInt(2) >= unit ? unit : BigInt(0))
  return th >= BigInt(2 ** 56)
    ? 'ffffffffffffff'
    : th.toString(16).padStart(14, '0').replace(TRAILING_ZEROS, '') || '0'
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
 * bits. Pure JS on two 32-bit halves kept as int32 (`Math.imul` for low words, 16-bit
 * pieces where a high word is needed): the same result in every runtime, no BigInt, no
 * float division.
 *
 * @example
 * randomnessFromHash('00000000000000000000000000000001') // 'b55b74000d5600'
 */
export function randomnessFromHash(traceId: string): string {
  // h as two 32-bit halves, int32 in registers: hi, lo.
  let hi = 0xcbf29ce4 | 0
  let lo = 0x84222325 | 0
  for (let i = 0; i + 1 < traceId.length; i += 2) {
    // A hex digit's value from its code, either case: (c & 15) + 9 for letters.
    const x = traceId.charCodeAt(i)
    const y = traceId.charCodeAt(i + 1)
    lo ^= ((((x & 15) + (x >> 6) * 9) << 4) | ((y & 15) + (y >> 6) * 9)) & 0xff
    // h *= 0x100000001b3 = h * 0x1b3 + (h << 40). lo * 0x1b3 in 16-bit pieces (each < 2^26)
    // gives its carry into hi; h << 40 adds lo << 8 to hi.
    const p0 = (lo & 0xffff) * 0x1b3
    const p1 = (lo >>> 16) * 0x1b3 + (p0 >>> 16)
    hi = (Math.imul(hi, 0x1b3) + (p1 >>> 16) + (lo << 8)) | 0
    lo = (p1 << 16) | (p0 & 0xffff)
  }
  // fmix64: h ^= h >> 33 (the high half shifted right by one, into the low), h *= C, ...
  lo ^= hi >>> 1
  hi = (mulHigh(lo, 0xed558ccd) + Math.imul(lo, 0xff51afd7) + Math.imul(hi, 0xed558ccd)) | 0
  lo = Math.imul(lo, 0xed558ccd)
  lo ^= hi >>> 1
  hi = (mulHigh(lo, 0x1a85ec53) + Math.imul(lo, 0xc4ceb9fe) + Math.imul(hi, 0x1a85ec53)) | 0
  lo = Math.imul(lo, 0x1a85ec53)
  lo ^= hi >>> 1
  // Top 56 bits: hi and the top three bytes of lo. A table, not toString(16), which takes a
  // slow path for numbers above 2^31.
  return (
    HEX[hi >>> 24]! +
    HEX[(hi >>> 16) & 0xff]! +
    HEX[(hi >>> 8) & 0xff]! +
    HEX[hi & 0xff]! +
    HEX[lo >>> 24]! +
    HEX[(lo >>> 16) & 0xff]! +
    HEX[(lo >>> 8) & 0xff]!
  )
}

/** The high 32 bits of the 64-bit product of two 32-bit words read as unsigned, from 16-bit pieces. */
function mulHigh(a: number, b: number): number {
  const a0 = a & 0xffff
  const a1 = a >>> 16
  const b0 = b & 0xffff
  const b1 = b >>> 16
  const p01 = a0 * b1
  const p10 = a1 * b0
  // Each product < 2^32: exact in a double; `>>> 16` reads it as unsigned.
  const middle = ((a0 * b0) >>> 16) + (p01 & 0xffff) + (p10 & 0xffff)
  return a1 * b1 + (p01 >>> 16) + (p10 >>> 16) + (middle >>> 16)
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
  const parsed = parseOtelTraceState(input.ot)
  let rv = parsed?.rv
  const randomness =
    rv ??
    (input.randomFlag && input.traceId.length === 32
      ? randomnessFromTraceId(input.traceId)
      : (rv = randomnessFromHash(input.traceId)))
  const th = thresholdForRatio(input.ratio)
  const sampled = th !== undefined && keepByThreshold(randomness, th)
  const keptTh = sampled ? th : undefined
  const ot = otValue(keptTh, rv, parsed?.rest ?? '')
  // Adding `th`/`rv` may push the member over the W3C limit: then give up the opaque
  // sub-keys, never the sampling ones.
  return { sampled, ot: ot !== undefined && ot.length > MAX_OT_LENGTH ? otValue(keptTh, rv, '') : ot }
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
  const parsed = parseOtelTraceState(input.ot)
  if (parsed === undefined) return undefined
  const randomness =
    parsed.rv ??
    (input.randomFlag && input.traceId.length === 32 ? randomnessFromTraceId(input.traceId) : undefined)
  // Spec, general requirements: erase a threshold that is "apparently inconsistent", i.e.
  // the sampled flag does not match `R >= T` (OTEP 235's invariant), either way round.
  const keep =
    parsed.th !== undefined &&
    (randomness === undefined || keepByThreshold(randomness, parsed.th) === input.sampled)
  return otValue(keep ? parsed.th : undefined, parsed.rv, parsed.rest)
}
