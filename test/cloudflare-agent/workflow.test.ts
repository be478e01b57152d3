// Cloudflare Workflows in workerd through miniflare's local Workflows engine: the creator's
// context rides in the params envelope, `run` sees the user's payload, every step gets a
// span, and a run replayed after pause/resume marks its replayed and retried steps.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { KIND, type ReceivedSpan } from '../support/otlp-receiver.js'
import { type Harness, only, randomHex, startHarness, traceparent } from './helpers/harness.js'

let h: Harness

beforeAll(async () => {
  h = await startHarness()
})

afterAll(async () => {
  await h?.close()
})

async function json(path: string, init?: RequestInit): Promise<any> {
  const res = await h.fetch(path, init)
  if (!res.ok) throw new Error(`${path}: HTTP ${res.status} ${await res.text()}`)
  return res.json()
}

async function status(prefix: string, id: string, want: string): Promise<any> {
  const until = Date.now() + 15_000
  for (;;) {
    const s = await json(`/${prefix}/status?id=${id}`)
    if (s.status === want) return s
    if (Date.now() > until)
      throw new Error(`${id}: status ${s.status}, wanted ${want}: ${JSON.stringify(s.error)}`)
    await new Promise((r) => setTimeout(r, 50))
  }
}

function flowSpans(traceId: string): ReceivedSpan[] {
  return h.receiver.spans.filter((s) => s.traceId === traceId && s.service === 'flow')
}

