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

import { HEX_ANY, isHexId } from '../chars.js'
import type { XRayHeader } from '../trace-context.js'

/** The HTTP header name, lower case (Fetch `Headers` and our carriers match it case-insensitively). */
export const XRAY_HEADER = 'x-amzn-trace-id'

/** The keys this module reads, lower case; a bit each in `seen`. */
const KEYS = ['root', 'parent', 'sampled', 'lineage']
// Visible ASCII except `;` and `,`, bounded as the AWS SDK for Node bounds extra data (256).
/**
 * Longest header read at all: Root, Parent, Sampled, a full Lineage and some application
 * fields fit many times over. A longer one is dropped before it is split.
 */
export const XRAY_MAX_INPUT = 4096
const LINEAGE = /^[\x21-\x2b\x2d-\x3a\x3c-\x7e]{1,256}$/

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
  // 1 + '-' + 8 + '-' + 24
  const id = root.slice(2, 10) + root.slice(11)
  return root.length === 35 && root.startsWith('1-') && root[10] === '-' && isHexId(id, 0, 32, HEX_ANY)
    ? id.toLowerCase()
    : undefined
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
  if (typeof value !== 'string' || value.length > XRAY_MAX_INPUT) return undefined
  const h: { root?: string; parent?: string; sampled?: boolean; lineage?: string } = {}
  let seen = 0
  for (const raw of value.split(';')) {
    const field = raw.trim()
    if (field === '') continue
    const eq = field.indexOf('=')
    if (eq <= 0) return undefined
    const k = KEYS.indexOf(field.slice(0, eq).trim().toLowerCase())
    const v = field.slice(eq + 1).trim()
    if (k < 0) continue // `Self` and application fields: tolerated, not used.
    if (seen & (1 << k)) return undefined
    seen |= 1 << k
    if (k === 0) {
      const traceId = xrayRootToTraceId(v)
      if (traceId === undefined) return undefined
      h.root = traceIdToXrayRoot(traceId)
    } else if (k === 1) {
      if (v.length !== 16 || !isHexId(v, 0, 16, HEX_ANY)) return undefined
      h.parent = v.toLowerCase()
    } else if (k === 2) {
      if (v === '1' || v === '0') h.sampled = v === '1'
      else if (v !== '?') return undefined
    } else if (LINEAGE.test(v)) h.lineage = v
    else return undefined
  }
  return h.root === undefined ? undefined : (h as XRayHeader)
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
