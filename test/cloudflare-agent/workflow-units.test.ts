// The Workflows pieces in one process, against a step object that behaves like the engine's
// (results stored per step name and count, attempts persisted, retries per config): the
// rules one by one, and "never throws" / "round-trips" as properties.
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { traced, traceOf } from '../../adapters/cloudflare/index.js'
import { instrumentWorkflow } from '../../adapters/cloudflare/workflow.js'
import { durationMs } from '../../adapters/cloudflare/workflow-step.js'
import { createTracer, memoryExporter, type SpanRecord, type TracerConfig } from '../../src/index.js'
import { notContext } from './helpers/not-context.js'

/** What the engine keeps for one instance across invocations of run(). */
class Store {
  readonly values = new Map<string, unknown>()
  readonly attempts = new Map<string, number>()
}

class FakeStep {
  private readonly counts = new Map<string, number>()
  constructor(private readonly store: Store) {}
  private key(kind: string, name: string): [string, number] {
    const count = (this.counts.get(kind + name) ?? 0) + 1
    this.counts.set(kind + name, count)
    return [`${kind}:${name}:${count}`, count]
  }
  async do(name: string, a: unknown, b?: unknown): Promise<unknown> {
    const cb = (typeof a === 'function' ? a : b) as (ctx: object) => Promise<unknown>
    const config = (typeof a === 'function' ? {} : a) as { retries?: { limit: number } }
    const [key, count] = this.key('do', name)
    if (this.store.values.has(key)) return this.store.values.get(key)
    for (;;) {
      const attempt = (this.store.attempts.get(key) ?? 0) + 1
      this.store.attempts.set(key, attempt)
      try {
        const value = await cb({ step: { name, count }, attempt, config })
        this.store.values.set(key, value)
        return value
      } catch (err) {
        if (attempt > (config.retries?.limit ?? 0)) throw err
      }
    }
  }
  async sleep(name: string, duration: number | string): Promise<void> {
    const [key] = this.key('sleep', name)
    if (this.store.values.has(key)) return
    await new Promise((r) => setTimeout(r, durationMs(duration)))
    this.store.values.set(key, true)
  }
  async sleepUntil(name: string, at: Date | number): Promise<void> {
    return this.sleep(name, (at instanceof Date ? at.valueOf() : at) - Date.now())
  }
  async waitForEvent(name: string, options: { type: string }): Promise<unknown> {
    this.key('wait', name)
    return { type: options.type, payload: { ok: true } }
  }
}

interface Step {
  do(name: string, cb: (ctx: any) => Promise<unknown>): Promise<unknown>
  do(name: string, config: object, cb: (ctx: any) => Promise<unknown>): Promise<unknown>
  sleep(name: string, duration: number | string): Promise<void>
  sleepUntil(name: string, at: Date | number): Promise<void>
  waitForEvent(name: string, options: { type: string }): Promise<unknown>
}

function setup(
  run: (event: { payload: unknown; instanceId: string }, step: Step) => Promise<unknown>,
  extra: Partial<TracerConfig> = {},
) {
  const memory = memoryExporter()
  const pending: Promise<unknown>[] = []
  const ctx = { waitUntil: (p: Promise<unknown>) => void pending.push(p) }
  const seen: unknown[] = []
  class Flow {
    constructor(
      readonly ctx: object,
      readonly env: object,
    ) {}
    run(event: { payload: unknown; instanceId: string }, step: Step): Promise<unknown> {
      seen.push(event.payload)
      return run(event, step)
    }
  }
  const Traced = instrumentWorkflow(Flow, {
    service: 'flow',
    exporters: [memory],
    flush: { windowMs: 0 },
    ...extra,
  })
  const env = {}
  const invoke = (payload: unknown, store: Store) =>
    new Traced(ctx, env).run({ payload, instanceId: 'i1' }, new FakeStep(store) as unknown as Step)
  const settle = async (): Promise<void> => {
    while (pending.length > 0) await pending.shift()
  }
  return { memory, invoke, settle, seen, Traced }
}

const byName = (spans: readonly SpanRecord[], name: string) => spans.filter((s) => s.name === name)

