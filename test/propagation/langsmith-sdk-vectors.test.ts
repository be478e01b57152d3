/**
 * tracehop's LangSmith headers (`langsmith-trace`, the `langsmith-*` members of `baggage`)
 * against the langsmith SDKs' OWN test cases, ported case by case.
 *
 * Source: github.com/langchain-ai/langsmith-sdk at commit
 * bc8dd672a7b9e7d09bcb2fdada0baff80700f9b0 (2026-08-21). One `describe` per SDK test file.
 * JS cases are cross-checked live against the installed `langsmith` package (0.12.0, whose
 * `lib/run_trees` is the SDK's hand-written code); Python cannot run here, so Python cases
 * are data: the header string Python writes or accepts (`strftime('%Y%m%dT%H%M%S%fZ') +
 * str(uuid)`, `urllib.parse.quote(json.dumps(...))`) and what the SDK test says it means.
 *
 * What `langsmith-interop.test.ts` already covers (byte-identical baggage, SDK <-> us round
 * trips for arbitrary metadata) is not repeated here.
 */
import { convertToDottedOrderFormat, RunTree } from 'langsmith/run_trees'
import { describe, expect, it } from 'vitest'
import { createTracer, type ScopeOptions } from '../../src/index.js'
import { parseBaggage } from '../../src/propagation/baggage.js'
import { parseLangSmithBaggageHeader, readLangSmithBaggage } from '../../src/propagation/langsmith-baggage.js'
import { formatDottedOrderStamp, parseLangSmithTrace } from '../../src/propagation/langsmith-trace.js'
import { parseTraceparent } from '../../src/propagation/traceparent.js'

const COMMIT = 'langchain-ai/langsmith-sdk@bc8dd672a7b9e7d09bcb2fdada0baff80700f9b0'

/** One hop through tracehop: `tracer.start(headers)`, then what its root span sends on. */
function hop(headers: Record<string, string> | Headers | undefined, options?: ScopeOptions) {
  const tracer = createTracer({ service: 's', log: () => {} })
  const scope = tracer.start(headers, options)
  const out = scope.root.headers()
  return { tracer, scope, root: scope.root, out, trace: parseLangSmithTrace(out['langsmith-trace'] ?? '') }
}

/** A Python `datetime(y, mo, d, h, mi, s, us)` in UTC as our time: ms, µs as the fraction. */
function pyTime(y: number, mo: number, d: number, h: number, mi: number, s: number, us: number): number {
  return Date.UTC(y, mo - 1, d, h, mi, s) + us / 1000
}

/** Python's `urllib.parse.quote(s)` (safe="/"): `encodeURIComponent`, but `!'()*` escaped and `/` kept. */
function pyQuote(s: string): string {
  return encodeURIComponent(s)
    .replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)
    .replaceAll('%2F', '/')
}

/** The 48-bit ms timestamp of a UUIDv7 (the SDK tests' `uuidV7Ms` / `_uuid_v7_ms`). */
function uuidV7Ms(uuid: string): number {
  return Number.parseInt(uuid.replaceAll('-', '').slice(0, 12), 16)
}

function uuidVersion(uuid: string): number {
  return Number.parseInt(uuid[14]!, 16)
}

/** The replicas an SDK reader ends up with (credentials filtered by the SDK itself). */
function sdkReplicas(headers: Record<string, string>): unknown {
  return RunTree.fromHeaders(headers)?.replicas
}