describe('Workflows in workerd', () => {
  it('one trace from the creator through every step; replayed steps after pause/resume and retried attempts are marked, not counted twice', async () => {
    const upstreamTrace = randomHex(16)
    const started = await json('/flow/start?id=wf-main', {
      headers: { traceparent: traceparent(upstreamTrace, randomHex(8)) },
    })
    expect(started.traceId).toBe(upstreamTrace)
    // Steps are flushed as they settle: the first run's sleep span arrives while it waits.
    await h.receiver.waitFor((s) => s.some((x) => x.traceId === upstreamTrace && x.name === 'sleep nap'))
    await h.fetch('/flow/pause?id=wf-main')
    await status('flow', 'wf-main', 'paused')
    await h.fetch('/flow/resume?id=wf-main')
    await h.receiver.waitFor(
      (s) => s.filter((x) => x.traceId === upstreamTrace && x.name === 'sleep nap').length === 2,
    )
    await h.fetch('/flow/event?id=wf-main')
    const done = await status('flow', 'wf-main', 'complete')
    // The user's run saw its own params: no envelope.
    expect(done.output.payload).toEqual({ q: 'why is the sky blue' })
    expect(done.output.act).toBe('done')
    await h.receiver.waitFor(
      (s) => s.filter((x) => x.traceId === upstreamTrace && x.name === 'AgentFlow/run').length === 2,
    )
    await h.receiver.waitFor((s) => s.some((x) => x.traceId === upstreamTrace && x.name === 'step act'))

    const spans = h.receiver.spans.filter((s) => s.traceId === upstreamTrace)
    const gateway = only(spans, (s) => s.service === 'gateway' && s.kind === KIND.SERVER, 'gateway span')
    const create = only(spans, (s) => s.name === 'create agent-flow', 'create span')
    expect(create.kind).toBe(KIND.PRODUCER)
    expect(create.parentSpanId).toBe(gateway.spanId)
    expect(create.attributes['cloudflare.workflow.instance_id']).toBe('wf-main')

    const runs = flowSpans(upstreamTrace).filter((s) => s.name === 'AgentFlow/run')
    expect(runs).toHaveLength(2)
    for (const run of runs) {
      expect(run.kind).toBe(KIND.CONSUMER)
      expect(run.parentSpanId).toBe(create.spanId)
      expect(run.attributes['cloudflare.workflow.instance_id']).toBe('wf-main')
    }
    const second = only(runs, (r) => r.spanId === done.output.runSpan, 'completed run')
    const first = only(runs, (r) => r !== second, 'paused run')
    const stepsOf = (run: ReceivedSpan) =>
      flowSpans(upstreamTrace).filter((s) => s.parentSpanId === run.spanId)

    // First invocation: plan ran (its own child span through traceOf(ctx)), the sleep was
    // waited here, and the wait for the event was cut off by the pause.
    const firstSteps = stepsOf(first)
    const plan1 = only(firstSteps, (s) => s.name === 'step plan', 'first plan')
    expect(plan1.attributes['cloudflare.workflow.step.attempt']).toBe(1)
    expect(plan1.attributes['cloudflare.workflow.step.replayed']).toBeUndefined()
    expect(spans.some((s) => s.name === 'llm plan' && s.parentSpanId === plan1.spanId)).toBe(true)
    const nap1 = only(firstSteps, (s) => s.name === 'sleep nap', 'first nap')
    expect(nap1.attributes['cloudflare.workflow.step.replayed']).toBeUndefined()
    expect(nap1.attributes['cloudflare.workflow.sleep.duration_ms']).toBe(20)
    expect(only(firstSteps, (s) => s.name === 'waitForEvent approval', 'first wait').status).toBe(2)
    expect(first.attributes['cloudflare.workflow.replay']).toBeUndefined()

    // Second invocation (the replay): plan and nap come from the store and are marked, the
    // plan callback did not run again (no second llm span); act failed once, then passed.
    const secondSteps = stepsOf(second)
    const plan2 = only(secondSteps, (s) => s.name === 'step plan', 'replayed plan')
    expect(plan2.attributes['cloudflare.workflow.step.replayed']).toBe(true)
    expect(plan2.attributes['cloudflare.workflow.step.attempt']).toBeUndefined()
    expect(spans.filter((s) => s.name === 'llm plan')).toHaveLength(1)
    expect(
      only(secondSteps, (s) => s.name === 'sleep nap', 'replayed nap').attributes[
        'cloudflare.workflow.step.replayed'
      ],
    ).toBe(true)
    const wait2 = only(secondSteps, (s) => s.name === 'waitForEvent approval', 'second wait')
    expect(wait2.status).not.toBe(2)
    expect(wait2.attributes['cloudflare.workflow.event.type']).toBe('approve')
    const act = only(secondSteps, (s) => s.name === 'step act', 'act')
    expect(act.attributes['cloudflare.workflow.step.attempt']).toBe(2)
    expect(act.attributes['cloudflare.workflow.step.attempts']).toBe(2)
    expect(act.attributes['cloudflare.workflow.step.retried']).toBe(true)
    expect(act.status).not.toBe(2)
    const failures = act.events.filter((e) => e.name === 'exception')
    expect(failures).toHaveLength(1)
    expect(failures[0]!.attributes['exception.message']).toBe('flaky tool')
    expect(failures[0]!.attributes['cloudflare.workflow.step.attempt']).toBe(1)
    expect(second.attributes['cloudflare.workflow.replay']).toBe(true)
    expect(second.attributes['cloudflare.workflow.replayed_steps']).toBe(2)
    expect(second.attributes['cloudflare.workflow.retried_steps']).toBe(1)
  }, 40_000)

  it('a traced create without params: run sees {} as the engine gives it, parented to the create span', async () => {
    const started = await json('/echo/traced?id=echo-traced')
    const done = await status('echo', 'echo-traced', 'complete')
    expect(done.output.payload).toEqual({})
    expect(done.output.traceId).toBe(started.traceId)
    await h.receiver.waitFor((s) => s.some((x) => x.name === 'create echo' && x.traceId === started.traceId))
    const create = only(
      h.receiver.spans,
      (s) => s.name === 'create echo' && s.traceId === started.traceId,
      'create',
    )
    expect(done.output.parentSpanId).toBe(create.spanId)
  })

  it('hostile workflow envelopes never throw into run(): the payload the user gets, a fresh trace, counted', async () => {
    // `bad-traceparent` and `huge` are envelopes in shape (their body is unwrapped) whose
    // traceparent is malformed: a fresh trace, counted as `envelope` (no usable context).
    const cases: [string, unknown, boolean][] = [
      ['plain', { q: 'no envelope' }, false],
      // Not exactly an envelope: the user gets the whole value, as sent.
      ['ctx-wrong-type', { __tracehop: 1, ctx: 42, body: { q: 'a' } }, true],
      ['bad-traceparent', { q: 'b' }, true],
      ['huge', { q: 'c' }, true],
      [
        'no-body',
        { __tracehop: 1, ctx: { traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01' } },
        true,
      ],
      ['not-an-object', 'just a string', false],
    ]
    let previous: number | undefined
    for (const [kind, payload, counted] of cases) {
      await json(`/echo/start?kind=${kind}&id=echo-${kind}`)
      const done = await status('echo', `echo-${kind}`, 'complete')
      expect(done.output.payload, kind).toEqual(payload)
      expect(done.output.echoed, kind).toEqual(payload)
      expect(done.output.parentSpanId, kind).toBeNull()
      const count = done.output.invalid.envelope ?? 0
      if (previous !== undefined) expect(count - previous, kind).toBe(counted ? 1 : 0)
      else expect(count, kind).toBe(0)
      previous = count
    }
  })
})
