/**
 * The LangSmith propagation format against the REAL `langsmith` JS SDK (RunTree.toHeaders /
 * fromHeaders / createChild), and against fixtures written from the Python SDK's source.
 * No network: a RunTree only talks to LangSmith when posted.
 */
import fc from 'fast-check'
import { RunTree } from 'langsmith/run_trees'
import { describe, expect, it } from 'vitest'
import { newRunIdentity } from '../../src/ids.js'
import { createTracer } from '../../src/index.js'
import { formatBaggage, parseBaggage } from '../../src/propagation/baggage.js'
import {
  formatLangSmithBaggageHeader,
  type LangSmithBaggage,
  langSmithBaggageMembers,
  parseLangSmithBaggageHeader,
  readLangSmithBaggage,
} from '../../src/propagation/langsmith-baggage.js'
import {
  childDottedOrder,
  clampChildStartTime,
  parseLangSmithTrace,
} from '../../src/propagation/langsmith-trace.js'

type Metadata = Record<string, unknown>

function sdkRun(config: { metadata?: Metadata; tags?: string[]; project_name?: string }): RunTree {
  return new RunTree({ name: 'x', ...config })
}

/** A RunTree's metadata (`extra.metadata`). */
function metadataOf(rt: RunTree | undefined): unknown {
  const { metadata } = rt?.extra ?? {}
  return metadata
}

/** What our baggage formatter is given for a RunTree: its metadata, tags and project. */
function viewOf(rt: RunTree): LangSmithBaggage {
  return {
    ...(metadataOf(rt) !== undefined ? { metadata: metadataOf(rt) as Metadata } : {}),
    ...(rt.tags !== undefined ? { tags: rt.tags } : {}),
    ...(rt.project_name !== undefined ? { project: rt.project_name } : {}),
  }
}

describe('langsmith RunTree.toHeaders() -> our parsers', () => {
  it('gives the trace id, the parent run id, project, tags and metadata of a child run', () => {
    const root = sdkRun({ project_name: 'agents', metadata: { tenant: 'acme', ü: '✓' }, tags: ['root'] })
    const child = root.createChild({ name: 'tool', tags: ['a', 'b c'], metadata: { step: 2 } })
    const h = child.toHeaders()

    const trace = parseLangSmithTrace(h['langsmith-trace'])!
    expect(trace.traceId).toBe(root.id)
    expect(trace.traceId).toBe(child.trace_id)
    expect(trace.runId).toBe(child.id)
    expect(trace.segments.map((s) => s.runId)).toEqual([root.id, child.id])
    expect(trace.dottedOrder).toBe(child.dotted_order)
    // The JS SDK's stamp is start_time to the millisecond, then an execution counter.
    expect(Math.floor(trace.segments[1]!.time)).toBe(child.start_time)

    const expected = { project: 'agents', tags: ['a', 'b c'], metadata: { tenant: 'acme', ü: '✓', step: 2 } }
    expect(parseLangSmithBaggageHeader(h.baggage)).toEqual(expected)
    expect(readLangSmithBaggage(parseBaggage(h.baggage))).toEqual(expected)
  })

  it('parses every dotted order of a deep SDK run tree', () => {
    let run = sdkRun({ project_name: 'deep' })
    const ids = [run.id]
    for (let i = 0; i < 20; i++) {
      run = run.createChild({ name: `level-${i}` })
      ids.push(run.id)
    }
    const trace = parseLangSmithTrace(run.toHeaders()['langsmith-trace'])!
    expect(trace.segments.map((s) => s.runId)).toEqual(ids)
    for (let i = 1; i < trace.segments.length; i++) {
      expect(trace.segments[i]!.stamp >= trace.segments[i - 1]!.stamp).toBe(true)
    }
  })
})

