/**
 * Identifiers: W3C trace and span ids, and their LangSmith UUID forms.
 *
 * One span has one identity in both worlds: its run id is a UUID whose last 16 hex digits
 * are its span id, and a trace's LangSmith id is the UUID spelling of its W3C trace id. A
 * root we start gets a UUIDv7 trace id (time-ordered, as the `langsmith` SDK mints), whose
 * low 62 bits come from the CSPRNG, so the W3C random flag stays truthful.
 */

const HEX: string[] = []
for (let i = 0; i < 256; i++) HEX.push(i.toString(16).padStart(2, '0'))

// Random bytes are drawn in blocks: one getRandomValues call per 32 ids, not per id.
const POOL_SIZE = 256
const pool = new Uint8Array(POOL_SIZE)
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

/** 16 lowercase hex digits, never all zero (W3C §3.2.2.4). */
export function randomSpanId(): string {
  for (;;) {
    const id = randomHex(8)
    if (id !== '0000000000000000') return id
  }
}

/** 32 lowercase hex digits, fully random, never all zero. */
export function randomTraceId(): string {
  for (;;) {
    const id = randomHex(16)
    if (id !== '00000000000000000000000000000000') return id
  }
}

/**
 * A UUIDv7 (RFC 9562 §5.7) as 32 hex digits: 48-bit ms timestamp, version 7, 74 random bits.
 * Its low 56 bits are random, so it is a valid W3C trace id with the random flag.
 */
export function uuidv7Hex(timeMs: number): string {
  const ms = Math.max(0, Math.floor(timeMs))
  const tsHex = ms.toString(16).padStart(12, '0').slice(-12)
  const randA = randomHex(2).slice(1) // 12 bits
  const variant = HEX[(randomByte() & 0x3f) | 0x80]!
  return `${tsHex}7${randA}${variant}${randomHex(7)}`
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
    if (spanId !== '0000000000000000') return { spanId, runId: hexToUuid(hex) }
  }
}

/** The span id that stands for a LangSmith run: the last 16 hex digits of its UUID. */
export function spanIdFromRunId(runId: string): string {
  return uuidToHex(runId).slice(16)
}

const HEX_RE = /^[0-9a-f]+$/
const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

/** Lowercase hex of exactly `length` digits, not all zero. */
export function isValidHexId(id: string, length: number): boolean {
  return id.length === length && HEX_RE.test(id) && !/^0+$/.test(id)
}

/** A canonical 8-4-4-4-12 UUID (any version, any case). */
export function isUuid(value: string): boolean {
  return value.length === 36 && UUID_RE.test(value)
}
