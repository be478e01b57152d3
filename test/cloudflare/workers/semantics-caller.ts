// Calls semantics-rpc.ts over a service binding (Workers RPC) and a Durable Object stub,
// with the raw bindings: no tracehop marker travels, as from any caller that is not traced.

interface Api {
  add(a: number, b: number, tag: string): Promise<number>
  fail(tag: string): Promise<never>
  configCalls(): Promise<number>
  fetch(input: string): Promise<Response>
}
interface RoomStub {
  slow(args: { ms: number; tag: string }): Promise<string>
  configCalls(): Promise<number>
}
interface Env {
  API: Api
  ROOM: { idFromName(name: string): unknown; get(id: unknown): RoomStub }
}

export default {
  async fetch(request: Request, env: Env): Promise<Response> {
    const url = new URL(request.url)
    const tag = url.searchParams.get('tag') ?? ''
    const n = Number(url.searchParams.get('n') ?? 1)
    const room = env.ROOM.get(env.ROOM.idFromName(url.searchParams.get('room') ?? 'one'))
    switch (url.pathname) {
      case '/rpc': {
        const sums: number[] = []
        for (let i = 0; i < n; i++) sums.push(await env.API.add(i, 1, tag))
        const r = await env.API.fetch(`https://api.internal/?tag=${tag}`)
        return Response.json({ sums, text: await r.text() })
      }
      case '/rpc-fail':
        try {
          await env.API.fail(tag)
          return Response.json({ threw: false })
        } catch (err) {
          return Response.json({ threw: true, message: String((err as Error).message) })
        }
      case '/do-concurrent': {
        const settled = await Promise.allSettled(
          Array.from({ length: n }, (_, i) => room.slow({ ms: 60, tag: `${tag}-${i}` })),
        )
        return Response.json(
          settled.map((s) => (s.status === 'fulfilled' ? { ok: s.value } : { error: String(s.reason) })),
        )
      }
      case '/do-sequential': {
        const ids: string[] = []
        for (let i = 0; i < n; i++) ids.push(await room.slow({ ms: 1, tag: `${tag}-${i}` }))
        return Response.json(ids)
      }
      case '/config':
        return Response.json({ api: await env.API.configCalls(), room: await room.configCalls() })
      default:
        return new Response('not found', { status: 404 })
    }
  },
}
