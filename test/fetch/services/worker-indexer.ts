// A Worker bundled from the packed tarball's dist (tracehop/cloudflare): the last hop.
import { otlp } from 'tracehop'
import { instrument, traceOf } from 'tracehop/cloudflare'

interface Env {
  OTLP_URL: string
}

export default instrument(
  {
    async fetch(
      request: Request,
      _env: Env,
      ctx: { waitUntil(p: Promise<unknown>): void },
    ): Promise<Response> {
      const query = await request.text()
      const hits = await traceOf(ctx).child('index', async (s) => {
        s.set('test.query', query)
        return [query.length]
      })
      return Response.json(hits)
    },
  },
  (env: Env) => ({
    service: 'worker-indexer',
    route: () => '/index',
    exporters: [otlp({ url: env.OTLP_URL })],
  }),
)
