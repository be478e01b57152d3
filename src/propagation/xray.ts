/**
 * AWS X-Ray trace header: `X-Amzn-Trace-Id` on HTTP, `_X_AMZN_TRACE_ID` in the Lambda
 * environment, and the `AWSTraceHeader` system attribute of SQS messages. All three carry
 * the same text:
 *
 *   Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1;Lineage=a87bd80c:1
 *
 * Ref: AWS X-Ray developer guide, "Tracing header"; Elastic Load Balancing, "Request tracing
 * for your Application Load Balancer" (fields `Field=value` separated by `;`, `Root` and
 * `Self` are AWS's, "an application can add arbitrary fields"); the OpenTelemetry
 * `propagator-aws-xray` (opentelemetry-js-contrib) for the mapping to a W3C trace id.
 *
 * Parsing rules, and where each comes from:
 * - Fields may come in any order and are separated by `;`; spaces around fields, keys and
 *   values are tolerated and an empty field (a trailing `;`) is skipped — as the AWS X-Ray
 *   SDK for Node (`mw_utils.processTraceData`) does.
 * - Keys are case-insensitive (`root=`, `ROOT=`): the AWS SDK for Node lowercases them. The
 *   OpenTelemetry JS propagator compares them case-sensitively; accepting more here loses
 *   nothing, and we always write AWS's own spelling.
 * - `Root` is required: version `1`, 8 hex digits of epoch seconds, 24 hex digits; the
 *   resulting 32-digit trace id must not be all zero (OTel JS `isValidTraceId`). Hex digits
 *   may be upper case (OTel JS accepts them); they are stored lower case, because every
 *   trace id inside tracehop is lower-case hex.
 * - `Parent` is 16 hex digits, not all zero (OTel JS `isValidSpanId`).
 * - `Sampled` is `1`, `0`, or `?` ("requested": the downstream decides, so `sampled` is left
 *   absent); any other value makes the header malformed, as in the OTel JS propagator.
 * - `Lineage` (Lambda recursive-loop detection) is kept opaque, byte for byte; only its
 *   characters and length are bounded so it cannot smuggle a `;` or `,` back out.
 * - `Self` (added by ALB) and any other field are ignored. A known key that appears twice,
 *   a field without `=`, or an invalid value makes the whole header malformed: a caller
 *   continues no trace from a header it cannot read unambiguously.
 */

import type { XRayHeader } from '../trace-context.js'

/** The HTTP header name, lower case (Fetch `Headers` and our carriers match it case-insensitively). */
export const XRAY_HEADER = 'x-amzn-trace-id'

// 1 + '-' + 8 + '-' + 24
const ROOT_LENGTH = 35
const PARENT_LENGTH = 16
// Generous bound for the opaque Lineage value (the AWS SDK for Node bounds extra data to 256).
const MAX_LINEAGE = 256

const KEY_ROOT = 1
const KEY_PARENT = 2
const KEY_SAMPLED = 4
const KEY_LINEAGE = 8

/** True when `s[start, end)` is hex digits of either case. */
function isHexRange(s: string, start: number, end: number): boolean {
  for (let i = start; i < end; i++) {
    const c = s.charCodeAt(i)
    // '0'-'9', 'A'-'F', 'a'-'f'
    if (!((c >= 48 && c <= 57) || (c >= 65 && c <= 70) || (c >= 97 && c <= 102))) return false
  }
  return true
}

/** True when `s[start, end)` is all '0'. */
function isZeroRange(s: string, start: number, end: number): boolean {
  for (let i = start; i < end; i++) if (s.charCodeAt(i) !== 48) return false
  return true
}

/** Visible ASCII except `;` and `,`: what an opaque Lineage value may contain. */
function isOpaqueValue(s: string): boolean {
  if (s.length === 0 || s.length > MAX_LINEAGE) return false
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i)
    if (c < 0x21 || c > 0x7e || c === 0x3b || c === 0x2c) return false
  }
  return true
}

/** Case-insensitive ASCII comparison of a key with a lower-case name. */
function keyIs(key: string, lower: string): boolean {
  return key.length === lower.length && key.toLowerCase() === lower
}

/**
 * Maps an X-Ray root to the W3C trace id it stands for: the epoch and the unique part,
 * concatenated (the OpenTelemetry AWS X-Ray propagator's mapping). Undefined when `root` is
 * not a version-1 X-Ray trace id or would give the all-zero trace id.
 *
 * @example
 * xrayRootToTraceId('1-5759e988-bd862e3fe1be46a994272793') // '5759e988bd862e3fe1be46a994272793'
 * xrayRootToTraceId('2-5759e988-bd862e3fe1be46a994272793') // undefined
 */