describe(`${COMMIT} js/src/tests/run_trees.test.ts`, () => {
  // test("nested"): Date.now() mocked to 1620000000000 (2021-05-03T00:00:00.000Z); ids are
  // `${id}<digit>`; the stamp's last three digits are the SDK's execution counter.
  const DATE = 1620000000000
  const id = '00000000-0000-0000-0000-00000000000'
  const date = '20210503T00000000000'
  const NESTED = {
    parent: `${date}1Z${id}0`,
    child1: `${date}1Z${id}0.${date}2Z${id}1`,
    child2: `${date}1Z${id}0.${date}3Z${id}2`,
    grandchild1: `${date}1Z${id}0.${date}2Z${id}1.${date}3Z${id}3`,
    grandchild2: `${date}1Z${id}0.${date}2Z${id}1.${date}4Z${id}4`,
    child3: `${date}1Z${id}0.${date}5Z${id}5`,
  }

  it('"nested": the installed SDK still writes these six dotted orders', () => {
    const parent = new RunTree({ name: 'parent_1', id: `${id}0`, start_time: DATE })
    const child1 = parent.createChild({ name: 'child_1', id: `${id}1`, start_time: DATE })
    const child2 = parent.createChild({ name: 'child_2', id: `${id}2`, start_time: DATE })
    const grandchild1 = child1.createChild({ name: 'grandchild_1', id: `${id}3`, start_time: DATE })
    const grandchild2 = child1.createChild({ name: 'grandchild_2', id: `${id}4`, start_time: DATE })
    const child3 = parent.createChild({ name: 'child_3', id: `${id}5`, start_time: DATE })
    expect([parent, child1, child2, grandchild1, grandchild2, child3].map((r) => r.dotted_order)).toEqual(
      Object.values(NESTED),
    )
  })

  it('"nested": we read every segment: trace id first, run id last, counter as microseconds', () => {
    const expected: Record<keyof typeof NESTED, [number, number][]> = {
      parent: [[0, 1]],
      child1: [
        [0, 1],
        [1, 2],
      ],
      child2: [
        [0, 1],
        [2, 3],
      ],
      grandchild1: [
        [0, 1],
        [1, 2],
        [3, 3],
      ],
      grandchild2: [
        [0, 1],
        [1, 2],
        [4, 4],
      ],
      child3: [
        [0, 1],
        [5, 5],
      ],
    }
    for (const [name, order] of Object.entries(NESTED) as [keyof typeof NESTED, string][]) {
      const t = parseLangSmithTrace(order)!
      const segs = expected[name]
      expect(t.dottedOrder).toBe(order)
      expect(t.traceId).toBe(`${id}0`)
      expect(t.runId).toBe(`${id}${segs[segs.length - 1]![0]}`)
      expect(t.segments.map((s) => [s.runId, s.time])).toEqual(
        segs.map(([n, us]) => [`${id}${n}`, DATE + us / 1000]),
      )
    }
  })

  it('"nested": continuing child1 appends our run after it, clamped to its stamp', () => {
    // The SDK's root is the nil UUID, which has no W3C form (next test): the same order under
    // a non-nil root.
    const child1 = NESTED.child1.replace(`${id}0`, `${id}7`)
    // Our clock behind the SDK's (5 ms before child1 started): the run starts at child1's stamp.
    const h = hop({ 'langsmith-trace': child1 }, { startTime: DATE - 5 })
    expect(h.out['langsmith-trace']).toBe(`${child1}.20210503T000000000002Z${h.root.runId}`)
    expect(h.root.parentRunId).toBe(`${id}1`)
    expect(h.trace!.traceId).toBe(`${id}7`)
    // As `traceable` does under getCurrentRunTree: the parent's id followed by "."
    expect(h.out['langsmith-trace']!.includes(`${id}1.`)).toBe(true)
  })

  // The SDK's own root id here is the nil UUID. Its W3C form is the all-zero trace id, which
  // W3C Trace Context §3.2.2.3 declares invalid: continuing it would write a traceparent every
  // W3C reader drops. tracehop refuses it (counted) and starts a valid trace of its own.
  it('"nested": the nil-UUID root is refused, counted, and a valid trace starts instead', () => {
    for (const order of [NESTED.parent, NESTED.child1]) {
      const h = hop({ 'langsmith-trace': order })
      expect(h.tracer.stats().invalid['langsmith-trace']).toBe(1)
      expect(h.trace!.traceId).not.toBe(`${id}0`)
      expect(parseTraceparent(h.out['traceparent']!)).toBeDefined()
    }
  })

  it('"distributed": ids of 35 characters are refused (a fresh trace, counted invalid); the SDK takes them', () => {
    // The test's ids are one digit short of a UUID; RunTree never validates them.
    const header = `${date}1Z${id}`
    const sdk = RunTree.fromHeaders({ 'langsmith-trace': header, baggage: 'langsmith-project=test_project' })
    expect(sdk?.id).toBe(id)
    // tracehop is strict where LangSmith is (58-character segments, canonical UUIDs): it
    // starts a LangSmith root of its own rather than continue a run LangSmith would reject.
    const h = hop({ 'langsmith-trace': header, baggage: 'langsmith-project=test_project' })
    expect(parseLangSmithTrace(header)).toBeUndefined()
    expect(h.tracer.stats().invalid['langsmith-trace']).toBe(1)
    expect(h.trace!.segments).toHaveLength(1)
    expect(h.trace!.runId).toBe(h.root.runId)
    // Without a dotted order the LangSmith members are not believed either.
    expect(h.out['baggage'] ?? '').not.toContain('test_project')
  })

  it('"distributed": the same hop with canonical ids: project carried, child at :01, grandchild at :02', () => {
    // A non-nil root id (the SDK test's nil one is refused, see "nested").
    const parent = new RunTree({
      name: 'parent_1',
      id: `${id}7`,
      start_time: Date.parse('2021-05-03T00:00:00.000Z'),
      project_name: 'test_project',
    })
    const serialized = parent.toHeaders()
    expect(serialized).toEqual({
      'langsmith-trace': `${date}1Z${id}7`,
      baggage: 'langsmith-project=test_project',
    })
    expect(serialized.baggage).toContain('test_project')

    const h = hop(serialized, { startTime: Date.parse('2021-05-03T00:00:01.000Z') })
    // The SDK writes `…000001000002Z` (its execution counter); we write the real microseconds.
    expect(h.out['langsmith-trace']).toBe(`${date}1Z${id}7.20210503T000001000000Z${h.root.runId}`)
    expect(h.out['baggage']).toBe('langsmith-project=test_project')
    const grandchild = h.root.startChild('grandchild_traceable', {
      startTime: Date.parse('2021-05-03T00:00:02.000Z'),
    })
    const g = parseLangSmithTrace(grandchild.headers()['langsmith-trace']!)!
    expect(g.segments.map((s) => s.stamp)).toEqual([
      '20210503T000000000001Z',
      '20210503T000001000000Z',
      '20210503T000002000000Z',
    ])
    expect(g.segments.map((s) => s.runId)).toEqual([`${id}7`, h.root.runId, grandchild.runId])
    // session_name "test_project" on the SDK side of the next hop
    expect(RunTree.fromHeaders(grandchild.headers())?.project_name).toBe('test_project')
  })

  it('"reroot with fromHeaders": a dotted order without "Z" is refused; the SDK takes it with a random id', () => {
    const header = '20210503T000000000000000000000000-0000-0000-0000-000000000000'
    const sdk = RunTree.fromHeaders({ 'langsmith-trace': header })!
    expect(sdk.dotted_order).toBe(header)
    expect(sdk.id).not.toBe('00000000-0000-0000-0000-000000000000') // split("Z") found no UUID
    const h = hop({ 'langsmith-trace': header })
    expect(parseLangSmithTrace(header)).toBeUndefined()
    expect(h.tracer.stats().invalid['langsmith-trace']).toBe(1)
    expect(h.trace!.segments).toHaveLength(1)
  })

  it('"fromHeaders sets distributedParentId correctly": the run a header names is its last segment', () => {
    const grandparent = new RunTree({ name: 'Grandparent', project_name: 'original_project' })
    const parent = grandparent.createChild({ name: 'Parent' })
    const child = parent.createChild({ name: 'Child' })
    const headers = child.toHeaders()
    expect(RunTree.fromHeaders(headers)!.distributedParentId).toBe(child.id)

    // A `Headers` object, as RunTree.fromHeaders also accepts.
    const h = hop(new Headers(headers))
    expect(h.root.parentRunId).toBe(child.id)
    expect(h.trace!.segments.map((s) => s.runId)).toEqual([grandparent.id, parent.id, child.id, h.root.runId])
    expect(h.out['traceparent']!.slice(3, 35)).toBe(grandparent.id.replaceAll('-', ''))
    expect(h.root.parentSpanId).toBe(child.id.replaceAll('-', '').slice(16))
    expect(parseLangSmithBaggageHeader(h.out['baggage']!).project).toBe('original_project')
  })

  const TRACE = '20240101T000000000000Z00000000-0000-0000-0000-000000000001'
  const CREDENTIALED = JSON.stringify([
    {
      apiKey: 'injected-key',
      apiUrl: 'https://evil.com/exfil',
      projectName: 'legit-project',
      primary: true,
      updates: { reroot: true },
    },
  ])

  it('"fromHeaders filters replica credentials" / "drops a non-boolean replica primary": never forwarded', () => {
    // Neither SDK writes `langsmith-replicas` (an SDK hop never forwards it), and an inbound one
    // may carry a caller's endpoints and keys: tracehop drops it, the rest of the hop continues.
    for (const json of [
      CREDENTIALED,
      JSON.stringify([{ projectName: 'replica-project', primary: 'false' }]),
    ]) {
      const incoming = { 'langsmith-trace': TRACE, baggage: `langsmith-replicas=${encodeURIComponent(json)}` }
      const h = hop(incoming)
      expect(h.scope.langsmithView?.passthrough).toBeUndefined()
      expect(h.out['baggage']).toBeUndefined()
      expect(h.trace!.traceId).toBe(parseLangSmithTrace(TRACE)!.traceId)
      expect(sdkReplicas(h.out) ?? []).toEqual([])
    }
    expect(
      sdkReplicas({
        'langsmith-trace': TRACE,
        baggage: `langsmith-replicas=${encodeURIComponent(CREDENTIALED)}`,
      }),
    ).toEqual([{ projectName: 'legit-project', primary: true, updates: { reroot: true } }])
  })

  // Both SDKs strip `apiKey`/`apiUrl` from an inbound replica and never write replicas (this
  // test; python test_to_headers_does_not_serialize_replicas): credentials in baggage never
  // survive an SDK hop, nor a tracehop one.
  it('"fromHeaders filters replica credentials": tracehop does not forward apiKey / apiUrl', () => {
    const h = hop({
      'langsmith-trace': TRACE,
      baggage: `langsmith-replicas=${encodeURIComponent(CREDENTIALED)}`,
    })
    const forwarded = decodeURIComponent(h.out['baggage'] ?? '')
    expect(forwarded).not.toContain('injected-key')
    expect(forwarded).not.toContain('evil.com')
  })
})

