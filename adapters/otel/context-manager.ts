import { type Context, type ContextManager, ROOT_CONTEXT } from '@opentelemetry/api'
import { TracehopError } from '../../src/index.js'

// Ref: node:async_hooks AsyncLocalStorage (also `globalThis.AsyncLocalStorage` in Next.js's
// edge runtime and in Workers with `nodejs_als`). Structural, so `src/` stays node-free.
/** The part of `AsyncLocalStorage` the context manager uses. */
export interface AsyncLocalStorageLike<T> {
  getStore(): T | undefined
  run<R, A extends unknown[]>(store: T, callback: (...args: A) => R, ...args: A): R
  disable?(): void
}

/** The `AsyncLocalStorage` class (from `node:async_hooks`, or the runtime's global). */
export type AsyncLocalStorageClass = new <T>() => AsyncLocalStorageLike<T>

/**
 * tracehop's one optional AsyncLocalStorage bridge: an OpenTelemetry `ContextManager` over
 * `AsyncLocalStorage`, for code that relies on the *active* context (instrumentations that
 * call `context.active()`), on runtimes that have it and only when you opt in through
 * `registerGlobal({ contextManager: true })`. Nothing else in tracehop uses it. Not
 * `@opentelemetry/context-async-hooks`' `AsyncLocalStorageContextManager`: this one takes
 * the `AsyncLocalStorage` class, so `src/` never imports `node:async_hooks`.
 */
export class TracehopContextManager implements ContextManager {
  private readonly storage: AsyncLocalStorageLike<Context>

  constructor(AsyncLocalStorage: AsyncLocalStorageClass) {
    this.storage = new AsyncLocalStorage<Context>()
  }

  active(): Context {
    return this.storage.getStore() ?? ROOT_CONTEXT
  }

  with<A extends unknown[], F extends (...args: A) => ReturnType<F>>(
    context: Context,
    fn: F,
    thisArg?: ThisParameterType<F>,
    ...args: A
  ): ReturnType<F> {
    const callback = thisArg === undefined || thisArg === null ? fn : fn.bind(thisArg)
    return this.storage.run(context, callback as (...a: A) => ReturnType<F>, ...args)
  }

  bind<T>(context: Context, target: T): T {
    if (typeof target !== 'function') return target
    const manager = this
    const fn = target as unknown as (this: unknown, ...args: unknown[]) => unknown
    return function boundToContext(this: unknown, ...args: unknown[]): unknown {
      return manager.with(context, () => fn.apply(this, args))
    } as unknown as T
  }

  enable(): this {
    return this
  }

  disable(): this {
    this.storage.disable?.()
    return this
  }
}

/**
 * The `AsyncLocalStorage` class to use: the one given, else the runtime's global one.
 * Throws a {@link TracehopError} saying what to do when there is none.
 */
export function resolveAsyncLocalStorage(given: AsyncLocalStorageClass | undefined): AsyncLocalStorageClass {
  if (typeof given === 'function') return given
  const global = (globalThis as { AsyncLocalStorage?: unknown }).AsyncLocalStorage
  if (typeof global === 'function') return global as AsyncLocalStorageClass
  throw new TracehopError(
    'registerGlobal({ contextManager: true }) needs AsyncLocalStorage, and this runtime has none on globalThis ' +
      '(Vercel Edge outside Next.js, Workers without nodejs_compat). Pass the class yourself — ' +
      "registerGlobal({ contextManager: { AsyncLocalStorage } }) with import { AsyncLocalStorage } from 'node:async_hooks' — " +
      'or use otelTracer(span), which needs no context manager.',
  )
}
