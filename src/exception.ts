import type { Attributes } from './span-record.js'

/** @internal `instanceof Error`. */
export function isError(value: unknown): value is Error {
  return value instanceof Error
}

/** @internal The type of a thrown value as OTel records it (`exception.type`, `error.type`): the Error's `name`, else `typeof`. */
export function exceptionType(err: unknown): string {
  return err instanceof Error ? err.name : typeof err
}

/** @internal The attributes of an `exception` event (OTel semconv): type, message and, for an Error, its stack. */
export function exceptionAttributes(err: unknown): Attributes {
  const e = err instanceof Error ? err : undefined
  const attributes: Attributes = {
    'exception.type': exceptionType(err),
    'exception.message': e ? e.message : String(err),
  }
  if (e?.stack) attributes['exception.stacktrace'] = e.stack
  return attributes
}
