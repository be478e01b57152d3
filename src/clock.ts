/**
 * Wall-clock time in ms since the epoch, with sub-millisecond precision where the runtime
 * gives it. Workers freeze both clocks during CPU work and advance them on I/O: we record
 * what the runtime gives and invent nothing.
 */
const origin = typeof performance !== 'undefined' && performance.timeOrigin > 0 ? performance.timeOrigin : 0

export function now(): number {
  if (origin > 0) return origin + performance.now()
  return Date.now()
}
