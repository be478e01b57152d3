/**
 * The X-Ray trace header Lambda gives the current invocation. It is correlation only: the
 * runtime sets `_X_AMZN_TRACE_ID` (with `Sampled=0`) even when active tracing is off, so
 * it never decides sampling and never becomes the parent; it becomes a link (attribute
 * `source=x-ray-env`, as OTel "Instrumenting AWS Lambda" asks) and `aws.xray.trace_id`.
 *
 * Where it is read, in order:
 * 1. `globalThis.awslambda.InvokeStore.getXRayTraceId()`: the runtime's per-invocation
 *    store (present in newer Node runtimes, and the only correct source when one
 *    environment runs several invocations at once);
 * 2. the `_X_AMZN_TRACE_ID` environment variable, unless `AWS_LAMBDA_MAX_CONCURRENCY` is
 *    set: then the variable is shared by concurrent invocations and belongs to none.
 */

interface InvokeStoreLike {
  getXRayTraceId?: () => string | undefined
}

/**
 * `process.env` when there is one (Lambda always has it; a bundle for other runtimes may not).
 *
 * @example
 * lambdaEnv()['AWS_REGION'] // 'eu-west-1'
 */
export function lambdaEnv(): Readonly<Record<string, string | undefined>> {
  const p = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process
  return p?.env ?? {}
}

/**
 * The current invocation's X-Ray header text, or undefined. `concurrent`: the environment
 * runs several invocations at once (`AWS_LAMBDA_MAX_CONCURRENCY` set). Never throws.
 *
 * @example
 * parseXRay(invocationXRayHeader(false) ?? '')
 */
export function invocationXRayHeader(concurrent: boolean): string | undefined {
  try {
    const store = (globalThis as { awslambda?: { InvokeStore?: InvokeStoreLike } }).awslambda?.InvokeStore
    const fromStore = typeof store?.getXRayTraceId === 'function' ? store.getXRayTraceId() : undefined
    if (typeof fromStore === 'string' && fromStore !== '') return fromStore
    if (concurrent) return undefined
    const value = lambdaEnv()['_X_AMZN_TRACE_ID']
    return value === undefined || value === '' ? undefined : value
  } catch {
    return undefined
  }
}
