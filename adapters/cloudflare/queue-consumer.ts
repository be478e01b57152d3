import {
  type Attributes,
  type Scope,
  type Span,
  SpanKind,
  type Tracer,
  type WaitUntil,
} from '../../src/index.js'
import { bindSpan, unwrapEnvelope } from '../../src/internal.js'
import type { Handler } from './class-methods.js'
import type { Resolved } from './config.js'
import { waitUntilOf } from './handlers.js'
import type { MessageBatchLike, MessageLike, QueueRetryOptionsLike } from './types.js'

type Outcome = 'ack' | 'retry'

// OTel messaging semconv has no registered value for Cloudflare Queues; this is the one
// the Workers ecosystem uses.
const MESSAGING_SYSTEM = 'cloudflare'

/**
 * What the user's queue handler receives instead of the platform's message: the same
 * fields, `body` unwrapped from a well-formed tracehop envelope (any other body, even one
 * that carries the marker, is the very value that was sent), and `ack()`/`retry()` that call the
 * original (workerd messages are host objects: their methods need their own `this`).
 * Settling a message ends its process span.
 */
class TracedMessage<Body = unknown> implements MessageLike<Body> {
  readonly id: string
  readonly timestamp: Date
  readonly body: Body
  readonly attempts: number
  /** @internal The message's process span. */
  readonly span: Span
  private readonly original: MessageLike<unknown>
  /** A scope of its own when the message continues its producer's trace. */
  private readonly scope: Scope | undefined
  private settled = false

  constructor(
    original: MessageLike<unknown>,
    batch: TracedBatch<Body>,
    tracer: Tracer,
    waitUntil: WaitUntil | undefined,
  ) {
    this.original = original
    this.id = original.id
    this.timestamp = original.timestamp
    this.attempts = original.attempts
    const unwrapped = unwrapEnvelope(original.body)
    this.body = unwrapped.body as Body
    if (!unwrapped.valid) tracer.statsRecorder.countInvalid('envelope')
    const attributes: Attributes = {
      'messaging.system': MESSAGING_SYSTEM,
      'messaging.operation.type': 'process',
      'messaging.operation.name': 'process',
      'messaging.destination.name': batch.queue,
      'messaging.message.id': this.id,
    }
    const batchRoot = batch.span
    const name = `process ${batch.queue}`
    // Any Worker with the binding (or a plain `env.QUEUE.send`) can write an envelope: its
    // context is believed as far as this consumer's `propagation.ingress` says.
    const incoming = unwrapped.carrier === undefined ? undefined : tracer.extract(unwrapped.carrier)
    if (incoming !== undefined) {
      // Parented to its producer (ingress `link`: linked to it), in a scope of its own.
      const scope = tracer.start(incoming.parent, {
        name,
        kind: SpanKind.CONSUMER,
        attributes,
        ingress: 'trusted',
        ...(waitUntil !== undefined ? { waitUntil } : {}),
      })
      this.scope = scope
      this.span = scope.root
      const root = scope.root
      for (const l of incoming.links) root.link(l)
      root.link({ traceId: batchRoot.traceId, spanId: batchRoot.spanId, flags: batchRoot.scope.flags })
      batchRoot.link({ traceId: root.traceId, spanId: root.spanId, flags: scope.flags })
    } else {
      // No (usable) producer context: a child of the batch span, in the batch's fresh trace.
      this.scope = undefined
      this.span = batchRoot.startChild(name, { kind: SpanKind.CONSUMER, attributes })
    }
    bindSpan(this, this.span)
    bindSpan(original, this.span)
  }

  ack(): void {
    this.original.ack()
    this.settle('ack')
  }

  retry(options?: QueueRetryOptionsLike): void {
    if (options === undefined) this.original.retry()
    else this.original.retry(options)
    this.settle('retry')
  }

  /** @internal An explicit ack/retry (or ackAll/retryAll) ends the process span. */
  settle(outcome: Outcome): void {
    if (this.settled) return
    this.settled = true
    this.span.set('messaging.cloudflare.outcome', outcome)
    this.close()
  }

  /** @internal The handler settled: messages it did not ack/retry end now. */
  finish(failed: boolean, error: unknown): void {
    if (this.settled) return
    this.settled = true
    // A throwing handler: the platform retries every message not explicitly acked.
    if (failed) this.span.error(error)
    this.close()
  }

  private close(): void {
    if (this.scope !== undefined) void this.scope.end()
    else this.span.end()
  }
}

/** The batch the user's queue handler receives: the platform's, with traced messages. */
class TracedBatch<Body = unknown> implements MessageBatchLike<Body> {
  readonly queue: string
  readonly messages: readonly TracedMessage<Body>[]
  /** @internal The batch span. */
  readonly span: Span
  private readonly original: MessageBatchLike<unknown>
  private readonly scope: Scope

  constructor(original: MessageBatchLike<unknown>, resolved: Resolved, ctx: unknown) {
    const waitUntil = waitUntilOf(ctx)
    this.original = original
    const queue = original.queue
    this.queue = queue
    const originals = original.messages
    const tracer = resolved.tracer
    const attributes: Attributes = {
      'messaging.system': MESSAGING_SYSTEM,
      // Pushed to the handler, not pulled: `process` (semconv messaging; as the Lambda adapter).
      'messaging.operation.type': 'process',
      'messaging.operation.name': 'process',
      'messaging.destination.name': queue,
      'faas.trigger': 'pubsub',
      'messaging.batch.message_count': originals.length,
    }
    if (resolved.coldStart) {
      resolved.coldStart = false
      attributes['faas.coldstart'] = true
    }
    this.scope = tracer.start(undefined, {
      name: `process ${queue}`,
      kind: SpanKind.CONSUMER,
      attributes,
      ...(waitUntil !== undefined ? { waitUntil } : {}),
    })
    this.span = this.scope.root
    bindSpan(this, this.span)
    bindSpan(original, this.span)
    if (ctx !== null && typeof ctx === 'object') bindSpan(ctx, this.span)
    const messages: TracedMessage<Body>[] = []
    for (const m of originals) messages.push(new TracedMessage<Body>(m, this, tracer, waitUntil))
    this.messages = messages
  }

  /** The platform's batch metadata (backlog metrics), when the runtime provides it. */
  get metadata(): unknown {
    return (this.original as { metadata?: unknown }).metadata
  }

  ackAll(): void {
    this.original.ackAll()
    for (const m of this.messages) m.settle('ack')
  }

  retryAll(options?: QueueRetryOptionsLike): void {
    if (options === undefined) this.original.retryAll()
    else this.original.retryAll(options)
    for (const m of this.messages) m.settle('retry')
  }

  /** @internal */
  finish(failed: boolean, error: unknown): void {
    for (const m of this.messages) m.finish(failed, error)
    void this.scope.end(failed ? { error } : undefined)
  }
}

/**
 * @internal One traced `queue` invocation: a batch span (`process <queue>`, a fresh trace)
 * linked to one process span per message; an enveloped message's process span continues
 * its producer's trace, others are children of the batch span. The user's handler sees
 * the original bodies.
 */
export async function runQueue(
  resolved: Resolved,
  batch: MessageBatchLike<unknown>,
  ctx: unknown,
  fn: Handler,
  thisArg: unknown,
  args: unknown[],
): Promise<void> {
  const traced = new TracedBatch(batch, resolved, ctx)
  args[0] = traced
  try {
    await Reflect.apply(fn, thisArg, args)
  } catch (err) {
    traced.finish(true, err)
    throw err
  }
  traced.finish(false, undefined)
}
