import type { CarrierSetter } from '../carrier.js'
import type { Baggage, TraceContext, XRayHeader } from '../trace-context.js'
import {
  BAGGAGE_HEADER,
  BAGGAGE_LIMITS,
  dropTally,
  formatBaggage,
  mergeBaggage,
  parseBaggage,
  tallyDrop,
} from './baggage.js'
import type { PropagationHooks, ResolvedFormats } from './formats.js'
import { formatLangSmithBaggageHeader, LANGSMITH_REPLICAS_KEY } from './langsmith-baggage.js'
import { LANGSMITH_TRACE_HEADER } from './langsmith-trace.js'
import { formatTraceparent, TRACEPARENT_HEADER } from './traceparent.js'
import { formatTracestate, TRACESTATE_HEADER } from './tracestate.js'
import { formatXRay, traceIdToXrayRoot, XRAY_HEADER } from './xray.js'

/**
 * Writes `ctx` (the context a span hands out) into a carrier, in every configured format.
 * `ctx.langsmith.dottedOrder` must be the span's own dotted order. An `existingBaggage`
 * header (what the outgoing request already carries) is merged, never overwritten: its
 * members win over ours on the same key. The baggage limits apply to the whole header, our
 * LangSmith members included; user members past them are left out and counted.
 * `langsmith-replicas` is never written, whatever the formats.
 */
export function inject(
  ctx: TraceContext,
  setter: CarrierSetter,
  formats: ResolvedFormats,
  existingBaggage?: string,
  hooks?: PropagationHooks,
): void {
  if (formats.w3c) {
    setter.set(TRACEPARENT_HEADER, formatTraceparent(ctx.traceId, ctx.spanId, ctx.flags))
    if (ctx.traceState !== undefined) {
      const state = formatTracestate(ctx.traceState)
      if (state !== undefined) setter.set(TRACESTATE_HEADER, state)
    }
  }
  // The LangSmith members are written exactly as the `langsmith` SDKs' `toHeaders()` writes
  // them (encodeURIComponent: their parsers split on every `=`), then the user's members.
  let header = ''
  const ls = ctx.langsmith
  const writeLangSmith = formats.langsmith && ls !== undefined
  if (writeLangSmith) {
    setter.set(LANGSMITH_TRACE_HEADER, ls.dottedOrder)
    header = formatLangSmithBaggageHeader(ls)
  }
  let user: Baggage | undefined = formats.baggage ? ctx.baggage : undefined
  if (existingBaggage !== undefined) user = mergeBaggage(user, parseBaggage(existingBaggage))
  // Our LangSmith members describe this span; a stale copy (a caller's header, or members a
  // W3C-only reader passed on as plain baggage) would contradict them.
  if (writeLangSmith && user?.some(isLangSmithMember)) user = user.filter((m) => !isLangSmithMember(m))
  // `langsmith-replicas` can carry another party's API URL and key: never passed on, in any
  // format (without the LangSmith format it would otherwise travel as plain baggage).
  else if (user?.some(isReplicas)) user = user.filter((m) => !isReplicas(m))
  if (user?.length === 0) user = undefined
  if (user !== undefined) {
    const limits = hooks?.baggageLimits ?? BAGGAGE_LIMITS
    dropTally.bits = 0
    const formatted = formatBaggage(
      user,
      tallyDrop,
      header === ''
        ? limits
        : {
            maxMembers: limits.maxMembers - membersIn(header),
            maxBytes: limits.maxBytes - header.length - 1,
          },
    )
    if (dropTally.bits & 2) hooks?.onLimit?.('baggage')
    if (formatted !== undefined) header = header === '' ? formatted : `${header},${formatted}`
  }
  if (header !== '') setter.set(BAGGAGE_HEADER, header)
  if (formats.xray) {
    setter.set(
      XRAY_HEADER,
      formatXRay({
        root: traceIdToXrayRoot(ctx.traceId),
        parent: ctx.spanId,
        sampled: (ctx.flags & 1) === 1,
        lineage: ctx.xray?.lineage,
      } as XRayHeader),
    )
  }
}

function isLangSmithMember(m: { readonly key: string }): boolean {
  return m.key.startsWith('langsmith-')
}

function isReplicas(m: { readonly key: string }): boolean {
  return m.key === LANGSMITH_REPLICAS_KEY
}

/** Members of a header we formatted (values are percent-encoded: every `,` separates). */
function membersIn(header: string): number {
  let n = 1
  for (let i = header.indexOf(','); i >= 0; i = header.indexOf(',', i + 1)) n++
  return n
}
