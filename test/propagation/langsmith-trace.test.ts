import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  childDottedOrder,
  clampChildStartTime,
  formatDottedOrderStamp,
  LANGSMITH_TRACE_HEADER,
  LANGSMITH_TRACE_MAX_SEGMENTS,
  parseLangSmithTrace,
} from '../../src/propagation/langsmith-trace.js'

const ROOT_ID = '0190d9d3-7c3b-7b3e-9c8e-3a1f2b4c5d6e'
const CHILD_ID = '0190d9d3-7c3c-7001-8a2b-000000000001'
const GRANDCHILD_ID = '0190d9d3-7c3d-7002-bf00-00000000abcd'
const T0 = Date.UTC(2024, 4, 1, 12, 0, 0, 123) + 0.456 // 2024-05-01T12:00:00.123456Z
const ROOT = `20240501T120000123456Z${ROOT_ID}`
const CHILD = `${ROOT}.20240501T120000200000Z${CHILD_ID}`

function segment(stamp: string, id = CHILD_ID): string {
  return `${stamp}${id}`
}

describe('parseLangSmithTrace', () => {
  it('uses the lowercase header name', () => {
    expect(LANGSMITH_TRACE_HEADER).toBe('langsmith-trace')
  })

  it('reads a root run: trace id and run id are the same UUID', () => {
    const t = parseLangSmithTrace(ROOT)
    expect(t).toEqual({
      dottedOrder: ROOT,
      segments: [{ time: T0, stamp: '20240501T120000123456Z', runId: ROOT_ID }],
      traceId: ROOT_ID,
      runId: ROOT_ID,
    })
  })

  it('reads the trace id from the first segment and the run id from the last', () => {
    const header = `${CHILD}.${segment('20240501T120001000001Z', GRANDCHILD_ID)}`
    const t = parseLangSmithTrace(header)!
    expect(t.traceId).toBe(ROOT_ID)
    expect(t.runId).toBe(GRANDCHILD_ID)
    expect(t.segments.map((s) => s.runId)).toEqual([ROOT_ID, CHILD_ID, GRANDCHILD_ID])
    expect(t.segments[2]!.time).toBe(Date.UTC(2024, 4, 1, 12, 0, 1, 0) + 0.001)
  })

  it('trims surrounding whitespace, as both SDKs do', () => {
    expect(parseLangSmithTrace(`  ${CHILD}\t\r\n`)?.dottedOrder).toBe(CHILD)
  })

  it('lowercases uppercase UUIDs in run ids but keeps the dotted order as received', () => {
    const header = `20240501T120000123456Z${ROOT_ID.toUpperCase()}`
    const t = parseLangSmithTrace(header)!
    expect(t.runId).toBe(ROOT_ID)
    expect(t.dottedOrder).toBe(header)
  })

  it('accepts the JS SDK stamps, whose last three digits count executions', () => {
    // RunTree writes `${toISOString() without Z}${executionOrder padded to 3}Z`.
    const t = parseLangSmithTrace(`20261125T212810907001Z${ROOT_ID}.20261125T212810911002Z${CHILD_ID}`)!
    expect(t.segments[1]!.time).toBe(Date.UTC(2026, 10, 25, 21, 28, 10, 911) + 0.002)
  })

  it('reads leap days and the ends of the stamp range', () => {
    expect(parseLangSmithTrace(segment('20240229T235959999999Z'))!.segments[0]!.stamp).toBe(
      '20240229T235959999999Z',
    )
    expect(parseLangSmithTrace(segment('00010101T000000000000Z'))!.segments[0]!.time).toBe(
      -62_135_596_800_000,
    )
    expect(parseLangSmithTrace(segment('99991231T235959999999Z'))).toBeDefined()
  })

  it.each([
    ['month 13', '20241301T120000000000Z'],
    ['month 0', '20240001T120000000000Z'],
    ['February 30', '20240230T120000000000Z'],
    ['February 29 of a common year', '20230229T120000000000Z'],
    ['February 29 of 1900', '19000229T120000000000Z'],
    ['day 0', '20240500T120000000000Z'],
    ['April 31', '20240431T120000000000Z'],
    ['hour 24', '20240501T240000000000Z'],
    ['minute 60', '20240501T126000000000Z'],
    ['second 60 (a leap second: Python datetime rejects it)', '20240501T120060000000Z'],
    ['year 0', '00000101T000000000000Z'],
    ['a letter in the date', '2024O501T120000000000Z'],
    ['a sign in the fraction', '20240501T120000-00000Z'],
    ['no T', '20240501 120000000000Z'],
    ['lowercase t', '20240501t120000000000Z'],
    ['no Z', '20240501T1200000000000'],
    ['lowercase z (the JS SDK splits on "Z")', '20240501T120000000000z'],
    ['an ISO stamp with separators', '2024-05-01T12:00:00.0Z'],
  ])('rejects a bad stamp: %s', (_name, stamp) => {
    expect(parseLangSmithTrace(`${stamp}${ROOT_ID}`)).toBeUndefined()
    expect(parseLangSmithTrace(`${ROOT}.${stamp}${CHILD_ID}`)).toBeUndefined()
  })

  it('rejects a stamp with fewer than six fractional digits (the exporter requires 58-char segments)', () => {
    expect(parseLangSmithTrace(`20240501T120000123Z${ROOT_ID}`)).toBeUndefined()
  })

  it.each([
    ['not hex', '0190d9d3-7c3b-7b3e-9c8e-3a1f2b4c5d6g'],
    ['hyphens moved', '0190d9d37-c3b-7b3e-9c8e-3a1f2b4c5d6e'],
    ['braces', '{190d9d3-7c3b-7b3e-9c8e-3a1f2b4c5d6}'],
    ['too short', '0190d9d3-7c3b-7b3e-9c8e-3a1f2b4c5d6'],
    ['too long', '0190d9d3-7c3b-7b3e-9c8e-3a1f2b4c5d6ee'],
    ['32 hex digits, no hyphens', '0190d9d37c3b7b3e9c8e3a1f2b4c5d6e'],
    ['unicode digits', '٠190d9d3-7c3b-7b3e-9c8e-3a1f2b4c5d6e'],
  ])('rejects an invalid UUID: %s', (_name, uuid) => {
    expect(parseLangSmithTrace(`20240501T120000123456Z${uuid}`)).toBeUndefined()
    expect(parseLangSmithTrace(`${ROOT}.20240501T120000123456Z${uuid}`)).toBeUndefined()
  })

  it.each([
    ['empty', ''],
    ['blank', '   '],
    ['a leading dot', `.${ROOT}`],
    ['a trailing dot', `${ROOT}.`],
    ['two dots', `${ROOT}..${segment('20240501T120000200000Z')}`],
    ['another separator', `${ROOT},${segment('20240501T120000200000Z')}`],
    ['whitespace inside', `${ROOT}. ${segment('20240501T120000200000Z')}`],
    ['a UUID alone', ROOT_ID],
    ['a stamp alone', '20240501T120000123456Z'],
    ['a traceparent', '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01'],
  ])('rejects a malformed dotted order: %s', (_name, value) => {
    expect(parseLangSmithTrace(value)).toBeUndefined()
  })

  it('rejects non-string values from untyped callers without throwing', () => {
    for (const v of [undefined, null, 42, {}, [ROOT], Symbol('x')]) {
      expect(parseLangSmithTrace(v as unknown as string)).toBeUndefined()
    }
  })

  it(`accepts ${LANGSMITH_TRACE_MAX_SEGMENTS} segments and refuses one more`, () => {
    const seg = segment('20240501T120000200000Z')
    const max = [ROOT, ...Array.from({ length: LANGSMITH_TRACE_MAX_SEGMENTS - 1 }, () => seg)].join('.')
    expect(parseLangSmithTrace(max)?.segments).toHaveLength(LANGSMITH_TRACE_MAX_SEGMENTS)
    expect(parseLangSmithTrace(`${max}.${seg}`)).toBeUndefined()
  })

  it('refuses 10,000 segments quickly', () => {
    const seg = segment('20240501T120000200000Z')
    const huge = Array.from({ length: 10_000 }, () => seg).join('.')
    const t0 = performance.now()
    expect(parseLangSmithTrace(huge)).toBeUndefined()
    expect(performance.now() - t0).toBeLessThan(50)
  })

  it('refuses a megabyte of junk without scanning it', () => {
    const t0 = performance.now()
    expect(parseLangSmithTrace('a'.repeat(1 << 20))).toBeUndefined()
    expect(parseLangSmithTrace(`${ROOT}${' '.repeat(1 << 20)}`)).toBeUndefined()
    expect(performance.now() - t0).toBeLessThan(50)
  })

  it('never throws on arbitrary strings', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 300 }), (s) => {
        const t = parseLangSmithTrace(s)
        return t === undefined || t.segments.length > 0
      }),
      { numRuns: 2000 },
    )
  })

  it('never throws on valid headers with one character changed, and any result is self-consistent', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: CHILD.length - 1 }),
        fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }),
        (at, ch) => {
          const t = parseLangSmithTrace(CHILD.slice(0, at) + ch + CHILD.slice(at + 1))
          if (t === undefined) return true
          return (
            t.traceId === t.segments[0]!.runId &&
            t.runId === t.segments[t.segments.length - 1]!.runId &&
            t.segments.every((s) => Number.isFinite(s.time) && /^[0-9a-f-]{36}$/.test(s.runId))
          )
        },
      ),
      { numRuns: 2000 },
    )
  })
})