describe('our headers -> langsmith RunTree.fromHeaders()', () => {
  it('gives a RunTree with the right trace_id, id, dotted_order, project, tags and metadata', () => {
    const t0 = Date.now()
    const root = newRunIdentity(t0) // a LangSmith root run's id is its trace id
    const rootOrder = childDottedOrder(undefined, t0, root.runId)
    const child = newRunIdentity(t0 + 3.25)
    const dotted = childDottedOrder(rootOrder, clampChildStartTime(t0 + 3.25, t0), child.runId)
    const b: LangSmithBaggage = {
      project: 'checkout',
      tags: ['edge', 'gateway'],
      metadata: { tenant: 'acme', region: 'eu-west-1', nested: { n: [1, 2] } },
    }
    const rt = RunTree.fromHeaders({ 'langsmith-trace': dotted, baggage: formatLangSmithBaggageHeader(b) })!
    expect(rt.trace_id).toBe(root.runId)
    expect(rt.id).toBe(child.runId)
    expect(rt.dotted_order).toBe(dotted)
    expect(rt.project_name).toBe('checkout')
    expect(rt.tags).toEqual(['edge', 'gateway'])
    expect(metadataOf(rt)).toEqual(b.metadata)

    // The SDK continues under our run, and we can read what it sends on.
    const grandchild = rt.createChild({ name: 'sdk-side' })
    const back = parseLangSmithTrace(grandchild.toHeaders()['langsmith-trace'])!
    expect(back.traceId).toBe(root.runId)
    expect(back.segments.map((s) => s.runId)).toEqual([root.runId, child.runId, grandchild.id])
  })

  it('continues an SDK trace: SDK -> us -> SDK keeps one trace id and the parent chain', () => {
    const upstream = sdkRun({ project_name: 'agents', metadata: { a: 1 } }).createChild({ name: 'call' })
    const incoming = upstream.toHeaders()
    const parent = parseLangSmithTrace(incoming['langsmith-trace'])!
    const extra = parseLangSmithBaggageHeader(incoming.baggage)
    // This host's clock is behind the caller's: the child is clamped to the parent's stamp.
    const parentTime = parent.segments[parent.segments.length - 1]!.time
    const start = clampChildStartTime(parentTime - 40, parentTime)
    const me = newRunIdentity(start)
    const outgoing = {
      'langsmith-trace': childDottedOrder(parent.dottedOrder, start, me.runId),
      baggage: formatLangSmithBaggageHeader(extra),
    }
    const downstream = RunTree.fromHeaders(outgoing)!
    expect(downstream.trace_id).toBe(upstream.trace_id)
    expect(downstream.id).toBe(me.runId)
    expect(downstream.dotted_order.startsWith(`${upstream.dotted_order}.`)).toBe(true)
    expect(downstream.project_name).toBe('agents')
    expect(metadataOf(downstream)).toEqual({ a: 1 })
    expect(start).toBe(parentTime)
  })
})

describe('formatLangSmithBaggageHeader is byte-identical to RunTree.toHeaders().baggage', () => {
  it.each<[string, { metadata?: Metadata; tags?: string[]; project_name?: string }]>([
    ['unicode metadata', { metadata: { user: 'Zoë', emoji: '🚀', cjk: '漢字', nested: { a: [1, 'x,y'] } } }],
    ['commas in tags', { tags: ['a,b', 'c d', 'é'], project_name: 'p' }],
    [
      'reserved characters everywhere',
      { metadata: { q: 'a=b;c,d%e f+g' }, tags: ["it's", '(x)*~!'], project_name: "o'k/?#&=+" },
    ],
    ['numbers and nulls', { metadata: { n: 1.5e-7, big: 2 ** 70, z: null, t: true } }],
    ['a project only', { project_name: 'default' }],
  ])('%s', (_name, config) => {
    const rt = sdkRun(config)
    expect(formatLangSmithBaggageHeader(viewOf(rt))).toBe(rt.toHeaders().baggage)
  })

  it('metadata merged from the parent by createChild', () => {
    const child = sdkRun({ metadata: { a: 1, b: 2 }, project_name: 'p' }).createChild({
      name: 'c',
      metadata: { b: 3, c: 'ç' },
      tags: ['t'],
    })
    expect(formatLangSmithBaggageHeader(viewOf(child))).toBe(child.toHeaders().baggage)
  })

  it('empty: no metadata, tags or project gives ""', () => {
    const rt = sdkRun({ metadata: {}, tags: [] })
    rt.project_name = undefined as never
    expect(rt.toHeaders().baggage).toBe('')
    expect(formatLangSmithBaggageHeader(viewOf(rt))).toBe('')
  })

  it('for arbitrary metadata, tags and project', () => {
    const text = fc.string({ unit: 'grapheme', maxLength: 12 })
    fc.assert(
      fc.property(
        fc.dictionary(text, fc.jsonValue({ stringUnit: 'grapheme', maxDepth: 2 }), { maxKeys: 4 }),
        fc.array(text, { maxLength: 4 }),
        text,
        (metadata, tags, project) => {
          const rt = sdkRun({ metadata, tags, ...(project !== '' ? { project_name: project } : {}) })
          expect(formatLangSmithBaggageHeader(viewOf(rt))).toBe(rt.toHeaders().baggage)
        },
      ),
      { numRuns: 300 },
    )
  })
})

