import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { parseBaggage } from '../../src/propagation/baggage.js'
import {
  formatLangSmithBaggageHeader,
  LANGSMITH_BAGGAGE_MAX_LENGTH,
  type LangSmithBaggage,
  langSmithBaggageMembers,
  parseLangSmithBaggageHeader,
  readLangSmithBaggage,
} from '../../src/propagation/langsmith-baggage.js'

const ADDRESS = { key: 'langsmith-address', value: 'lrn:agent:abc' }
const REPLICAS = { key: 'langsmith-replicas', value: '[{"projectName":"mirror"}]' }

// Fixtures as the Python SDK writes them (python/langsmith/run_trees.py, `_Baggage.to_header`):
// members joined by ",", values `urllib.parse.quote(...)` (safe="/", so "/" stays and "!'()*"
// are escaped), metadata through `_dumps_json` (orjson, compact; older releases and the
// fallback path: `json.dumps`, with a space after ":" and ","), tags `",".join(tags)`.
const PY_COMPACT =
  'langsmith-metadata=%7B%22a%22%3A1%2C%22b%22%3A%22x%20y%22%7D,langsmith-tags=a%2Cb,langsmith-project=team/proj'
const PY_SPACED_JSON = 'langsmith-metadata=%7B%22a%22%3A%201%2C%20%22b%22%3A%20%22x%20y%22%7D'
const PY_QUOTED_SAFE = 'langsmith-project=it%27s%20%28mine%29%21'

describe('readLangSmithBaggage (members from the W3C baggage parser)', () => {
  it('reads project, tags and metadata', () => {
    const members = parseBaggage(
      'userId=alice,langsmith-metadata=%7B%22a%22%3A1%7D,langsmith-tags=x%2Cy,langsmith-project=checkout',
    )
    expect(readLangSmithBaggage(members)).toEqual({
      metadata: { a: 1 },
      tags: ['x', 'y'],
      project: 'checkout',
    })
  })

  it('returns an empty result for no baggage, or baggage without LangSmith members', () => {
    expect(readLangSmithBaggage(undefined)).toEqual({})
    expect(readLangSmithBaggage([])).toEqual({})
    expect(readLangSmithBaggage(parseBaggage('userId=alice'))).toEqual({})
  })

  it('reads what the Python SDK writes, compact or with json.dumps spacing', () => {
    expect(readLangSmithBaggage(parseBaggage(PY_COMPACT))).toEqual({
      metadata: { a: 1, b: 'x y' },
      tags: ['a', 'b'],
      project: 'team/proj',
    })
    expect(readLangSmithBaggage(parseBaggage(PY_SPACED_JSON))).toEqual({ metadata: { a: 1, b: 'x y' } })
    expect(readLangSmithBaggage(parseBaggage(PY_QUOTED_SAFE))).toEqual({ project: "it's (mine)!" })
  })

  it.each([
    ['not JSON', 'langsmith-metadata=%7Bnope'],
    ['a JSON array', 'langsmith-metadata=%5B1%2C2%5D'],
    ['JSON null', 'langsmith-metadata=null'],
    ['a JSON string', 'langsmith-metadata=%22s%22'],
    ['a JSON number', 'langsmith-metadata=1'],
  ])('skips metadata that is %s and keeps the other members', (_name, member) => {
    expect(readLangSmithBaggage(parseBaggage(`${member},langsmith-project=p`))).toEqual({ project: 'p' })
  })

  it('skips metadata nested deeper than 64 levels, which later JSON.stringify calls could not serialize', () => {
    const deep = (d: number) => encodeURIComponent(`{"a":${'['.repeat(d - 1)}${']'.repeat(d - 1)}}`)
    expect(readLangSmithBaggage(parseBaggage(`langsmith-metadata=${deep(64)}`)).metadata).toBeDefined()
    expect(readLangSmithBaggage(parseBaggage(`langsmith-metadata=${deep(65)}`))).toEqual({})
    expect(parseLangSmithBaggageHeader(`langsmith-metadata=${deep(20_000)}`)).toEqual({})
    // brackets inside strings do not count
    const text = encodeURIComponent(JSON.stringify({ s: '['.repeat(100), t: '\\"[' }))
    expect(parseLangSmithBaggageHeader(`langsmith-metadata=${text}`).metadata).toEqual({
      s: '['.repeat(100),
      t: '\\"[',
    })
  })

  it('lets the last good member win when a key repeats', () => {
    const members = parseBaggage(
      'langsmith-project=a,langsmith-project=b,langsmith-metadata=%7B%22v%22%3A1%7D,langsmith-metadata=bad',
    )
    expect(readLangSmithBaggage(members)).toEqual({ project: 'b', metadata: { v: 1 } })
  })

  it('drops empty tags and trims spaces around each tag', () => {
    expect(readLangSmithBaggage(parseBaggage('langsmith-tags=a%2C%20b%2C%2C'))).toEqual({ tags: ['a', 'b'] })
    expect(readLangSmithBaggage(parseBaggage('langsmith-tags=%20'))).toEqual({})
  })

  it('ignores an empty project', () => {
    expect(readLangSmithBaggage(parseBaggage('langsmith-project='))).toEqual({})
  })

  it('passes langsmith-address through untouched, and ignores unknown langsmith-* keys', () => {
    const members = [ADDRESS, { key: 'langsmith-future', value: 'x' }, ADDRESS]
    expect(readLangSmithBaggage(members)).toEqual({ passthrough: [ADDRESS] })
    expect(readLangSmithBaggage(members).passthrough![0]).toBe(ADDRESS)
  })

  it('never passes langsmith-replicas on: it can carry a caller’s endpoints and API keys (the SDKs drop it too)', () => {
    expect(readLangSmithBaggage([REPLICAS])).toEqual({})
    expect(readLangSmithBaggage([REPLICAS, ADDRESS])).toEqual({ passthrough: [ADDRESS] })
  })

  it('never throws, whatever the members hold', () => {
    const member = fc.record({
      key: fc.oneof(
        fc.constantFrom('langsmith-metadata', 'langsmith-tags', 'langsmith-project', 'langsmith-address'),
        fc.string(),
      ),
      value: fc.oneof(fc.string({ unit: 'binary' }), fc.json()),
    })
    fc.assert(
      fc.property(fc.array(member, { maxLength: 8 }), (members) => {
        readLangSmithBaggage(members)
        return true
      }),
      { numRuns: 1000 },
    )
    expect(readLangSmithBaggage([null, 1, { key: 5 }] as never)).toEqual({})
    expect(readLangSmithBaggage('langsmith-project=p' as never)).toEqual({})
  })
})

