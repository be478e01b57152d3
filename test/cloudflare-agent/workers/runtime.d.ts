// The slice of the workerd runtime the agent test Workers use, declared structurally (the
// full types live in @cloudflare/workers-types, which the repo loads for reference only).
declare module 'cloudflare:workers' {
  export abstract class WorkflowEntrypoint<Env = unknown, Params = unknown> {
    protected readonly ctx: { waitUntil(promise: Promise<unknown>): void }
    protected readonly env: Env
    constructor(ctx: unknown, env: Env)
    run(
      event: { readonly payload: Readonly<Params>; readonly instanceId: string },
      step: unknown,
    ): Promise<unknown>
  }
}

/** A workerd WebSocket with the hibernation API's attachment methods. */
interface HibernatableWebSocket extends WebSocket {
  serializeAttachment(value: unknown): void
  deserializeAttachment(): any
}

declare const WebSocketPair: { new (): { 0: WebSocket; 1: HibernatableWebSocket } }
