/**
 * Cloudflare Workflows: an instance started from a traced scope continues its trace.
 *
 * `traced(env.FLOW, span).create({ params })` sends the params inside the message
 * envelope of `src/envelope.ts` (`{ __tracehop: 1, ctx, body: params }`); an
 * `instrumentWorkflow()`ed class unwraps it before the user's `run(event, step)` sees
 * `event.payload`, runs under a span that continues the creator's trace, and gives each
 * step its own span (see `workflow-step.ts` for retries and replays).
 */

import {
  type Attributes,
  type Span,
  SpanKind,
  type SpanLink,
  type TraceContext,
  TracehopError,
} from '../../src/index.js'
import { bindSpan, settle, unwrapEnvelope, wrapEnvelope } from '../../src/internal.js'
import { findMethod, type Handler } from './class-methods.js'
import { createResolver, type Resolver, type WorkerConfig } from './config.js'
import { waitUntilOf } from './handlers.js'
import type { EntrypointClass } from './types.js'
import { type RunState, TracedStep, type WorkflowStepLike } from './workflow-step.js'

export type { WorkflowStepLike } from './workflow-step.js'

// Ref: @cloudflare/workers-types Workflow
/** A Workflow binding (`env.MY_WORKFLOW`). */
export interface WorkflowLike {
  // biome-ignore lint/suspicious/noExplicitAny: mirrors the Workflow binding's own types, so code typed with it keeps its instance handles
  get(id: string): Promise<any>
  // biome-ignore lint/suspicious/noExplicitAny: mirrors the Workflow binding's own types, so code typed with it keeps its instance handles
  create(options?: any): Promise<any>
  // biome-ignore lint/suspicious/noExplicitAny: mirrors the Workflow binding's own types, so code typed with it keeps its instance handles
  createBatch(batch: any): Promise<any>
}

/** Wraps params for one instance; `undefined` becomes `{}`, as the engine defaults it. */
function wrapParams(span: Span, options: unknown): Record<string, unknown> {
  const o = options !== null && typeof options === 'object' ? (options as { params?: unknown }) : {}
  const params = o.params
  return { ...o, params: wrapEnvelope(span, params === undefined ? {} : params) }
}

function idOf(x: unknown): string | undefined {
  if (x === null || (typeof x !== 'object' && typeof x !== 'function')) return undefined
  try {
    const id = (x as { id?: unknown }).id
    return typeof id === 'string' ? id : undefined
  } catch {
    return undefined
  }
}

/**
 * The Workflow binding `traced()` returns: `create` and `createBatch`
 * carry the context; `get` and `deleteBatch` are the binding's own.
 */
class TracedWorkflow implements WorkflowLike {
  constructor(
    private readonly binding: WorkflowLike & { deleteBatch?: (ids: string[]) => Promise<unknown> },
    private readonly span: Span,
    private readonly name: string,
  ) {}

  get(id: string): Promise<unknown> {
    return this.binding.get(id)
  }

  create(options?: unknown): Promise<unknown> {
    const producer = this.startProducer(undefined)
    const id = idOf(options)
    if (id !== undefined) producer.set('cloudflare.workflow.instance_id', id)
    return this.send(producer, () => this.binding.create(wrapParams(producer, options)))
  }

  createBatch(batch: unknown): Promise<unknown> {
    if (Array.isArray(batch)) {
      const producer = this.startProducer(batch.length)
      return this.send(producer, () =>
        this.binding.createBatch(batch.map((o: unknown) => wrapParams(producer, o))),
      )
    }
    if (
      batch !== null &&
      typeof batch === 'object' &&
      Array.isArray((batch as { instances?: unknown }).instances)
    ) {
      const instances = (batch as { instances: unknown[] }).instances
      const producer = this.startProducer(instances.length)
      return this.send(producer, () =>
        this.binding.createBatch({ ...batch, instances: instances.map((o) => wrapParams(producer, o)) }),
      )
    }
    if (batch !== null && typeof batch === 'object') {
      // `{ count, params }`: one set of params for every instance.
      const count = (batch as { count?: unknown }).count
      const producer = this.startProducer(typeof count === 'number' ? count : undefined)
      return this.send(producer, () => this.binding.createBatch(wrapParams(producer, batch)))
    }
    return this.binding.createBatch(batch)
  }