describe(`${COMMIT} js/src/tests/traceable.test.ts`, () => {
  it('"traceable wrapper with getCurrentRunTree": a child has its own id and its order contains "<parentId>."', () => {
    const h = hop(undefined)
    const child = h.root.startChild('nested_add_value')
    const order = child.headers()['langsmith-trace']!
    expect(child.runId).not.toBe(h.root.runId)
    expect(order.includes(`${h.root.runId}.`)).toBe(true)
    expect(order.endsWith(child.runId)).toBe(true)
  })
})

describe(`${COMMIT} js/src/tests/run_trees.uuid.test.ts`, () => {
  it('"RunTree default/regular behavior uses UUIDv7 and start_time matches id": our root run', () => {
    const fixedMs = 1_700_111_222_333
    const h = hop(undefined, { startTime: fixedMs })
    expect(uuidVersion(h.root.runId)).toBe(7)
    expect(uuidV7Ms(h.root.runId)).toBe(fixedMs)
    expect(h.out['langsmith-trace']).toBe(`${formatDottedOrderStamp(fixedMs)}${h.root.runId}`)
    expect(h.trace!.segments[0]!.stamp).toBe('20231116T050702333000Z') // 2023-11-16T05:07:02.333Z
  })

  it('"traceable produces UUIDv7 and start_time matches run id": our child runs, and a root under a remote parent', () => {
    const fixedMs = 1_700_000_123_456
    const root = hop(undefined, { startTime: fixedMs - 10 }).root
    const child = root.startChild('traceable-v7', { startTime: fixedMs })
    expect(uuidVersion(child.runId)).toBe(7)
    expect(uuidV7Ms(child.runId)).toBe(fixedMs)

    const remote = hop({ 'langsmith-trace': child.headers()['langsmith-trace']! }, { startTime: fixedMs + 7 })
    expect(uuidVersion(remote.root.runId)).toBe(7)
    expect(uuidV7Ms(remote.root.runId)).toBe(fixedMs + 7)
    expect(remote.trace!.segments.at(-1)!.stamp).toBe(formatDottedOrderStamp(fixedMs + 7))
  })
})

