import { decideHead, resolveSampling, type SamplingConfig } from './head-sampler.js'

/**
 * The head decision every tracehop service makes for a trace that arrives with no decision
 * (a new root, an untrusted ingress, a `langsmith-trace`-only parent): a pure function of
 * the trace id and the sampling config, so any process can predict it — a test, a load
 * generator, a log pipeline deciding which trace ids to link.
 *
 * @example
 * isHeadSampled('0af7651916cd43dd8448eb211c80319c', { ratio: 0.1 }) // same answer in every service
 */
export function isHeadSampled(traceId: string, sampling?: SamplingConfig): boolean {
  return decideHead(resolveSampling(sampling), traceId, 0, undefined, false).sampled
}
