/**
 * Wall-clock time in ms since the epoch, with sub-millisecond precision where the runtime
 * gives it. `performance.now()` supplies the fraction and monotonicity; it is anchored to
 * `Date.now()` and re-anchored when the two drift more than 1 ms apart, so our times agree
 * with SDKs that stamp with `Date.now()` (the `langsmith` SDK: LangSmith rejects a child
 * run stamped before its parent). Workers freeze both clocks during CPU work and advance
 * them on I/O: we record what the runtime gives and invent nothing.
 */
const hasPerf = typeof performance !== 'undefined' && typeof performance.now === 'function'
let anchor = hasPerf ? Date.now() - performance.now() : 0

export function now(): number {
  if (!hasPerf) return Date.now()
  const t = anchor + performance.now()
  const wall = Date.now()
  if (t - wall > 1 || wall - t > 1) {
    anchor = wall - performance.now()
    return wall
  }
  return t
}
