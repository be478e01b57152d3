import { type Attributes, type Span, SpanKind, TracehopError } from '../../src/index.js'
import {
  CALL_MARKER,
  ENVELOPE_KEY,
  ENVELOPE_VERSION,
  type OnSettled,
  settle,
  tracedFetch,
} from '../../src/internal.js'
import type { MessageSendRequestLike, QueueLike, QueueSendOptionsLike } from './types.js'
import { tracedWorkflowBinding, type WorkflowLike } from './workflow.js'

/** Options of {@link traced}. */
export interface TracedOptions {
  /**
   * The binding's name in span names and attributes: the queue name (`send jobs`), the
   * service (`POST orchestrator`, `orchestrator/plan`), the Workflow (`create agent-flow`).
   * Default: the URL host for `fetch`, the method name for RPC, `queue` for a queue,
   * `workflow` for a Workflow.
   */
  readonly name?: string
}

const MESSAGING_SYSTEM = 'cloudflare'

// `text` and `bytes` bodies must stay a string / bytes: they cannot carry an envelope.
function envelopable(contentType: unknown): boolean {
  return contentType !== 'text' && contentType !== 'bytes'
}

/** Ends `span` when the call settles, recording its error; the caller gets the call's own promise. */
function ending(span: Span): OnSettled {
  return (err, failed) => {
    if (failed) span.error(err)
    span.end()
  }
}

/**
 * A Queue producer that wraps each body in the tracehop envelope
 * (`{ __tracehop: 1, ctx, body }`, see `src/envelope.ts`) under a PRODUCER span. Bodies
 * sent as `text` or `bytes` cannot carry it and go out as they are (untraced hop).
 */
class TracedQueue<Body> implements QueueLike<Body> {
  constructor(
    private readonly queue: QueueLike<unknown> & { metrics?: () => Promise<unknown> },
    private readonly span: Span,
    private readonly name: string | undefined,
  ) {}

  send(body: Body, options?: QueueSendOptionsLike): Promise<unknown> {
    const queue = this.queue
    if (!envelopable(options?.contentType))
      return options === undefined ? queue.send(body) : queue.send(body, options)
    const producer = this.startProducer(undefined)
    return settle(
      () => {
        const envelope = { [ENVELOPE_KEY]: ENVELOPE_VERSION, ctx: producer.headers(), body }
        return options === undefined ? queue.send(envelope) : queue.send(envelope, options)
      },
      ending(producer),
      true,
    )
  }

  sendBatch(
    messages: Iterable<MessageSendRequestLike<Body>>,
    options?: { readonly delaySeconds?: number },
  ): Promise<unknown> {
    const list = Array.isArray(messages)
      ? (messages as readonly MessageSendRequestLike<Body>[])
      : [...messages]
    const producer = this.startProducer(list.length)
    return settle(
      () => {
        // One producer span for the batch: every message carries its context.
        const ctx = producer.headers()
        const wrapped: MessageSendRequestLike<unknown>[] = []
        for (const m of list) {
          wrapped.push(
            envelopable(m.contentType)
              ? { ...m, body: { [ENVELOPE_KEY]: ENVELOPE_VERSION, ctx, body: m.body } }
              : m,
          )
        }
        const queue = this.queue
        return options === undefined ? queue.sendBatch(wrapped) : queue.sendBatch(wrapped, options)
      },
      ending(producer),
      true,
    )
  }

  metrics(): Promise<unknown> {
    const queue = this.queue
    if (typeof queue.metrics !== 'function')
      return Promise.reject(new TypeError('queue.metrics is not a function'))
    return queue.metrics()
  }

  private startProducer(count: number | undefined): Span {
    const attributes: Attributes = {
      'messaging.system': MESSAGING_SYSTEM,
      'messaging.operation.type': 'send',
    }
    if (this.name !== undefined) attributes['messaging.destination.name'] = this.name
    if (count !== undefined) attributes['messaging.batch.message_count'] = count
    return this.span.startChild(`send ${this.name ?? 'queue'}`, { kind: SpanKind.PRODUCER, attributes })
  }
}

// Members of a stub that are not RPC calls: used as they are, on the stub itself.
const PASSTHROUGH = new Set(['connect', 'then', 'dup'])

function hostOf(input: RequestInfo | URL): string {
  try {
    const url = typeof input === 'string' ? new URL(input) : input instanceof URL ? input : new URL(input.url)
    return url.host
  } catch {
    return 'service'
  }
}

/**
 * The Proxy over a service binding or Durable Object stub. Workers RPC stubs answer any
 * property name, so no explicit wrapper could list their methods: this is the one place
 * a Proxy is needed. Every call goes to the original stub with the stub itself as `this`.
 */
class StubHandler implements ProxyHandler<object> {
  private readonly cache = new Map<string, unknown>()

  constructor(
    private readonly span: Span,
    private readonly name: string | undefined,
  ) {}

  get(target: object, prop: string | symbol): unknown {
    const value: unknown = Reflect.get(target, prop)
    if (typeof value !== 'function') return value
    if (typeof prop !== 'string') return (...args: unknown[]) => Reflect.apply(value, target, args)
    let fn = this.cache.get(prop)
    if (fn === undefined) {
      if (prop === 'fetch') fn = this.fetchOf(target)
      else if (PASSTHROUGH.has(prop)) fn = (...args: unknown[]) => Reflect.apply(value, target, args)
      else fn = this.rpcOf(target, prop)
      this.cache.set(prop, fn)
    }
    return fn
  }

