import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { isoMicros, type LangSmithRun, spanToRun, validateRun } from '../../src/export/langsmith-runs.js'
import { hexToUuid, newRunIdentity } from '../../src/ids.js'
import type { Attributes } from '../../src/span-record.js'
import { childSpan, dottedSegment, rootSpan } from './helpers.js'

const resource = { attributes: { 'service.name': 'retrieval' } }

function runOf(attributes: Attributes, extra: Parameters<typeof rootSpan>[0] = {}): LangSmithRun {
  return spanToRun(rootSpan({ ...extra, attributes }).record, resource)
}

describe('spanToRun', () => {
  it('carries the span identity: id, trace_id, dotted_order, parent_run_id', () => {
    const root = rootSpan({ name: 'agent' })
    const child = childSpan(root, { name: 'plan' })
    const run = spanToRun(child.record, resource)
    expect(run.id).toBe(child.record.runId)
    expect(run.trace_id).toBe(root.record.runId)
    expect(run.parent_run_id).toBe(root.record.runId)
    expect(run.dotted_order).toBe(child.record.dottedOrder)
    expect(spanToRun(root.record, resource).parent_run_id).toBeUndefined()
  })

  it('takes start_time from the dotted-order segment and end_time with microseconds', () => {
    const root = rootSpan({ startUs: 1_764_100_000_000_123, durationUs: 2_000_001 })
    const run = spanToRun(root.record, resource)
    expect(run.start_time).toBe('2025-11-25T19:46:40.000123Z')
    expect(run.end_time).toBe('2025-11-25T19:46:42.000124Z')
  })

  it.each([
    [{ 'langsmith.span.kind': 'LLM' }, 'llm'],
    [{ 'langsmith.span.kind': 'retriever', 'gen_ai.operation.name': 'chat' }, 'retriever'],
    [{ 'gen_ai.operation.name': 'chat' }, 'llm'],
    [{ 'gen_ai.operation.name': 'text_completion' }, 'llm'],
    [{ 'gen_ai.operation.name': 'execute_tool' }, 'tool'],
    [{ 'gen_ai.operation.name': 'embeddings' }, 'embedding'],
    [{ 'gen_ai.operation.name': 'retrieval' }, 'retriever'],
    [{ 'gen_ai.tool.name': 'search' }, 'tool'],
    [{ 'langsmith.span.kind': 'not-a-kind' }, 'chain'],
    [{}, 'chain'],
  ] as [Attributes, string][])('maps %j to run_type %s', (attrs, type) => {
    expect(runOf(attrs).run_type).toBe(type)
  })

  it('reads inputs/outputs from langsmith.inputs/outputs first, then input.value, then gen_ai.prompt', () => {
    const run = runOf({
      'langsmith.inputs': '{"question":"why?"}',
      'input.value': '{"ignored":true}',
      'output.value': 'plain text answer',
    })
    expect(run.inputs).toEqual({ question: 'why?' })
    expect(run.outputs).toEqual({ output: 'plain text answer' })
  })

  it('turns a gen_ai.prompt message array into inputs.messages', () => {
    const run = runOf({
      'gen_ai.prompt': '[{"role":"user","content":"hi"}]',
      'gen_ai.completion': '[{"role":"assistant","content":"hello"}]',
    })
    expect(run.inputs).toEqual({ messages: [{ role: 'user', content: 'hi' }] })
    expect(run.outputs).toEqual({ messages: [{ role: 'assistant', content: 'hello' }] })
  })

  it('sends empty inputs and no outputs when the span has none, as the SDK does', () => {
    const run = runOf({})
    expect(run.inputs).toEqual({})
    expect(run.outputs).toBeUndefined()
  })

  it('records token usage as usage_metadata in outputs and in metadata, like traceable', () => {
    const run = runOf({
      'gen_ai.usage.input_tokens': 812,
      'gen_ai.usage.output_tokens': 40,
      'output.value': '{"a":1}',
    })
    const usage = { input_tokens: 812, output_tokens: 40, total_tokens: 852 }
    expect(run.outputs).toEqual({ a: 1, usage_metadata: usage })
    expect(run.extra.metadata['usage_metadata']).toEqual(usage)
  })

  it('fills metadata from trace metadata, langsmith.metadata.*, span attributes and service.name', () => {
    const run = runOf(
      {
        'langsmith.metadata.user_id': 'u1',
        'http.route': '/q',
        'gen_ai.request.model': 'gpt-4o',
        'gen_ai.system': 'openai',
      },
      { langsmithMetadata: { session: 's1' } },
    )
    expect(run.extra.metadata).toMatchObject({
      session: 's1',
      user_id: 'u1',
      'http.route': '/q',
      'service.name': 'retrieval',
      ls_model_name: 'gpt-4o',
      ls_provider: 'openai',
    })
    expect(run.extra.metadata['langsmith.metadata.user_id']).toBeUndefined()
    expect(run.extra.runtime['sdk']).toBe('tracehop')
  })

  it('keeps input and output payloads out of metadata', () => {
    const run = runOf({
      'gen_ai.prompt': 'p',
      'input.value': 'i',
      'output.value': 'o',
      'langsmith.span.kind': 'llm',
    })
    expect(Object.keys(run.extra.metadata)).toEqual(['service.name'])
  })

  it('sets error from the status message, else from the exception event, only for error spans', () => {
    expect(runOf({}, { status: { code: 2, message: 'boom' } }).error).toBe('boom')
    const withEvent = runOf(
      {},
      {
        status: { code: 2 },
        events: [
          {
            name: 'exception',
            us: 1,
            attributes: { 'exception.type': 'TypeError', 'exception.message': 'x is undefined' },
          },
        ],
      },
    )
    expect(withEvent.error).toBe('TypeError: x is undefined')
    expect(runOf({}, { status: { code: 1 } }).error).toBeUndefined()
  })

  it('merges inherited tags with langsmith.span.tags, without duplicates', () => {
    const run = runOf({ 'langsmith.span.tags': 'beta, gold,beta' }, { langsmithTags: ['prod', 'gold'] })
    expect(run.tags).toEqual(['prod', 'gold', 'beta'])
    expect(runOf({}).tags).toBeUndefined()
  })

  it("uses the trace's project over the exporter's, and the exporter's when the trace has none", () => {
    const span = rootSpan({ langsmithProject: 'from-trace' }).record
    expect(spanToRun(span, resource, 'configured').session_name).toBe('from-trace')
    expect(spanToRun(rootSpan().record, resource, 'configured').session_name).toBe('configured')
    expect(spanToRun(rootSpan().record, resource).session_name).toBeUndefined()
  })

  it('renames the run from langsmith.trace.name', () => {
    expect(runOf({ 'langsmith.trace.name': 'Agent' }).name).toBe('Agent')
  })

  it('never throws, whatever the attributes hold', () => {
    fc.assert(
      fc.property(
        fc.dictionary(fc.string(), fc.anything()),
        fc.double(),
        fc.double(),
        (attrs, start, end) => {
          const span = {
            ...rootSpan({ attributes: attrs as Attributes }).record,
            startTime: start,
            endTime: end,
          }
          expect(() => JSON.stringify(spanToRun(span, resource))).not.toThrow()
        },
      ),
    )
  })
})

