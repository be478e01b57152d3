// The end-to-end agent Worker: one traced request that calls MCP tools on another Worker
// (over a service binding, Streamable HTTP) and starts a two-step Workflow; the chat Durable
// Object with hibernating WebSockets is the one the other agent tests use.

import { WorkflowEntrypoint } from 'cloudflare:workers'
import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js'
import {
  instrument,
  instrumentDurableObject,
  instrumentWorkflow,
  traced,
  traceOf,
  type WorkflowLike,
} from '../../../adapters/cloudflare/index.js'
import { traceMcp } from '../../../adapters/mcp/index.js'
import { otlp } from '../../../src/index.js'
import { type ChatEnv, chatRoom } from './chat-room.js'

interface Fetcher {
  fetch(input: RequestInfo | URL, init?: RequestInit): Promise<Response>
}
interface Namespace {
  idFromName(name: string): unknown
  get(id: unknown): Fetcher
}
interface Env extends ChatEnv {
  readonly CHAT: Namespace
  readonly FLOW: WorkflowLike
  readonly MCP: Fetcher
}

interface Step {
  do<T>(name: string, cb: () => Promise<T>): Promise<T>
}

const config = (service: string) => (env: ChatEnv) => ({
  service,
  exporters: [otlp({ url: env.OTLP_URL, encoding: 'json' as const })],
})

export const ChatRoom = instrumentDurableObject(chatRoom(false), config('chat'))

class ResearchFlow extends WorkflowEntrypoint<Env, { hits: string[] }> {
  override async run(
    event: { readonly payload: Readonly<{ hits: string[] }>; readonly instanceId: string },
    s: unknown,
  ) {
    const step = s as Step
    const ranked = await step.do('rank', async () => [...event.payload.hits].sort())
    const answer = await step.do('summarize', async () => ranked.join('; '))
    return { answer }
  }
}
export const ResearchFlowTraced = instrumentWorkflow(ResearchFlow, config('flow'))

export default instrument(
  {
    async fetch(request: Request, env: Env, ctx: object): Promise<Response> {
      const url = new URL(request.url)
      const span = traceOf(ctx)
      if (url.pathname === '/turn') {
        // The agent's tool calls: one MCP session over Streamable HTTP to the tools Worker,
        // a first call, then three in parallel; each call carries its context in `_meta`.
        const client = new Client({ name: 'e2e-agent', version: '1.0.0' })
        const transport = new StreamableHTTPClientTransport(new URL('http://tools.internal/mcp'), {
          fetch: (input, init) => env.MCP.fetch(input, init),
        })
        await client.connect(traceMcp(transport, span))
        const texts: string[] = []
        const first = await client.callTool({ name: 'search', arguments: { q: 'sky' } })
        texts.push((first.content as { text: string }[])[0]?.text ?? '')
        const parallel = await Promise.all(
          ['blue', 'rayleigh', 'scattering'].map((q) =>
            client.callTool({ name: 'search', arguments: { q } }),
          ),
        )
        for (const r of parallel) texts.push((r.content as { text: string }[])[0]?.text ?? '')
        await client.close()
        const instance = await traced(env.FLOW, span, { name: 'research' }).create({
          params: { hits: texts },
        })
        return Response.json({ traceId: span.traceId, spanId: span.spanId, instanceId: instance.id, texts })
      }
      if (url.pathname === '/chat') {
        const stub = env.CHAT.get(env.CHAT.idFromName(url.searchParams.get('room') ?? 'lobby'))
        return traced(stub, span, { name: 'chat' }).fetch(request)
      }
      if (url.pathname === '/flow/status') {
        const instance = await env.FLOW.get(url.searchParams.get('id') ?? '')
        return Response.json(await instance.status())
      }
      return new Response('not found', { status: 404 })
    },
  },
  config('agent'),
)
