/**
 * Correlation with `@aws-lambda-powertools/tracer` (X-Ray), both ways, without importing it:
 * - on the X-Ray side, the active handler subsegment (opened by Powertools'
 *   `captureLambdaHandler` decorator or middy middleware, which must run outside ours) gets
 *   the annotations `tracehop_trace_id` and `tracehop_span_id` (annotations are indexed:
 *   X-Ray can search `annotation.tracehop_trace_id = "…"`);
 * - on our side, the invocation span gets `aws.xray.trace_id` and a link to that
 *   subsegment (an X-Ray segment id is a valid span id; the root maps to a W3C trace id).
 * X-Ray annotation keys allow only alphanumerics and underscores, hence the spelling.
 */

import type { Span } from '../../src/index.js'
import { xrayRootToTraceId } from '../../src/internal.js'
import type { PowertoolsTracerLike, XRaySegmentLike } from './types.js'

export const ANNOTATION_TRACE_ID = 'tracehop_trace_id'
export const ANNOTATION_SPAN_ID = 'tracehop_span_id'

const SPAN_ID_LENGTH = 16

/**
 * Correlates `span` (an invocation span) with the Powertools tracer's current segment. Never throws.
 *
 * @example
 * correlatePowertools(new Tracer(), traceOf(context))
 */
export function correlatePowertools(powertools: PowertoolsTracerLike, span: Span): void {
  try {
    if (!powertools.isTracingEnabled()) return
    const root = powertools.getRootXrayTraceId()
    if (typeof root === 'string' && root !== '' && span.get('aws.xray.trace_id') === undefined) {
      span.set('aws.xray.trace_id', root)
    }
    const segment = powertools.getSegment()
    if (!isSubsegment(segment)) return
    segment.addAnnotation(ANNOTATION_TRACE_ID, span.traceId)
    segment.addAnnotation(ANNOTATION_SPAN_ID, span.spanId)
    const traceId = typeof root === 'string' ? xrayRootToTraceId(root) : undefined
    const id = segment.id
    if (traceId !== undefined && typeof id === 'string' && id.length === SPAN_ID_LENGTH) {
      span.link({ traceId, spanId: id, attributes: { source: 'powertools' } })
    }
  } catch {
    // A Powertools or X-Ray SDK failure must never reach the handler.
  }
}

/**
 * Only a subsegment can be annotated in Lambda (the facade segment refuses and warns): a
 * subsegment is the one that knows its parent `segment`.
 */
function isSubsegment(
  segment: XRaySegmentLike | undefined,
): segment is XRaySegmentLike & { addAnnotation(key: string, value: string): void } {
  return (
    segment !== undefined &&
    segment !== null &&
    segment.segment !== undefined &&
    segment.segment !== null &&
    typeof segment.addAnnotation === 'function'
  )
}
