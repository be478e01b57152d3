import type {
  Link,
  Attributes as OtelAttributes,
  SpanOptions as OtelSpanOptions,
  TimeInput,
} from '@opentelemetry/api'
import type { AttributeValue, SpanKind, SpanLink, SpanOptions } from '../../src/index.js'

/**
 * OTel `TimeInput` to ms since epoch, as the OTel SDK reads it (`timeInputToHrTime`):
 * an `HrTime` is `[epoch seconds, nanoseconds]`; a number below `performance.timeOrigin`
 * is a `performance.now()` reading; a larger number is epoch ms; a `Date` is a Date.
 */
export function toEpochMs(time: TimeInput | undefined): number | undefined {
  if (time === undefined || time === null) return undefined
  if (typeof time === 'number') {
    if (!Number.isFinite(time)) return undefined
    const origin = typeof performance !== 'undefined' ? performance.timeOrigin : 0
    return origin > 0 && time < origin ? origin + time : time
  }
  if (Array.isArray(time)) {
    const [s, ns] = time
    return typeof s === 'number' && typeof ns === 'number' ? s * 1e3 + ns / 1e6 : undefined
  }
  if (time instanceof Date) {
    const ms = time.getTime()
    return Number.isFinite(ms) ? ms : undefined
  }
  return undefined
}

/**
 * An OTel attribute value as one of ours, or `undefined` to drop it. OTel allows `null`
 * and `undefined` inside arrays (kept as gaps by its SDK); ours are dense, so the gaps are
 * removed. Arrays must be homogeneous (OTel spec "Attribute"): a mixed one is dropped.
 */
export function toAttributeValue(value: unknown): AttributeValue | undefined {
  switch (typeof value) {
    case 'string':
    case 'number':
    case 'boolean':
      return value
  }
  if (!Array.isArray(value)) return undefined
  let kind: string | undefined
  let dense = true
  for (const v of value) {
    if (v === null || v === undefined) {
      dense = false
      continue
    }
    const t = typeof v
    if (t !== 'string' && t !== 'number' && t !== 'boolean') return undefined
    if (kind === undefined) kind = t
    else if (kind !== t) return undefined
  }
  return (dense ? value : value.filter((v) => v !== null && v !== undefined)) as AttributeValue
}

/**
 * OTel attributes as ours, dropping what ours cannot hold. When every value is already
 * valid (the common case) the caller's object is used as it is: spans copy what they keep.
 */
export function toAttributes(
  attributes: OtelAttributes | undefined,
): Record<string, AttributeValue> | undefined {
  if (attributes === null || typeof attributes !== 'object') return undefined
  let clean = true
  for (const key in attributes) {
    const v = attributes[key]
    const t = typeof v
    if (t !== 'string' && t !== 'number' && t !== 'boolean' && toAttributeValue(v) !== v) {
      clean = false
      break
    }
  }
  if (clean) return attributes as Record<string, AttributeValue>
  let out: Record<string, AttributeValue> | undefined
  for (const key in attributes) {
    const v = toAttributeValue(attributes[key])
    if (v !== undefined) (out ??= {})[key] = v
  }
  return out
}

/** An OTel `Link` as one of ours. */
export function toSpanLink(link: Link): SpanLink | undefined {
  const ctx = link !== null && typeof link === 'object' ? link.context : undefined
  if (
    ctx === null ||
    typeof ctx !== 'object' ||
    typeof ctx.traceId !== 'string' ||
    typeof ctx.spanId !== 'string'
  ) {
    return undefined
  }
  const attributes = toAttributes(link.attributes)
  const traceState = typeof ctx.traceState?.serialize === 'function' ? ctx.traceState.serialize() : undefined
  return {
    traceId: ctx.traceId,
    spanId: ctx.spanId,
    flags: typeof ctx.traceFlags === 'number' ? ctx.traceFlags & 0xff : 0,
    ...(traceState ? { traceState } : {}),
    ...(attributes !== undefined ? { attributes } : {}),
  }
}

function isKind(k: unknown): k is SpanKind {
  return k === 0 || k === 1 || k === 2 || k === 3 || k === 4
}

/** OTel `SpanOptions` as ours (the kinds are numbered alike). */
export function toSpanOptions(options: OtelSpanOptions | undefined): SpanOptions | undefined {
  if (options === null || typeof options !== 'object') return undefined
  const out: { -readonly [K in keyof SpanOptions]: SpanOptions[K] } = {}
  // API SpanKind 0..4, numbered as ours; anything else stays INTERNAL.
  if (isKind(options.kind)) out.kind = options.kind
  const attributes = toAttributes(options.attributes)
  if (attributes !== undefined) out.attributes = attributes
  const startTime = toEpochMs(options.startTime)
  if (startTime !== undefined) out.startTime = startTime
  if (Array.isArray(options.links)) {
    let links: SpanLink[] | undefined
    for (const l of options.links) {
      const link = toSpanLink(l)
      if (link !== undefined) (links ??= []).push(link)
    }
    if (links !== undefined) out.links = links
  }
  return out
}
