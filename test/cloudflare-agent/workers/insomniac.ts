// The control: the same traced chat room, but its handler leaves a 60 s timer behind, so
// workerd cannot hibernate it. If the test could not tell the two apart, it would prove nothing.
import { instrument, traceOf } from '../../../adapters/cloudflare/index.js'
import { instrumentDurableObject } from '../../../adapters/cloudflare/websocket.js'
import { otlp } from '../../../src/index.js'
import { type ChatEnv, chatRoom } from './chat-room.js'

interface Env extends ChatEnv {
  readonly INSOMNIAC: {
    idFromName(n: string): unknown
    get(id: unknown): { fetch(r: Request): Promise<Response> }
  }
}

const config = (env: ChatEnv) => ({
  service: 'insomniac',
  exporters: [otlp({ url: env.OTLP_URL, encoding: 'json' as const })],
})

export const Insomniac = instrumentDurableObject(chatRoom(true), config)

export default instrument(
  {
    async fetch(request: Request, env: Env, ctx: object): Promise<Response> {
      traceOf(ctx)
      return env.INSOMNIAC.get(env.INSOMNIAC.idFromName('x')).fetch(request)
    },
  },
  config,
)
