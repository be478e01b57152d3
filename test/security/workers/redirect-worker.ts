// A Worker traced with instrument() that calls span.fetch() as the test asks:
// `/fetch?url=…&method=…&body=…&redirect=…&cache=…` answers with what came back and each
// hop's request options.
import { instrument, traceOf } from '../../../adapters/cloudflare/index.js'
import { otlp } from '../../../src/index.js'

interface Env {
  OTLP_URL: string
  /** Allowed, `user.id` routed here only. */
  ALLOWED: string
  /** Allowed, `tenant` routed here only. */
  PARTNER: string
}

/** Each hop's request options, as the tracer's `fetch` got them. */
const hops: { cache?: string; keepalive?: boolean }[] = []

function recordingFetch(input: RequestInfo | URL, init?: RequestInit): Promise<Response> {
  const hop = input as Request
  hops.push({ cache: hop.cache, keepalive: hop.keepalive })
  return fetch(input, init)
}

export default instrument(
  {
    async fetch(request, _env, ctx) {
      const q = new URL(request.url).searchParams
      const init: RequestInit = { method: q.get('method') ?? 'GET' }
      const body = q.get('body')
      if (body !== null) {
        init.body = body
        init.headers = { 'content-type': 'text/plain' }
      }
      const redirect = q.get('redirect')
      if (redirect !== null) init.redirect = redirect as RequestRedirect
      const cache = q.get('cache')
      if (cache !== null) init.cache = cache as RequestCache
      hops.length = 0
      try {
        const res = await traceOf(ctx).fetch(q.get('url')!, init)
        return Response.json({
          hops,
          status: res.status,
          url: res.url,
          redirected: res.redirected,
          location: res.headers.get('location'),
          text: await res.text(),
        })
      } catch (err) {
        return Response.json({ error: err instanceof Error ? err.name : String(err) })
      }
    },
  },
  (env: Env) => ({
    service: 'redirect-worker',
    exporters: [otlp({ url: env.OTLP_URL })],
    fetch: recordingFetch,
    propagation: {
      write: ['w3c', 'baggage', 'langsmith', 'xray'],
      allow: [env.ALLOWED, env.PARTNER],
      baggage: {
        keys: ['session.id', { key: 'user.id', to: [env.ALLOWED] }, { key: 'tenant', to: [env.PARTNER] }],
      },
    },
  }),
)
