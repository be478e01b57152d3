/**
 * What one `tracehop dev` collector may hold, so a page that POSTs to 127.0.0.1 cannot
 * exhaust the developer's memory. Every limit has a default and a `tracehop dev` flag.
 */
import { TracehopError } from '../src/errors.js'

export interface CollectorLimits {
  /** Request body on the wire (compressed or not); more is refused with 413. */
  readonly maxBodyBytes: number
  /** Request body after its Content-Encoding is undone; inflating stops there (413). */
  readonly maxDecodedBytes: number
  /** Characters kept of any one string (attribute value, span name, error message). */
  readonly maxAttributeLength: number
  /** Estimated size of all stored spans; the oldest traces are evicted beyond it. */
  readonly maxStoredBytes: number
  /** Traces kept; the oldest are evicted beyond it. */
  readonly maxTraces: number
  /** Request bodies read and decoded at once. */
  readonly maxConcurrentBodies: number
  /** Requests waiting for a turn; more are answered 503 with Retry-After. */
  readonly maxQueuedBodies: number
}

const MiB = 1024 * 1024

export const DEFAULT_LIMITS: CollectorLimits = {
  maxBodyBytes: 10 * MiB,
  maxDecodedBytes: 32 * MiB,
  maxAttributeLength: 128 * 1024,
  maxStoredBytes: 256 * MiB,
  maxTraces: 1000,
  maxConcurrentBodies: 4,
  maxQueuedBodies: 64,
}

/** OTLP/HTTP and LangSmith bodies above this are refused with 413 (the default `maxBodyBytes`). */
export const MAX_BODY_BYTES: number = DEFAULT_LIMITS.maxBodyBytes

/** `partial` over the defaults; throws a `TracehopError` for a limit that is not a positive integer. */
export function resolveLimits(partial: Partial<CollectorLimits> = {}): CollectorLimits {
  const limits = { ...DEFAULT_LIMITS }
  for (const key of Object.keys(DEFAULT_LIMITS) as (keyof CollectorLimits)[]) {
    const v = partial[key]
    if (v === undefined) continue
    const min = key === 'maxQueuedBodies' ? 0 : 1
    if (!Number.isSafeInteger(v) || v < min)
      throw new TracehopError(`collector limit ${key} must be an integer >= ${min}, got ${v}`)
    limits[key] = v
  }
  return limits
}

const UNITS: Readonly<Record<string, number>> = {
  '': 1,
  b: 1,
  kb: 1024,
  k: 1024,
  mb: MiB,
  m: MiB,
  gb: 1024 * MiB,
  g: 1024 * MiB,
}

/**
 * A size as people write it: `512kb`, `32mb`, `1gb`, or plain bytes (binary units).
 *
 * @example
 * parseSize('32mb') // 33554432
 */
export function parseSize(text: string): number | undefined {
  const m = /^(\d+)\s*([a-z]*)$/i.exec(text.trim())
  const unit = m ? UNITS[m[2]!.toLowerCase()] : undefined
  if (!m || unit === undefined) return undefined
  const n = Number(m[1]) * unit
  return Number.isSafeInteger(n) && n > 0 ? n : undefined
}

/** A byte count for messages: `32 MiB`, `512 KiB`, `900 bytes`. */
export function formatBytes(n: number): string {
  if (n >= MiB && n % MiB === 0) return `${n / MiB} MiB`
  if (n >= 1024 && n % 1024 === 0) return `${n / 1024} KiB`
  return `${n} bytes`
}
