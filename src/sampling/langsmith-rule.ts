import { hexToUuid } from '../ids.js'
import type { SamplingRule } from './head-sampler.js'
import { langsmithSampled } from './langsmith-sampler.js'

/**
 * The `langsmith` SDKs' sampling rule, for `sampling.algorithm`: a trace is kept when
 * `XXH3-128(trace id UUID) mod 1e6 / 1e6 < ratio`, the same decision a LangSmith SDK service
 * with the same ratio makes. Imported explicitly so bundles that sample the OpenTelemetry
 * way do not carry the XXH3 code.
 *
 * @example
 * import { createTracer, langsmithSampling } from 'tracehop'
 * createTracer({ service: 'retrieval', sampling: { ratio: 0.1, algorithm: langsmithSampling } })
 */
export const langsmithSampling: SamplingRule = {
  name: 'langsmith',
  sampled: (traceId, ratio) => langsmithSampled(hexToUuid(traceId), ratio),
}
