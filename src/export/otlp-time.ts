/**
 * Span times are fractional ms since the epoch (µs in the fraction). OTLP wants integer
 * nanoseconds (`fixed64 time_unix_nano`), which exceed 2^53: multiplying the double by 1e6
 * would lose digits. So the time is split into whole ms and µs first, and the nanoseconds
 * are built from those two exact integers, as a decimal string (JSON) or as two 32-bit
 * halves (protobuf).
 */

// Above ~2^44 ms (year 2527) the nanoseconds overflow uint64; such a time is malformed.
const MAX_MS = 1.7e13

let whole = 0
let micros = 0

/** Sets `whole` and `micros` from `ms`; NaN, negative or absurd times become 0. */
function split(ms: number): void {
  if (!(ms > 0 && ms < MAX_MS)) {
    whole = 0
    micros = 0
    return
  }
  whole = Math.floor(ms)
  // The fraction of a double near 1.7e12 is exact to ~0.25 µs, so rounding recovers the µs.
  micros = Math.round((ms - whole) * 1000)
  if (micros === 1000) {
    whole++
    micros = 0
  }
}

/**
 * Nanoseconds since the epoch as a decimal string (OTLP/JSON `timeUnixNano`).
 *
 * @example
 * nanosString(1700000000000.001) // '1700000000000001000'
 */
export function nanosString(ms: number): string {
  split(ms)
  if (whole === 0) return String(micros * 1000)
  return `${whole}${micros < 10 ? '00' : micros < 100 ? '0' : ''}${micros}000`
}

/**
 * Writes nanoseconds since the epoch as a little-endian `fixed64` at `at`.
 *
 * @example
 * writeNanos(new DataView(new ArrayBuffer(8)), 0, 1700000000000.001)
 */
export function writeNanos(view: DataView, at: number, ms: number): void {
  split(ms)
  // ns = whole·1e6 + µs·1e3 with whole < 2^44: split whole at 2^22 so every product stays
  // below 2^53, then carry into the high 32 bits by hand.
  const a = (whole % 4194304) * 1e6 + micros * 1000
  const b = Math.floor(whole / 4194304) * 1e6
  const bl = b % 1024
  const low = a + bl * 4194304
  view.setUint32(at, low >>> 0, true)
  view.setUint32(at + 4, (b - bl) / 1024 + Math.floor(low / 4294967296), true)
}
