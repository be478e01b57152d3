// An untraced producer: sends whatever body it is given with a plain `env.QUEUE.send`, the
// way any Worker with the binding (or a compromised one) can.

interface Env {
  readonly [queue: string]: { send(body: unknown, options?: { contentType?: string }): Promise<void> }
}

export default {
  async fetch(request: Request, env: Env): Promise<Response> {
    const { queue, body, contentType } = (await request.json()) as {
      queue: string
      body: unknown
      contentType?: string
    }
    await env[queue]!.send(body, contentType === undefined ? undefined : { contentType })
    return new Response('sent')
  },
}
