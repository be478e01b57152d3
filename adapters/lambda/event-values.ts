/**
 * Readers for values of an event chosen by whoever sent it: each answers undefined rather
 * than throwing on a shape it did not expect.
 */

/** A JSON object as read from an event. */
export type Obj = Record<string, unknown>

/**
 * A plain (non-array) object, or undefined. Never throws on hostile input.
 *
 * @example
 * asObject(event.requestContext)?.['http'] // undefined for null, arrays and primitives
 */
export function asObject(value: unknown): Obj | undefined {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Obj) : undefined
}

/**
 * A string, or undefined.
 *
 * @example
 * asString(record.messageId) ?? 'unknown'
 */
export function asString(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined
}

/**
 * `arn:aws:sqs:us-east-2:123456789012:my-queue` → `my-queue` (the last `:` segment).
 *
 * @example
 * arnResource('arn:aws:sqs:us-east-2:123456789012:my-queue') // 'my-queue'
 */
export function arnResource(arn: string | undefined): string | undefined {
  if (arn === undefined) return undefined
  const i = arn.lastIndexOf(':')
  return i >= 0 && i < arn.length - 1 ? arn.slice(i + 1) : undefined
}

/**
 * The account id: the fifth `:`-separated field of an ARN (OTel "Instrumenting AWS Lambda").
 *
 * @example
 * arnAccount('arn:aws:lambda:eu-west-1:123456789012:function:f') // '123456789012'
 */
export function arnAccount(arn: string | undefined): string | undefined {
  if (arn === undefined) return undefined
  const parts = arn.split(':', 6)
  return parts.length >= 5 && parts[4] !== '' ? parts[4] : undefined
}
