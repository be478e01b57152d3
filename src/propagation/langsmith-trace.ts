/**
 * The `langsmith-trace` header: a LangSmith run's dotted order, the path from the trace's
 * root run to the run itself, one segment per run, separated by `.`:
 *
 *     20240501T120000123456Z0190d9d3-7c3b-7b3e-9c8e-3a1f2b4c5d6e.20240501T120000200000Z…
 *
 * A segment is the run's start time, `YYYYMMDDTHHMMSSffffffZ` in UTC with six fractional
 * digits (Python's `strftime('%Y%m%dT%H%M%S%fZ')`, what both SDKs emit), followed by the
 * run id, a canonical UUID. The first segment's UUID is the trace id, the last one the
 * run's own id. LangSmith orders runs by their dotted order and rejects (400) a run whose
 * start time is before its parent's.
 *
 * Notes on the SDKs: JS `RunTree` fills the last three fractional digits with an execution
 * counter rather than microseconds; it is still a valid stamp, and the time we read from it
 * is what LangSmith will compare against. Both SDKs `strip()`/`trim()` the header.
 */

import { charClass, HEX_ANY } from '../chars.js'

/** The header name, lowercase (carriers look headers up case-insensitively). */
export const LANGSMITH_TRACE_HEADER = 'langsmith-trace'

/** One dotted-order segment. */
export interface DottedOrderSegment {
  /** Start time: ms since the epoch, microseconds as the fraction. */
  readonly time: number
  /** The stamp as received, `YYYYMMDDTHHMMSSffffffZ`. */
  readonly stamp: string
  /** The run id: a UUID, lowercased. */
  readonly runId: string
}

/** A parsed `langsmith-trace` value. */
export interface ParsedLangSmithTrace {
  /** The dotted order, trimmed, otherwise exactly as received. */
  readonly dottedOrder: string
  readonly segments: readonly DottedOrderSegment[]
  /** The trace id: the first segment's UUID (lowercase). */
  readonly traceId: string
  /** The run this header names (the parent of whatever continues it): the last UUID. */
  readonly runId: string
}

/** Longest header accepted, in UTF-16 code units (1000 segments take 58 999). */
export const LANGSMITH_TRACE_MAX_LENGTH = 65_536
/** Most segments accepted: deeper run trees are refused rather than half-read. */
export const LANGSMITH_TRACE_MAX_SEGMENTS = 1000

const STAMP_LENGTH = 22
const SEGMENT_LENGTH = STAMP_LENGTH + 36 // a stamp and a UUID

/** 0001-01-01T00:00:00Z and 9999-12-31T23:59:59.999999Z, the stamp's range. */
const MIN_TIME = -62_135_596_800_000
const MAX_TIME = 253_402_300_799_999
const DAY = 86_400_000

/** `n` decimal digits at `s[i]`, or NaN. */
function digits(s: string, i: number, n: number): number {
  let v = 0
  for (let k = 0; k < n; k++) {
    const d = s.charCodeAt(i + k) - 0x30
    if (!(d >= 0 && d <= 9)) return Number.NaN
    v = v * 10 + d
  }
  return v
}

/** Time (ms, µs fraction) of the stamp at `s[i, i+22)`, or NaN when it is not one. */
function stampTime(s: string, i: number): number {
  const y = digits(s, i, 4)
  const mo = digits(s, i + 4, 2)
  const d = digits(s, i + 6, 2)
  const h = digits(s, i + 9, 2)
  const mi = digits(s, i + 11, 2)
  const se = digits(s, i + 13, 2)
  // Python's datetime: year 1..9999, no day past the month's end, and strptime rejects
  // seconds 60/61 when building it.
  const monthDays = mo === 2 ? (y % 4 || (y % 100 === 0 && y % 400) ? 28 : 29) : 30 + ((mo + (mo >> 3)) & 1)
  if (
    s.charCodeAt(i + 8) !== 0x54 /* T */ ||
    s.charCodeAt(i + 21) !== 0x5a /* Z */ ||
    !(y > 0 && mo > 0 && mo < 13 && d > 0 && d <= monthDays && h < 24 && mi < 60 && se < 60)
  ) {
    return Number.NaN
  }
  // Four centuries on (146 097 days), years 1-99 escape Date.UTC's mapping to 1900-1999.
  return (
    Date.UTC(y + 400, mo - 1, d) -
    146_097 * DAY +
    ((h * 60 + mi) * 60 + se) * 1000 +
    digits(s, i + 15, 6) / 1000
  )
}

