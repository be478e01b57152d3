import {
  createTracer,
  type OnConfigError,
  TracehopError,
  type Tracer,
  type TracerConfig,
} from '../../src/index.js'
import { buildOrUntraced, checkOnConfigError } from '../../src/internal.js'
import type { StreamingMode } from '../http/streamed-body.js'

/** Options of the Workers adapter, on top of the tracer's configuration. */
export interface WorkerOptions {
  /**
   * Which responses keep the server span open until their body has been sent:
   * `auto` (default) for bodies that look streamed (`text/event-stream`, NDJSON/JSON Lines,
   * `multipart/x-mixed-replace`, or an explicit `transfer-encoding: chunked`); `always` for
   * every body (e.g. a `text/plain` LLM token stream); `never` to end it at the return.
   * Spans that end inside a stream are kept either way: the flush waits for them.
   */
  readonly streaming?: StreamingMode
  /**
   * The route template a request matched (`/users/:id`), for Workers without a router that
   * names it (Hono's middleware does): names the server span `GET /users/:id` and sets
   * `http.route`. Without one the span is named by the method alone, as the OTel HTTP
   * conventions ask ("MUST NOT default to using URI path"); `url.path` has the path.
   *
   * @example
   * route: (request) => (new URL(request.url).pathname === '/chat' ? '/chat' : undefined)
   */
  readonly route?: (request: Request) => string | undefined
}

/** A tracer configuration plus the adapter's options. */
export type WorkerTracerConfig = TracerConfig & WorkerOptions

/**
 * The configuration `instrument()` and the Hono middleware take: an object, or a function
 * of `env` (where Workers keep secrets), resolved once per `env` object (once per isolate
 * on Workers), never per request.
 *
 * @example
 * const config: WorkerConfig<Env> = (env) => ({ service: 'gateway', exporters: [otlp({ url: env.OTLP_URL })] })
 */
// biome-ignore lint/suspicious/noExplicitAny: user-facing default: `env` is the user's own type (Hono and workers-types default Env to any too)
export type WorkerConfig<Env = any> = WorkerTracerConfig | ((env: Env) => WorkerTracerConfig)

/** @internal What a handler needs per invocation, resolved once per `env`. */
export interface Resolved {
  readonly tracer: Tracer
  readonly streaming: StreamingMode
  readonly route: ((request: Request) => string | undefined) | undefined
  /** True until the first invocation of this tracer has started (`faas.coldstart`). */
  coldStart: boolean
}

/** @internal */
export type Resolver<Env> = (env: Env) => Resolved

/**
 * What `instrument()` and the Hono middleware do when a configuration function throws:
 * `untraced` (default) serves requests untraced and logs the error once; `throw` fails them.
 * An object configuration is checked when the module loads and always throws.
 */
export interface ConfigErrorOptions {
  readonly onConfigError?: OnConfigError
}

function untracedResolved(tracer: Tracer): Resolved {
  return { tracer, streaming: 'auto', route: undefined, coldStart: true }
}

function resolveOnce(config: WorkerTracerConfig): Resolved {
  if (config === null || typeof config !== 'object') {
    throw new TracehopError('the config function must return a tracer config, e.g. { service: "gateway" }')
  }
  const streaming = config.streaming ?? 'auto'
  if (streaming !== 'auto' && streaming !== 'always' && streaming !== 'never') {
    throw new TracehopError(`streaming must be 'auto', 'always' or 'never', got ${String(streaming)}`)
  }
  const route = config.route
  if (route !== undefined && typeof route !== 'function') {
    throw new TracehopError(
      'route must be a function of the request returning its route template, e.g. (req) => "/users/:id"',
    )
  }
  return { tracer: createTracer(config), streaming, route, coldStart: true }
}

/**
 * @internal Turns a {@link WorkerConfig} into a resolver. An object is resolved now, so a
 * configuration mistake throws at module load; a function is resolved on first use of
 * each `env` object and cached in a WeakMap (no module-global per-request state).
 */
export function createResolver<Env>(config: WorkerConfig<Env>, options?: ConfigErrorOptions): Resolver<Env> {
  if (typeof config === 'function') {
    const mode = checkOnConfigError(options?.onConfigError)
    const byEnv = new WeakMap<object, Resolved>()
    let noEnv: Resolved | undefined
    // A function that throws (a missing secret in `env`) must not fail every request:
    // by default the tracer stands aside (logged once per env, counted in configErrors).
    const resolveEnv = (env: Env): Resolved =>
      buildOrUntraced(() => resolveOnce(config(env)), mode, untracedResolved)
    return function resolveTracer(env: Env): Resolved {
      if (env === null || (typeof env !== 'object' && typeof env !== 'function')) {
        return (noEnv ??= resolveEnv(env))
      }
      let r = byEnv.get(env)
      if (r === undefined) {
        r = resolveEnv(env)
        byEnv.set(env, r)
      }
      return r
    }
  }
  if (config === null || typeof config !== 'object') {
    throw new TracehopError('instrument() needs a config: { service: "name", … } or (env) => ({ … })')
  }
  const fixed = resolveOnce(config)
  return function resolveTracer(): Resolved {
    return fixed
  }
}
