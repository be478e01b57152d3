import { defaultTextMapGetter, ROOT_CONTEXT, trace } from '@opentelemetry/api'
import { TraceState as OtelTraceState, W3CTraceContextPropagator } from '@opentelemetry/core'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  deleteTracestateMember,
  formatTracestate,
  getTracestateMember,
  isValidTracestateKey,
  isValidTracestateValue,
  parseTracestate,
  setTracestateMember,
  TRACESTATE_HEADER,
} from '../../src/propagation/tracestate.js'
import type { TraceState } from '../../src/trace-context.js'

const members = (n: number, prefix = 'k') =>
  Array.from({ length: n }, (_, i) => ({ key: `${prefix}${i}`, value: `v${i}` }))
const header = (state: TraceState) => state.map((m) => `${m.key}=${m.value}`).join(',')

// Generators. Keys follow the Level 1 grammar (which OTel implements too), a subset of Level 2.
const lc = 'abcdefghijklmnopqrstuvwxyz'
const keyChars = `${lc}0123456789_-*/`
const chars = (alphabet: string, min: number, max: number) =>
  fc.string({ unit: fc.constantFrom(...alphabet), minLength: min, maxLength: max })
const simpleKey = fc.tuple(chars(lc, 1, 1), chars(keyChars, 0, 12)).map(([a, b]) => a + b)
const tenantKey = fc
  .tuple(chars(`${lc}0123456789`, 1, 1), chars(keyChars, 0, 10), chars(lc, 1, 1), chars(keyChars, 0, 13))
  .map(([a, b, c, d]) => `${a}${b}@${c}${d}`)
const keyArb = fc.oneof(simpleKey, tenantKey)
const printable = Array.from({ length: 0x7f - 0x20 }, (_, i) => String.fromCharCode(0x20 + i))
const nblk = printable.filter((c) => c !== ' ' && c !== ',' && c !== '=').join('')
const chr = `${nblk} `
const valueArb = fc.tuple(chars(chr, 0, 20), chars(nblk, 1, 1)).map(([a, b]) => a + b)
const stateArb: fc.Arbitrary<TraceState> = fc
  .uniqueArray(fc.record({ key: keyArb, value: valueArb }), {
    selector: (m) => m.key,
    minLength: 1,
    maxLength: 32,
  })
  .filter((s) => header(s).length <= 512)
const ows = chars(' \t', 0, 2)