describe('formatDottedOrderStamp', () => {
  it('writes UTC YYYYMMDDTHHMMSS, six fractional digits and Z', () => {
    expect(formatDottedOrderStamp(T0)).toBe('20240501T120000123456Z')
    expect(formatDottedOrderStamp(0)).toBe('19700101T000000000000Z')
    expect(formatDottedOrderStamp(Date.UTC(2024, 1, 29, 23, 59, 59, 999) + 0.999)).toBe(
      '20240229T235959999999Z',
    )
  })

  it('takes the microseconds from the fraction, rounded to the nearest', () => {
    expect(formatDottedOrderStamp(1_000.0004)).toBe('19700101T000001000000Z')
    expect(formatDottedOrderStamp(1_000.0006)).toBe('19700101T000001000001Z')
    expect(formatDottedOrderStamp(1_000.9996)).toBe('19700101T000001001000Z')
  })

  it('agrees with Date for whole milliseconds across four centuries', () => {
    fc.assert(
      fc.property(fc.integer({ min: -62_135_596_800_000, max: 253_402_300_799_999 }), (ms) => {
        const iso = new Date(ms).toISOString() // +YYYYYY only outside 0000–9999
        const expected = `${iso.slice(0, 4)}${iso.slice(5, 7)}${iso.slice(8, 10)}T${iso.slice(11, 13)}${iso.slice(14, 16)}${iso.slice(17, 19)}${iso.slice(20, 23)}000Z`
        return formatDottedOrderStamp(ms) === expected
      }),
      { numRuns: 5000 },
    )
  })

  it('round-trips through the parser for microsecond times (years up to 2200)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 7_258_118_400_000_000 }), (us) => {
        const stamp = formatDottedOrderStamp(us / 1000)
        const t = parseLangSmithTrace(`${stamp}${ROOT_ID}`)!
        return (
          formatDottedOrderStamp(t.segments[0]!.time) === stamp &&
          Math.abs(t.segments[0]!.time - us / 1000) < 0.0005
        )
      }),
      { numRuns: 5000 },
    )
  })

  it('keeps the stamp well-formed for clocks that are NaN or out of range', () => {
    expect(formatDottedOrderStamp(Number.NaN)).toBe('19700101T000000000000Z')
    expect(formatDottedOrderStamp(Number.POSITIVE_INFINITY)).toBe('99991231T235959999000Z')
    expect(formatDottedOrderStamp(Number.NEGATIVE_INFINITY)).toBe('00010101T000000000000Z')
  })
})

