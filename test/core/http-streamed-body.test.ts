// The one streamed-body rule every HTTP adapter (Workers, Hono, Vercel) shares:
// adapters/http/streamed-body.ts.
import { describe, expect, it } from 'vitest'
import { endWithBody } from '../../adapters/http/streamed-body.js'
import { createTracer, memoryExporter } from '../../src/index.js'

function scopeOf() {
  const memory = memoryExporter()
  const tracer = createTracer({ service: 'http', exporters: [memory], flush: { windowMs: 0 } })
  return { memory, scope: tracer.start(undefined, { name: 'GET' }) }
}

function streamOf(chunks: string[]): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder()
  return new ReadableStream({
    pull(controller) {
      const next = chunks.shift()
      if (next === undefined) controller.close()
      else controller.enqueue(encoder.encode(next))
    },
  })
}

describe('endWithBody: which responses have a body to wait for', () => {
  const noBody: [string, () => Response, string][] = [
    ['a HEAD answer', () => new Response(streamOf(['x'])), 'HEAD'],
    ['204', () => new Response(null, { status: 204 }), 'GET'],
    ['205', () => new Response(null, { status: 205 }), 'GET'],
    ['304', () => new Response(null, { status: 304 }), 'GET'],
    ['a null body', () => new Response(null), 'GET'],
    [
      'a body already read',
      () => {
        const r = new Response('used')
        void r.text()
        return r
      },
      'GET',
    ],
  ]
  expect(noBody.length).toBe(6)

  it.each(noBody)('%s: the span ends with the response', async (_name, make, method) => {
    const { scope } = scopeOf()
    const response = make()
    const ended = endWithBody(scope, response, { method, streaming: 'always' })
    expect(ended.streamed).toBe(false)
    expect(ended.response).toBe(response)
    await ended.flushing
  })

  it('a streamed body: the span ends when it has been sent, with http.response.body.size', async () => {
    const { memory, scope } = scopeOf()
    const ended = endWithBody(scope, new Response(streamOf(['ab', 'cde'])), { method: 'GET' })
    expect(ended.streamed).toBe(true)
    expect(scope.root.ended).toBe(false)
    expect(await ended.response.text()).toBe('abcde')
    await ended.flushing
    expect(memory.spans()[0]!.attributes['http.response.body.size']).toBe(5)
  })

  it('a client that stops reading: the event http.response.body.cancelled, not an error', async () => {
    const { memory, scope } = scopeOf()
    const ended = endWithBody(scope, new Response(streamOf(['a', 'b', 'c'])), { method: 'GET' })
    const reader = ended.response.body!.getReader()
    await reader.read()
    await reader.cancel('client went away')
    await ended.flushing
    const root = memory.spans()[0]!
    expect(root.events.map((e) => [e.name, e.attributes?.['tracehop.reason']])).toEqual([
      ['http.response.body.cancelled', 'client went away'],
    ])
    expect(root.status.code).not.toBe(2)
  })

  it("streaming 'auto' follows only bodies that look streamed", async () => {
    const { scope } = scopeOf()
    const plain = endWithBody(scope, new Response('x', { headers: { 'content-type': 'text/plain' } }), {
      streaming: 'auto',
    })
    expect(plain.streamed).toBe(false)
    const sse = scopeOf()
    const stream = endWithBody(
      sse.scope,
      new Response(streamOf(['data: 1\n\n']), { headers: { 'content-type': 'text/event-stream' } }),
      { streaming: 'auto' },
    )
    expect(stream.streamed).toBe(true)
    await stream.response.text()
    await Promise.all([plain.flushing, stream.flushing])
  })
})
