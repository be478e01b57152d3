// Same origin is where the platform vouches for it, never the client's Host header. A
// client sends `Host: <attacker>` and asks the service to fetch the attacker: a real Hono
// node-server and Lambda ALB / API Gateway events, with a real attacker server on 127.0.0.1.
import { request as httpRequest } from 'node:http'
import type { AddressInfo } from 'node:net'
import { serve } from '@hono/node-server'
import { Hono } from 'hono'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { type TracehopVariables, tracehop } from '../../adapters/hono/index.js'
import { traceOf, withTrace } from '../../adapters/lambda/index.js'
import { memoryExporter, type PropagationConfig } from '../../src/index.js'
import { fixture, lambdaContext } from '../lambda/helpers.js'
import { type HopServer, startHopServer, traceHeadersOf } from './helpers/hop-server.js'

const TP = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01'

let attacker: HopServer
let own: HopServer // stands for the service's own public origin (behind a proxy)

beforeAll(async () => {
  ;[attacker, own] = await Promise.all([startHopServer(), startHopServer()])
})
afterAll(async () => {
  await Promise.all([attacker.close(), own.close()])
})
beforeEach(() => {
  attacker.hits.length = 0
  own.hits.length = 0
})

/** A Hono app on @hono/node-server whose `/call?to=` fetches `to` through `span.fetch`. */
async function honoOnNode(propagation: PropagationConfig) {
  const app = new Hono<{ Variables: TracehopVariables }>()
  app.use(tracehop({ service: 'api', exporters: [memoryExporter()], flush: { windowMs: 0 }, propagation }))
  app.get('/call', async (c) => {
    const res = await c.var.span.fetch(c.req.query('to')!)
    return c.text(String(res.status))
  })
  const server = await new Promise<ReturnType<typeof serve>>((resolve) => {
    const s = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, () => resolve(s))
  })
  const port = (server.address() as AddressInfo).port
  return {
    /** GET `path` on the app with the given Host header, as a client chooses it. */
    get: (path: string, host: string) =>
      new Promise<number>((resolve, reject) => {
        const req = httpRequest(
          { host: '127.0.0.1', port, path, headers: { host, traceparent: TP } },
          (res) => {
            res.resume()
            res.on('end', () => resolve(res.statusCode ?? 0))
          },
        )
        req.on('error', reject)
        req.end()
      }),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  }
}

const hostOf = (origin: string) => new URL(origin).host

describe('Hono on @hono/node-server: the Host header does not make an origin ours', () => {
  it('Host: <attacker> and a call to the attacker: the attacker sees no trace header', async () => {
    const app = await honoOnNode({})
    try {
      const status = await app.get(
        `/call?to=${encodeURIComponent(`${attacker.origin}/steal`)}`,
        hostOf(attacker.origin),
      )
      expect(status).toBe(200)
      expect(attacker.hits).toHaveLength(1)
      expect(traceHeadersOf(attacker.hits[0]!)).toEqual({})
    } finally {
      await app.close()
    }
  })

  it('a configured origin is same origin whatever the Host; trustHostHeader opts back in to the Host', async () => {
    const configured = await honoOnNode({ origin: own.origin })
    try {
      await configured.get(
        `/call?to=${encodeURIComponent(`${attacker.origin}/steal`)}`,
        hostOf(attacker.origin),
      )
      await configured.get(`/call?to=${encodeURIComponent(`${own.origin}/self`)}`, hostOf(attacker.origin))
      expect(traceHeadersOf(attacker.hits[0]!)).toEqual({})
      expect(own.hits[0]!.headers['traceparent']).toMatch(/^00-0af7651916cd43dd8448eb211c80319c-/)
    } finally {
      await configured.close()
    }
    // The operator's opt-in (a proxy in front that sets Host itself): the Host is believed.
    const trusting = await honoOnNode({ trustHostHeader: true })
    try {
      await trusting.get(
        `/call?to=${encodeURIComponent(`${attacker.origin}/steal`)}`,
        hostOf(attacker.origin),
      )
      expect(attacker.hits[1]!.headers['traceparent']).toBeDefined()
    } finally {
      await trusting.close()
    }
  })
})

describe('Lambda behind ALB and API Gateway: the Host header does not make an origin ours', () => {
  function handler(propagation: PropagationConfig = {}) {
    return withTrace(
      async (_event: unknown, ctx: object) => {
        const span = traceOf(ctx)
        await (await span.fetch(`${attacker.origin}/steal`)).arrayBuffer()
        const headersFor = (origin: string) => span.headers(`${origin}/x`)
        return {
          statusCode: 200,
          body: JSON.stringify({
            domain: headersFor('https://puhdx84jy9.execute-api.eu-west-1.amazonaws.com'),
            // API Gateway events are https: what an https attacker at that Host would get.
            httpsHost: headersFor(`https://${hostOf(attacker.origin)}`),
          }),
        }
      },
      { service: 'fn', exporters: [memoryExporter()], flush: { windowMs: 0 }, propagation },
    )
  }

  it('ALB event with Host: <attacker>: no trace header reaches the attacker', async () => {
    const event = fixture('alb-base.json')
    event.headers.host = hostOf(attacker.origin)
    event.headers['x-forwarded-proto'] = 'http'
    event.headers.traceparent = TP
    await handler()(event, lambdaContext())
    expect(attacker.hits).toHaveLength(1)
    expect(traceHeadersOf(attacker.hits[0]!)).toEqual({})
    // Opted in, the ALB's Host is believed.
    await handler({ trustHostHeader: true })(event, lambdaContext())
    expect(attacker.hits[1]!.headers['traceparent']).toBeDefined()
  })

  it("API Gateway REST event with a hostile Host: the API's own domain is same origin, the Host is not", async () => {
    const event = fixture('apigw-rest-no-auth.json')
    event.headers.Host = hostOf(attacker.origin)
    event.multiValueHeaders.Host = [hostOf(attacker.origin)]
    event.headers.traceparent = TP
    const body = async () => JSON.parse(((await handler()(event, lambdaContext())) as { body: string }).body)
    const withDomain = await body()
    expect(traceHeadersOf(attacker.hits[0]!)).toEqual({})
    expect(withDomain.domain.traceparent).toBeDefined()
    expect(withDomain.httpsHost).toEqual({})
    // Without a domain in the event, the Host alone is not believed either.
    delete event.requestContext.domainName
    const withoutDomain = await body()
    expect(traceHeadersOf(attacker.hits[1]!)).toEqual({})
    expect(withoutDomain.httpsHost).toEqual({})
  })

  it('API Gateway HTTP API event with a hostile Host header: no trace header reaches the attacker', async () => {
    const event = fixture('apigw-http-no-auth.json')
    event.headers.host = hostOf(attacker.origin)
    event.headers.traceparent = TP
    await handler()(event, lambdaContext())
    expect(traceHeadersOf(attacker.hits[0]!)).toEqual({})
  })
})