  private fetchOf(target: object): (input: RequestInfo | URL, init?: RequestInit) => Promise<Response> {
    const span = this.span
    const name = this.name
    const binding = target as { fetch(input: RequestInfo | URL, init?: RequestInit): Promise<Response> }
    // Called on the binding itself: a detached `fetch` throws "Illegal invocation" in workerd.
    const doFetch = (input: RequestInfo | URL, init?: RequestInit): Promise<Response> =>
      init === undefined ? binding.fetch(input) : binding.fetch(input, init)
    return function tracedBindingFetch(input: RequestInfo | URL, init?: RequestInit): Promise<Response> {
      // Ours by construction: trace headers always go through a service binding.
      return tracedFetch(span, input, init, { fetch: doFetch, name: name ?? hostOf(input) })
    }
  }

  private rpcOf(target: object, method: string): (...args: unknown[]) => unknown {
    const span = this.span
    const service = this.name
    const spanName = service === undefined ? method : `${service}/${method}`
    return function tracedRpcCall(...args: unknown[]): unknown {
      const attributes: Attributes = { 'rpc.system': 'cloudflare_rpc', 'rpc.method': method }
      if (service !== undefined) attributes['rpc.service'] = service
      const client = span.startChild(spanName, { kind: SpanKind.CLIENT, attributes })
      // RPC has no headers: the context rides as a trailing marker the callee strips.
      args.push({ [ENVELOPE_KEY]: CALL_MARKER, ctx: client.headers() })
      // Looked up again on the stub and called with it as `this` (never a detached method).
      // The original (pipelining) promise is returned; the span ends when it settles.
      return settle(
        () => Reflect.apply(Reflect.get(target, method) as (...a: unknown[]) => unknown, target, args),
        ending(client),
        true,
      )
    }
  }
}

/**
 * Wraps a binding so calls through it continue the trace of `span`: same methods and
 * types as the binding.
 *
 * - Service binding (`env.ORCHESTRATOR`): `fetch` gets a CLIENT span and the trace
 *   headers (always: a service binding is ours); Workers RPC methods get a CLIENT span and
 *   the context as a trailing marker argument that an `instrument()`ed callee strips.
 * - Durable Object stub (`env.ROOMS.get(id)`): the same, for `fetch` and RPC.
 * - Queue (`env.JOBS`): `send`/`sendBatch` wrap each body in a small envelope
 *   `{ __tracehop: 1, ctx, body }` under a PRODUCER span; an `instrument()`ed consumer
 *   unwraps it, so handlers see the original body.
 * - Workflow (`env.AGENT_FLOW`): `create`/`createBatch` get a PRODUCER span
 *   `create <name>` and carry its context in each instance's params; an
 *   `instrumentWorkflow()`ed class unwraps it, so `event.payload` is the original params
 *   (`{}` when none were given, as the engine does). `get()` is the binding's own.
 *
 * @example
 * export default instrument({
 *   async fetch(request, env, ctx) {
 *     const span = traceOf(ctx)
 *     await traced(env.JOBS, span, { name: 'jobs' }).send({ doc: 42 })
 *     await traced(env.AGENT_FLOW, span, { name: 'agent-flow' }).create({ params: { doc: 42 } })
 *     const plan = await traced(env.ORCHESTRATOR, span).plan('question') // RPC
 *     return traced(env.ORCHESTRATOR, span).fetch(request)
 *   },
 * }, (env) => ({ service: 'gateway', exporters: [otlp({ url: env.OTLP_URL })] }))
 */
export function traced<T extends object>(binding: T, span: Span, options?: TracedOptions): T {
  if (span === null || typeof span !== 'object' || typeof span.startChild !== 'function') {
    throw new TracehopError('traced(binding, span) needs a span, e.g. traced(env.JOBS, traceOf(ctx))')
  }
  if (binding === null || (typeof binding !== 'object' && typeof binding !== 'function')) {
    throw new TracehopError(
      'traced() needs a binding: a service binding, a Durable Object stub, a Queue or a Workflow',
    )
  }
  const b = binding as {
    fetch?: unknown
    send?: unknown
    sendBatch?: unknown
    create?: unknown
    get?: unknown
  }
  const name = options?.name
  // Stubs first: an RPC stub also answers `send`/`sendBatch` (as RPC methods).
  if (typeof b.fetch === 'function') return new Proxy(binding, new StubHandler(span, name)) as T
  if (typeof b.send === 'function' && typeof b.sendBatch === 'function') {
    return new TracedQueue(binding as unknown as QueueLike<unknown>, span, name) as unknown as T
  }
  if (typeof b.create === 'function' && typeof b.get === 'function') {
    return tracedWorkflowBinding(binding as unknown as WorkflowLike, span, name) as unknown as T
  }
  throw new TracehopError(
    'traced() supports service bindings, Durable Object stubs, Queues and Workflows; this binding has neither fetch(), send() nor create()',
  )
}