describe(`${COMMIT} js/src/tests/batch_client.test.ts`, () => {
  it('convertToDottedOrderFormat(new Date().getTime() / 1000, uuidv4()): a 1970 stamp and a v4 id, accepted', () => {
    // The tests pass seconds where ms are expected: the SDK writes a stamp in January 1970.
    const epoch = 1_700_000_123.456
    const runId = '9b1deb4d-3b7d-4bad-9bdd-2b0d7b3dcb6d' // a UUIDv4, as uuidv4() gives
    const { dottedOrder } = convertToDottedOrderFormat(epoch, runId)
    expect(dottedOrder).toBe(`19700120T161320123001Z${runId}`)
    const t = parseLangSmithTrace(dottedOrder)!
    expect([t.traceId, t.runId]).toEqual([runId, runId])
    expect(t.segments[0]!.time).toBe(pyTime(1970, 1, 20, 16, 13, 20, 123001))
    const h = hop({ 'langsmith-trace': dottedOrder })
    expect(h.out['langsmith-trace']!.startsWith(`${dottedOrder}.`)).toBe(true)
    expect(h.out['traceparent']!.slice(3, 35)).toBe(runId.replaceAll('-', ''))
  })
})

describe(`${COMMIT} python/tests/unit_tests/test_run_trees.py`, () => {
  // test_parse_dotted_order: the input and the (datetime, UUID) list _parse_dotted_order returns.
  const SEVEN =
    '20240412T202937370454Z152ce25c-064e-4742-bf36-8bb0389f8805.20240412T202937627763Zfe8b541f-e75a-4ee6-b92d-732710897194.20240412T202937708023Z625b30ed-2fbb-4387-81b1-cb5d6221e5b4.20240412T202937775748Z448dc09f-ad54-4475-b3a4-fa43018ca621.20240412T202937981350Z4cd59ea4-491e-4ed9-923f-48cd93e03755.20240412T202938078862Zcd168cf7-ee72-48c2-8ec0-50ab09821973.20240412T202938152278Z32481c1a-b83c-4b53-a52e-1ea893ffba51'
  const SEVEN_PARSED: [number, string][] = [
    [pyTime(2024, 4, 12, 20, 29, 37, 370454), '152ce25c-064e-4742-bf36-8bb0389f8805'],
    [pyTime(2024, 4, 12, 20, 29, 37, 627763), 'fe8b541f-e75a-4ee6-b92d-732710897194'],
    [pyTime(2024, 4, 12, 20, 29, 37, 708023), '625b30ed-2fbb-4387-81b1-cb5d6221e5b4'],
    [pyTime(2024, 4, 12, 20, 29, 37, 775748), '448dc09f-ad54-4475-b3a4-fa43018ca621'],
    [pyTime(2024, 4, 12, 20, 29, 37, 981350), '4cd59ea4-491e-4ed9-923f-48cd93e03755'],
    [pyTime(2024, 4, 12, 20, 29, 38, 78862), 'cd168cf7-ee72-48c2-8ec0-50ab09821973'],
    [pyTime(2024, 4, 12, 20, 29, 38, 152278), '32481c1a-b83c-4b53-a52e-1ea893ffba51'],
  ]

  it('test_parse_dotted_order: seven segments, microsecond times and UUIDs as Python parses them', () => {
    const t = parseLangSmithTrace(SEVEN)!
    expect(t.segments.map((s) => [s.time, s.runId])).toEqual(SEVEN_PARSED)
    // and each stamp formats back to itself (strftime of the parsed datetime)
    expect(t.segments.map((s) => formatDottedOrderStamp(s.time) + s.runId).join('.')).toBe(SEVEN)
  })

  it('test_parse_dotted_order: a hop under the seventh run keeps all seven and continues the trace', () => {
    const h = hop({ 'langsmith-trace': SEVEN })
    expect(h.out['langsmith-trace']).toMatch(new RegExp(`^${SEVEN.replaceAll('.', '\\.')}\\.\\d{8}T\\d{12}Z`))
    expect(h.trace!.segments).toHaveLength(8)
    expect(h.trace!.traceId).toBe('152ce25c-064e-4742-bf36-8bb0389f8805')
    expect(h.root.parentRunId).toBe('32481c1a-b83c-4b53-a52e-1ea893ffba51')
    expect(h.root.parentSpanId).toBe('a52e1ea893ffba51')
    expect(parseTraceparent(h.out['traceparent']!)?.traceId).toBe('152ce25c064e4742bf368bb0389f8805')
  })

  // test_nested_run_trees_from_dotted_order / test_distributed_parent_id_from_headers: what
  // from_dotted_order / from_headers read from a 1-, 2- and 3-segment order (run ids in the
  // shape Python writes: str(uuid7), lowercase; stamps strftime('%Y%m%dT%H%M%S%fZ')).
  const GP = '20251222T234308014739Z019b4816-4f2e-7a3c-9d41-5e6f708192a3'
  const P = `${GP}.20251222T234308015001Z019b4816-4f2f-7b4d-8e52-6f708192a3b4`
  const C = `${P}.20251222T234308015002Z019b4816-4f2f-7c5e-af63-708192a3b4c5`

  it('test_nested_run_trees_from_dotted_order: id is the last segment, parent_run_id the one before, order kept', () => {
    const cases: [string, string, string | undefined][] = [
      [C, '019b4816-4f2f-7c5e-af63-708192a3b4c5', '019b4816-4f2f-7b4d-8e52-6f708192a3b4'],
      [P, '019b4816-4f2f-7b4d-8e52-6f708192a3b4', '019b4816-4f2e-7a3c-9d41-5e6f708192a3'],
      [GP, '019b4816-4f2e-7a3c-9d41-5e6f708192a3', undefined], // grandparent_clone.parent_run_id is None
    ]
    for (const [order, runId, parentRunId] of cases) {
      const t = parseLangSmithTrace(order)!
      expect(t.dottedOrder).toBe(order)
      expect(t.runId).toBe(runId)
      expect(t.segments.at(-2)?.runId).toBe(parentRunId)
      expect(t.traceId).toBe('019b4816-4f2e-7a3c-9d41-5e6f708192a3')
    }
  })

  it('test_distributed_parent_id_from_headers: the immediate parent is the child the headers came from', () => {
    const h = hop({ 'langsmith-trace': C, baggage: 'langsmith-project=original_project' })
    expect(h.root.parentRunId).toBe('019b4816-4f2f-7c5e-af63-708192a3b4c5')
    expect(h.out['langsmith-trace']!.startsWith(`${C}.`)).toBe(true)
    expect(h.out['baggage']).toBe('langsmith-project=original_project')
  })

  it('test_create_child_enforces_timestamp_order: earlier is moved to the parent, later is kept (#2236)', () => {
    const parentTime = pyTime(2025, 12, 22, 23, 43, 8, 14739)
    const before = hop({ 'langsmith-trace': GP }, { startTime: parentTime - 3 })
    expect(before.root.startTime).toBe(parentTime)
    expect(before.trace!.segments[1]!.stamp).toBe('20251222T234308014739Z')
    const later = hop({ 'langsmith-trace': GP }, { startTime: parentTime + 10 })
    expect(later.root.startTime).toBe(parentTime + 10)
    expect(later.trace!.segments[1]!.stamp).toBe('20251222T234308024739Z')
    // child3: no start time given, so now: never before the parent
    const now = hop({ 'langsmith-trace': GP })
    expect(now.root.startTime).toBeGreaterThanOrEqual(parentTime)
  })

  it('test_to_headers_does_not_serialize_replicas: a run of ours writes no langsmith-replicas', () => {
    const h = hop(undefined)
    expect(h.out['baggage'] ?? '').not.toContain('replicas')
    const child = h.root.startChild('c')
    expect(child.headers()['baggage'] ?? '').not.toContain('replicas')
  })

  // The four from_headers replica cases: `langsmith-replicas=quote(json.dumps(...))` (json.dumps
  // spacing, `%20`, `/` left as is) with this langsmith-trace.
  const PY_TRACE = '20240101T000000000000Z00000000-0000-0000-0000-000000000001'
  const PY_REPLICAS: [string, string][] = [
    [
      'test_from_headers_filters_replica_credentials',
      '[{"api_key": "injected-key", "api_url": "https://evil.com/exfil", "project_name": "legit-project", "primary": true, "updates": {"reroot": true}}]',
    ],
    [
      'test_from_headers_drops_non_boolean_replica_primary',
      '[{"project_name": "replica-project", "primary": "false"}]',
    ],
    [
      'test_from_headers_allowlists_update_fields',
      '[{"project_name": "legit-project", "updates": {"reroot": true, "metadata": {"k": "v"}, "tags": ["a"], "attachments": {"doc": ["text/plain", "notes.txt"]}, "inputs": {"x": 1}, "environment": "prod"}}]',
    ],
    [
      'test_from_headers_allowlists_update_fields_legacy_format',
      '[["legit-project", {"reroot": true, "metadata": {"k": "v"}, "attachments": {"doc": ["text/plain", "notes.txt"]}, "environment": "prod"}]]',
    ],
  ]

  it.each(PY_REPLICAS)(
    '%s: the Python header is read and not forwarded (the trace continues)',
    (_name, json) => {
      const baggage = `langsmith-replicas=${pyQuote(json)}`
      expect(baggage).toContain('%20') // json.dumps spacing, quoted
      expect(parseBaggage(baggage)).toEqual([{ key: 'langsmith-replicas', value: json }])
      expect(readLangSmithBaggage(parseBaggage(baggage))).toEqual({})
      expect(parseLangSmithBaggageHeader(baggage)).toEqual({})
      const h = hop({ 'langsmith-trace': PY_TRACE, baggage })
      expect(h.out['baggage']).toBeUndefined()
      expect(h.root.parentRunId).toBe('00000000-0000-0000-0000-000000000001')
    },
  )
})

