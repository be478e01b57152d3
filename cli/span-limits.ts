/**
 * Spans cut to size before they are stored: every string (name, service, error message,
 * attribute values, event names, resource values) keeps at most `maxLength` characters
 * and says it was cut, and the span lists what was cut in `tracehop.dev.truncated`.
 * Also an estimate of a span's size in memory, for the store's byte limit.
 */
import type { Attributes, AttributeValue, CollectedEvent, CollectedLink, CollectedSpan } from './types.js'

/** The span attribute that lists the fields cut (e.g. `attributes.gen_ai.prompt`, `name`). */
export const TRUNCATED_ATTRIBUTE = 'tracehop.dev.truncated'

/** The text that ends a cut string. */
export function truncationMark(originalLength: number): string {
  return `… [truncated by tracehop dev: ${originalLength} characters]`
}

function cutString(s: string, max: number): string {
  return s.length <= max ? s : `${s.slice(0, max)}${truncationMark(s.length)}`
}

function cutValue(v: AttributeValue, max: number): AttributeValue {
  if (typeof v === 'string') return cutString(v, max)
  if (!Array.isArray(v)) return v
  // An array keeps the leading items that fit in `max` characters (numbers count 8).
  let used = 0
  let keep = 0
  let cut = false
  for (const item of v as readonly (string | number | boolean)[]) {
    const size = typeof item === 'string' ? item.length : 8
    if (used + size > max) {
      cut = true
      break
    }
    used += size
    keep++
  }
  return cut ? (v.slice(0, keep) as AttributeValue) : v
}

function valueSize(v: AttributeValue): number {
  if (typeof v === 'string') return v.length
  if (!Array.isArray(v)) return 8
  let n = 0
  for (const item of v as readonly unknown[]) n += typeof item === 'string' ? item.length : 8
  return n
}

function cutAttributes(attrs: Attributes, max: number, path: string, cut: string[]): Attributes {
  let out: Record<string, AttributeValue> | undefined
  for (const [k, v] of Object.entries(attrs)) {
    const key = k.length > max ? cutString(k, max) : k
    if (key === k && valueSize(v) <= max) continue
    out ??= { ...attrs }
    if (key !== k) delete out[k]
    out[key] = cutValue(v, max)
    cut.push(`${path}.${key.length > 64 ? `${key.slice(0, 64)}…` : key}`)
  }
  return out ?? attrs
}

function cutField(s: string, max: number, name: string, cut: string[]): string {
  if (s.length <= max) return s
  cut.push(name)
  return cutString(s, max)
}

/**
 * `span` with every string within `maxLength` characters; the same object when nothing
 * was cut. `cut` counts the values cut.
 *
 * @example
 * const { span: stored, cut } = limitSpan(span, 128 * 1024)
 */
export function limitSpan(span: CollectedSpan, maxLength: number): { span: CollectedSpan; cut: number } {
  const cut: string[] = []
  const attributes = cutAttributes(span.attributes, maxLength, 'attributes', cut)
  const resource = cutAttributes(span.resource, maxLength, 'resource', cut)
  const name = cutField(span.name, maxLength, 'name', cut)
  const service = cutField(span.service, maxLength, 'service', cut)
  const message = span.status.message
  const statusMessage =
    message === undefined ? undefined : cutField(message, maxLength, 'status.message', cut)
  const scope = span.scope === undefined ? undefined : cutField(span.scope, maxLength, 'scope', cut)
  const runType = span.runType === undefined ? undefined : cutField(span.runType, maxLength, 'runType', cut)
  const events: CollectedEvent[] = span.events.map((e, i) => {
    const n = cutField(e.name, maxLength, `events[${i}].name`, cut)
    const a = cutAttributes(e.attributes, maxLength, `events[${i}].attributes`, cut)
    return n === e.name && a === e.attributes ? e : { ...e, name: n, attributes: a }
  })
  const links: CollectedLink[] = span.links.map((l, i) => {
    const a = cutAttributes(l.attributes, maxLength, `links[${i}].attributes`, cut)
    return a === l.attributes ? l : { ...l, attributes: a }
  })
  if (cut.length === 0) return { span, cut: 0 }
  return {
    span: {
      ...span,
      name,
      service,
      attributes: { ...attributes, [TRUNCATED_ATTRIBUTE]: cut },
      resource,
      events,
      links,
      status: statusMessage === undefined ? span.status : { ...span.status, message: statusMessage },
      ...(scope !== undefined ? { scope } : {}),
      ...(runType !== undefined ? { runType } : {}),
    },
    cut: cut.length,
  }
}

// Per-object and per-value overheads: a rough V8 figure, so the estimate errs high.
const OBJECT_BYTES = 64
const ENTRY_BYTES = 32

function attributesBytes(attrs: Attributes): number {
  let n = OBJECT_BYTES
  for (const [k, v] of Object.entries(attrs)) n += ENTRY_BYTES + 2 * k.length + 2 * valueSize(v)
  return n
}

/** A span's size in memory, estimated (strings at two bytes a character). */
export function spanBytes(span: CollectedSpan): number {
  let n = 4 * OBJECT_BYTES + 2 * (span.traceId.length + span.spanId.length + span.name.length)
  n += 2 * (span.service.length + (span.status.message?.length ?? 0) + (span.scope?.length ?? 0))
  n += 2 * ((span.runId?.length ?? 0) + (span.runType?.length ?? 0))
  n += attributesBytes(span.attributes) + attributesBytes(span.resource)
  for (const e of span.events) n += OBJECT_BYTES + 2 * e.name.length + attributesBytes(e.attributes)
  for (const l of span.links) n += OBJECT_BYTES + 64 + attributesBytes(l.attributes)
  return n
}