/** `s[i, i+36)` as a lowercase canonical 8-4-4-4-12 UUID (either case read), or undefined. */
function uuidAt(s: string, i: number): string | undefined {
  let upper = false
  for (let k = 0; k < 36; k++) {
    const c = s.charCodeAt(i + k)
    if (k === 8 || k === 13 || k === 18 || k === 23) {
      if (c !== 0x2d) return undefined
    } else if (!(charClass(c) & HEX_ANY)) return undefined
    else if (c < 0x61) upper ||= c > 0x40 // A-F
  }
  const id = s.slice(i, i + 36)
  return upper ? id.toLowerCase() : id
}

/**
 * Parses a `langsmith-trace` value. Lenient where the SDKs are (surrounding whitespace is
 * trimmed, uppercase UUIDs accepted and lowercased); strict where LangSmith is (every
 * segment is a valid UTC stamp with six fractional digits and a canonical UUID, nothing
 * else). Returns `undefined` for anything else, for more than
 * {@link LANGSMITH_TRACE_MAX_SEGMENTS} segments or {@link LANGSMITH_TRACE_MAX_LENGTH}
 * characters, or for a non-string; never throws.
 *
 * @example
 * ```ts
 * const t = parseLangSmithTrace('20240501T120000123456Z0190d9d3-7c3b-7b3e-9c8e-3a1f2b4c5d6e')
 * t?.traceId // '0190d9d3-7c3b-7b3e-9c8e-3a1f2b4c5d6e' (also t.runId: a root run)
 * t?.segments[0].time // Date.UTC(2024, 4, 1, 12, 0, 0, 123) + 0.456
 * ```
 */
export function parseLangSmithTrace(value: string): ParsedLangSmithTrace | undefined {
  // Bounded before trimming: a megabyte of padding is refused unread.
  if (typeof value !== 'string' || value.length > LANGSMITH_TRACE_MAX_LENGTH + 256) return undefined
  const dottedOrder = value.trim() // as both SDKs do
  const n = dottedOrder.length
  // Every segment is 58 characters, plus a '.' between two.
  const count = (n + 1) / (SEGMENT_LENGTH + 1)
  if (n > LANGSMITH_TRACE_MAX_LENGTH || count % 1 !== 0 || count > LANGSMITH_TRACE_MAX_SEGMENTS)
    return undefined
  const segments: DottedOrderSegment[] = []
  for (let i = 0; i < n; i += SEGMENT_LENGTH + 1) {
    const time = stampTime(dottedOrder, i)
    const runId = uuidAt(dottedOrder, i + STAMP_LENGTH)
    if (
      (i > 0 && dottedOrder.charCodeAt(i - 1) !== 0x2e) /* . */ ||
      Number.isNaN(time) ||
      runId === undefined
    ) {
      return undefined
    }
    segments.push({ time, stamp: dottedOrder.slice(i, i + STAMP_LENGTH), runId })
  }
  return { dottedOrder, segments, traceId: segments[0]!.runId, runId: segments[count - 1]!.runId }
}

// A one-entry cache of a pure function, a stamp's part up to the second (spans start
// within the same second, and a frozen Workers clock repeats it): not per-request state.
let memoSecond = Number.NaN
let memoPrefix = ''

/**
 * Formats a time as a dotted-order stamp: `YYYYMMDDTHHMMSSffffffZ`, UTC, the microseconds
 * taken from the fraction of `timeMs` rounded to the nearest microsecond, so a stamp read
 * back by {@link parseLangSmithTrace} and formatted again is unchanged although its time is a
 * binary fraction (tested through the year 2200; past 2^43 ms, in 2248, a double no longer
 * holds microseconds). Times outside years 1–9999 are clamped to that range and NaN counts
 * as 0: a clock is not input to reject, but the stamp must stay well-formed.
 *
 * @example
 * ```ts
 * formatDottedOrderStamp(Date.UTC(2024, 4, 1, 12, 0, 0, 123) + 0.456) // '20240501T120000123456Z'
 * ```
 */