  deleteBatch(ids: string[]): Promise<unknown> {
    const del = this.binding.deleteBatch
    if (typeof del !== 'function')
      return Promise.reject(new TypeError('workflow.deleteBatch is not a function'))
    return this.binding.deleteBatch!(ids)
  }

  private startProducer(count: number | undefined): Span {
    const attributes: Attributes = { 'cloudflare.workflow.name': this.name }
    if (count !== undefined) attributes['cloudflare.workflow.batch_size'] = count
    return this.span.startChild(`create ${this.name}`, { kind: SpanKind.PRODUCER, attributes })
  }

  private send<T>(producer: Span, call: () => Promise<T>): Promise<T> {
    const sent = settle(call, (err, failed, instance) => {
      if (failed) producer.error(err)
      else {
        const id = idOf(instance)
        if (id !== undefined) producer.set('cloudflare.workflow.instance_id', id)
      }
      producer.end()
    })
    return Promise.resolve(sent)
  }
}

/**
 * @internal `traced(env.FLOW, span)` for a Workflow binding: a PRODUCER span
 * `create <name>` per `create()`/`createBatch()`, the context riding in each instance's
 * params as `{ __tracehop: 1, ctx, body: params }`.
 */
export function tracedWorkflowBinding<W extends WorkflowLike>(
  binding: W,
  span: Span,
  name: string | undefined,
): W {
  return new TracedWorkflow(binding, span, name ?? 'workflow') as unknown as W
}

interface Platform {
  readonly ctx: unknown
  readonly env: unknown
}

/** The `(ctx, env)` each instance was constructed with. */
const platforms = new WeakMap<object, Platform>()

function read(obj: unknown, key: string): unknown {
  if (obj === null || typeof obj !== 'object') return undefined
  try {
    return (obj as Record<string, unknown>)[key]
  } catch {
    return undefined
  }
}

function runWorkflow(
  resolve: Resolver<unknown>,
  instance: object,
  className: string,
  original: Handler,
  args: unknown[],
): unknown {
  const platform = platforms.get(instance)
  const env = platform !== undefined ? platform.env : read(instance, 'env')
  const ctx = platform !== undefined ? platform.ctx : read(instance, 'ctx')
  const tracer = resolve(env).tracer
  const stats = tracer.statsRecorder
  const event = args[0]
  const payload = read(event, 'payload')
  const unwrapped = unwrapEnvelope(payload)
  if (!unwrapped.valid) stats.countInvalid('envelope')
  let parent: TraceContext | undefined
  let links: readonly SpanLink[] = []
  if (unwrapped.carrier !== undefined) {
    // Anything that can create an instance can write an envelope: believed as far as this
    // tracer's `propagation.ingress` says.
    const incoming = tracer.extract(unwrapped.carrier)
    parent = incoming.parent
    links = incoming.links
    if (parent === undefined && links.length === 0) stats.countInvalid('envelope')
  }
  // The user's event: the same object unless the payload was an envelope.
  const userEvent =
    unwrapped.body !== payload && event !== null && typeof event === 'object'
      ? { ...(event as object), payload: unwrapped.body }
      : event
  const attributes: Attributes = {}
  const instanceId = read(event, 'instanceId')
  if (typeof instanceId === 'string') attributes['cloudflare.workflow.instance_id'] = instanceId
  const workflowName = read(event, 'workflowName')
  if (typeof workflowName === 'string') attributes['cloudflare.workflow.name'] = workflowName
  const waitUntil = waitUntilOf(ctx)
  const scope = tracer.start(parent, {
    // Already believed as far as the ingress allows (above).
    ingress: 'trusted',
    name: `${className}/run`,
    kind: SpanKind.CONSUMER,
    attributes,
    ...(waitUntil !== undefined ? { waitUntil } : {}),
  })
  const root = scope.root
  for (const l of links) root.link(l)
  const state: RunState = { tracer, run: root, waitUntil, replayed: 0, retried: 0 }
  const step = args[1]
  const callArgs = args.slice()
  callArgs[0] = userEvent
  if (step !== null && (typeof step === 'object' || typeof step === 'function')) {
    const traced = new TracedStep(step as WorkflowStepLike, state)
    callArgs[1] = traced
    bindSpan(traced, root)
  }
  if (userEvent !== null && typeof userEvent === 'object') bindSpan(userEvent, root)
  if (ctx !== null && typeof ctx === 'object') bindSpan(ctx, root)
  const end = (error: unknown, failed: boolean): void => {
    if (state.replayed > 0) {
      root.set('cloudflare.workflow.replay', true)
      root.set('cloudflare.workflow.replayed_steps', state.replayed)
    }
    if (state.retried > 0) root.set('cloudflare.workflow.retried_steps', state.retried)
    void scope.end(failed ? { error } : undefined)
  }
  return Promise.resolve(settle(() => Reflect.apply(original, instance, callArgs), end))
}

