// A Worker whose config function throws when OTLP_URL is missing (a secret not set).
import { instrument, traceOf } from '../../../adapters/cloudflare/index.js'
import { otlp } from '../../../src/index.js'

export interface Env {
  OTLP_URL?: string
}

export const handler = {
  async fetch(request: Request, _env: Env, ctx: object): Promise<Response> {
    const span = traceOf(ctx)
    if (new URL(request.url).pathname === '/stats') return Response.json(span.scope.tracer.stats())
    // The handler's own use of its span works either way.
    await span.child('work', () => {})
    return new Response('ok', { headers: { 'x-trace-id': span.traceId } })
  },
}

export const config = (env: Env) => ({
  service: 'config-error',
  exporters: [otlp({ url: env.OTLP_URL as string, encoding: 'json' as const })],
  log: () => {},
})

export default instrument(handler, config)
