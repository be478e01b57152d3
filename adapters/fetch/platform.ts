import type { WaitUntil } from '../../src/index.js'
import { findWaitUntil } from '../vercel/wait-until.js'

/**
 * What to do with the flush when the platform gives no `waitUntil`: `background` sends it
 * after the response while the process lives on (a long-running server); `await` holds
 * the end of the response until it is done (bounded by `flush.budgetMs`).
 */
export type AfterResponse = 'background' | 'await'

// Ref: Supabase Edge Runtime: `EdgeRuntime.waitUntil(promise)` is a global.
interface EdgeRuntimeLike {
  waitUntil(promise: Promise<unknown>): unknown
}

/**
 * The `waitUntil` of the current request: Supabase's `EdgeRuntime.waitUntil`, then the
 * handler's second argument (a Netlify Edge `context`, a Vercel `context` or `event`),
 * then the Vercel request context. `undefined` on `Deno.serve` (its second argument is
 * `info`), `Bun.serve` (the server) and Node (`{ incoming, outgoing }`).
 */
export function platformWaitUntil(second: unknown): WaitUntil | undefined {
  try {
    const edge = (globalThis as { EdgeRuntime?: unknown }).EdgeRuntime as EdgeRuntimeLike | undefined
    if (edge !== null && typeof edge === 'object' && typeof edge.waitUntil === 'function') {
      return (promise) => {
        edge.waitUntil(promise)
      }
    }
  } catch {
    // A hostile global: fall through to the other platforms.
  }
  return findWaitUntil(second)
}

interface DenoLike {
  permissions?: { querySync?(d: { name: 'env'; variable: string }): { state: string } }
  env?: { get(name: string): string | undefined }
}

interface ProcessLike {
  versions?: { node?: string }
  env?: Record<string, string | undefined>
}

/**
 * Without `waitUntil`, whether the process outlives the response. Yes for `Bun.serve`,
 * Node servers and a self-hosted `Deno.serve`; no on Deno Deploy and on Lambda (an
 * isolate or sandbox may be frozen once the response is out), nor on a runtime we do not
 * recognise: there the flush is awaited, which costs latency but loses nothing.
 */
export function detectAfterResponse(): AfterResponse {
  const g = globalThis as { Bun?: unknown; Deno?: DenoLike; process?: ProcessLike }
  try {
    if (g.Bun !== undefined) return 'background'
    const deno = g.Deno
    if (deno !== undefined) {
      // Never trigger a permission prompt: read the variable only where it is granted (Deploy grants it).
      const state = deno.permissions?.querySync?.({ name: 'env', variable: 'DENO_DEPLOYMENT_ID' }).state
      if (state === 'granted' && deno.env?.get('DENO_DEPLOYMENT_ID')) return 'await'
      return 'background'
    }
    const proc = g.process
    if (typeof proc?.versions?.node === 'string') {
      return proc.env?.['AWS_LAMBDA_FUNCTION_NAME'] ? 'await' : 'background'
    }
  } catch {
    // An unreadable environment: the safe choice.
  }
  return 'await'
}
