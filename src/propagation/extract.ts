import type { CarrierGetter } from '../carrier.js'
import { CheckedContext } from '../checked-context.js'
import { isValidHexId, spanIdFromRunId, uuidToHex } from '../ids.js'
import type { SpanLink } from '../span-record.js'
import type { Baggage, BaggageMember, LangSmithParent, TraceContext, XRayHeader } from '../trace-context.js'
import type { Writable } from '../writable.js'
import { BAGGAGE_HEADER, dropTally, parseBaggage, tallyDrop } from './baggage.js'
import type { Ingress, PropagationHooks, ResolvedFormats } from './formats.js'
import { readLangSmithBaggage } from './langsmith-baggage.js'
import { LANGSMITH_TRACE_HEADER, parseLangSmithTrace } from './langsmith-trace.js'
import { parseTraceparent, TRACEPARENT_HEADER } from './traceparent.js'
import { parseTracestate, TRACESTATE_HEADER, TRACESTATE_MAX_INPUT } from './tracestate.js'
import { parseXRay, XRAY_HEADER, xrayRootToTraceId } from './xray.js'

/** What a carrier yielded: the context to continue (if any), links, and X-Ray correlation. */
export interface Incoming {
  readonly parent?: TraceContext
  readonly links: readonly SpanLink[]
  /** An X-Ray header that was not a continuation (Root-only, or W3C won): correlation only. */
  readonly xray?: XRayHeader
  /**
   * Baggage that came without any trace context (trusted ingress only). W3C Baggage does
   * not depend on Trace Context: it is passed on downstream of the fresh trace.
   */
  readonly baggage?: Baggage
}

/** Shared and frozen: most contexts come with no link, and nothing adds to the list. */
const NO_LINKS: readonly SpanLink[] = Object.freeze([])
const NONE: Incoming = { links: NO_LINKS }
// `""`, `" , ,"`: a list with no members is allowed (W3C §3.3.1.1), not malformed.
const BLANK_LIST = /^[ \t,]*$/

/**
 * Reads a carrier. Precedence when several formats are present:
 * 1. W3C `traceparent` (a `langsmith-trace` consistent with it is attached to it: the same
 *    trace id, or a last run whose span id is the `traceparent`'s parent id; any other is
 *    ignored and counted as `mismatch`);
 * 2. `langsmith-trace` alone (its sampling is decided here, from its trace id);
 * 3. X-Ray with both `Parent` and `Sampled`; a Root-only X-Ray header is correlation only.
 * Malformed input never throws: it is counted through `onInvalid` and ignored; baggage
 * members past the limits are counted through `onLimit`.
 */