describe('childDottedOrder', () => {
  it('is the stamp plus run id for a root run', () => {
    expect(childDottedOrder(undefined, T0, ROOT_ID)).toBe(ROOT)
    expect(childDottedOrder('', T0, ROOT_ID)).toBe(ROOT)
  })

  it("appends the child's segment to its parent's dotted order", () => {
    const t = Date.UTC(2024, 4, 1, 12, 0, 0, 200)
    expect(childDottedOrder(ROOT, t, CHILD_ID)).toBe(CHILD)
    const parsed = parseLangSmithTrace(childDottedOrder(CHILD, t + 1, GRANDCHILD_ID))!
    expect(parsed.traceId).toBe(ROOT_ID)
    expect(parsed.runId).toBe(GRANDCHILD_ID)
  })
})

describe('clampChildStartTime', () => {
  it("moves a child whose clock is earlier than the remote parent's stamp up to the parent's time", () => {
    const parent = parseLangSmithTrace(CHILD)!
    const parentTime = parent.segments[parent.segments.length - 1]!.time
    const skewed = parentTime - 250 // this host's clock is 250 ms behind the caller's
    const start = clampChildStartTime(skewed, parentTime)
    expect(start).toBe(parentTime)
    const child = parseLangSmithTrace(childDottedOrder(parent.dottedOrder, start, GRANDCHILD_ID))!
    expect(child.segments[2]!.stamp).toBe(child.segments[1]!.stamp)
    expect(child.segments[2]!.time).toBeGreaterThanOrEqual(child.segments[1]!.time)
  })

  it('keeps an equal time (the Python SDK rule: max(child, parent)) and a later one', () => {
    expect(clampChildStartTime(T0, T0)).toBe(T0)
    expect(clampChildStartTime(T0 + 5, T0)).toBe(T0 + 5)
  })

  it('keeps the other side when one is NaN', () => {
    expect(clampChildStartTime(Number.NaN, T0)).toBe(T0)
    expect(clampChildStartTime(T0, Number.NaN)).toBe(T0)
  })

  it("never yields a child stamp earlier than its parent's", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 4_102_444_800_000_000 }),
        fc.double({ min: -1e9, max: 1e9, noNaN: true }),
        (parentUs, skew) => {
          const parentTime = parseLangSmithTrace(`${formatDottedOrderStamp(parentUs / 1000)}${ROOT_ID}`)!
            .segments[0]!
          const start = clampChildStartTime(parentTime.time + skew, parentTime.time)
          return formatDottedOrderStamp(start) >= parentTime.stamp
        },
      ),
      { numRuns: 3000 },
    )
  })
})
