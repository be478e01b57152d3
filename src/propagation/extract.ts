import type { CarrierGetter } from '../carrier.js'
import { spanIdFromRunId, uuidToHex } from '../ids.js'
import type { SpanLink } from '../span-record.js'
import type { InvalidInput } from '../stats.js'
import type { Baggage, BaggageMember, LangSmithParent, TraceContext, XRayHeader } from '../trace-context.js'
import { BAGGAGE_HEADER, parseBaggage } from './baggage.js'
import type { Ingress, ResolvedFormats } from './formats.js'
import { readLangSmithBaggage } from './langsmith-baggage.js'
import { LANGSMITH_TRACE_HEADER, parseLangSmithTrace } from './langsmith-trace.js'
import { parseTraceparent, TRACEPARENT_HEADER } from './traceparent.js'
import { parseTracestate, TRACESTATE_HEADER } from './tracestate.js'
import { parseXRay, XRAY_HEADER, xrayRootToTraceId } from './xray.js'

/** What a carrier yielded: the context to continue (if any), links, and X-Ray correlation. */
export interface Incoming {
  readonly parent?: TraceContext
  readonly links: readonly SpanLink[]
  /** An X-Ray header that was not a continuation (Root-only, or W3C won): correlation only. */
  readonly xray?: XRayHeader
}

const NONE: Incoming = { links: [] }

/**
 * Reads a carrier. Precedence when several formats are present:
 * 1. W3C `traceparent` (a `langsmith-trace` with the same trace id is attached to it; one
 *    with another trace id is ignored and counted as `mismatch`);
 * 2. `langsmith-trace` alone (its sampling is decided here, from its trace id);
 * 3. X-Ray with both `Parent` and `Sampled`; a Root-only X-Ray header is correlation only.
 * Malformed input never throws: it is counted through `onInvalid` and ignored.
 */
export function extract(
  carrier: CarrierGetter,
  formats: ResolvedFormats,
  ingress: Ingress,
  onInvalid: (what: InvalidInput) => void,
): Incoming {
  let parent: TraceContext | undefined
  let xrayCorrelation: XRayHeader | undefined

  let userBaggage: Baggage | undefined
  let langsmithMembers: BaggageMember[] | undefined
  if (formats.baggage || formats.langsmith) {
    const raw = carrier.get(BAGGAGE_HEADER)
    if (raw !== undefined) {
      let bad = false
      const parsed = parseBaggage(raw, () => {
        bad = true
      })
      // One count per malformed header, however many members it lost.
      if (bad) onInvalid('baggage')
      const user: BaggageMember[] = []
      if (parsed !== undefined) {
        for (const m of parsed) {
          if (m.key.startsWith('langsmith-')) (langsmithMembers ??= []).push(m)
          else if (formats.baggage) user.push(m)
        }
        if (user.length > 0) userBaggage = user
      }
    }
  }

  let langsmith: LangSmithParent | undefined
  if (formats.langsmith) {
    const raw = carrier.get(LANGSMITH_TRACE_HEADER)
    if (raw !== undefined) {
      const trace = parseLangSmithTrace(raw)
      if (trace === undefined) onInvalid('langsmith-trace')
      else {
        const last = trace.segments[trace.segments.length - 1]!
        const extra = langsmithMembers ? readLangSmithBaggage(langsmithMembers) : undefined
        langsmith = {
          dottedOrder: trace.dottedOrder,
          runId: trace.runId,
          traceId: trace.traceId,
          startTime: last.time,
          ...(extra?.project !== undefined ? { project: extra.project } : {}),
          ...(extra?.tags !== undefined ? { tags: extra.tags } : {}),
          ...(extra?.metadata !== undefined ? { metadata: extra.metadata } : {}),
          ...(extra?.passthrough !== undefined ? { passthrough: extra.passthrough } : {}),
        }
      }
    }
  }

  if (formats.w3c) {
    const raw = carrier.get(TRACEPARENT_HEADER)
    if (raw !== undefined) {
      const tp = parseTraceparent(raw)
      if (tp === undefined) onInvalid('traceparent')
      else {
        const rawState = carrier.get(TRACESTATE_HEADER)
        const traceState = rawState === undefined ? undefined : parseTracestate(rawState)
        if (traceState === undefined && rawState !== undefined && !isBlankList(rawState))
          onInvalid('tracestate')
        let ls = langsmith
        if (ls !== undefined && uuidToHex(ls.traceId) !== tp.traceId) {
          onInvalid('mismatch')
          ls = undefined
        }
        parent = {
          traceId: tp.traceId,
          spanId: tp.spanId,
          flags: tp.flags,
          remote: true,
          decided: true,
          ...(traceState !== undefined && traceState.length > 0 ? { traceState } : {}),
          ...(userBaggage !== undefined ? { baggage: userBaggage } : {}),
          ...(ls !== undefined ? { langsmith: ls } : {}),
        }
      }
    }
  }

  if (parent === undefined && langsmith !== undefined) {
    parent = {
      traceId: uuidToHex(langsmith.traceId),
      spanId: spanIdFromRunId(langsmith.runId),
      flags: 0,
      remote: true,
      decided: false,
      langsmith,
      ...(userBaggage !== undefined ? { baggage: userBaggage } : {}),
    }
  }

  if (formats.xray) {
    const raw = carrier.get(XRAY_HEADER)
    if (raw !== undefined) {
      const xray = parseXRay(raw)
      if (xray === undefined) onInvalid('xray')
      else if (parent === undefined && xray.parent !== undefined && xray.sampled !== undefined) {
        const traceId = xrayRootToTraceId(xray.root)
        if (traceId === undefined) onInvalid('xray')
        else
          parent = {
            traceId,
            spanId: xray.parent,
            flags: xray.sampled ? 1 : 0,
            remote: true,
            decided: true,
            xray,
            ...(userBaggage !== undefined ? { baggage: userBaggage } : {}),
          }
      } else xrayCorrelation = xray
    }
  }

  if (parent === undefined) return xrayCorrelation ? { links: [], xray: xrayCorrelation } : NONE
  return applyIngress(parent, ingress, xrayCorrelation)
}

function applyIngress(parent: TraceContext, ingress: Ingress, xray: XRayHeader | undefined): Incoming {
  const tail = xray ? { xray } : {}
  if (ingress === 'trusted') return { parent, links: [], ...tail }
  if (ingress === 'link') {
    return { links: [{ traceId: parent.traceId, spanId: parent.spanId, flags: parent.flags }], ...tail }
  }
  // Untrusted: keep where the trace continues, believe nothing else the client said.
  const ls = parent.langsmith
  return {
    parent: {
      traceId: parent.traceId,
      spanId: parent.spanId,
      flags: 0,
      remote: true,
      decided: false,
      ...(ls
        ? {
            langsmith: {
              dottedOrder: ls.dottedOrder,
              runId: ls.runId,
              traceId: ls.traceId,
              startTime: ls.startTime,
            },
          }
        : {}),
    },
    links: [],
    ...tail,
  }
}

/** `""`, `" , ,"`: a list with no members is allowed (W3C §3.3.1.1), not malformed. */
function isBlankList(value: string): boolean {
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i)
    if (c !== 0x20 && c !== 0x09 && c !== 0x2c) return false
  }
  return true
}
