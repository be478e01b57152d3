import { headerValue } from './chars.js'

/**
 * Carriers: where trace headers are read from and written to. A format never knows
 * whether it reads `Headers`, a Lambda event's headers or SQS message attributes; a
 * carrier never knows the formats. Names are looked up case-insensitively by the carrier,
 * once, not by every caller.
 */

/** Read side. `name` is lowercase; several values of one name come back joined by `,`. */
export interface CarrierGetter {
  get(name: string): string | undefined
}

/** Write side. `name` is lowercase. */
export interface CarrierSetter {
  set(name: string, value: string): void
}

/** A plain header record: single values, multi-value arrays, or absent values. */
export type HeaderRecord = Readonly<Record<string, string | readonly string[] | undefined | null>>

/** Anything tracehop accepts as an incoming carrier. */
export type CarrierInput = Headers | HeaderRecord | CarrierGetter | { readonly headers: Headers }

/**
 * The shape first (a `get` method, the `Headers` tag): neither a plain record nor a carrier
 * getter (the Lambda adapter's) reaches the `Headers` global, whose first read in Node loads
 * undici (~20 ms, a Lambda cold start's worth).
 */
function isHeaders(x: unknown): x is Headers {
  return (
    typeof (x as Headers | undefined)?.get === 'function' &&
    Object.prototype.toString.call(x) === '[object Headers]' &&
    typeof Headers !== 'undefined' &&
    x instanceof Headers
  )
}

function isGetter(x: object): x is CarrierGetter {
  return typeof (x as { get?: unknown }).get === 'function' && !isHeaders(x)
}

/** A `Headers` object: already case-insensitive and comma-joining. */
export function headersCarrier(headers: Headers): CarrierGetter {
  return { get: (name) => headers.get(name) ?? undefined }
}

/**
 * A plain record (Lambda `headers`, `multiValueHeaders`, message attributes already
 * flattened to strings). Keys are lowercased into a map the first time a name is read.
 */
export function recordCarrier(record: HeaderRecord): CarrierGetter {
  return new RecordCarrier(record)
}

/** One object per carrier (no closure and its context): extract reads one on every request. */
class RecordCarrier implements CarrierGetter {
  readonly #record: HeaderRecord
  // Built on the first miss; null when no key has an upper-case letter (Node's and most
  // platforms' header records), where a miss is a miss and no index is needed.
  #index: Map<string, string> | null | undefined
  constructor(record: HeaderRecord) {
    this.#record = record
  }
  get(name: string): string | undefined {
    const direct = headerValue(this.#record[name])
    if (direct !== undefined) return direct
    if (this.#index === undefined) this.#index = lowercaseIndex(this.#record)
    return this.#index === null ? undefined : this.#index.get(name)
  }
}

function hasUpperCase(key: string): boolean {
  for (let i = 0; i < key.length; i++) {
    const c = key.charCodeAt(i)
    if (c >= 65 && c <= 90) return true
  }
  return false
}

/** Values by lower-cased name (repeated names joined with `,`), or null if all are lower-case. */
function lowercaseIndex(record: HeaderRecord): Map<string, string> | null {
  let mixed = false
  for (const key in record) {
    if (hasUpperCase(key)) {
      mixed = true
      break
    }
  }
  if (!mixed) return null
  const index = new Map<string, string>()
  for (const key in record) {
    const value = headerValue(record[key])
    if (value === undefined) continue
    const lower = key.toLowerCase()
    const prev = index.get(lower)
    index.set(lower, prev === undefined ? value : `${prev},${value}`)
  }
  return index
}

/** Turns any accepted input into a getter; a `Request` (or anything with `headers: Headers`) reads its headers. */
export function toCarrier(input: CarrierInput | undefined | null): CarrierGetter | undefined {
  if (input === undefined || input === null || typeof input !== 'object') return undefined
  if (isHeaders(input)) return headersCarrier(input)
  const maybeHeaders = (input as { headers?: unknown }).headers
  if (isHeaders(maybeHeaders)) return headersCarrier(maybeHeaders)
  if (isGetter(input)) return input
  return recordCarrier(input as HeaderRecord)
}

/** A setter over a plain record (the shape `span.headers()` returns). */
export function recordSetter(record: Record<string, string>): CarrierSetter {
  return {
    set(name, value) {
      record[name] = value
    },
  }
}
