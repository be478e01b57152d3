// Secrets in URLs, in Node: the redaction rules, the config that extends them, span.fetch's
// client span against a real server on 127.0.0.1, the Hono middleware on Node, and Lambda.
import { Hono } from 'hono'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type TracehopVariables, tracehop } from '../../adapters/hono/index.js'
import { traceOf, withTrace } from '../../adapters/lambda/index.js'
import {
  createTracer,
  DEFAULT_REDACTED_QUERY_PARAMS,
  memoryExporter,
  TracehopError,
} from '../../src/index.js'
import { redactQuery, redactUrl, resolveRedaction } from '../../src/redact-url.js'
import { fixture, lambdaContext } from '../lambda/helpers.js'
import { type RecordingServer, startRecordingServer } from '../support/recording-server.js'

const defaults = resolveRedaction(undefined)
let upstream: RecordingServer
let base: string

beforeAll(async () => {
  upstream = await startRecordingServer()
  base = upstream.url
})

afterAll(async () => {
  await upstream?.close()
})

describe('redaction rules', () => {
  it('redacts userinfo as REDACTED:REDACTED@ (OTel semconv)', () => {
    expect(redactUrl(new URL('https://alice:pw@api.example/x?a=1'), defaults)).toBe(
      'https://REDACTED:REDACTED@api.example/x?a=1',
    )
    expect(redactUrl(new URL('https://alice@api.example/'), defaults)).toBe(
      'https://REDACTED:REDACTED@api.example/',
    )
  })

  it.each(DEFAULT_REDACTED_QUERY_PARAMS)('redacts the value of %s by default, in any case', (name) => {
    expect(redactQuery(`a=1&${name}=s3cret&b=2`, defaults)).toBe(`a=1&${name}=REDACTED&b=2`)
    expect(redactQuery(`${name.toLowerCase()}=s3cret`, defaults)).toBe(`${name.toLowerCase()}=REDACTED`)
  })

  it('matches percent-encoded names, keeps the fragment, the other values and their order', () => {
    expect(redactUrl(new URL('https://s3.example/o?X%2DAmz%2DSignature=abc&v=1#frag'), defaults)).toBe(
      'https://s3.example/o?X%2DAmz%2DSignature=REDACTED&v=1#frag',
    )
  })

  it('hands back the very string when there is nothing to redact', () => {
    const q = 'page=2&sort=asc'
    expect(redactQuery(q, defaults)).toBe(q)
    expect(redactQuery('just-a-flag', defaults)).toBe('just-a-flag')
    const url = new URL('https://api.example/p?page=2')
    expect(redactUrl(url, defaults)).toBe(url.href)
  })

  it('adds the names of config.redact.queryParams, and says what is wrong with a bad one', () => {
    const tracer = createTracer({ service: 's', redact: { queryParams: ['token'] } })
    expect(redactQuery('token=t&sig=s&q=1', tracer.config.redact)).toBe('token=REDACTED&sig=REDACTED&q=1')
    for (const redact of [{ queryParams: 'token' }, { queryParams: [''] }, { queryParams: [42] }, 'token']) {
      expect(() => createTracer({ service: 's', redact: redact as never })).toThrow(TracehopError)
    }
  })
})

describe('span.fetch client spans', () => {
  it('record url.full without signed values; the server receives the real URL; the name is METHOD host', async () => {
    const memory = memoryExporter()
    const tracer = createTracer({ service: 'client', exporters: [memory], flush: { windowMs: 0 } })
    const scope = tracer.start(undefined, { name: 'job' })
    const before = upstream.received.length
    await scope.root.fetch(`${base}/obj?X-Amz-Signature=sigsecret&X-Amz-Security-Token=tok&keep=1`)
    await scope.end()
    const client = memory.spans().find((s) => s.kind === 2)!
    expect(client.attributes['url.full']).toBe(
      `${base}/obj?X-Amz-Signature=REDACTED&X-Amz-Security-Token=REDACTED&keep=1`,
    )
    expect(client.name).toBe(`GET ${new URL(base).host}`)
    expect(JSON.stringify(memory.spans())).not.toMatch(/sigsecret|=tok&/)
    expect(upstream.received.slice(before)).toEqual([
      '/obj?X-Amz-Signature=sigsecret&X-Amz-Security-Token=tok&keep=1',
    ])
  })
})

describe('Hono on Node', () => {
  it('server span: url.full and url.query redacted, config names included', async () => {
    const memory = memoryExporter()
    const app = new Hono<{ Variables: TracehopVariables }>()
    app.use(tracehop({ service: 'hono-node', exporters: [memory], redact: { queryParams: ['api_key'] } }))
    app.get('/files/:id', (c) => c.text('ok'))
    const res = await app.request('http://api.example/files/7?Signature=s1gned&api_key=k3y&page=1')
    expect(res.status).toBe(200)
    const [server] = memory.spans()
    expect(server!.name).toBe('GET /files/:id')
    expect(server!.attributes['url.query']).toBe('Signature=REDACTED&api_key=REDACTED&page=1')
    expect(server!.attributes['url.full']).toBe(
      'http://api.example/files/7?Signature=REDACTED&api_key=REDACTED&page=1',
    )
    expect(JSON.stringify(memory.spans())).not.toMatch(/s1gned|k3y/)
  })
})

describe('Lambda', () => {
  it('an HTTP event with a signed query and a span.fetch keep no secret in any span', async () => {
    const memory = memoryExporter()
    const event = fixture('apigw-http-no-auth.json')
    event.rawQueryString = 'sig=lambdasecret&page=1'
    event.queryStringParameters = { sig: 'lambdasecret', page: '1' }
    const handler = withTrace(
      async (_e: unknown, context) => {
        const res = await traceOf(context).fetch(`${base}/l?X-Goog-Signature=googsecret`)
        return { statusCode: 200, body: await res.text() }
      },
      { service: 'lambda-redact', exporters: [memory] },
    )
    expect((await handler(event, lambdaContext())).statusCode).toBe(200)
    const spans = memory.spans()
    expect(spans.length).toBe(2)
    expect(spans.find((s) => s.kind === 2)!.attributes['url.full']).toBe(
      `${base}/l?X-Goog-Signature=REDACTED`,
    )
    expect(JSON.stringify(spans)).not.toMatch(/lambdasecret|googsecret/)
  })
})
