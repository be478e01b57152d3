// docs/runtimes.md "Vercel Edge" runs in Vercel's edge-runtime VM, served over real HTTP by
// runServer, exporting to an OTLP receiver on 127.0.0.1 that replaces the sample's collector.
import { EdgeRuntime, runServer } from 'edge-runtime'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { KIND, type OtlpReceiver, startOtlpReceiver } from '../support/otlp-receiver.js'
import { bundleEdgeSample, docSample } from './samples.js'

type Server = Awaited<ReturnType<typeof runServer>>

let receiver: OtlpReceiver
let server: Server

beforeAll(async () => {
  receiver = await startOtlpReceiver()
  const code = await bundleEdgeSample(docSample('docs/runtimes.md', "route: '/api/chat' }"), {
    replace: { 'https://collector.example/v1/traces': receiver.url },
    globalName: 'route',
  })
  const runtime = new EdgeRuntime({
    initialCode: `${code}\naddEventListener('fetch', (event) => event.respondWith(route.POST(event.request)))`,
  })
  server = await runServer({ runtime, port: 0, host: '127.0.0.1' })
})
afterAll(async () => {
  await server?.close()
  await receiver?.close()
})

it('the Edge route answers, and its trace (POST /api/chat > agent) is exported before the response', async () => {
  const traceId = '4bf92f3577b34da6a3ce929d0e0e4736'
  const res = await fetch(`${server.url}api/chat`, {
    method: 'POST',
    headers: { traceparent: `00-${traceId}-00f067aa0ba902b7-01` },
  })
  expect(await res.json()).toEqual({ answer: 'hello' })
  // No waitUntil in this form: the flush was awaited before the response.
  const spans = receiver.spans.filter((s) => s.traceId === traceId)
  const server_ = spans.find((s) => s.kind === KIND.SERVER)
  expect(server_?.name).toBe('POST /api/chat')
  expect(server_?.service).toBe('orchestrator')
  expect(server_?.parentSpanId).toBe('00f067aa0ba902b7')
  const agent = spans.find((s) => s.name === 'agent')
  expect(agent?.parentSpanId).toBe(server_?.spanId)
})
