import type { Attributes, Scope, WaitUntil } from '../../src/index.js'
import { startServerScope } from '../http/server-span.js'
import type { Resolved } from './config.js'

/**
 * @internal The server scope of a request on Workers (the `instrument()`ed fetch handler and
 * the Hono middleware): the shared HTTP server span, plus `faas.coldstart` on the first
 * invocation of this tracer. `vouched`: false when the URL's host is the client's choice
 * (Hono on a Node server).
 */
export function startWorkerScope(
  resolved: Resolved,
  request: Request,
  owner: object | undefined,
  waitUntil: WaitUntil | undefined,
  vouched = true,
): Scope {
  let attributes: Attributes | undefined
  if (resolved.coldStart) {
    // Per tracer (per isolate and env), not a module global: only the first invocation.
    resolved.coldStart = false
    attributes = { 'faas.coldstart': true }
  }
  return startServerScope(resolved.tracer, request, {
    ...(owner !== undefined ? { owner } : {}),
    ...(waitUntil !== undefined ? { waitUntil } : {}),
    ...(attributes !== undefined ? { attributes } : {}),
    ...(vouched ? {} : { vouched: false }),
  })
}
