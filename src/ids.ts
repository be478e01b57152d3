/**
 * Identifiers: W3C trace and span ids, and their LangSmith UUID forms.
 *
 * One span has one identity in both worlds: its run id is a UUID whose last 16 hex digits
 * are its span id, and a trace's LangSmith id is the UUID spelling of its W3C trace id. A
 * root we start gets a UUIDv7 trace id (time-ordered, as the `langsmith` SDK mints), whose
 * low 62 bits come from the CSPRNG, so the W3C random flag stays truthful.
 */

import { HEX, HEX_LC, isHexId } from './chars.js'

// Random bytes are drawn in blocks: one getRandomValues call per 512 span ids, not per id
// (its fixed cost, ~10 µs in Node's webcrypto, was a quarter of a span's start at 256 B).
const POOL_SIZE = 4096
const pool = /* @__PURE__ */ new Uint8Array(POOL_SIZE)
let poolPos = POOL_SIZE

function randomByte(): number {
  if (poolPos === POOL_SIZE) {
    crypto.getRandomValues(pool)
    poolPos = 0
  }
  return pool[poolPos++]!
}

function randomHex(bytes: number): string {
  let s = ''
  for (let i = 0; i < bytes; i++) s += HEX[randomByte()]!
  return s
}

const ZERO_SPAN_ID = '0000000000000000'

/** `bytes` random bytes as hex, never all zero (W3C §3.2.2.3, §3.2.2.4). */
function randomId(bytes: number): string {
  for (;;) {
    const id = randomHex(bytes)
    if (isHexId(id, 0, id.length, HEX_LC)) return id
  }
}

/** 16 lowercase hex digits, never all zero (W3C §3.2.2.4). */
export function randomSpanId(): string {
  return randomId(8)
}

/** 32 lowercase hex digits, fully random, never all zero. */
export function randomTraceId(): string {
  return randomId(16)
}

/**
 * A UUIDv7 (RFC 9562 §5.7) as 32 hex digits: 48-bit ms timestamp, version 7, 74 random bits.
 * Its low 56 bits are random, so it is a valid W3C trace id with the random flag.
 */
export function uuidv7Hex(timeMs: number): string {
  const tsHex = Math.max(0, Math.floor(timeMs)).toString(16).padStart(12, '0').slice(-12)
  // version 7, 12 random bits, variant `10` and 6 random bits, 56 random bits
  return `${tsHex}7${randomHex(2).slice(1)}${HEX[(randomByte() & 0x3f) | 0x80]}${randomHex(7)}`
}

/**
 * A span id that is also the tail of a UUIDv7 (its top two bits are the RFC 9562 variant
 * `10`), so {@link runIdFor} can later complete the run id without changing the span id.
 */
export function runSpanId(): string {
  for (;;) {
    const id = HEX[(randomByte() & 0x3f) | 0x80] + randomHex(7)
    if (id !== ZERO_SPAN_ID) return id
  }
}

/** The UUIDv7 run id of a span started at `timeMs` whose span id came from {@link runSpanId}. */
export function runIdFor(timeMs: number, spanId: string): string {
  const tsHex = Math.max(0, Math.floor(timeMs)).toString(16).padStart(12, '0').slice(-12)
  return hexToUuid(`${tsHex}7${randomHex(2).slice(1)}${spanId}`)
}

/** `5759e988bd862e3fe1be46a994272793` → `5759e988-bd86-2e3f-e1be-46a994272793`. */
export function hexToUuid(hex: string): string {
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`
}

/** The inverse of {@link hexToUuid}, lowercased. */
export function uuidToHex(uuid: string): string {
  return uuid.replaceAll('-', '').toLowerCase()
}

/**
 * A new run id for a span: UUIDv7 for its start time whose last 16 hex digits are a fresh
 * span id. Returns both; the span id's top two bits are the UUID variant `10`.
 */
export function newRunIdentity(timeMs: number): { spanId: string; runId: string } {
  for (;;) {
    const hex = uuidv7Hex(timeMs)
    const spanId = hex.slice(16)
    if (spanId !== ZERO_SPAN_ID) return { spanId, runId: hexToUuid(hex) }
  }
}

/** The span id that stands for a LangSmith run: the last 16 hex digits of its UUID. */
export function spanIdFromRunId(runId: string): string {
  return uuidToHex(runId).slice(16)
}

const UUID_RE = /^[\da-f]{8}-[\da-f]{4}-[\da-f]{4}-[\da-f]{4}-[\da-f]{12}$/i

/** Lowercase hex of exactly `length` digits, not all zero. */
export function isValidHexId(id: string, length: number): boolean {
  return id.length === length && isHexId(id, 0, length, HEX_LC)
}

/** A canonical 8-4-4-4-12 UUID (any version, any case). */
export function isUuid(value: string): boolean {
  return UUID_RE.test(value)
}
