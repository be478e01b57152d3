/**
 * What the adapter needs from the Workers platform, described structurally: the real types
 * live in `@cloudflare/workers-types` and fit these shapes, as do test doubles, with no
 * version lock-step and no run-time import.
 */

// Ref: @cloudflare/workers-types ExecutionContext
/**
 * An invocation's context. tracehop uses `waitUntil` (what keeps the isolate alive after
 * the response); the other members make the platform's and Hono's `ExecutionContext`
 * interchangeable with it in handler signatures.
 */
export interface ExecutionContextLike {
  waitUntil(promise: Promise<unknown>): void
  passThroughOnException(): void
  readonly props: unknown
}

// Ref: @cloudflare/workers-types QueueRetryOptions
export interface QueueRetryOptionsLike {
  readonly delaySeconds?: number
}

// Ref: @cloudflare/workers-types Message
/** One queue message as the consumer sees it. */
export interface MessageLike<Body = unknown> {
  readonly id: string
  readonly timestamp: Date
  readonly body: Body
  readonly attempts: number
  retry(options?: QueueRetryOptionsLike): void
  ack(): void
}

// Ref: @cloudflare/workers-types MessageBatch
/** The batch a queue consumer receives. */
export interface MessageBatchLike<Body = unknown> {
  readonly messages: readonly MessageLike<Body>[]
  readonly queue: string
  retryAll(options?: QueueRetryOptionsLike): void
  ackAll(): void
}

// Ref: @cloudflare/workers-types ScheduledController
export interface ScheduledControllerLike {
  readonly scheduledTime: number
  readonly cron: string
}

// Ref: @cloudflare/workers-types QueueContentType, QueueSendOptions, MessageSendRequest
export type QueueContentTypeLike = 'text' | 'bytes' | 'json' | 'v8'
export interface QueueSendOptionsLike {
  readonly contentType?: QueueContentTypeLike
  readonly delaySeconds?: number
}
export interface MessageSendRequestLike<Body = unknown> {
  readonly body: Body
  readonly contentType?: QueueContentTypeLike
  readonly delaySeconds?: number
}

// Ref: @cloudflare/workers-types Queue
/** A Queue producer binding. */
export interface QueueLike<Body = unknown> {
  send(message: Body, options?: QueueSendOptionsLike): Promise<unknown>
  sendBatch(
    messages: Iterable<MessageSendRequestLike<Body>>,
    options?: { readonly delaySeconds?: number },
  ): Promise<unknown>
}

// Ref: @cloudflare/workers-types Fetcher, DurableObjectStub
/** A service binding or a Durable Object stub: `fetch` plus, over RPC, any method. */
export interface FetcherLike {
  fetch(input: RequestInfo | URL, init?: RequestInit): Promise<Response>
}

// Ref: @cloudflare/workers-types ExportedHandlerFetchHandler & co.
export type FetchHandlerLike<Env> = (
  request: Request,
  env: Env,
  ctx: ExecutionContextLike,
) => Response | Promise<Response>
export type QueueHandlerLike<Env, Body = unknown> = (
  batch: MessageBatchLike<Body>,
  env: Env,
  ctx: ExecutionContextLike,
) => void | Promise<void>
export type ScheduledHandlerLike<Env> = (
  controller: ScheduledControllerLike,
  env: Env,
  ctx: ExecutionContextLike,
) => void | Promise<void>

// Ref: @cloudflare/workers-types ExportedHandler
/**
 * A module Worker's default export: the handlers tracehop traces, plus any others (kept as
 * is). Method syntax on purpose: a handler typed with the platform's richer
 * `ExecutionContext` or `MessageBatch<Body>` still fits.
 */
// biome-ignore lint/suspicious/noExplicitAny: user-facing default: `env` is the user's own type (Hono and workers-types default Env to any too)
export interface ExportedHandlerLike<Env = any> {
  fetch?(request: Request, env: Env, ctx: ExecutionContextLike): Response | Promise<Response>
  queue?(batch: MessageBatchLike<unknown>, env: Env, ctx: ExecutionContextLike): void | Promise<void>
  scheduled?(controller: ScheduledControllerLike, env: Env, ctx: ExecutionContextLike): void | Promise<void>
}

// Ref: cloudflare:workers WorkerEntrypoint, DurableObject
/**
 * A `WorkerEntrypoint` or `DurableObject` class: constructed with `(ctx, env)`, which the
 * platform base keeps as (protected) `this.ctx` and `this.env`.
 */
// biome-ignore lint/suspicious/noExplicitAny: TypeScript's mixin rule: a class extended at runtime needs a `...args: any[]` constructor
export type EntrypointClass = abstract new (...args: any[]) => object
