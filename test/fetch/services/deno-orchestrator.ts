// A Deno.serve service from the packed tarball: continues the caller's trace and calls the
// Bun service through its server span. Run by test/fetch/runtimes.test.ts.
import { otlp } from 'tracehop'
import { traceOf, withTrace } from 'tracehop/fetch'

declare const Deno: {
  env: { get(name: string): string | undefined }
  serve(
    options: { hostname: string; port: number; onListen(addr: { port: number }): void },
    handler: (request: Request) => Promise<Response>,
  ): unknown
}

const next = Deno.env.get('NEXT_URL')!
const handler = withTrace(
  async (request: Request) => {
    const question = await request.text()
    const res = await traceOf(request).child('plan', { runType: 'chain' }, (plan) =>
      plan.fetch(`${next}/retrieve`, { method: 'POST', body: question }),
    )
    return new Response(await res.text(), {
      status: res.status,
      headers: { 'content-type': 'application/json' },
    })
  },
  {
    service: 'deno-orchestrator',
    propagation: { allow: [next] },
    exporters: [otlp({ url: Deno.env.get('OTLP_URL')! })],
  },
  { route: '/ask' },
)

Deno.serve(
  { hostname: '127.0.0.1', port: 0, onListen: ({ port }) => console.log(JSON.stringify({ ready: port })) },
  handler,
)
