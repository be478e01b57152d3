// The span's one-word methods (docs/design.md "One vocabulary"): `set` takes one attribute or
// a record of them, `exception` records without failing, `status` sets the status.
import { describe, expect, it } from 'vitest'
import { createTracer, memoryExporter, type Span, type SpanRecord, StatusCode } from '../../src/index.js'

async function recordOf(build: (span: Span) => void): Promise<SpanRecord> {
  const memory = memoryExporter()
  const tracer = createTracer({ service: 'test', exporters: [memory], flush: { windowMs: 0 } })
  const scope = tracer.start(undefined, { name: 'root' })
  build(scope.root)
  await scope.end()
  const [span] = memory.spans()
  if (span === undefined) throw new Error('no span exported')
  return span
}

describe('span methods', () => {
  it('set(record) sets every defined value and skips undefined and null, like set(key, value)', async () => {
    const span = await recordOf((s) => {
      s.set({ 'gen_ai.usage.input_tokens': 812, 'gen_ai.request.model': 'm', skipped: undefined, gone: null })
      s.set('one', true)
    })
    expect(span.attributes).toMatchObject({
      'gen_ai.usage.input_tokens': 812,
      'gen_ai.request.model': 'm',
      one: true,
    })
    expect(Object.keys(span.attributes)).not.toContain('skipped')
    expect(Object.keys(span.attributes)).not.toContain('gone')
  })

  it('exception() adds an exception event and leaves the status alone; status() sets it', async () => {
    const handled = await recordOf((s) => {
      s.exception(new TypeError('handled'))
    })
    expect(handled.events.map((e) => e.name)).toEqual(['exception'])
    expect(handled.status.code).toBe(StatusCode.UNSET)
    const failed = await recordOf((s) => {
      s.status(StatusCode.ERROR, 'no')
    })
    expect(failed.status).toEqual({ code: StatusCode.ERROR, message: 'no' })
  })
})
