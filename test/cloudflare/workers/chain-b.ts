// Worker B: a WorkerEntrypoint (fetch + RPC) and a Durable Object, both instrument()ed.
import { DurableObject, WorkerEntrypoint } from 'cloudflare:workers'
import {
  instrument,
  type QueueLike,
  traced,
  traceOf,
  type WorkerConfig,
} from '../../../adapters/cloudflare/index.js'
import { otlp } from '../../../src/index.js'

interface Env {
  OTLP_URL: string
  Q: QueueLike
}

const config: WorkerConfig<Env> = (env) => ({
  service: 'b',
  // The test's paths are its routes (a fixed set): spans are named `GET /child`.
  route: (request: Request) => new URL(request.url).pathname,
  exporters: [otlp({ url: env.OTLP_URL, encoding: 'json' })],
  log: () => {},
})

class B extends WorkerEntrypoint<Env> {
  async fetch(request: Request): Promise<Response> {
    const span = traceOf(request)
    const jobs = traced(this.env.Q, span, { name: 'jobs' })
    await jobs.send({ n: 1, from: 'b' })
    await jobs.sendBatch([{ body: { n: 2 } }, { body: { n: 3 }, contentType: 'json' }])
    return new Response('b ok')
  }

  async hello(name: string, n: number): Promise<{ greeting: string; argc: number; helper: string }> {
    // biome-ignore lint/complexity/noArguments: the test checks the marker was stripped.
    const argc = arguments.length
    traceOf(this.ctx).set('test.argc', argc)
    return { greeting: `hello ${name} x${n}`, argc, helper: await this.helper(name) }
  }

  /** Called by hello(): an internal call, not an RPC hop (no span of its own). */
  async helper(name: string): Promise<string> {
    return name.toUpperCase()
  }
}

export default instrument(B, config)

class CounterObject extends DurableObject<Env> {
  private value = 0

  async increment(by: number): Promise<{ value: number; argc: number }> {
    this.value += by
    // biome-ignore lint/complexity/noArguments: the test checks the marker was stripped.
    return { value: this.value, argc: arguments.length }
  }

  async fetch(request: Request): Promise<Response> {
    traceOf(request).set('test.value', this.value)
    return new Response(`count ${this.value}`)
  }
}

export const Counter = instrument(CounterObject, config)
