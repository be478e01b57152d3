import type { Attributes } from './span-record.js'

// Bounds what reading one thrown value may cost: a message or stack longer than this is cut.
const MAX_TEXT = 8192

function bounded(text: string): string {
  return text.length > MAX_TEXT ? `${text.slice(0, MAX_TEXT)}…` : text
}

/** Reads a property of a thrown value as a string, or undefined if reading it throws or it is not one. */
function stringProperty(value: object, key: 'name' | 'message' | 'stack'): string | undefined {
  try {
    const v: unknown = (value as Record<string, unknown>)[key]
    return typeof v === 'string' ? v : undefined
  } catch {
    return undefined
  }
}

/** @internal `instanceof Error`, false where the check itself throws (a revoked Proxy). */
export function isError(value: unknown): value is Error {
  try {
    return value instanceof Error
  } catch {
    // A revoked Proxy throws from the prototype walk.
    return false
  }
}

/**
 * @internal The type of a thrown value as OTel records it (`exception.type`, `error.type`):
 * the Error's `name`, else `typeof`. Never throws, whatever was thrown (a Proxy, a revoked
 * Proxy, a throwing `name` getter).
 */
export function exceptionType(err: unknown): string {
  if (!isError(err)) return typeof err
  return bounded(stringProperty(err, 'name') ?? 'Error')
}

/** @internal `error.type` of a failed client call: the Error's `name`, else `Error`. Never throws. */
export function clientErrorType(err: unknown): string {
  return isError(err) ? exceptionType(err) : 'Error'
}

/** @internal A thrown value's message, or its `String()`: never throws (then `typeof`), bounded. */
export function exceptionMessage(err: unknown): string {
  if (isError(err)) {
    const message = stringProperty(err, 'message')
    if (message !== undefined) return bounded(message)
  }
  try {
    return bounded(String(err))
  } catch {
    // `Object.create(null)`, a throwing `toString`, a revoked Proxy: nothing printable.
    return `[${typeof err}]`
  }
}

/**
 * @internal The attributes of an `exception` event (OTel semconv): type, message and, for
 * an Error, its stack. Total: reading a hostile thrown value never throws, and costs at most
 * a few bounded property reads.
 */
export function exceptionAttributes(err: unknown): Attributes {
  const attributes: Attributes = {
    'exception.type': exceptionType(err),
    'exception.message': exceptionMessage(err),
  }
  if (isError(err)) {
    const stack = stringProperty(err, 'stack')
    if (stack) attributes['exception.stacktrace'] = bounded(stack)
  }
  return attributes
}