describe(`${COMMIT} python/tests/unit_tests/test_replica_endpoints.py`, () => {
  // TestBaggageReplicaParsing and the two auth tests: quote(json.dumps(replicas)).
  const cases: [string, string][] = [
    [
      'test_baggage_parsing_tuple_format',
      '[["replica-project-1", {"environment": "staging"}], ["replica-project-2", null]]',
    ],
    [
      'test_baggage_parsing_new_format',
      '[{"api_url": "https://replica1.example.com", "auth": {"api_key": "replica1-key"}, "project_name": "replica1-project", "updates": {"environment": "production"}}, {"api_url": "https://replica2.example.com", "auth": {"api_key": "replica2-key"}, "project_name": "replica2-project"}]',
    ],
    [
      'test_baggage_parsing_mixed_format',
      '[["tuple-project", {"tuple": "true"}], {"api_url": "https://new.example.com", "auth": {"api_key": "new-key"}, "project_name": "new-project"}]',
    ],
    [
      'test_baggage_parsing_drops_replica_without_project_name',
      '[{"api_url": "https://attacker.example.com"}, {"api_url": "https://replica.example.com", "project_name": "safe-project"}]',
    ],
  ]

  it.each(cases)(
    '%s: the member value decodes to the exact json.dumps text, and is not kept',
    (_name, json) => {
      const baggage = `langsmith-replicas=${pyQuote(json)}`
      if (json.includes('https://')) expect(baggage).toContain('https%3A//') // quote keeps "/"
      expect(parseBaggage(baggage)).toEqual([{ key: 'langsmith-replicas', value: json }])
      expect(parseLangSmithBaggageHeader(baggage)).toEqual({})
    },
  )

  it('test_from_headers_does_not_accept_replica_endpoint_or_auth: trace from str(uuid.uuid4()) accepted', () => {
    // "20240101T000000000000Z" + str(uuid.uuid4()): a v4 run id, lowercase.
    const trace = '20240101T000000000000Z3f2b8c1e-9a4d-4e7b-8c6f-1d2e3f4a5b6c'
    const json =
      '[{"api_url": "https://attacker.example.com", "auth": {"api_key": "attacker-key"}, "project_name": "safe-project"}]'
    const h = hop({ 'langsmith-trace': trace, baggage: `langsmith-replicas=${pyQuote(json)}` })
    expect(h.root.parentRunId).toBe('3f2b8c1e-9a4d-4e7b-8c6f-1d2e3f4a5b6c')
    expect(h.trace!.traceId).toBe('3f2b8c1e-9a4d-4e7b-8c6f-1d2e3f4a5b6c')
    // Nothing of the replica reaches the SDK behind us.
    expect(sdkReplicas(h.out) ?? []).toEqual([])
  })

  // As in run_trees.test.ts: "Inbound baggage must not be allowed to redirect writes or inject
  // auth" and "Replica auth should not be propagated via W3C baggage headers".
  it('test_run_tree_to_headers_does_not_propagate_replica_auth: tracehop forwards no replica auth', () => {
    const json =
      '[{"api_url": "https://attacker.example.com", "auth": {"api_key": "attacker-key"}, "project_name": "safe-project"}]'
    const h = hop({
      'langsmith-trace': '20240101T000000000000Z3f2b8c1e-9a4d-4e7b-8c6f-1d2e3f4a5b6c',
      baggage: `langsmith-replicas=${pyQuote(json)}`,
    })
    const forwarded = decodeURIComponent(h.out['baggage'] ?? '')
    expect(forwarded).not.toContain('attacker-key')
    expect(forwarded).not.toContain('attacker.example.com')
  })
})

