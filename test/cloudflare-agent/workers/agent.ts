// The agent test Worker: a gateway (`instrument`) that opens a chat socket to a Durable
// Object with hibernating WebSockets and starts Workflows, all in one trace.
import { WorkflowEntrypoint } from 'cloudflare:workers'
import { instrument, traced, traceOf } from '../../../adapters/cloudflare/index.js'
import { instrumentDurableObject } from '../../../adapters/cloudflare/websocket.js'
import { instrumentWorkflow, type WorkflowLike } from '../../../adapters/cloudflare/workflow.js'
import { otlp } from '../../../src/index.js'
import { type ChatEnv, chatRoom } from './chat-room.js'

interface Stub {
  fetch(input: RequestInfo | URL, init?: RequestInit): Promise<Response>
}
interface Namespace {
  idFromName(name: string): unknown
  get(id: unknown): Stub
}
interface Env extends ChatEnv {
  readonly CHAT: Namespace
  readonly FLOW: WorkflowLike
  readonly ECHO: WorkflowLike
}

const config = (service: string) => (env: ChatEnv) => ({
  service,
  exporters: [otlp({ url: env.OTLP_URL, encoding: 'json' as const })],
})

export const ChatRoom = instrumentDurableObject(chatRoom(false), config('chat'))

interface Step {
  do<T>(name: string, cb: (ctx: object) => Promise<T>): Promise<T>
  do<T>(name: string, config: object, cb: (ctx: { attempt: number }) => Promise<T>): Promise<T>
  sleep(name: string, duration: number | string): Promise<void>
  waitForEvent(name: string, options: { type: string; timeout?: string }): Promise<{ payload: unknown }>
}

class AgentFlow extends WorkflowEntrypoint<Env, { q: string }> {
  override async run(
    event: { readonly payload: Readonly<{ q: string }>; readonly instanceId: string },
    s: unknown,
  ) {
    const step = s as Step
    const payload = event.payload
    const plan = await step.do('plan', async (ctx) =>
      traceOf(ctx).child('llm plan', async (span) => {
        span.set('gen_ai.request.model', 'stub-1')
        return { plan: `answer ${payload.q}` }
      }),
    )
    await step.sleep('nap', 20)
    const approval = await step.waitForEvent('approval', { type: 'approve', timeout: '1 minute' })
    const act = await step.do(
      'act',
      { retries: { limit: 2, delay: 0, backoff: 'constant' } },
      async (ctx: { attempt: number }) => {
        if (ctx.attempt === 1) throw new Error('flaky tool')
        return 'done'
      },
    )
    return { payload, plan, approval: approval.payload, act, runSpan: traceOf(event).spanId }
  }
}
export const AgentFlowTraced = instrumentWorkflow(AgentFlow, config('flow'))

class EchoFlow extends WorkflowEntrypoint<Env, unknown> {
  override async run(event: { readonly payload: unknown; readonly instanceId: string }, s: unknown) {
    const step = s as Step
    const span = traceOf(event)
    const echoed = await step.do('echo', async () => ({ payload: event.payload }))
    return {
      payload: event.payload,
      echoed: echoed.payload,
      traceId: span.traceId,
      parentSpanId: span.parentSpanId ?? null,
      invalid: span.scope.tracer.stats().invalid,
    }
  }
}
export const EchoFlowTraced = instrumentWorkflow(EchoFlow, config('echo'))

const HOSTILE_PARAMS: Record<string, unknown> = {
  plain: { q: 'no envelope' },
  'ctx-wrong-type': { __tracehop: 1, ctx: 42, body: { q: 'a' } },
  'bad-traceparent': { __tracehop: 1, ctx: { traceparent: '00-nothex-01' }, body: { q: 'b' } },
  huge: { __tracehop: 1, ctx: { traceparent: `00-${'a'.repeat(10_000)}` }, body: { q: 'c' } },
  'no-body': {
    __tracehop: 1,
    ctx: { traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01' },
  },
  'not-an-object': 'just a string',
}

export default instrument(
  {
    async fetch(request: Request, env: Env, ctx: object): Promise<Response> {
      const url = new URL(request.url)
      const span = traceOf(ctx)
      const q = url.searchParams
      switch (url.pathname) {
        case '/chat': {
          const stub = env.CHAT.get(env.CHAT.idFromName(q.get('room') ?? 'lobby'))
          return traced(stub, span, { name: 'chat' }).fetch(request)
        }
        case '/probe': {
          const stub = env.CHAT.get(env.CHAT.idFromName(q.get('room') ?? 'lobby'))
          return stub.fetch('http://do/probe')
        }
        case '/flow/start': {
          const instance = await traced(env.FLOW, span, { name: 'agent-flow' }).create({
            id: q.get('id') ?? undefined,
            params: { q: 'why is the sky blue' },
          })
          return Response.json({ id: instance.id, traceId: span.traceId, spanId: span.spanId })
        }
        case '/echo/start': {
          const kind = q.get('kind') ?? 'plain'
          const instance = await env.ECHO.create({ id: q.get('id'), params: HOSTILE_PARAMS[kind] })
          return Response.json({ id: instance.id })
        }
        case '/echo/traced': {
          const instance = await traced(env.ECHO, span, { name: 'echo' }).create({ id: q.get('id') })
          return Response.json({ id: instance.id, traceId: span.traceId })
        }
      }
      const binding = url.pathname.startsWith('/echo/') ? env.ECHO : env.FLOW
      const instance = await binding.get(q.get('id') ?? '')
      switch (url.pathname.slice(url.pathname.lastIndexOf('/') + 1)) {
        case 'status':
          return Response.json(await instance.status())
        case 'pause':
          await instance.pause()
          return new Response('ok')
        case 'resume':
          await instance.resume()
          return new Response('ok')
        case 'event':
          await instance.sendEvent({ type: 'approve', payload: { approved: true } })
          return new Response('ok')
      }
      return new Response('not found', { status: 404 })
    },
  },
  config('gateway'),
)
