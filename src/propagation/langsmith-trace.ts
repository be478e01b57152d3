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
const UUID_LENGTH = 36
const SEGMENT_LENGTH = STAMP_LENGTH + UUID_LENGTH

const MS_PER_DAY = 86_400_000
/** 0001-01-01T00:00:00Z and 9999-12-31T23:59:59.999999Z, the stamp's range. */
const MIN_TIME = -62_135_596_800_000
const MAX_TIME = 253_402_300_799_999

function isWhitespace(c: number): boolean {
  // What String.prototype.trim() removes among ASCII, plus NBSP and BOM.
  return c === 0x20 || (c >= 0x09 && c <= 0x0d) || c === 0xa0 || c === 0xfeff
}

/** `n` decimal digits at `s[i]`, or -1. */
function digits(s: string, i: number, n: number): number {
  let v = 0
  for (let k = 0; k < n; k++) {
    const d = s.charCodeAt(i + k) - 0x30
    if (d < 0 || d > 9) return -1
    v = v * 10 + d
  }
  return v
}

/**
 * Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's `days_from_civil`).
 * Done by hand: `Date.UTC` maps years 0–99 to 1900–1999.
 */
function daysFromCivil(y: number, m: number, d: number): number {
  y -= m <= 2 ? 1 : 0
  const era = Math.floor(y / 400)
  const yoe = y - era * 400
  const doy = Math.floor((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5) + d - 1
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy
  return era * 146_097 + doe - 719_468
}

function daysInMonth(y: number, m: number): number {
  if (m === 2) return (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0 ? 29 : 28
  return m === 4 || m === 6 || m === 9 || m === 11 ? 30 : 31
}

/** Time (ms, µs fraction) of the stamp at `s[i, i+22)`, or NaN when it is not one. */
function stampTime(s: string, i: number): number {
  if (s.charCodeAt(i + 8) !== 0x54 /* T */ || s.charCodeAt(i + 21) !== 0x5a /* Z */) return Number.NaN
  const y = digits(s, i, 4)
  const mo = digits(s, i + 4, 2)
  const d = digits(s, i + 6, 2)
  const h = digits(s, i + 9, 2)
  const mi = digits(s, i + 11, 2)
  const se = digits(s, i + 13, 2)
  const us = digits(s, i + 15, 6)
  // Python's datetime: year 1..9999; strptime rejects seconds 60/61 when building it.
  if (y < 1 || mo < 1 || mo > 12 || d < 1 || d > daysInMonth(y, mo)) return Number.NaN
  if (h < 0 || h > 23 || mi < 0 || mi > 59 || se < 0 || se > 59 || us < 0) return Number.NaN
  return daysFromCivil(y, mo, d) * MS_PER_DAY + ((h * 60 + mi) * 60 + se) * 1000 + us / 1000
}

/** `s[i, i+36)` as a lowercase canonical UUID (8-4-4-4-12 hex), or undefined. */
function uuidAt(s: string, i: number): string | undefined {
  let upper = false
  for (let k = 0; k < UUID_LENGTH; k++) {
    const c = s.charCodeAt(i + k)
    if (k === 8 || k === 13 || k === 18 || k === 23) {
      if (c !== 0x2d) return undefined
    } else if ((c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x66)) {
      // lowercase hex
    } else if (c >= 0x41 && c <= 0x46) upper = true
    else return undefined
  }
  const id = s.slice(i, i + UUID_LENGTH)
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
  if (typeof value !== 'string') return undefined
  let start = 0
  let end = value.length
  if (end > LANGSMITH_TRACE_MAX_LENGTH + 256) return undefined
  while (start < end && isWhitespace(value.charCodeAt(start))) start++
  while (end > start && isWhitespace(value.charCodeAt(end - 1))) end--
  const n = end - start
  // Every segment is 58 characters, plus a '.' between two.
  if (n > LANGSMITH_TRACE_MAX_LENGTH || (n + 1) % (SEGMENT_LENGTH + 1) !== 0) return undefined
  const count = (n + 1) / (SEGMENT_LENGTH + 1)
  if (count > LANGSMITH_TRACE_MAX_SEGMENTS) return undefined
  const dottedOrder = start === 0 && end === value.length ? value : value.slice(start, end)
  const segments: DottedOrderSegment[] = []
  for (let k = 0; k < count; k++) {
    const i = k * (SEGMENT_LENGTH + 1)
    if (k > 0 && dottedOrder.charCodeAt(i - 1) !== 0x2e /* . */) return undefined
    const time = stampTime(dottedOrder, i)
    if (Number.isNaN(time)) return undefined
    const runId = uuidAt(dottedOrder, i + STAMP_LENGTH)
    if (runId === undefined) return undefined
    segments.push({ time, stamp: dottedOrder.slice(i, i + STAMP_LENGTH), runId })
  }
  return { dottedOrder, segments, traceId: segments[0]!.runId, runId: segments[count - 1]!.runId }
}

function pad2(n: number): string {
  return n < 10 ? `0${n}` : `${n}`
}

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
  let t = Number.isNaN(timeMs) ? 0 : timeMs
  if (t < MIN_TIME) t = MIN_TIME
  else if (t > MAX_TIME) t = MAX_TIME
  let ms = Math.floor(t)
  let us = Math.round((t - ms) * 1000)
  if (us === 1000) {
    ms++
    us = 0
  }
  let days = Math.floor(ms / MS_PER_DAY)
  let rest = ms - days * MS_PER_DAY
  // civil_from_days (Hinnant)
  days += 719_468
  const era = Math.floor(days / 146_097)
  const doe = days - era * 146_097
  const yoe = Math.floor(
    (doe - Math.floor(doe / 1460) + Math.floor(doe / 36_524) - Math.floor(doe / 146_096)) / 365,
  )
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100))
  const mp = Math.floor((5 * doy + 2) / 153)
  const d = doy - Math.floor((153 * mp + 2) / 5) + 1
  const m = mp < 10 ? mp + 3 : mp - 9
  const y = yoe + era * 400 + (m <= 2 ? 1 : 0)
  const h = Math.floor(rest / 3_600_000)
  rest -= h * 3_600_000
  const mi = Math.floor(rest / 60_000)
  rest -= mi * 60_000
  const s = Math.floor(rest / 1000)
  const frac = (rest - s * 1000) * 1000 + us
  const yyyy = y < 1000 ? `${y}`.padStart(4, '0') : `${y}`
  const f = frac < 100_000 ? `${frac}`.padStart(6, '0') : `${frac}`
  return `${yyyy}${pad2(m)}${pad2(d)}T${pad2(h)}${pad2(mi)}${pad2(s)}${f}Z`
}

/**
 * The dotted order of a new run: its parent's dotted order, a `.`, then its own segment
 * (stamp of `timeMs` + `runId`); just the segment for a root run (no or empty parent).
 * `timeMs` should already be clamped with {@link clampChildStartTime}.
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
  return parentDottedOrder ? `${parentDottedOrder}.${segment}` : segment
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
