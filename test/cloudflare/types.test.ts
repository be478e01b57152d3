// "Keeps its types": a Worker written the way users write one — @cloudflare/workers-types
// globals, no DOM lib — passes its handlers, bindings and classes through tracehop and
// type-checks unchanged. Compiled with the TypeScript compiler API.
import { mkdirSync, writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import ts from 'typescript'
import { describe, expect, it } from 'vitest'

const root = fileURLToPath(new URL('../../', import.meta.url))
const dir = `${root}node_modules/.cache/tracehop-workers-types/`

const USER_WORKER = `
import { Hono } from 'hono'
import { DurableObject, WorkerEntrypoint } from 'cloudflare:workers'
import { instrument, traceOf, traced } from '../../../adapters/cloudflare/index.js'
import { tracehop, type TracehopVariables } from '../../../adapters/hono/index.js'

interface Env { NAME: string; JOBS: Queue<{ doc: number }>; ORCHESTRATOR: Fetcher<Orchestrator>; ROOMS: DurableObjectNamespace<Room> }

export class Orchestrator extends WorkerEntrypoint<Env> {
  async plan(question: string): Promise<string> { return traceOf(this.ctx).child('plan', () => question) }
}
export class Room extends DurableObject<Env> {
  async join(user: string): Promise<number> { return user.length }
}

const handler: ExportedHandler<Env, { doc: number }> = {
  async fetch(request, env, ctx) {
    const span = traceOf(ctx)
    await traced(env.JOBS, span, { name: 'jobs' }).send({ doc: 42 })
    const plan: string = await traced(env.ORCHESTRATOR, span).plan('q')
    const seats: number = await traced(env.ROOMS.get(env.ROOMS.idFromName('a')), span).join('me')
    return traced(env.ORCHESTRATOR, traceOf(request)).fetch(request.url, { body: plan + seats })
  },
  async queue(batch, _env, _ctx) {
    for (const msg of batch.messages) {
      const doc: number = msg.body.doc
      traceOf(msg).set('doc', doc)
      msg.ack()
    }
  },
  async scheduled(controller, _env, ctx) {
    traceOf(controller).set('cron', controller.cron)
    ctx.waitUntil(Promise.resolve())
  },
}
export default instrument(handler, (env: Env) => ({ service: env.NAME }))
export const TracedOrchestrator: typeof Orchestrator = instrument(Orchestrator, { service: 'orchestrator' })
export const TracedRoom: typeof Room = instrument(Room, { service: 'rooms' })

export const inline = instrument(
  {
    async fetch(request, env, ctx) {
      ctx.passThroughOnException()
      return new Response(env.NAME + String(request.cf?.colo))
    },
  },
  (env: Env) => ({ service: env.NAME }),
)

const app = new Hono<{ Bindings: Env; Variables: TracehopVariables }>()
app.use(tracehop((env: Env) => ({ service: env.NAME })))
app.get('/users/:id', (c) => c.text(c.var.span.traceId + c.var.scope.traceId))
export const honoWorker = instrument(app, (env: Env) => ({ service: env.NAME }))
`

describe('types with @cloudflare/workers-types', () => {
  it('a Worker typed with the platform types passes through instrument/traced/traceOf/tracehop unchanged', () => {
    mkdirSync(dir, { recursive: true })
    const file = `${dir}worker.ts`
    writeFileSync(file, USER_WORKER)
    const program = ts.createProgram([file], {
      target: ts.ScriptTarget.ES2022,
      module: ts.ModuleKind.ESNext,
      moduleResolution: ts.ModuleResolutionKind.Bundler,
      lib: ['lib.es2022.d.ts'],
      types: ['@cloudflare/workers-types'],
      typeRoots: [`${root}node_modules/@types`, `${root}node_modules`],
      strict: true,
      exactOptionalPropertyTypes: true,
      noUncheckedIndexedAccess: true,
      skipLibCheck: true,
      noEmit: true,
    })
    // Only the user's file and the adapters' public surface are judged here.
    const diagnostics = ts
      .getPreEmitDiagnostics(program)
      .filter(
        (d) => d.file === undefined || d.file.fileName === file || d.file.fileName.includes('/adapters/'),
      )
      .map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'))
    expect(diagnostics).toEqual([])
  }, 30_000)
})
