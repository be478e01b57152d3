import type { Scope } from '../../src/index.js'

/**
 * @internal Returns a handler's `result`, ending `scope` when it settles: at once for a
 * plain value; with a promise, when it resolves, or with the error when it rejects (the
 * rejection is passed on unchanged). Nothing of ours stays pending once the user's is.
 */
export function endWhenSettled(scope: Scope, result: unknown): unknown {
  if (
    result === null ||
    typeof result !== 'object' ||
    typeof (result as PromiseLike<unknown>).then !== 'function'
  ) {
    void scope.end()
    return result
  }
  return Promise.resolve(result).then(
    (value) => {
      void scope.end()
      return value
    },
    (err: unknown) => {
      void scope.end({ error: err })
      throw err
    },
  )
}