export function xrayRootToTraceId(root: string): string | undefined {
  if (
    root.length !== ROOT_LENGTH ||
    root.charCodeAt(0) !== 49 /* '1' */ ||
    root.charCodeAt(1) !== 45 /* '-' */ ||
    root.charCodeAt(10) !== 45 ||
    !isHexRange(root, 2, 10) ||
    !isHexRange(root, 11, ROOT_LENGTH) ||
    (isZeroRange(root, 2, 10) && isZeroRange(root, 11, ROOT_LENGTH))
  ) {
    return undefined
  }
  return `${root.slice(2, 10)}${root.slice(11)}`.toLowerCase()
}

/**
 * The X-Ray root for a W3C trace id (`traceId`: 32 lower-case hex digits). The first 8
 * digits become the "epoch" part; X-Ray accepts any value there for propagation, and a
 * trace id we minted as UUIDv7 has its millisecond clock there instead of seconds.
 *
 * @example
 * traceIdToXrayRoot('5759e988bd862e3fe1be46a994272793') // '1-5759e988-bd862e3fe1be46a994272793'
 */
export function traceIdToXrayRoot(traceId: string): string {
  return `1-${traceId.slice(0, 8)}-${traceId.slice(8)}`
}

/**
 * Parses an `X-Amzn-Trace-Id` / `_X_AMZN_TRACE_ID` / `AWSTraceHeader` value. A Root-only
 * header (Lambda pass-through, ALB) is valid: `parent` and `sampled` are then absent, as is
 * `sampled` for `Sampled=?`. Returns undefined for anything malformed; never throws.
 *
 * @example
 * parseXRay('Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1')
 * // { root: '1-5759e988-bd862e3fe1be46a994272793', parent: '53995c3f42cd8ad8', sampled: true }
 * parseXRay('Root=1-5759e988-bd862e3fe1be46a994272793') // { root: '1-5759e988-…' }
 * parseXRay('Parent=53995c3f42cd8ad8;Sampled=1')        // undefined (no Root)
 */
export function parseXRay(value: string): XRayHeader | undefined {
  if (typeof value !== 'string') return undefined
  let seen = 0
  let root: string | undefined
  let parent: string | undefined
  let sampled: boolean | undefined
  let lineage: string | undefined
  let pos = 0
  const n = value.length
  while (pos <= n) {
    let end = value.indexOf(';', pos)
    if (end === -1) end = n
    const field = value.slice(pos, end).trim()
    pos = end + 1
    if (field.length === 0) continue
    const eq = field.indexOf('=')
    if (eq <= 0) return undefined
    const key = field.slice(0, eq).trim()
    const v = field.slice(eq + 1).trim()
    if (keyIs(key, 'root')) {
      if (seen & KEY_ROOT) return undefined
      seen |= KEY_ROOT
      const traceId = xrayRootToTraceId(v)
      if (traceId === undefined) return undefined
      root = traceIdToXrayRoot(traceId)
    } else if (keyIs(key, 'parent')) {
      if (seen & KEY_PARENT) return undefined
      seen |= KEY_PARENT
      if (
        v.length !== PARENT_LENGTH ||
        !isHexRange(v, 0, PARENT_LENGTH) ||
        isZeroRange(v, 0, PARENT_LENGTH)
      ) {
        return undefined
      }
      parent = v.toLowerCase()
    } else if (keyIs(key, 'sampled')) {
      if (seen & KEY_SAMPLED) return undefined
      seen |= KEY_SAMPLED
      if (v === '1') sampled = true
      else if (v === '0') sampled = false
      else if (v !== '?') return undefined
    } else if (keyIs(key, 'lineage')) {
      if (seen & KEY_LINEAGE) return undefined
      seen |= KEY_LINEAGE
      if (!isOpaqueValue(v)) return undefined
      lineage = v
    }
    // `Self` and application fields: tolerated, not used.
  }
  if (root === undefined) return undefined
  return {
    root,
    ...(parent !== undefined ? { parent } : {}),
    ...(sampled !== undefined ? { sampled } : {}),
    ...(lineage !== undefined ? { lineage } : {}),
  }
}

/**
 * Formats an X-Ray header in the order AWS writes it: `Root`, `Parent`, `Sampled`,
 * `Lineage`; absent fields are left out (`sampled` absent: no `Sampled` field, which leaves
 * the decision to the receiver, like `Sampled=?`).
 *
 * @example
 * formatXRay({ root: '1-5759e988-bd862e3fe1be46a994272793', parent: '53995c3f42cd8ad8', sampled: true })
 * // 'Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1'
 */
export function formatXRay(h: XRayHeader): string {
  let out = `Root=${h.root}`
  if (h.parent !== undefined) out += `;Parent=${h.parent}`
  if (h.sampled !== undefined) out += h.sampled ? ';Sampled=1' : ';Sampled=0'
  if (h.lineage !== undefined) out += `;Lineage=${h.lineage}`
  return out
}
