// tracehop/fetch's choice of where the flush goes, per platform: Supabase's global
// EdgeRuntime.waitUntil, a Netlify Edge context.waitUntil, or (none) awaited in the body's
// tail; and its configuration errors.
import { afterEach, describe, expect, it } from 'vitest'
import { traceOf, withTrace } from '../../adapters/fetch/index.js'
import type { ExportBatch, Exporter, ExportResult } from '../../src/index.js'
import { TracehopError } from '../../src/index.js'

/** An exporter that holds each batch until `release()`: shows whether a response waited for it. */
function heldExporter(): Exporter & { batches: ExportBatch[]; release(): void } {
  let open!: () => void
  const gate = new Promise<void>((r) => (open = r))
  const batches: ExportBatch[] = []
  return {
    name: 'held',
    batches,
    release: () => open(),
    async export(batch: ExportBatch): Promise<ExportResult> {
      await gate
      batches.push(batch)
      return { exported: batch.spans.length, dropped: 0, attempts: 1 }
    },
  }
}

const g = globalThis as { EdgeRuntime?: unknown }
afterEach(() => {
  delete g.EdgeRuntime
})

describe('tracehop/fetch waitUntil per platform', () => {
  it("hands the flush to Supabase's EdgeRuntime.waitUntil and answers at once", async () => {
    const handed: Promise<unknown>[] = []
    g.EdgeRuntime = { waitUntil: (p: Promise<unknown>) => void handed.push(p) }
    const exporter = heldExporter()
    const handler = withTrace(async (r: Request) => new Response(traceOf(r).name), {
      service: 'supabase-fn',
      exporters: [exporter],
      afterResponse: 'await', // would hold the response, were there no waitUntil
    })
    const res = await handler(new Request('https://x.supabase.co/functions/v1/chat', { method: 'POST' }))
    expect(await res.text()).toBe('POST')
    expect(handed).toHaveLength(1)
    expect(exporter.batches).toHaveLength(0)
    exporter.release()
    await handed[0]
    expect(exporter.batches[0]!.spans).toHaveLength(1)
  })

  it("uses a Netlify Edge context's waitUntil (the second argument)", async () => {
    const handed: Promise<unknown>[] = []
    const context = { waitUntil: (p: Promise<unknown>) => void handed.push(p), geo: {} }
    const exporter = heldExporter()
    const handler = withTrace(async (_r: Request, _c: typeof context) => new Response('ok'), {
      service: 'netlify-edge',
      exporters: [exporter],
      afterResponse: 'await',
    })
    const res = await handler(new Request('https://site.netlify.app/'), context)
    expect(await res.text()).toBe('ok') // the span ends once the body is sent
    expect(handed).toHaveLength(1)
    exporter.release()
    await handed[0]
    expect(exporter.batches).toHaveLength(1)
  })

  it('without waitUntil and afterResponse await, the streamed body closes only after the flush', async () => {
    const exporter = heldExporter()
    const handler = withTrace(
      async () =>
        new Response(
          new ReadableStream({
            start(c) {
              c.enqueue(new TextEncoder().encode('tok'))
              c.close()
            },
          }),
        ),
      { service: 'deno-deploy', exporters: [exporter], afterResponse: 'await' },
    )
    const res = await handler(new Request('https://x.deno.dev/'))
    const reader = res.body!.getReader()
    expect(new TextDecoder().decode((await reader.read()).value)).toBe('tok')
    let closed = false
    const done = reader.read().then((r) => (closed = r.done))
    await new Promise((r) => setTimeout(r, 50))
    expect(closed).toBe(false) // held by the export
    exporter.release()
    await done
    expect(closed).toBe(true)
    expect(exporter.batches[0]!.spans[0]!.attributes['http.response.body.size']).toBe(3)
  })

  it('rejects a bad origin or afterResponse when wrapping, not per request', () => {
    const h = async () => new Response()
    expect(() => withTrace(h, { service: 's', propagation: { origin: 'not a url' } })).toThrow(TracehopError)
    expect(() => withTrace(h, { service: 's', afterResponse: 'later' as never })).toThrow(TracehopError)
  })
})
