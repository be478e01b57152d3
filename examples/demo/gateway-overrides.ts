/**
 * Demo-only tracer settings for the gateway example, for as long as it does not read them
 * from its own vars: when the topology bundles examples/gateway-worker/index.ts and its source
 * does not mention `SAMPLING_RATIO` / `LANGSMITH_ENDPOINT`, the gateway's import of
 * tracehop/cloudflare resolves to this module instead (an esbuild alias, see topology.ts).
 * Its `instrument` is the real one with the gateway's own config, and then:
 * - `sampling.ratio` from the `SAMPLING_RATIO` var (the example hard-codes 1);
 * - a LangSmith runs exporter to the `LANGSMITH_ENDPOINT` var (the example only knows the
 *   hosted API), next to the example's own OTLP exporter.
 * Everything else (service name, untrusted ingress, the allow-list) is the gateway's.
 */
import {
  instrument as instrumentWorker,
  type WorkerConfig,
  type WorkerTracerConfig,
} from '../../adapters/cloudflare/index.js'
import { createLangSmithExporter } from '../../src/index.js'

export type { ExecutionContextLike } from '../../adapters/cloudflare/index.js'
export { traced, traceOf } from '../../adapters/cloudflare/index.js'

interface DemoVars {
  readonly SAMPLING_RATIO?: string
  readonly LANGSMITH_ENDPOINT?: string
  readonly LANGSMITH_PROJECT?: string
}

function withDemoSettings(config: WorkerTracerConfig, env: DemoVars): WorkerTracerConfig {
  const exporters = [...(config.exporters ?? [])]
  if (env.LANGSMITH_ENDPOINT) {
    exporters.push(
      createLangSmithExporter({
        apiUrl: env.LANGSMITH_ENDPOINT,
        ...(env.LANGSMITH_PROJECT ? { project: env.LANGSMITH_PROJECT } : {}),
      }),
    )
  }
  return {
    ...config,
    ...(env.SAMPLING_RATIO ? { sampling: { ...config.sampling, ratio: Number(env.SAMPLING_RATIO) } } : {}),
    exporters,
  }
}

/**
 * `instrument` from tracehop/cloudflare, with the demo's settings applied to the config.
 *
 * @example
 * export default instrument({ fetch }, (env) => ({ service: 'gateway' })) // + SAMPLING_RATIO, LANGSMITH_ENDPOINT
 */
export function instrument<H extends object>(handler: H, config: WorkerConfig<any>): H {
  const demo = (env: DemoVars & Record<string, unknown>): WorkerTracerConfig =>
    withDemoSettings(typeof config === 'function' ? config(env) : config, env)
  return instrumentWorker(handler as never, demo) as H
}
