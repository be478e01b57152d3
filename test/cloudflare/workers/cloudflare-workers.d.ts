// The slice of `cloudflare:workers` the test Workers use (workerd provides the module; the
// full types live in @cloudflare/workers-types, which this repo loads for reference only).
declare module 'cloudflare:workers' {
  interface WaitUntilContext {
    waitUntil(promise: Promise<unknown>): void
  }
  export abstract class WorkerEntrypoint<Env = unknown> {
    protected readonly ctx: WaitUntilContext
    protected readonly env: Env
    constructor(ctx: WaitUntilContext, env: Env)
  }
  export abstract class DurableObject<Env = unknown> {
    protected readonly ctx: WaitUntilContext
    protected readonly env: Env
    constructor(ctx: WaitUntilContext, env: Env)
  }
}