/**
 * Traces a Workflow class (`class X extends WorkflowEntrypoint`): each `run(event, step)`
 * invocation is a CONSUMER span `Class/run` that continues the trace of the span that
 * created the instance (through `traced(env.FLOW, span)`); `event.payload` is the original
 * params; `step.do` / `step.sleep` / `step.sleepUntil` / `step.waitForEvent` each get a
 * span under it, flushed as each step settles. Steps replayed from the store after a
 * restart are marked `cloudflare.workflow.step.replayed`, retried ones
 * `cloudflare.workflow.step.retried` with their attempt number: each piece of work is
 * counted once. Returns a subclass with the same name and type.
 *
 * Inside a step, `traceOf(ctx)` (the callback's argument) is the step span; elsewhere in
 * `run`, `traceOf(event)` or `traceOf(step)` is the run span. A malformed envelope never
 * throws: the run starts a fresh trace and it is counted (`stats().invalid.envelope`).
 *
 * @example
 * import { WorkflowEntrypoint } from 'cloudflare:workers'
 * import { instrumentWorkflow, traceOf } from 'tracehop/cloudflare'
 *
 * class AgentFlowImpl extends WorkflowEntrypoint<Env, { question: string }> {
 *   async run(event, step) {
 *     const plan = await step.do('plan', async (ctx) => traceOf(ctx).child('llm', () => plan(event.payload.question)))
 *     await step.sleep('cool down', '10 seconds')
 *     return step.do('act', { retries: { limit: 3, delay: '1 second' } }, async () => act(plan))
 *   }
 * }
 * export const AgentFlow = instrumentWorkflow(AgentFlowImpl, (env: Env) => ({
 *   service: 'agent-flow',
 *   exporters: [otlp({ url: env.OTLP_URL })],
 * }))
 */
// biome-ignore lint/suspicious/noExplicitAny: user-facing default: `env` is the user's own type (Hono and workers-types default Env to any too)
export function instrumentWorkflow<C extends EntrypointClass>(Base: C, config: WorkerConfig<any>): C {
  if (typeof Base !== 'function')
    throw new TracehopError('instrumentWorkflow(Class, config) wraps a Workflow class')
  const original = findMethod(Base.prototype, 'run')
  if (original === undefined) {
    throw new TracehopError('instrumentWorkflow(Class, config) needs a class with a run(event, step) method')
  }
  const resolve = createResolver(config)
  const className = Base.name || 'Workflow'
  const Traced = {
    // A computed key keeps the class's own name (the wrangler config names the class).
    // biome-ignore lint/suspicious/noExplicitAny: TypeScript's mixin rule: a class extended at runtime needs a `...args: any[]` constructor
    [className]: class extends (Base as unknown as new (...args: any[]) => object) {
      // biome-ignore lint/suspicious/noExplicitAny: TypeScript's mixin rule: a class extended at runtime needs a `...args: any[]` constructor
      constructor(...args: any[]) {
        super(...args)
        platforms.set(this, { ctx: args[0], env: args[1] })
      }
    },
  }[className]!
  const run = function run(this: object, ...args: unknown[]): unknown {
    return runWorkflow(resolve, this, className, original, args)
  }
  Object.defineProperty(Traced.prototype, 'run', { value: run, writable: true, configurable: true })
  return Traced as unknown as C
}