describe(`${COMMIT} python/tests/unit_tests/test_uuid_v7.py`, () => {
  it('test_run_tree_explicit_start_time_matches_id: 2024-06-07T08:09:10.123Z gives a v7 id of that ms', () => {
    const start = pyTime(2024, 6, 7, 8, 9, 10, 123000)
    const h = hop(undefined, { startTime: start })
    expect(uuidVersion(h.root.runId)).toBe(7)
    expect(uuidV7Ms(h.root.runId)).toBe(start)
    expect(h.trace!.segments[0]!.stamp).toBe('20240607T080910123000Z')
  })

  it('test_run_tree_default_uuidv7_and_start_time_match: within 1 ms for microsecond start times', () => {
    // Python: abs(id_ms - start_ms) <= 1. Our stamp rounds to the microsecond, the id floors.
    for (const start of [1_717_747_750_123 + 0.4, 1_717_747_750_123 + 0.9996, Date.now() + 0.5]) {
      const h = hop(undefined, { startTime: start })
      const stampMs = Math.floor(h.trace!.segments[0]!.time)
      expect(uuidVersion(h.root.runId)).toBe(7)
      expect(Math.abs(uuidV7Ms(h.root.runId) - stampMs)).toBeLessThanOrEqual(1)
    }
  })
})