describe('Python SDK headers (fixtures from python/langsmith/run_trees.py)', () => {
  // `_create_current_dotted_order`: start_time.strftime("%Y%m%dT%H%M%S%fZ") + str(run_id);
  // str(UUID) is lowercase. `_Baggage.to_header`: urllib.parse.quote of orjson (compact) JSON,
  // of ",".join(tags), of the project name (safe="/"), joined by ",".
  const trace = '0192f1a2-0b3c-7d4e-8f50-6172839405a6'
  const parent = '0192f1a2-0b3d-7e4f-9a51-72839405a6b7'
  const dotted = `20241105T093000123456Z${trace}.20241105T093000234567Z${parent}`
  const baggage =
    'langsmith-metadata=%7B%22thread_id%22%3A%22t-1%22%2C%22score%22%3A0.5%7D,langsmith-tags=py%2Cupstream,langsmith-project=team/agents'

  it('parse as Python wrote them', () => {
    const t = parseLangSmithTrace(dotted)!
    expect([t.traceId, t.runId]).toEqual([trace, parent])
    expect(t.segments[1]!.time).toBe(Date.UTC(2024, 10, 5, 9, 30, 0, 234) + 0.567)
    expect(parseLangSmithBaggageHeader(baggage)).toEqual({
      metadata: { thread_id: 't-1', score: 0.5 },
      tags: ['py', 'upstream'],
      project: 'team/agents',
    })
  })

  it('parse leniently when rejoined with ", " and with json.dumps spacing', () => {
    const spaced =
      'langsmith-metadata=%7B%22thread_id%22%3A%20%22t-1%22%2C%20%22score%22%3A%200.5%7D, langsmith-tags=py,upstream, langsmith-project=team/agents'
    expect(parseLangSmithBaggageHeader(spaced)).toEqual({
      metadata: { thread_id: 't-1', score: 0.5 },
      tags: ['py', 'upstream'],
      project: 'team/agents',
    })
    expect(parseLangSmithTrace(` ${dotted} `)?.runId).toBe(parent)
  })

  it('read the same in the JS SDK as in ours (for the compact form it accepts)', () => {
    const rt = RunTree.fromHeaders({ 'langsmith-trace': dotted, baggage })!
    const ours = parseLangSmithBaggageHeader(baggage)
    expect(metadataOf(rt)).toEqual(ours.metadata)
    expect(rt.tags).toEqual(ours.tags)
    expect(rt.project_name).toBe(ours.project)
    expect(rt.trace_id).toBe(parseLangSmithTrace(dotted)!.traceId)
  })
})

describe('the core path: langSmithBaggageMembers merged by the W3C baggage formatter', () => {
  it('is readable by RunTree.fromHeaders for ordinary metadata', () => {
    const b: LangSmithBaggage = {
      metadata: { tenant: 'acme', ü: 'x y' },
      tags: ['a', 'b'],
      project: 'team/p',
    }
    const header = formatBaggage([{ key: 'userId', value: 'alice' }, ...langSmithBaggageMembers(b)])!
    const rt = RunTree.fromHeaders({
      'langsmith-trace': childDottedOrder(undefined, Date.now(), crypto.randomUUID()),
      baggage: header,
    })!
    expect(metadataOf(rt)).toEqual(b.metadata)
    expect(rt.tags).toEqual(b.tags)
    expect(rt.project_name).toBe('team/p')
  })

  // The JS SDK's Baggage.fromHeader splits each member on every "=": what a span sends must
  // encode "=" in LangSmith values the way toHeaders() does (encodeURIComponent).
  it('span headers stay readable by RunTree.fromHeaders when metadata contains "="', () => {
    const upstream = new RunTree({ name: 'up', metadata: { q: 'a=b', url: 'https://x/?k=v' } })
    const tracer = createTracer({ service: 'hop' })
    const span = tracer.start(upstream.toHeaders()).root.startChild('work')
    const rt = RunTree.fromHeaders(span.headers())!
    expect(metadataOf(rt)).toEqual({ q: 'a=b', url: 'https://x/?k=v' })
    expect(rt.id).toBe(span.runId)
  })
})