describe('traced(workflow) + instrumentWorkflow (one process)', () => {
  it('carries the creator span to run(): the user sees the params, the run continues the trace under the create span', async () => {
    const gateway = createTracer({ service: 'gw' })
    const scope = gateway.start()
    let sent: any
    const binding = {
      get: async (id: string) => ({ id }),
      create: async (options: any) => {
        sent = options
        return { id: options.id ?? 'generated' }
      },
      createBatch: async () => [],
    }
    const instance = await traced(binding, scope.root, { name: 'agent' }).create({
      id: 'i1',
      params: { q: 1 },
    })
    expect(instance).toEqual({ id: 'i1' })
    expect(sent.id).toBe('i1')
    expect(sent.params.__tracehop).toBe(1)
    expect(sent.params.body).toEqual({ q: 1 })

    const { memory, invoke, settle, seen } = setup(async (event, step) => {
      await step.do('plan', async (ctx) => traceOf(ctx).child('llm', async () => 'p'))
      return event.payload
    })
    expect(await invoke(sent.params, new Store())).toEqual({ q: 1 })
    expect(seen).toEqual([{ q: 1 }])
    await settle()
    const run = byName(memory.spans(), 'Flow/run')[0]!
    expect(run.traceId).toBe(scope.traceId)
    expect(run.parentSpanId).toBe(sent.params.ctx.traceparent.split('-')[2])
    const plan = byName(memory.spans(), 'step plan')[0]!
    expect(plan.parentSpanId).toBe(run.spanId)
    expect(byName(memory.spans(), 'llm')[0]!.parentSpanId).toBe(plan.spanId)
  })

  it('wraps every instance of createBatch, in each of its forms', async () => {
    const tracer = createTracer({ service: 'gw' })
    const span = tracer.start().root
    const sent: any[] = []
    const binding = {
      get: async () => ({}),
      create: async () => ({}),
      createBatch: async (b: any) => {
        sent.push(b)
        return []
      },
    }
    const w = traced(binding, span)
    await w.createBatch([{ params: 1 }, { id: 'x' }])
    await w.createBatch({ instances: [{ params: 'a' }] })
    await w.createBatch({ count: 3, params: { q: 2 } })
    expect(sent[0].map((o: any) => o.params.body)).toEqual([1, {}])
    expect(sent[0][1].id).toBe('x')
    expect(sent[1].instances[0].params.body).toBe('a')
    expect(sent[2].count).toBe(3)
    expect(sent[2].params.body).toEqual({ q: 2 })
  })

  it('marks a replayed step (its callback did not run) and a retried one (attempt 2), each counted once', async () => {
    let calls = 0
    const { memory, invoke, settle } = setup(async (_event, step) => {
      await step.do('plan', async () => {
        calls++
        return 'p'
      })
      await step.sleep('nap', 30)
      return step.do('act', { retries: { limit: 2 } }, async (ctx) => {
        if (ctx.attempt === 1) throw new Error('flaky')
        return 'done'
      })
    })
    const store = new Store()
    expect(await invoke({}, store)).toBe('done')
    // The same instance again (a restart): everything comes from the store.
    expect(await invoke({}, store)).toBe('done')
    expect(calls).toBe(1)
    await settle()
    const plans = byName(memory.spans(), 'step plan')
    expect(plans.map((s) => s.attributes['cloudflare.workflow.step.replayed'])).toEqual([undefined, true])
    expect(
      byName(memory.spans(), 'sleep nap').map((s) => s.attributes['cloudflare.workflow.step.replayed']),
    ).toEqual([undefined, true])
    const acts = byName(memory.spans(), 'step act')
    expect(acts[0]!.attributes['cloudflare.workflow.step.attempt']).toBe(2)
    expect(acts[0]!.attributes['cloudflare.workflow.step.retried']).toBe(true)
    expect(acts[0]!.events.map((e) => e.name)).toEqual(['exception'])
    expect(acts[0]!.status.code).toBe(0)
    expect(acts[1]!.attributes['cloudflare.workflow.step.replayed']).toBe(true)
    const runs = byName(memory.spans(), 'Flow/run')
    expect(runs[0]!.attributes['cloudflare.workflow.replay']).toBeUndefined()
    expect(runs[1]!.attributes['cloudflare.workflow.replayed_steps']).toBe(3)
  })

  it("a step that finally fails is an error; the user's error reaches run() unchanged", async () => {
    const boom = new RangeError('no')
    const { memory, invoke, settle } = setup(async (_e, step) =>
      step.do('x', async () => Promise.reject(boom)),
    )
    await expect(invoke({}, new Store())).rejects.toBe(boom)
    await settle()
    expect(byName(memory.spans(), 'step x')[0]!.status.code).toBe(2)
    expect(byName(memory.spans(), 'Flow/run')[0]!.status.code).toBe(2)
  })

  it('sleepUntil and waitForEvent get spans too', async () => {
    const { memory, invoke, settle } = setup(async (_e, step) => {
      await step.sleepUntil('later', Date.now() + 20)
      return step.waitForEvent('approval', { type: 'approve' })
    })
    await invoke({}, new Store())
    await settle()
    expect(byName(memory.spans(), 'sleepUntil later')).toHaveLength(1)
    expect(
      byName(memory.spans(), 'waitForEvent approval')[0]!.attributes['cloudflare.workflow.event.type'],
    ).toBe('approve')
  })

  it('never throws into run() for hostile payloads: the user gets the very value sent, a fresh trace, counted', async () => {
    const envelopeLike = fc.record(
      { __tracehop: fc.constant(1), ctx: notContext, body: fc.jsonValue() },
      { requiredKeys: ['__tracehop', 'ctx'] },
    )
    await fc.assert(
      fc.asyncProperty(fc.oneof(fc.anything(), envelopeLike), async (payload) => {
        const { invoke, seen, settle, memory } = setup(async (event, step) => {
          await step.do('s', async () => 1)
          return traceOf(event).scope.tracer.stats().invalid.envelope ?? 0
        })
        const counted = await invoke(payload, new Store())
        await settle()
        const looksOurs =
          payload !== null &&
          typeof payload === 'object' &&
          (payload as { __tracehop?: unknown }).__tracehop === 1
        expect(seen[0]).toBe(payload)
        if (looksOurs) expect(counted).toBeGreaterThan(0)
        else expect(counted).toBe(0)
        expect(byName(memory.spans(), 'Flow/run')[0]!.parentSpanId).toBeUndefined()
      }),
      { numRuns: 200 },
    )
  })

  it('round-trips any params through create() and run()', async () => {
    const span = createTracer({ service: 'gw' }).start().root
    await fc.assert(
      fc.asyncProperty(fc.jsonValue(), async (params) => {
        let sent: any
        const binding = {
          get: async () => ({}),
          create: async (o: any) => {
            sent = o
            return { id: 'x' }
          },
          createBatch: async () => [],
        }
        await traced(binding, span).create({ params })
        const { invoke, seen } = setup(async (e) => e.payload)
        await invoke(structuredClone(sent.params), new Store())
        expect(seen[0]).toEqual(params)
      }),
      { numRuns: 100 },
    )
  })
})

