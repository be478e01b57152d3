import type { Attributes, Scope, WaitUntil } from '../../src/index.js'
import type { Writable } from '../../src/internal.js'
import { type ServerScopeOptions, startServerScope } from '../http/server-span.js'

const COLD_START: Attributes = Object.freeze({ 'faas.coldstart': true })

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
  // Built field by field (no spread copies): this runs on every request.
  const options: Writable<ServerScopeOptions> = {}
  if (resolved.coldStart) {
    // Per tracer (per isolate and env), not a module global: only the first invocation.
    resolved.coldStart = false
    options.attributes = COLD_START
  }
  if (owner !== undefined) options.owner = owner
  if (waitUntil !== undefined) options.waitUntil = waitUntil
  if (!vouched) options.vouched = false
  return startServerScope(resolved.tracer, request, options)
}
