/**
 * The `langsmith` SDKs' deterministic trace sampling rule (JS `isSampledById` in
 * `langsmith/lib/utils/sampling`, Python `xxhash.xxh3_128` in the client): a trace is kept
 * iff `(XXH3-128(utf8(lowercase(traceId))) mod 1_000_000) / 1_000_000 < ratio`. A pure
 * function of the id, so a LangSmith SDK service and a tracehop service configured with the
 * same ratio keep exactly the same traces.
 */
import { xxh3_128Mod } from './xxh3.js'

const MODULUS = 1_000_000

// A UUID is 36 ASCII bytes: lowercased straight into a reused buffer, no TextEncoder and
// no intermediate string. Other ids (longer, or not ASCII) take the general path.
const ASCII_MAX = 256
const scratch = /* @__PURE__ */ new Uint8Array(ASCII_MAX)
const encoder = /* @__PURE__ */ new TextEncoder()

/**
 * Whether LangSmith keeps the trace `traceIdUuid` at sampling `ratio`, by the rule of the
 * `langsmith` SDKs: `ratio >= 1` keeps everything, `ratio <= 0` (or NaN) nothing; otherwise
 * the bucket `XXH3-128(UTF-8 of the lowercased id) mod 1e6` is kept iff `bucket / 1e6 <
 * ratio`. The id is hashed as given (any string), so the answer equals the SDK's for the
 * same string; LangSmith ids are canonical UUIDs.
 *
 * @example
 * ```ts
 * langsmithSampled('0190d9d3-7c3b-7b3e-9c8e-3a1f2b4c5d6e', 0.1) // same answer as isSampledById
 * langsmithSampled(anyId, 1) // true
 * ```
 */
export function langsmithSampled(traceIdUuid: string, ratio: number): boolean {
  if (ratio >= 1) return true
  if (!(ratio > 0)) return false
  return langsmithBucket(traceIdUuid) / MODULUS < ratio
}

/**
 * The LangSmith sampling bucket of an id, in [0, 1_000_000): `XXH3-128(UTF-8 of the
 * lowercased id) mod 1e6`. Exposed so a caller can store one number and compare it with
 * several ratios.
 *
 * @example
 * ```ts
 * langsmithBucket(id) / 1e6 < 0.25 // === langsmithSampled(id, 0.25) for 0 < ratio < 1
 * ```
 */
export function langsmithBucket(id: string): number {
  const n = id.length
  if (n <= ASCII_MAX) {
    let i = 0
    for (; i < n; i++) {
      const c = id.charCodeAt(i)
      if (c >= 0x80) break
      // ASCII lowercasing is all String.prototype.toLowerCase does to these characters.
      scratch[i] = c >= 0x41 && c <= 0x5a ? c | 0x20 : c
    }
    if (i === n) return xxh3_128Mod(scratch, MODULUS, n)
  }
  // Full Unicode lowercasing, as the SDK does before encoding.
  return xxh3_128Mod(encoder.encode(id.toLowerCase()), MODULUS)
}
