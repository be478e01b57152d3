// instrument() with a signed URL on the way in and on the way out: the spans must not keep
// the secrets (test/security/url-redaction-workerd.test.ts).
import { instrument, traceOf } from '../../../adapters/cloudflare/index.js'
import { otlp } from '../../../src/index.js'

interface Env {
  OTLP_URL: string
  UPSTREAM: string
}

export const redactConfig = (env: Env) => ({
  service: 'redact-cf',
  exporters: [otlp({ url: env.OTLP_URL })],
  redact: { queryParams: ['token'] },
  flush: { windowMs: 0 },
})

export async function callUpstream(span: ReturnType<typeof traceOf>, env: Env): Promise<Response> {
  const res = await span.fetch(`${env.UPSTREAM}/up?X-Amz-Signature=upsecret&token=uptoken&keep=1`)
  await res.arrayBuffer()
  return new Response('ok', { headers: { 'x-trace-id': span.traceId } })
}

export default instrument(
  {
    async fetch(_request: Request, env: Env, ctx: object): Promise<Response> {
      return callUpstream(traceOf(ctx), env)
    },
  },
  redactConfig,
)