describe('parseLangSmithBaggageHeader (raw header)', () => {
  it('reads the Python SDK fixtures', () => {
    expect(parseLangSmithBaggageHeader(PY_COMPACT)).toEqual({
      metadata: { a: 1, b: 'x y' },
      tags: ['a', 'b'],
      project: 'team/proj',
    })
    expect(parseLangSmithBaggageHeader(PY_QUOTED_SAFE)).toEqual({ project: "it's (mine)!" })
  })

  it('accepts spaces after commas and around "=" (headers joined with ", ")', () => {
    expect(
      parseLangSmithBaggageHeader(`${PY_SPACED_JSON}, langsmith-tags = a%2Cb ,  langsmith-project=p`),
    ).toEqual({
      metadata: { a: 1, b: 'x y' },
      tags: ['a', 'b'],
      project: 'p',
    })
  })

  it('reads the rest of an unencoded comma-separated value: langsmith-tags=a,b', () => {
    expect(
      parseLangSmithBaggageHeader('langsmith-metadata=%7B%22a%22%3A%201%7D, langsmith-tags=a,b'),
    ).toEqual({
      metadata: { a: 1 },
      tags: ['a', 'b'],
    })
    expect(parseLangSmithBaggageHeader('langsmith-metadata={"a":1,"b":2},userId=7')).toEqual({
      metadata: { a: 1, b: 2 },
    })
  })

  it('reads a member without the continuation when joining it would break the JSON', () => {
    expect(parseLangSmithBaggageHeader('langsmith-metadata=%7B%7D,garbage,langsmith-project=p')).toEqual({
      metadata: {},
      project: 'p',
    })
  })

  it('cuts W3C properties off the value', () => {
    expect(parseLangSmithBaggageHeader('langsmith-project=p;ttl=5,langsmith-tags=a;x')).toEqual({
      project: 'p',
      tags: ['a'],
    })
  })

  it('decodes bad percent-encoding as Python unquote does: kept literally, bad UTF-8 as U+FFFD', () => {
    expect(parseLangSmithBaggageHeader('langsmith-project=100%zz%2')).toEqual({ project: '100%zz%2' })
    expect(parseLangSmithBaggageHeader('langsmith-project=a%C3b%20c')).toEqual({ project: 'a\ufffdb c' })
    expect(parseLangSmithBaggageHeader('langsmith-tags=%E2%82%AC,langsmith-project=%')).toEqual({
      tags: ['€'],
      project: '%',
    })
  })

  it('skips bad JSON and keeps the other members', () => {
    expect(parseLangSmithBaggageHeader('langsmith-metadata=%7B%22a%22,langsmith-project=p')).toEqual({
      project: 'p',
    })
  })

  it('ignores other members, empty members and members without a key', () => {
    expect(parseLangSmithBaggageHeader(',,userId=7, =x,=,langsmith-project=p,,')).toEqual({ project: 'p' })
    expect(parseLangSmithBaggageHeader('')).toEqual({})
    expect(parseLangSmithBaggageHeader('langsmith-=x,langsmith-project')).toEqual({})
  })

  it('keys are case-sensitive, as in both SDKs', () => {
    expect(parseLangSmithBaggageHeader('LangSmith-Project=p')).toEqual({})
  })

  it('passes langsmith-address and langsmith-replicas through, decoded', () => {
    expect(parseLangSmithBaggageHeader('langsmith-address=lrn%3Aagent%3Aabc')).toEqual({
      passthrough: [ADDRESS],
    })
  })

  it(`reads only the first ${LANGSMITH_BAGGAGE_MAX_LENGTH} characters of a huge header, quickly`, () => {
    const huge = `langsmith-project=p,${'x=1,'.repeat(50_000)}langsmith-tags=late`
    const t0 = performance.now()
    expect(parseLangSmithBaggageHeader(huge)).toEqual({ project: 'p' })
    expect(parseLangSmithBaggageHeader(`langsmith-project=${'a'.repeat(1 << 20)}`)).toEqual({})
    expect(performance.now() - t0).toBeLessThan(200)
  })

  it('never throws on arbitrary headers', () => {
    const piece = fc.oneof(
      fc.string({ unit: 'binary', maxLength: 20 }),
      fc.constantFrom(
        'langsmith-metadata=',
        'langsmith-tags=',
        'langsmith-project=',
        ',',
        ', ',
        ';',
        '%',
        '%7B',
        '%C3',
        '=',
        '{',
        '"',
      ),
    )
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 20 }), (pieces) => {
        const b = parseLangSmithBaggageHeader(pieces.join(''))
        return b.metadata === undefined || (typeof b.metadata === 'object' && !Array.isArray(b.metadata))
      }),
      { numRuns: 3000 },
    )
    expect(parseLangSmithBaggageHeader(undefined as never)).toEqual({})
  })

  it('round-trips what formatLangSmithBaggageHeader writes', () => {
    const tag = fc
      .string({ minLength: 1, maxLength: 10 })
      .filter((t) => !t.includes(',') && t.trim() === t && t !== '')
    fc.assert(
      fc.property(
        fc.option(fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue(), { minKeys: 1, maxKeys: 4 }), {
          nil: undefined,
        }),
        fc.option(fc.array(tag, { minLength: 1, maxLength: 4 }), { nil: undefined }),
        fc.option(fc.string({ minLength: 1, maxLength: 20 }), { nil: undefined }),
        (metadata, tags, project) => {
          const b: LangSmithBaggage = {
            ...(metadata !== undefined ? { metadata } : {}),
            ...(tags !== undefined ? { tags } : {}),
            ...(project !== undefined ? { project } : {}),
          }
          const header = formatLangSmithBaggageHeader(b)
          const back = parseLangSmithBaggageHeader(header)
          expect(back).toEqual(JSON.parse(JSON.stringify(b)))
          expect(readLangSmithBaggage(parseBaggage(header))).toEqual(back)
        },
      ),
      { numRuns: 500 },
    )
  })
})