describe('validateRun (LangSmith ingestion rules)', () => {
  const root = rootSpan()
  const child = childSpan(root)
  const grandchild = childSpan(child)
  const ok = (s: typeof root): LangSmithRun => spanToRun(s.record, resource)

  it('accepts a root, a child and a grandchild as the core builds them', () => {
    expect(validateRun(ok(root))).toBeUndefined()
    expect(validateRun(ok(child))).toBeUndefined()
    expect(validateRun(ok(grandchild))).toBeUndefined()
  })

  it('rejects a root whose trace_id is not its id', () => {
    expect(validateRun({ ...ok(root), trace_id: child.record.runId })).toMatch(/trace_id must equal id/)
  })

  it('rejects a root with more than one dotted segment', () => {
    const run = ok(child)
    const { parent_run_id: _, ...rootLike } = run
    expect(validateRun({ ...rootLike, trace_id: run.id })).toMatch(/exactly one dotted_order segment/)
  })

  it('rejects segment times that go backwards', () => {
    const early = childSpan(root, { startUs: root.startUs - 10 })
    expect(validateRun(ok(early))).toMatch(/go backwards/)
  })

  it('accepts a child that starts in the same microsecond as its parent', () => {
    expect(validateRun(ok(childSpan(root, {}, 0)))).toBeUndefined()
  })

  it('rejects a timestamp without 6 fractional digits', () => {
    const run = ok(root)
    const bad = run.dotted_order.replace(/^(\d{8}T\d{6})\d{6}Z/, '$1123Z')
    expect(validateRun({ ...run, dotted_order: bad })).toMatch(/malformed dotted_order segment/)
  })

  it('rejects ids that are not UUIDs', () => {
    expect(validateRun({ ...ok(root), id: 'abc' })).toMatch(/id is not a UUID/)
    expect(validateRun({ ...ok(child), parent_run_id: 'nope' })).toMatch(/parent_run_id is not a UUID/)
  })

  it('rejects a child whose last segment is not its own id', () => {
    expect(validateRun({ ...ok(child), id: newRunIdentity(Date.now()).runId })).toMatch(
      /last dotted_order segment/,
    )
  })

  it('rejects a child whose first segment is not its trace', () => {
    const other = hexToUuid(`${'0'.repeat(31)}1`)
    expect(validateRun({ ...ok(child), trace_id: other })).toMatch(/first dotted_order segment/)
  })

  it('rejects a child whose parent is not the segment before it', () => {
    expect(validateRun({ ...ok(grandchild), parent_run_id: root.record.runId })).toMatch(
      /segment before the run/,
    )
  })

  it('builds segments that match the SDK format (YYYYMMDDTHHMMSSffffffZ + uuid)', () => {
    expect(dottedSegment(1_764_100_000_000_123, root.record.runId)).toBe(
      `20251125T194640000123Z${root.record.runId}`,
    )
    expect(isoMicros(1_700_000_000_000.25)).toBe('2023-11-14T22:13:20.000250Z')
  })
})
