// A Bun.serve service from the packed tarball: continues the Deno service's trace, streams
// its answer, and calls the Worker. Run by test/fetch/runtimes.test.ts.
import { otlp } from 'tracehop'
import { traceOf, withTrace } from 'tracehop/fetch'

declare const Bun: {
  env: Record<string, string | undefined>
  serve(options: { hostname: string; port: number; fetch: (request: Request) => Promise<Response> }): {
    port: number
  }
}

const next = Bun.env['NEXT_URL']!
const server = Bun.serve({
  hostname: '127.0.0.1',
  port: 0,
  fetch: withTrace(
    async (request: Request) => {
      const span = traceOf(request)
      const query = await request.text()
      const res = await span.child('search', { runType: 'retriever' }, (s) =>
        s.fetch(`${next}/index`, { method: 'POST', body: query }),
      )
      const found = await res.text()
      // A streamed body: the server span stays open until the last chunk is sent.
      const body = new ReadableStream<Uint8Array>({
        start(controller) {
          const enc = new TextEncoder()
          controller.enqueue(enc.encode('{"found":'))
          controller.enqueue(enc.encode(found))
          controller.enqueue(enc.encode('}'))
          controller.close()
        },
      })
      return new Response(body, { headers: { 'content-type': 'application/json' } })
    },
    {
      service: 'bun-retrieval',
      propagation: { allow: [next] },
      exporters: [otlp({ url: Bun.env['OTLP_URL']! })],
    },
    { route: '/retrieve' },
  ),
})
console.log(JSON.stringify({ ready: server.port }))