describe('formatLangSmithBaggageHeader', () => {
  it('writes metadata, tags, project in that order, each value encodeURIComponent-encoded', () => {
    expect(formatLangSmithBaggageHeader({ project: 'p q', tags: ['x', 'y'], metadata: { a: 1 } })).toBe(
      'langsmith-metadata=%7B%22a%22%3A1%7D,langsmith-tags=x%2Cy,langsmith-project=p%20q',
    )
  })

  it('leaves out empty members and writes "" when nothing is left', () => {
    expect(formatLangSmithBaggageHeader({})).toBe('')
    expect(formatLangSmithBaggageHeader({ metadata: {}, tags: [], project: '' })).toBe('')
    expect(formatLangSmithBaggageHeader({ tags: ['a'] })).toBe('langsmith-tags=a')
  })

  it('writes metadata whose values are all undefined as "{}", as the SDK does (it counts keys)', () => {
    expect(formatLangSmithBaggageHeader({ metadata: { a: undefined } })).toBe('langsmith-metadata=%7B%7D')
  })

  it('drops metadata JSON.stringify rejects instead of throwing (the SDK throws)', () => {
    const cyclic: { self?: unknown } = {}
    cyclic.self = cyclic
    expect(formatLangSmithBaggageHeader({ metadata: { n: 1n }, project: 'p' })).toBe('langsmith-project=p')
    expect(formatLangSmithBaggageHeader({ metadata: cyclic })).toBe('')
  })

  it('writes a lone surrogate as U+FFFD instead of throwing (encodeURIComponent throws)', () => {
    expect(formatLangSmithBaggageHeader({ project: 'a\ud800b' })).toBe('langsmith-project=a%EF%BF%BDb')
    expect(formatLangSmithBaggageHeader({ tags: ['\udc00', '😀'] })).toBe(
      'langsmith-tags=%EF%BF%BD%2C%F0%9F%98%80',
    )
  })

  it('writes passthrough members after the project, and drops the address when a project is set', () => {
    expect(formatLangSmithBaggageHeader({ passthrough: [ADDRESS, REPLICAS] })).toBe(
      'langsmith-address=lrn%3Aagent%3Aabc',
    )
    expect(formatLangSmithBaggageHeader({ project: 'p', passthrough: [ADDRESS] })).toBe('langsmith-project=p')
  })

  it('never throws on odd input from untyped callers', () => {
    expect(formatLangSmithBaggageHeader(undefined as never)).toBe('')
    expect(formatLangSmithBaggageHeader({ metadata: null, tags: null, project: 5 } as never)).toBe('')
    expect(formatLangSmithBaggageHeader({ passthrough: [null, { key: 'langsmith-address' }] } as never)).toBe(
      '',
    )
  })
})

describe('langSmithBaggageMembers', () => {
  it('returns the same members decoded, for the core to merge with user baggage', () => {
    const b: LangSmithBaggage = { metadata: { a: 'é' }, tags: ['x'], project: 'p', passthrough: [REPLICAS] }
    expect(langSmithBaggageMembers(b)).toEqual([
      { key: 'langsmith-metadata', value: '{"a":"é"}' },
      { key: 'langsmith-tags', value: 'x' },
      { key: 'langsmith-project', value: 'p' },
    ])
    expect(langSmithBaggageMembers({})).toEqual([])
  })

  it('yields members that the formatted header percent-decodes to', () => {
    const b: LangSmithBaggage = { metadata: { q: 'a=b, c;d' }, tags: ['t 1'], project: 'x/y' }
    const decoded = formatLangSmithBaggageHeader(b)
      .split(',')
      .map((m) => ({
        key: m.slice(0, m.indexOf('=')),
        value: decodeURIComponent(m.slice(m.indexOf('=') + 1)),
      }))
    expect(langSmithBaggageMembers(b)).toEqual(decoded)
  })
})