describe('durationMs: Workflows durations as the engine reads them', () => {
  it.each([
    [20, 20],
    ['20', 20],
    ['1 second', 1000],
    ['2 minutes', 120_000],
    ['1 hour', 3_600_000],
    ['3 days', 259_200_000],
    ['1 week', 604_800_000],
    ['soon', undefined],
    ['1 fortnight', undefined],
    [Number.NaN, undefined],
    [{}, undefined],
  ])('%s -> %s', (input, ms) => {
    expect(durationMs(input)).toBe(ms)
  })
})

describe('a forged envelope in a Workflow payload (anything that can create an instance can write one)', () => {
  const FORGED_TRACE = 'f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0'
  const forged = {
    __tracehop: 1,
    ctx: { traceparent: `00-${FORGED_TRACE}-abcdefabcdefabcd-01`, baggage: 'user.id=mallory' },
    body: { q: 1 },
  }
  const observe = async (ingress: 'trusted' | 'untrusted' | 'link') => {
    let seen: { traceId: string; parent: string | undefined; sampled: boolean; baggage: unknown } | undefined
    const { invoke, settle } = setup(
      async (event) => {
        const span = traceOf(event as object)
        seen = {
          traceId: span.traceId,
          parent: span.parentSpanId,
          sampled: span.scope.sampled,
          baggage: span.context().baggage,
        }
      },
      { sampling: { ratio: 0, keepErrors: false }, propagation: { ingress } },
    )
    await invoke(structuredClone(forged), new Store())
    await settle()
    return seen!
  }

  it('untrusted: the trace id is kept, the sampled flag and baggage are not', async () => {
    const seen = await observe('untrusted')
    expect(seen.traceId).toBe(FORGED_TRACE)
    expect(seen.parent).toBe('abcdefabcdefabcd')
    expect(seen.sampled).toBe(false)
    expect(seen.baggage).toBeUndefined()
  })

  it('link: a trace of its own', async () => {
    const seen = await observe('link')
    expect(seen.traceId).not.toBe(FORGED_TRACE)
    expect(seen.parent).toBeUndefined()
    expect(seen.sampled).toBe(false)
  })

  it('trusted (the default): continued as sent', async () => {
    const seen = await observe('trusted')
    expect(seen.traceId).toBe(FORGED_TRACE)
    expect(seen.sampled).toBe(true)
    expect(seen.baggage).toEqual([{ key: 'user.id', value: 'mallory' }])
  })
})
