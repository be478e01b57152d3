// tracehop/fetch on a Node http server through @hono/node-server: the request URL is built
// from the client's Host header, so a hostile Host must not become "our" origin and receive
// trace headers; the configured `propagation.origin` (or `propagation.trustHostHeader`) decides.
// The flush runs after the response (the process lives on).
import { request as httpRequest } from 'node:http'
import type { AddressInfo } from 'node:net'
import { serve } from '@hono/node-server'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { traceOf, withTrace } from '../../adapters/fetch/index.js'
import { otlp, type PropagationConfig } from '../../src/index.js'
import { startEchoServer } from '../cloudflare/helpers/echo-server.js'
import { type OtlpReceiver, startOtlpReceiver } from '../support/otlp-receiver.js'

type Echo = Awaited<ReturnType<typeof startEchoServer>>
type Server = ReturnType<typeof serve>

let receiver: OtlpReceiver
let attacker: Echo
const servers: Server[] = []

const PARENT = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01'

/** A Node server whose handler calls back to `request.url` — the host the client named. */
async function startServer(propagation: PropagationConfig): Promise<string> {
  const handler = withTrace(
    async (request: Request) => {
      const res = await traceOf(request).fetch(new URL('/callback', request.url))
      return new Response(await res.text(), { headers: { 'content-type': 'application/json' } })
    },
    { service: 'node-api', exporters: [otlp({ url: receiver.url })], propagation },
  )
  const server = await new Promise<Server>((resolve) => {
    const s = serve({ fetch: handler, hostname: '127.0.0.1', port: 0 }, () => resolve(s))
  })
  servers.push(server)
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`
}

/** GET through node:http (fetch cannot set Host), with the given Host header and a traceparent. */
function get(server: string, host: string): Promise<Record<string, string>> {
  const url = new URL('/ask', server)
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      { hostname: url.hostname, port: url.port, path: url.pathname, headers: { host, traceparent: PARENT } },
      (res) => {
        let body = ''
        res.setEncoding('utf8')
        res.on('data', (c: string) => (body += c))
        res.on('end', () => (res.statusCode === 200 ? resolve(JSON.parse(body)) : reject(new Error(body))))
      },
    )
    req.on('error', reject)
    req.end()
  })
}

beforeAll(async () => {
  receiver = await startOtlpReceiver()
  attacker = await startEchoServer()
})

afterAll(async () => {
  for (const s of servers) await new Promise<void>((resolve) => s.close(() => resolve()))
  await attacker.close()
  await receiver.close()
})

describe('tracehop/fetch on a Node server (@hono/node-server)', () => {
  it('sends no trace headers to the host a hostile Host header names', async () => {
    const server = await startServer({})
    const received = await get(server, new URL(attacker.origin).host)
    expect(received['traceparent']).toBeUndefined()
    expect(received['langsmith-trace']).toBeUndefined()
    expect(received['baggage']).toBeUndefined()
    // The request itself is still traced and continues the caller's trace.
    await receiver.waitFor((spans) => spans.some((s) => s.service === 'node-api' && s.kind === 2))
    const span = receiver.spans.find((s) => s.service === 'node-api' && s.kind === 2)!
    expect(span.traceId).toBe('4bf92f3577b34da6a3ce929d0e0e4736')
    expect(span.parentSpanId).toBe('00f067aa0ba902b7')
  })

  it('sends them to a configured origin, whatever Host the client sent', async () => {
    const server = await startServer({ origin: [attacker.origin] })
    // The Host names the configured origin: trusted because we configured it, not because it was sent.
    const received = await get(server, new URL(attacker.origin).host)
    expect(received['traceparent']).toMatch(/^00-4bf92f3577b34da6a3ce929d0e0e4736-[0-9a-f]{16}-01$/)
  })

  it('trusts the Host header only when trustHostHeader is on', async () => {
    const server = await startServer({ trustHostHeader: true })
    const received = await get(server, new URL(attacker.origin).host)
    expect(received['traceparent']).toMatch(/^00-4bf92f3577b34da6a3ce929d0e0e4736-/)
  })

  it('answers before the export is done: a receiver holding the POST does not delay the response', async () => {
    receiver.clear()
    receiver.delayMs = 1500
    try {
      const server = await startServer({ origin: attacker.origin })
      await get(server, new URL(attacker.origin).host)
      expect(receiver.posts).toHaveLength(0) // still held by the receiver
      await receiver.waitFor((spans) => spans.filter((s) => s.service === 'node-api').length >= 2)
    } finally {
      receiver.delayMs = 0
    }
  })
})