export function formatDottedOrderStamp(timeMs: number): string {
  const t = Math.min(Math.max(timeMs || 0, MIN_TIME), MAX_TIME)
  let ms = Math.floor(t)
  let us = Math.round((t - ms) * 1000)
  if (us === 1000) {
    ms++
    us = 0
  }
  const second = Math.floor(ms / 1000)
  if (second !== memoSecond) {
    memoSecond = second
    // `YYYY-MM-DDTHH:MM:SS…` (four-digit years within the clamped range)
    const iso = new Date(second * 1000).toISOString()
    memoPrefix = `${iso.slice(0, 4)}${iso.slice(5, 7)}${iso.slice(8, 10)}T${iso.slice(11, 13)}${iso.slice(14, 16)}${iso.slice(17, 19)}`
  }
  return `${memoPrefix}${String((ms - second * 1000) * 1000 + us + 1_000_000).slice(1)}Z`
}

/**
 * The dotted order of a new run: its parent's dotted order, a `.`, then its own segment
 * (stamp of `timeMs` + `runId`); just the segment for a root run (no or empty parent).
 * `timeMs` should already be clamped with {@link clampChildStartTime}.
 *
 * At the depth limit ({@link LANGSMITH_TRACE_MAX_SEGMENTS}, a parent that already has
 * 1,000 segments) the run starts a new LangSmith trace, as the SDKs' `reroot` does (its
 * dotted order is its own segment, its trace id its own id): tracehop never writes a
 * `langsmith-trace` it would refuse to read. The W3C trace is unchanged.
 *
 * @example
 * ```ts
 * childDottedOrder(undefined, t, id) // `${formatDottedOrderStamp(t)}${id}`
 * childDottedOrder(parent.dottedOrder, t, id) // `${parent.dottedOrder}.${formatDottedOrderStamp(t)}${id}`
 * ```
 */
export function childDottedOrder(
  parentDottedOrder: string | undefined,
  timeMs: number,
  runId: string,
): string {
  const segment = formatDottedOrderStamp(timeMs) + runId
  if (!parentDottedOrder || dottedOrderDepth(parentDottedOrder) >= LANGSMITH_TRACE_MAX_SEGMENTS)
    return segment
  return `${parentDottedOrder}.${segment}`
}

/**
 * Segments in a dotted order this library wrote or parsed (every segment is 58 characters).
 *
 * @example
 * dottedOrderDepth(`${a}.${b}`) // 2
 */
export function dottedOrderDepth(dottedOrder: string): number {
  return Math.ceil((dottedOrder.length + 1) / (SEGMENT_LENGTH + 1))
}

/** The trace id of a dotted order: its first segment's run id. */
export function dottedOrderTraceId(dottedOrder: string): string {
  return dottedOrder.slice(STAMP_LENGTH, SEGMENT_LENGTH)
}

/**
 * A child's start time that LangSmith accepts: never before its parent's (LangSmith answers
 * 400 to a dotted order whose times go backwards, langsmith-sdk #2236). An equal time is
 * kept, which is the Python SDK's own rule (`RunTree.create_child`: `max(start_time,
 * parent.start_time)`): a child's dotted order extends its parent's, so it sorts after the
 * parent even with an equal stamp; siblings with equal stamps are ordered by run id. We do
 * not add a microsecond, which would invent time and could push the child past its own end.
 * Use when the parent is remote (its clock is not ours) or when a runtime's clock stands
 * still (Workers during CPU work). NaN for either side leaves the other one.
 *
 * @example
 * ```ts
 * clampChildStartTime(1000, 1000.5) // 1000.5: the child started "before" its remote parent
 * clampChildStartTime(2000, 1000.5) // 2000
 * ```
 */
export function clampChildStartTime(childMs: number, parentMs: number): number {
  if (childMs >= parentMs) return childMs
  return Number.isNaN(parentMs) ? childMs : parentMs
}
