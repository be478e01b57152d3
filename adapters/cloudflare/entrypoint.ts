import { SpanKind } from '../../src/index.js'
import { bindSpan, endScope, settle, takeCallMarker } from '../../src/internal.js'
import type { Handler } from './class-methods.js'
import type { Resolver } from './config.js'
import { runFetch, runScheduled, waitUntilOf } from './handlers.js'
import { runQueue } from './queue-consumer.js'
import type { EntrypointClass, MessageBatchLike, ScheduledControllerLike } from './types.js'

interface Instance {
  readonly ctx?: unknown
  readonly env?: unknown
}

// Platform handlers that are not RPC methods: passed through untraced (not in scope here).
const UNTRACED = new Set([
  'constructor',
  'alarm',
  'webSocketMessage',
  'webSocketClose',
  'webSocketError',
  'email',
  'tail',
  'trace',
  'tailStream',
  'test',
  'connect',
])

/**
 * Instances inside a traced method's synchronous run: a call without a marker made from
 * there is the class calling its own method. Only synchronous re-entry counts: calls from
 * an untraced caller arriving while another is awaiting must each get their own span (an
 * in-flight count took them for self-calls and left `traceOf(arg)` without a span); a
 * helper called after an `await` gets a span of its own, harmlessly.
 */
const running = new WeakSet<object>()

function methodNames(proto: object | null): Map<string, Handler> {
  const out = new Map<string, Handler>()
  // Walk up to (not into) Object.prototype; the platform bases declare no methods of their own.
  for (let p = proto; p !== null && p !== Object.prototype; p = Object.getPrototypeOf(p)) {
    for (const name of Object.getOwnPropertyNames(p)) {
      if (out.has(name) || UNTRACED.has(name)) continue
      const d = Object.getOwnPropertyDescriptor(p, name)
      if (d !== undefined && typeof d.value === 'function') out.set(name, d.value as Handler)
    }
  }
  return out
}

function rpcMethod(
  className: string,
  method: string,
  original: Handler,
  resolve: Resolver<unknown>,
): Handler {
  const spanName = `${className}/${method}`
  const wrapper = function (this: Instance, ...args: unknown[]): unknown {
    const marker = takeCallMarker(args)
    // The class calling its own method (a helper) from inside a traced one.
    if (!marker.found && running.has(this)) return original.apply(this, args)
    const resolved = resolve(this.env)
    const tracer = resolved.tracer
    if (!marker.valid) tracer.statsRecorder.countInvalid('envelope')
    const ctx = this.ctx
    const waitUntil = waitUntilOf(ctx)
    const scope = tracer.start(marker.carrier, {
      name: spanName,
      kind: SpanKind.SERVER,
      // Workers RPC only reaches us from our own Workers: a marker is trusted.
      ingress: marker.carrier !== undefined ? 'trusted' : tracer.config.ingress,
      attributes: { 'rpc.system': 'cloudflare_rpc', 'rpc.service': className, 'rpc.method': method },
      ...(waitUntil !== undefined ? { waitUntil } : {}),
    })
    const root = scope.root
    if (ctx !== null && typeof ctx === 'object') bindSpan(ctx, root)
    // Each call's arguments are fresh (deserialized) objects: `traceOf(arg)` is exact even
    // when calls to one Durable Object interleave.
    for (const a of args) if (a !== null && typeof a === 'object') bindSpan(a, root)
    running.add(this)
    try {
      return settle(() => original.apply(this, args), endScope(scope))
    } finally {
      running.delete(this)
    }
  }
  Object.defineProperty(wrapper, 'name', { value: method })
  return wrapper
}

/**
 * @internal Subclasses a `WorkerEntrypoint` or `DurableObject` class: `fetch`, `queue` and
 * `scheduled` are traced like an exported handler's; every other method (a Workers RPC
 * method) strips the caller's trailing context marker and runs in a SERVER span
 * `Class/method` that continues the caller's trace. The user's method is always called
 * with the instance as `this` and exactly the caller's arguments.
 */
export function instrumentClass<C extends EntrypointClass>(Base: C, resolve: Resolver<unknown>): C {
  const className = Base.name || 'Entrypoint'
  const Traced = {
    // A computed key keeps the class's own name (Durable Object bindings name the class).
    // biome-ignore lint/suspicious/noExplicitAny: TypeScript's mixin rule: a class extended at runtime needs a `...args: any[]` constructor
    [className]: class extends (Base as unknown as new (...args: any[]) => Instance) {},
  }[className]!
  for (const [name, original] of methodNames(Base.prototype)) {
    let wrapper: Handler
    if (name === 'fetch') {
      wrapper = function fetch(this: Instance, request: Request, ...rest: unknown[]): Promise<Response> {
        return runFetch(resolve(this.env), request, this.ctx, original, this, [request, ...rest])
      }
    } else if (name === 'queue') {
      wrapper = function queue(
        this: Instance,
        batch: MessageBatchLike<unknown>,
        ...rest: unknown[]
      ): Promise<void> {
        return runQueue(resolve(this.env), batch, this.ctx, original, this, [batch, ...rest])
      }
    } else if (name === 'scheduled') {
      wrapper = function scheduled(
        this: Instance,
        controller: ScheduledControllerLike,
        ...rest: unknown[]
      ): Promise<void> {
        return runScheduled(resolve(this.env), controller, this.ctx, original, this, [controller, ...rest])
      }
    } else wrapper = rpcMethod(className, name, original, resolve)
    Object.defineProperty(Traced.prototype, name, { value: wrapper, writable: true, configurable: true })
  }
  return Traced as unknown as C
}
