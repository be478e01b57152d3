// A WorkerEntrypoint (RPC methods + fetch) and a Durable Object, both instrument()ed, for
// workers-semantics.test.ts. The config function counts its calls: it must run once per env.
import { DurableObject, WorkerEntrypoint } from 'cloudflare:workers'
import { instrument, traceOf, type WorkerConfig } from '../../../adapters/cloudflare/index.js'
import { otlp } from '../../../src/index.js'

interface Env {
  OTLP_URL: string
}

/** Calls of the config function in this isolate (test instrumentation, not request state). */
let configCalls = 0

const config: WorkerConfig<Env> = (env) => {
  configCalls++
  return {
    service: 'semantics-rpc',
    // The test's paths are its routes (a fixed set): spans are named `GET /child`.
    route: (request: Request) => new URL(request.url).pathname,
    exporters: [otlp({ url: env.OTLP_URL, encoding: 'json' })],
    log: () => {},
  }
}

class Api extends WorkerEntrypoint<Env> {
  async add(a: number, b: number, tag: string): Promise<number> {
    traceOf(this.ctx).set('test.tag', tag)
    return a + b
  }

  async fail(tag: string): Promise<never> {
    traceOf(this.ctx).set('test.tag', tag)
    throw new TypeError('rpc failed')
  }

  async configCalls(): Promise<number> {
    return configCalls
  }

  async fetch(request: Request): Promise<Response> {
    traceOf(request).set('test.tag', new URL(request.url).searchParams.get('tag') ?? '')
    return new Response('api')
  }
}

export default instrument(Api, config)

class RoomObject extends DurableObject<Env> {
  /**
   * Awaits a timer, so calls to one object interleave. Each call finds its own span from its
   * (freshly deserialized) argument, as the adapter documents for Durable Objects.
   */
  async slow(args: { ms: number; tag: string }): Promise<string> {
    const span = traceOf(args)
    span.set('test.tag', args.tag)
    await new Promise((r) => setTimeout(r, args.ms))
    return span.spanId
  }

  async configCalls(): Promise<number> {
    return configCalls
  }
}

export const Room = instrument(RoomObject, config)
