// Starts the agent test Workers in workerd (miniflare) with spans exported over real HTTP
// to an OTLP/JSON receiver on 127.0.0.1, and opens WebSockets to them.
import { Miniflare } from 'miniflare'
import { type OtlpReceiver, type ReceivedSpan, startOtlpReceiver } from '../../support/otlp-receiver.js'
import { bundleWorker } from '../../support/workerd-bundle.js'

export interface Harness {
  readonly mf: Miniflare
  readonly receiver: OtlpReceiver
  fetch(path: string, init?: RequestInit, worker?: string): Promise<Response>
  close(): Promise<void>
}

export async function startHarness(): Promise<Harness> {
  const receiver = await startOtlpReceiver()
  const [agent, insomniac] = await Promise.all([
    bundleWorker('test/cloudflare-agent/workers/agent.ts'),
    bundleWorker('test/cloudflare-agent/workers/insomniac.ts'),
  ])
  const common = { modules: true, compatibilityDate: '2025-09-01', bindings: { OTLP_URL: receiver.url } }
  const mf = new Miniflare({
    workers: [
      {
        name: 'agent',
        ...common,
        script: agent,
        durableObjects: { CHAT: 'ChatRoom' },
        workflows: {
          FLOW: { name: 'agent-flow', className: 'AgentFlowTraced' },
          ECHO: { name: 'echo', className: 'EchoFlowTraced' },
        },
      },
      { name: 'insomniac', ...common, script: insomniac, durableObjects: { INSOMNIAC: 'Insomniac' } },
    ],
  })
  await mf.ready
  return {
    mf,
    receiver,
    async fetch(path, init, worker = 'agent') {
      const w = await mf.getWorker(worker)
      return (await w.fetch(`http://agent.test${path}`, init as never)) as unknown as Response
    },
    async close() {
      await mf.dispose()
      await receiver.close()
    },
  }
}

/** A client end of a WebSocket: `send` resolves with the next reply, parsed as JSON. */
export interface ChatSocket {
  send(message: string | ArrayBuffer): Promise<any>
  close(code: number, reason: string): void
}

export async function openSocket(response: Response): Promise<ChatSocket> {
  const ws = (response as unknown as { webSocket: (WebSocket & { accept(): void }) | null }).webSocket
  if (response.status !== 101 || ws === null) throw new Error(`no WebSocket: HTTP ${response.status}`)
  ws.accept()
  const replies: any[] = []
  const waiters: (() => void)[] = []
  ws.addEventListener('message', (e: MessageEvent) => {
    replies.push(JSON.parse(String(e.data)))
    waiters.shift()?.()
  })
  let next = 0
  return {
    async send(message) {
      const index = next++
      ws.send(message)
      // Generous: two workerd-heavy test files may share this machine's two cores.
      const until = Date.now() + 20_000
      while (replies.length <= index) {
        if (Date.now() > until) throw new Error('no reply within 20 s')
        await new Promise<void>((resolve) => {
          waiters.push(resolve)
          setTimeout(resolve, 100)
        })
      }
      return replies[index]
    },
    close(code, reason) {
      ws.close(code, reason)
    },
  }
}

export function only(
  spans: readonly ReceivedSpan[],
  pred: (s: ReceivedSpan) => boolean,
  what: string,
): ReceivedSpan {
  const found = spans.filter(pred)
  if (found.length !== 1) throw new Error(`expected one ${what}, found ${found.length}`)
  return found[0]!
}

export function traceparent(traceId: string, spanId: string): string {
  return `00-${traceId}-${spanId}-01`
}

export function randomHex(bytes: number): string {
  const b = crypto.getRandomValues(new Uint8Array(bytes))
  let s = ''
  for (const x of b) s += x.toString(16).padStart(2, '0')
  return s
}
