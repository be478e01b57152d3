/**
 * Wall-clock time in ms since the epoch, with sub-millisecond precision where the runtime
 * gives it. `performance.now()` supplies the fraction and monotonicity; it is anchored to
 * `Date.now()` and re-anchored (checked once a second) when the two drift more than 1 ms apart, so our times agree
 * with SDKs that stamp with `Date.now()` (the `langsmith` SDK: LangSmith rejects a child
 * run stamped before its parent). Workers freeze both clocks during CPU work and advance
 * them on I/O: we record what the runtime gives and invent nothing.
 */
const hasPerf = typeof performance !== 'undefined' && typeof performance.now === 'function'
let anchor = hasPerf ? Date.now() - performance.now() : 0

// When the anchor was last checked against `Date.now()` (in `performance.now()` ms): the
// two clocks drift far less than 1 ms a second, so one check a second is enough, and a
// span's start and end cost one clock read each instead of two.
let checkedAt = Number.NEGATIVE_INFINITY

export function now(): number {
  if (!hasPerf) return Date.now()
  const p = performance.now()
  if (p >= checkedAt && p - checkedAt < 1000) return anchor + p
  checkedAt = p
  const t = anchor + p
  const wall = Date.now()
  if (t - wall > 1 || wall - t > 1) {
    anchor = wall - p
    return wall
  }
  return t
}