describe('tracestate', () => {
  it('uses the lowercase header name', () => {
    expect(TRACESTATE_HEADER).toBe('tracestate')
  })

  it('parses the spec examples, left-most first', () => {
    expect(parseTracestate('rojo=00f067aa0ba902b7')).toEqual([{ key: 'rojo', value: '00f067aa0ba902b7' }])
    expect(parseTracestate('rojo=00f067aa0ba902b7,congo=t61rcWkgMzE')).toEqual([
      { key: 'rojo', value: '00f067aa0ba902b7' },
      { key: 'congo', value: 't61rcWkgMzE' },
    ])
  })

  it('combines several header values with commas, in order', () => {
    expect(parseTracestate(['rojo=00f067aa0ba902b7', 'congo=t61rcWkgMzE'])).toEqual(
      parseTracestate('rojo=00f067aa0ba902b7,congo=t61rcWkgMzE'),
    )
    expect(parseTracestate(['', 'a=1', ' '])).toEqual([{ key: 'a', value: '1' }])
    expect(parseTracestate(['a=1', 'a=2'])).toEqual([{ key: 'a', value: '1' }]) // a repeat across fields
  })

  describe('keys', () => {
    it('accepts a simple key: a lowercase letter, then [a-z0-9_-*/]', () => {
      expect(parseTracestate('a0_-*/z=1')).toEqual([{ key: 'a0_-*/z', value: '1' }])
      expect(isValidTracestateKey('rojo')).toBe(true)
    })

    it('accepts keys up to 256 characters and rejects longer ones', () => {
      expect(parseTracestate(`${'k'.repeat(256)}=1`)).toHaveLength(1)
      expect(parseTracestate(`${'k'.repeat(257)}=1`)).toBeUndefined()
    })

    it('accepts a multi-tenant key tenant@system (tenant up to 241, system up to 14)', () => {
      expect(parseTracestate('fw529a3039@dt=1')).toEqual([{ key: 'fw529a3039@dt', value: '1' }])
      const longest = `${'0'.repeat(241)}@${'s'.repeat(14)}`
      expect(parseTracestate(`${longest}=1`)).toEqual([{ key: longest, value: '1' }])
    })

    it('accepts the keys Level 2 allows beyond Level 1: digit first, @ anywhere, longer system', () => {
      // Level 2 §3.3.2.2.1 (Key): key = ( lcalpha / DIGIT ) 0*255 ( keychar ), keychar includes "@".
      expect(isValidTracestateKey('0abc')).toBe(true)
      expect(isValidTracestateKey('a@b@c')).toBe(true)
      expect(isValidTracestateKey('tenant@')).toBe(true)
      expect(isValidTracestateKey(`t@${'s'.repeat(20)}`)).toBe(true)
    })

    it.each([
      ['uppercase', 'Rojo'],
      ['a leading underscore', '_rojo'],
      ['a leading @', '@dt'],
      ['a dot', 'ro.jo'],
      ['a space inside', 'ro jo'],
      ['non-ASCII', 'rojö'],
      ['an empty key', ''],
    ])('rejects a key with %s (and discards the whole header)', (_, key) => {
      expect(isValidTracestateKey(key)).toBe(false)
      expect(parseTracestate(`a=1,${key}=2`)).toBeUndefined()
    })
  })

  describe('values', () => {
    it('accepts printable ASCII except , and =', () => {
      const value = nblk
      expect(parseTracestate(`a=${value}`)).toEqual([{ key: 'a', value }])
    })

    it('keeps leading spaces as part of the value', () => {
      expect(parseTracestate('a=  x')).toEqual([{ key: 'a', value: '  x' }])
    })

    it('treats trailing spaces and tabs as OWS, not part of the value', () => {
      expect(parseTracestate('a=x  \t,b=y \t')).toEqual([
        { key: 'a', value: 'x' },
        { key: 'b', value: 'y' },
      ])
      expect(isValidTracestateValue('x ')).toBe(false)
    })

    it('accepts values up to 256 characters and rejects longer ones', () => {
      expect(parseTracestate(`a=${'v'.repeat(256)}`)).toHaveLength(1)
      expect(parseTracestate(`a=${'v'.repeat(257)}`)).toBeUndefined()
      expect(parseTracestate(`a=${' '.repeat(255)}v`)).toHaveLength(1)
    })

    it.each([
      ['an equals sign', 'a=b=c'],
      ['a tab inside', 'a=b\tc'],
      ['a control character', 'a=b\u0001c'],
      ['DEL', 'a=b\u007f'],
      ['non-ASCII', 'a=café'],
      ['no value', 'a='],
      ['only spaces', 'a=   '],
      ['no equals sign', 'a'],
    ])('rejects a value with %s (and discards the whole header)', (_, member) => {
      expect(parseTracestate(`ok=1,${member}`)).toBeUndefined()
    })
  })

  describe('list', () => {
    it('skips empty list members and OWS around commas', () => {
      const expected = [
        { key: 'a', value: '1' },
        { key: 'b', value: '2' },
      ]
      expect(parseTracestate('a=1,,b=2')).toEqual(expected)
      expect(parseTracestate(' \t a=1 ,\t, b=2 , ')).toEqual(expected)
      expect(parseTracestate(',a=1,b=2,')).toEqual(expected)
    })

    it('returns undefined for empty or whitespace-only headers', () => {
      expect(parseTracestate('')).toBeUndefined()
      expect(parseTracestate(' \t ')).toBeUndefined()
      expect(parseTracestate([])).toBeUndefined()
    })

    it('accepts 32 members and discards a header with more than 32', () => {
      expect(parseTracestate(header(members(32)))).toHaveLength(32)
      expect(parseTracestate(header(members(33)))).toBeUndefined()
      expect(parseTracestate(`${header(members(32))},,,`)).toHaveLength(32)
    })

    it('keeps the first (left-most, most recent) member of a repeated key and drops the others', () => {
      expect(parseTracestate('a=1,b=2,a=3')).toEqual([
        { key: 'a', value: '1' },
        { key: 'b', value: '2' },
      ])
      expect(parseTracestate('a=1,a=1')).toEqual([{ key: 'a', value: '1' }])
      // Repeats count toward the 32 list members (the limit is on the header, §3.3.2).
      const keys = Array.from({ length: 31 }, (_, i) => `k${i}=v`)
      expect(parseTracestate([...keys, 'k0=again'].join(','))).toHaveLength(31)
      expect(parseTracestate([...keys, 'k0=again', 'k31=v'].join(','))).toBeUndefined()
    })

    it('discards the whole header when any member is invalid (strict Level 2 reading)', () => {
      expect(parseTracestate('rojo=00f067aa0ba902b7,Congo=t61rcWkgMzE')).toBeUndefined()
      expect(parseTracestate('rojo=00f067aa0ba902b7,congo')).toBeUndefined()
      expect(parseTracestate('rojo=00f067aa0ba902b7\tx,congo=t61')).toBeUndefined()
    })
  })

  describe('format', () => {
    it('joins members with commas, no OWS', () => {
      expect(formatTracestate(parseTracestate(' rojo=1 , congo=2 ')!)).toBe('rojo=1,congo=2')
    })

    it('returns undefined for an empty tracestate (never sends an empty header)', () => {
      expect(formatTracestate([])).toBeUndefined()
    })

    it('leaves out invalid members, repeated keys and members past the 32nd', () => {
      expect(
        formatTracestate([
          { key: 'a', value: '1' },
          { key: 'B', value: '2' },
          { key: 'c', value: 'x,y' },
          { key: 'a', value: '3' },
        ]),
      ).toBe('a=1')
      expect(formatTracestate(members(40))).toBe(header(members(32)))
      expect(formatTracestate([{ key: 'B', value: '1' }])).toBeUndefined()
    })

    it('checks a parsed member again when its fields were overwritten', () => {
      const parsed = parseTracestate('a=1,b=2')!
      ;(parsed[0] as { value: string }).value = 'x,y'
      ;(parsed[1] as { value: string }).value = '3'
      expect(formatTracestate(parsed)).toBe('b=3')
    })

    // A canonical header is kept verbatim and written again as it came: only while the list
    // is exactly the one parsed (it is readonly by type only).
    it('writes a parsed canonical header back verbatim, and the list as it is after any change', () => {
      const h = 'a=1,b=2,c=3'
      const fresh = () => parseTracestate(h) as { key: string; value: string }[]
      expect(formatTracestate(fresh())).toBe(h)
      const replaced = fresh()
      replaced[1] = { key: 'z', value: '9' }
      expect(formatTracestate(replaced)).toBe('a=1,z=9,c=3')
      const swapped = fresh()
      ;[swapped[0], swapped[1]] = [swapped[1]!, swapped[0]!]
      expect(formatTracestate(swapped)).toBe('b=2,a=1,c=3')
      const shortened = fresh()
      shortened.length = 2
      expect(formatTracestate(shortened)).toBe('a=1,b=2')
      const grown = fresh()
      grown.push({ key: 'd', value: '4' })
      expect(formatTracestate(grown)).toBe('a=1,b=2,c=3,d=4')
      const rewritten = fresh()
      rewritten[2]!.value = 'q'
      expect(formatTracestate(rewritten)).toBe('a=1,b=2,c=q')
      // Members of one parse moved into another parse's list are not that list's header.
      const other = parseTracestate('x=1,y=2,w=3') as { key: string; value: string }[]
      other[1] = fresh()[1]!
      expect(formatTracestate(other)).toBe('x=1,b=2,w=3')
      expect(formatTracestate([...fresh()])).toBe(h)
    })

    it('formats every parsed header as if its members were plain objects, before and after edits', () => {
      fc.assert(
        fc.property(stateArb, fc.nat(), (state, seed) => {
          const parsed = parseTracestate(header(state)) as { key: string; value: string }[]
          const plain = () => parsed.map((m) => ({ key: m.key, value: m.value }))
          expect(formatTracestate(parsed)).toBe(formatTracestate(plain()))
          const i = seed % parsed.length
          parsed[i] = parsed[(i + 1) % parsed.length]!
          expect(formatTracestate(parsed)).toBe(formatTracestate(plain()))
        }),
        { numRuns: 500 },
      )
    })

    it('skips entries that are not objects (from JSON, say) without throwing', () => {
      const junk = [null, 5, 'a=1', { key: 'ok', value: '1' }] as unknown as TraceState
      expect(formatTracestate(junk)).toBe('ok=1')
    })

    it('keeps a header of exactly 512 characters', () => {
      // 4 members of 127 characters + 3 commas = 511; one more character in the last one = 512.
      const m = (k: string, len: number) => ({ key: k, value: 'v'.repeat(len - 2) })
      const state = [m('a', 127), m('b', 127), m('c', 127), m('d', 128)]
      expect(header(state)).toHaveLength(512)
      expect(formatTracestate(state)).toBe(header(state))
    })

    it('truncates past 512 characters by removing entries over 128 characters first, right-most first', () => {
      const m = (k: string, len: number) => ({ key: k, value: 'v'.repeat(len - 2) })
      // 100 + 200 + 100 + 150 + 50 + 4 commas = 604: dropping d (150, the right-most large one)
      // leaves 453, which fits; b (200) stays.
      const state = [m('a', 100), m('b', 200), m('c', 100), m('d', 150), m('e', 50)]
      expect(formatTracestate(state)).toBe(header([state[0]!, state[1]!, state[2]!, state[4]!]))
    })

    it('then removes entries from the right when small entries alone are too long', () => {
      const m = (k: string, len: number) => ({ key: k, value: 'v'.repeat(len - 2) })
      // 129 + 6 × 100 + 6 commas = 735: drop the large one (129 + 1 -> 605), then f (101 -> 504).
      const state = [
        m('a', 100),
        m('b', 100),
        m('x', 129),
        m('c', 100),
        m('d', 100),
        m('e', 100),
        m('f', 100),
      ]
      expect(formatTracestate(state)).toBe(header(state.filter((s) => s.key !== 'x' && s.key !== 'f')))
    })

    it('drops a single member longer than 512 characters entirely', () => {
      expect(formatTracestate([{ key: 'k'.repeat(256), value: 'v'.repeat(256) }])).toBeUndefined()
    })
  })

  describe('get, set, delete', () => {
    const state = parseTracestate('rojo=1,congo=2,ot=th:8')!

    it('gets a member by key', () => {
      expect(getTracestateMember(state, 'congo')).toBe('2')
      expect(getTracestateMember(state, 'nope')).toBeUndefined()
      expect(getTracestateMember(undefined, 'ot')).toBeUndefined()
    })

    it('adds a new member on the left', () => {
      expect(header(setTracestateMember(state, 'new', 'x'))).toBe('new=x,rojo=1,congo=2,ot=th:8')
      expect(setTracestateMember(undefined, 'ot', 'th:0')).toEqual([{ key: 'ot', value: 'th:0' }])
    })

    it('moves an updated member to the left and keeps the others in order', () => {
      expect(header(setTracestateMember(state, 'ot', 'th:c'))).toBe('ot=th:c,rojo=1,congo=2')
      expect(header(state)).toBe('rojo=1,congo=2,ot=th:8') // the input is not mutated
    })

    it('drops the right-most member when a new one would make 33', () => {
      const full = members(32)
      const next = setTracestateMember(full, 'new', 'x')
      expect(next).toHaveLength(32)
      expect(next[0]).toEqual({ key: 'new', value: 'x' })
      expect(next[31]).toEqual({ key: 'k30', value: 'v30' })
      expect(setTracestateMember(full, 'k31', 'x')).toHaveLength(32) // an update drops nothing
    })

    it('leaves the state unchanged for an invalid key or value', () => {
      expect(setTracestateMember(state, 'Bad', 'x')).toBe(state)
      expect(setTracestateMember(state, 'ok', 'a,b')).toBe(state)
      expect(setTracestateMember(undefined, 'ok', '')).toEqual([])
    })

    it('deletes a member, and returns undefined when none is left', () => {
      expect(header(deleteTracestateMember(state, 'congo')!)).toBe('rojo=1,ot=th:8')
      expect(deleteTracestateMember(state, 'nope')).toBe(state)
      expect(deleteTracestateMember(parseTracestate('ot=th:8'), 'ot')).toBeUndefined()
      expect(deleteTracestateMember(undefined, 'ot')).toBeUndefined()
    })
  })

  describe('properties', () => {
    it('parse never throws on arbitrary strings', () => {
      const anyInput = fc.oneof(
        fc.string(),
        fc.string({ unit: 'binary' }),
        fc.string({ unit: 'binary-ascii' }),
        fc.string({ unit: fc.constantFrom(...'ab1@=, \t*/_-Z') }),
        fc.array(fc.string({ unit: 'binary' }), { maxLength: 4 }),
      )
      fc.assert(
        fc.property(anyInput, (s) => {
          const parsed = parseTracestate(s)
          if (parsed !== undefined) {
            expect(parsed.length).toBeGreaterThan(0)
            expect(parsed.length).toBeLessThanOrEqual(32)
            for (const m of parsed) {
              expect(isValidTracestateKey(m.key)).toBe(true)
              expect(isValidTracestateValue(m.value)).toBe(true)
            }
          }
        }),
        { numRuns: 2000 },
      )
    })

    it('format never throws on arbitrary members', () => {
      fc.assert(
        fc.property(
          fc.array(fc.record({ key: fc.string(), value: fc.string({ unit: 'binary' }) })),
          (state) => {
            const out = formatTracestate(state)
            if (out !== undefined) expect(out.length).toBeLessThanOrEqual(512)
          },
        ),
      )
    })

    it('valid canonical headers round-trip byte-identically', () => {
      fc.assert(
        fc.property(stateArb, (state) => {
          const canonical = header(state)
          expect(parseTracestate(canonical)).toEqual(state)
          expect(formatTracestate(parseTracestate(canonical)!)).toBe(canonical)
        }),
        { numRuns: 500 },
      )
    })

    it('OWS and empty members do not change what is parsed', () => {
      const noisy = stateArb.chain((state) =>
        fc
          .tuple(
            fc.array(fc.tuple(ows, fc.boolean(), ows), { minLength: state.length, maxLength: state.length }),
            ows,
          )
          .map(([pads, tail]) => ({
            state,
            text:
              state
                .map((m, i) => `${pads[i]![0]}${m.key}=${m.value}${pads[i]![2]}${pads[i]![1] ? ',' : ''}`)
                .join(',') + tail,
          })),
      )
      fc.assert(
        fc.property(noisy, ({ state, text }) => {
          expect(formatTracestate(parseTracestate(text)!)).toBe(header(state))
        }),
        { numRuns: 300 },
      )
    })
  })

  // Interop with @opentelemetry/core 2.x (TraceState, used by W3CTraceContextPropagator).
  // Documented differences (each asserted below):
  // - Invalid members: OTel skips them and keeps the valid ones; we discard the whole header.
  // - More than 32 members: OTel keeps the first 32; we discard the whole header.
  // - Duplicate keys: OTel keeps one (first position, last value); we discard the whole header.
  // - Keys: OTel implements the Level 1 grammar, so it drops Level 2 keys such as `0abc`.
  // - Length: OTel skips members that would take the parsed list past 512 characters while
  //   parsing; we parse everything and truncate when formatting, per §3.3.3.1 (entries over
  //   128 characters first).
  // Where we accept a header of Level 1 keys within 512 characters, both serialize it the same.
  describe('interop with @opentelemetry/core TraceState', () => {
    const otelSerialize = (s: string) => new OtelTraceState(s).serialize()

    it('serializes every header we accept (Level 1 keys, ≤ 512 chars) the same as OTel', () => {
      fc.assert(
        fc.property(stateArb, ows, (state, pad) => {
          const text = state.map((m) => `${pad}${m.key}=${m.value}${pad}`).join(',')
          expect(otelSerialize(text)).toBe(formatTracestate(parseTracestate(text)!))
        }),
        { numRuns: 500 },
      )
    })

    it('reads the same tracestate through W3CTraceContextPropagator.extract', () => {
      const ctx = new W3CTraceContextPropagator().extract(
        ROOT_CONTEXT,
        {
          traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
          tracestate: ['rojo=00f067aa0ba902b7', 'congo=t61rcWkgMzE'],
        },
        defaultTextMapGetter,
      )
      const theirs = trace.getSpanContext(ctx)?.traceState
      const ours = parseTracestate(['rojo=00f067aa0ba902b7', 'congo=t61rcWkgMzE'])!
      expect(theirs?.serialize()).toBe(formatTracestate(ours))
      expect(theirs?.get('congo')).toBe(getTracestateMember(ours, 'congo'))
    })

    it('differs: OTel keeps the valid members of a header with an invalid one', () => {
      expect(otelSerialize('a=1,B=2')).toBe('a=1')
      expect(parseTracestate('a=1,B=2')).toBeUndefined()
    })

    it('differs: OTel keeps the first 32 of 33 members', () => {
      expect(otelSerialize(header(members(33)))).toBe(header(members(32)))
      expect(parseTracestate(header(members(33)))).toBeUndefined()
    })

    it('differs: OTel keeps the last member of a repeated key, we keep the first (left-most)', () => {
      expect(otelSerialize('a=1,b=2,a=3')).toBe('a=3,b=2')
      expect(formatTracestate(parseTracestate('a=1,b=2,a=3')!)).toBe('a=1,b=2')
    })

    it('differs: OTel drops Level 2 keys that Level 1 did not allow', () => {
      expect(otelSerialize('0abc=x,a=1')).toBe('a=1')
      expect(formatTracestate(parseTracestate('0abc=x,a=1')!)).toBe('0abc=x,a=1')
    })

    it('differs: OTel cuts at 512 characters while parsing, we truncate per §3.3.3.1 when formatting', () => {
      const m = (k: string, len: number) => `${k}=${'v'.repeat(len - 2)}`
      const text = [m('a', 100), m('b', 200), m('c', 100), m('d', 150), m('e', 50)].join(',')
      expect(otelSerialize(text)).toBe([m('a', 100), m('b', 200), m('c', 100), m('e', 50)].join(','))
      const big = [m('a', 100), m('x', 250), m('b', 100), m('c', 100)].join(',')
      expect(otelSerialize(big)).toBe([m('a', 100), m('x', 250), m('b', 100)].join(','))
      expect(formatTracestate(parseTracestate(big)!)).toBe([m('a', 100), m('b', 100), m('c', 100)].join(','))
    })
  })
})
