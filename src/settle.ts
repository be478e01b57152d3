/**
 * @internal Told how a call settled: `failed` with its error, or with its value. Whatever it
 * throws is swallowed, so recording the outcome can never replace the caller's value or error.
 */
export type OnSettled = (error: unknown, failed: boolean, value?: unknown) => void

function report(done: OnSettled, error: unknown, failed: boolean, value?: unknown): void {
  try {
    done(error, failed, value)
  } catch {
    // Recording must not change what the caller sees.
  }
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    value !== null &&
    (typeof value === 'object' || typeof value === 'function') &&
    typeof (value as { then?: unknown }).then === 'function'
  )
}

/**
 * @internal Reports to `done` when `result` settles and hands it on: a plain value at once
 * (returned as it is); a promise when it resolves or rejects, the rejection passed on as the
 * very value it was. By default the returned promise settles after `done` has run; with
 * `keepResult` the user's own promise is returned (an RPC stub's pipelining promise) and
 * `done` runs beside it.
 */
export function whenSettled<T>(result: T, done: OnSettled, keepResult = false): T {
  let thenable: boolean
  try {
    thenable = isThenable(result)
  } catch {
    // A revoked Proxy or a throwing `then` getter: not ours to await.
    thenable = false
  }
  if (!thenable) {
    report(done, undefined, false, result)
    return result
  }
  const promise = result as unknown as PromiseLike<unknown>
  if (keepResult) {
    try {
      promise.then(
        (value) => report(done, undefined, false, value),
        (error: unknown) => report(done, error, true),
      )
    } catch (error) {
      report(done, error, true)
    }
    return result
  }
  return Promise.resolve(promise).then(
    (value) => {
      report(done, undefined, false, value)
      return value
    },
    (error: unknown) => {
      report(done, error, true)
      throw error
    },
  ) as T
}

/**
 * @internal Runs `call` and reports to `done` how it settled (see {@link whenSettled}): the
 * one "end the span when this settles" of the core and the adapters. A synchronous throw is
 * reported, then rethrown as the very value that was thrown.
 *
 * @example
 * return settle(() => fn(span), (err, failed) => { if (failed) span.error(err); span.end() })
 */
export function settle<T>(call: () => T, done: OnSettled, keepResult = false): T {
  let result: T
  try {
    result = call()
  } catch (error) {
    report(done, error, true)
    throw error
  }
  return whenSettled(result, done, keepResult)
}

/** @internal The {@link OnSettled} that ends an invocation's scope, failed with the error if there was one. */
export function endScope(scope: { end(result?: { readonly error: unknown }): unknown }): OnSettled {
  return (error, failed) => void scope.end(failed ? { error } : undefined)
}