export function extract(
  carrier: CarrierGetter,
  formats: ResolvedFormats,
  ingress: Ingress,
  hooks: PropagationHooks,
): Incoming {
  const onInvalid = hooks.onInvalid
  let parent: Writable<TraceContext> | undefined
  let xray: XRayHeader | undefined
  let baggage: BaggageMember[] | undefined
  let langsmithMembers: BaggageMember[] | undefined
  const rawBaggage = formats.baggage || formats.langsmith ? carrier.get(BAGGAGE_HEADER) : undefined
  if (rawBaggage !== undefined) {
    dropTally.bits = 0
    const parsed = parseBaggage(rawBaggage, tallyDrop, hooks.baggageLimits)
    // One count per header, however many members it lost.
    if (dropTally.bits & 1) onInvalid('baggage')
    if (dropTally.bits & 2) hooks.onLimit?.('baggage')
    for (const m of parsed ?? []) {
      // Without the LangSmith format, its members are baggage like any other: passed on.
      if (formats.langsmith && m.key.startsWith('langsmith-')) (langsmithMembers ??= []).push(m)
      else if (formats.baggage) (baggage ??= []).push(m)
    }
  }

  let langsmith: LangSmithParent | undefined
  const rawTrace = formats.langsmith ? carrier.get(LANGSMITH_TRACE_HEADER) : undefined
  if (rawTrace !== undefined) {
    const trace = parseLangSmithTrace(rawTrace)
    if (trace === undefined) onInvalid('langsmith-trace')
    else {
      langsmith = {
        dottedOrder: trace.dottedOrder,
        runId: trace.runId,
        traceId: trace.traceId,
        startTime: trace.segments[trace.segments.length - 1]!.time,
        ...(langsmithMembers && readLangSmithBaggage(langsmithMembers)),
      }
    }
  }

  const rawParent = formats.w3c ? carrier.get(TRACEPARENT_HEADER) : undefined
  if (rawParent !== undefined) {
    const tp = parseTraceparent(rawParent)
    if (tp === undefined) onInvalid('traceparent')
    else {
      parent = new CheckedContext(tp.traceId, tp.spanId, tp.flags, true)
      const rawState = carrier.get(TRACESTATE_HEADER)
      if (rawState !== undefined) {
        const traceState = parseTracestate(rawState)
        if (traceState !== undefined) parent.traceState = traceState
        else if (rawState.length > TRACESTATE_MAX_INPUT || !BLANK_LIST.test(rawState)) onInvalid('tracestate')
      }
      if (langsmith !== undefined) {
        // Consistent with the W3C parent: the same trace, or the very span it names (a run
        // id's last 16 hex digits are its span id). The second is a LangSmith trace started
        // by a service that continued a W3C-only caller's trace.
        if (uuidToHex(langsmith.traceId) === tp.traceId || spanIdFromRunId(langsmith.runId) === tp.spanId)
          parent.langsmith = langsmith
        else onInvalid('mismatch')
      }
    }
  }

  if (parent === undefined && langsmith !== undefined) {
    const traceId = uuidToHex(langsmith.traceId)
    const spanId = spanIdFromRunId(langsmith.runId)
    // A nil-UUID root (SDK tests use one) has no valid W3C form (§3.2.2.3: all-zero ids are
    // invalid): continuing it would write a traceparent every W3C reader drops.
    if (isValidHexId(traceId, 32) && isValidHexId(spanId, 16)) {
      parent = new CheckedContext(traceId, spanId, 0, false)
      parent.langsmith = langsmith
    } else onInvalid('langsmith-trace')
  }

  const rawXray = formats.xray ? carrier.get(XRAY_HEADER) : undefined
  if (rawXray !== undefined) {
    const h = parseXRay(rawXray)
    if (h === undefined) onInvalid('xray')
    else if (parent === undefined && h.parent !== undefined && h.sampled !== undefined) {
      // parseXRay normalized the root: it maps to a trace id.
      parent = {
        traceId: xrayRootToTraceId(h.root)!,
        spanId: h.parent,
        flags: +h.sampled,
        remote: true,
        // X-Ray's `Sampled` is its own reservoir's choice, and AWS stamps `Sampled=0` on
        // messages from every producer without active tracing (SQS `AWSTraceHeader`):
        // followed, it would hide those consumers' spans at any ratio. The trace id is
        // continued; the sampler decides from it, the same way in every tracehop service.
        decided: false,
        xray: h,
      }
    } else xray = h
  }

  if (parent !== undefined && ingress === 'trusted' && xray === undefined) {
    // The common case, a trusted parent and no X-Ray header: one object, no copies.
    if (baggage !== undefined) parent.baggage = baggage
    return { parent, links: NO_LINKS }
  }
  const out: Writable<Incoming> = { links: NO_LINKS }
  // Lineage is the caller's loop-detection state: a client that is not trusted may not set it.
  if (xray !== undefined) out.xray = ingress === 'trusted' ? xray : withoutLineage(xray)
  if (parent === undefined) {
    if (baggage !== undefined && ingress === 'trusted') out.baggage = baggage
    return xray === undefined && out.baggage === undefined ? NONE : out
  }
  if (baggage !== undefined) parent.baggage = baggage
  const believed = believe(parent, ingress)
  if (believed.parent !== undefined) out.parent = believed.parent
  out.links = believed.links
  return out
}

function withoutLineage(h: XRayHeader): XRayHeader {
  if (h.lineage === undefined) return h
  const { lineage: _, ...rest } = h
  return rest
}

/**
 * What `ingress` lets a context continue, wherever it came from (headers, a queue
 * envelope, a context object passed to `tracer.start`):
 * - `trusted`: the context as it is;
 * - `link`: no parent, a link to it;
 * - `untrusted`: where the trace continues (trace id, parent span, LangSmith run), and
 *   nothing else the sender said: no sampled flag or decision, no tracestate, baggage,
 *   X-Ray fields, LangSmith project, tags or metadata.
 */
export function believe(parent: TraceContext, ingress: Ingress): Incoming {
  if (ingress === 'trusted') return { parent, links: NO_LINKS }
  if (ingress === 'link')
    return { links: [{ traceId: parent.traceId, spanId: parent.spanId, flags: parent.flags }] }
  const ls = parent.langsmith
  return {
    parent: {
      traceId: parent.traceId,
      spanId: parent.spanId,
      flags: 0,
      remote: true,
      decided: false,
      ...(ls && {
        langsmith: {
          dottedOrder: ls.dottedOrder,
          runId: ls.runId,
          traceId: ls.traceId,
          startTime: ls.startTime,
        },
      }),
    },
    links: NO_LINKS,
  }
}