describe(`${COMMIT} python/tests/integration_tests/test_context_propagation.py + fake_server.py`, () => {
  // test_tracing_fake_server: the root has metadata {"some-cool-value": 42}, tags
  // ["did-propagate"], project "distributed-tracing"; span.to_headers() goes to /fake-route,
  // whose runs assert parent_dotted_order, the tag, the metadata value and the session name.
  // _Baggage.to_header: quote(orjson.dumps(metadata)) (compact), quote(",".join(tags)), quote(project).
  const PY_BAGGAGE =
    'langsmith-metadata=%7B%22some-cool-value%22%3A42%7D,langsmith-tags=did-propagate,langsmith-project=distributed-tracing'
  const PY_TRACE =
    '20240523T053912123456Z018fa3c1-8b2a-7d3e-9f40-112233445566.20240523T053912234567Z018fa3c1-8b9c-7e4f-a051-223344556677'

  it('reads what Python sends', () => {
    expect(parseLangSmithBaggageHeader(PY_BAGGAGE)).toEqual({
      metadata: { 'some-cool-value': 42 },
      tags: ['did-propagate'],
      project: 'distributed-tracing',
    })
  })

  it('a tracehop hop in the middle: the next SDK still sees the parent, the tag, the metadata and the project', () => {
    const h = hop({ 'langsmith-trace': PY_TRACE, baggage: PY_BAGGAGE })
    expect(h.out['baggage']).toBe(PY_BAGGAGE) // encodeURIComponent and quote agree on these values
    const next = RunTree.fromHeaders(h.out)!
    expect(next.dotted_order.startsWith(`${PY_TRACE}.`)).toBe(true) // parent_dotted_order
    expect(next.tags).toContain('did-propagate')
    expect(next.extra?.['metadata']?.['some-cool-value']).toBe(42)
    expect(next.project_name).toBe('distributed-tracing')
  })
})
