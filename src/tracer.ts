import {
  type BaggageConfig,
  type BaggagePolicy,
  filterOutgoing,
  resolveBaggagePolicy,
} from './baggage-policy.js'
import { type CarrierInput, type CarrierSetter, recordSetter, toCarrier } from './carrier.js'
import { CheckedContext } from './checked-context.js'
import { checkNumber, describeValue } from './config-values.js'
import { type DestinationPolicy, type DestinationRule, normalizeRule } from './destinations.js'
import { TracehopError } from './errors.js'
import type { Exporter } from './export/exporter.js'
import { FlushQueue } from './export/flush-queue.js'
import { isValidHexId } from './ids.js'
import { type Limits, resolveLimits } from './limits.js'
import { believe, extract, type Incoming } from './propagation/extract.js'
import {
  type Ingress,
  type PropagationFormat,
  type PropagationHooks,
  type ResolvedFormats,
  resolveFormats,
} from './propagation/formats.js'
import { inject } from './propagation/inject.js'
import { type RedactConfig, type ResolvedRedaction, resolveRedaction } from './redact-url.js'
import { type ResolvedSampling, resolveSampling, type SamplingConfig } from './sampling/head-sampler.js'
import { Scope, type ScopeOptions } from './scope.js'
import type { Attributes } from './span-record.js'
import { StatsRecorder, type TracerStats } from './stats.js'
import type { TraceContext } from './trace-context.js'
import { VERSION } from './version.js'

let warnedNoExporters = false

/** Where trace context is read from and written to, and who may receive it. */
export interface PropagationConfig {
  /** Formats read from incoming carriers. Default all: `['w3c', 'baggage', 'langsmith', 'xray']`. */
  readonly read?: readonly PropagationFormat[]
  /** Formats written to outgoing carriers. Default `['w3c', 'baggage', 'langsmith']`. */
  readonly write?: readonly PropagationFormat[]
  /** Destinations (besides the service's own origin) that receive trace headers. */
  readonly allow?: readonly DestinationRule[]
  /**
   * Whether the service's own origin receives trace headers (the same-origin rule). Default
   * true. The own origin is the request URL where the platform vouches for it (Workers,
   * Vercel, API Gateway's domain), `origin` below, and a Host-built URL only with
   * `trustHostHeader`.
   */
  readonly sameOrigin?: boolean
  /**
   * The service's own origin(s) (`https://api.example.com`), same origin in every scope.
   * Set it where the request URL comes from the client's `Host` header (Node servers, Bun,
   * Deno, behind an ALB), so your own calls back to the service get trace headers.
   */
  readonly origin?: string | readonly string[]
  /**
   * Treat a request URL built from the client's `Host` / `X-Forwarded-Host` as the service's
   * own origin. Default false: a client that sends `Host: attacker.example` and gets the
   * service to call that host must not receive trace headers. Turn it on only behind a
   * proxy that sets `Host` itself.
   */
  readonly trustHostHeader?: boolean
  /** How much incoming context is believed. Default `trusted`; use `untrusted` on the public edge. */
  readonly ingress?: Ingress
  /**
   * Set the W3C Level 2 random flag (0x02) on traces this service starts. Default false:
   * the OpenTelemetry Go propagator discards a version-00 `traceparent` whose flags exceed
   * `01`, which would lose the trace in a Go service; the randomness reaches OTel samplers
   * through `tracestate` `ot=rv:` instead. Incoming flags are always passed through.
   */
  readonly randomFlag?: boolean
  /** Which baggage keys are accepted, where each may travel, and which become span attributes. */
  readonly baggage?: BaggageConfig
}

export interface FlushConfig {
  /**
   * Time budget of one scope's flush, retries included (ms). Default: 10 000 when the flush
   * is handed to `waitUntil` (after the response), 2 000 when the response waits for it (no
   * `waitUntil`: Node servers, Lambda, Vercel outside a request context), so an unreachable
   * collector delays a response by at most 2 s. Set, it applies to both.
   */
  readonly budgetMs?: number
  /**
   * Coalescing window for scopes that end together (ms). Default 10; 0 sends at once.
   * Only scopes with a `waitUntil` share a batch; one without sends at once, alone.
   */
  readonly windowMs?: number
  /** Default 512. */
  readonly maxBatchSpans?: number
  /** Spans waiting for export per isolate. Default 4096. */
  readonly maxQueuedSpans?: number
}

/**
 * Configuration of a tracer: one per service (per isolate on the edge).
 *
 * @example
 * const tracer = createTracer({
 *   service: 'orchestrator',
 *   sampling: { ratio: 0.1, keepErrors: true },
 *   propagation: { allow: ['https://retrieval.internal'] },
 *   exporters: [otlp({ url: 'http://127.0.0.1:4318/v1/traces' })],
 * })
 */
export interface TracerConfig {
  /** `service.name`. */
  readonly service: string
  readonly sampling?: SamplingConfig
  readonly propagation?: PropagationConfig
  readonly exporters?: readonly Exporter[]
  /** Extra resource attributes (`deployment.environment.name`, `cloud.region`, …). */
  readonly resource?: Attributes
  readonly limits?: Partial<Limits>
  readonly flush?: FlushConfig
  /** Where the one log line per distinct export problem goes. Default `console.warn`. */
  readonly log?: (line: string) => void
  /** The `fetch` used by `span.fetch()`. Default `globalThis.fetch` at call time. */
  readonly fetch?: typeof fetch
  /**
   * Credentials kept out of `url.full` and `url.query` on server and client spans: userinfo
   * always; the values of sensitive query parameters (a default list, plus `queryParams`).
   */
  readonly redact?: RedactConfig
}

/** @internal The validated configuration every scope reads. */
export interface ResolvedConfig {
  readonly service: string
  readonly sampling: ResolvedSampling
  readonly read: ResolvedFormats
  readonly write: ResolvedFormats
  readonly destinations: DestinationPolicy
  readonly ingress: Ingress
  readonly randomFlag: boolean
  readonly baggage: BaggagePolicy
  readonly limits: Limits
  readonly flush: Required<FlushConfig> & {
    /** The budget of a scope whose response waits for its flush (no `waitUntil`). */
    readonly awaitedBudgetMs: number
  }
  readonly redact: ResolvedRedaction
}

/** Default flush budget when the flush runs in `waitUntil`, after the response (ms). */
export const DEFAULT_FLUSH_BUDGET_MS = 10_000
/** Default flush budget when the response waits for the flush (ms), as on Lambda. */
export const AWAITED_FLUSH_BUDGET_MS = 2_000

/** Options for `tracer.start()`, on top of the scope's own. */
export interface StartOptions extends ScopeOptions {
  /** Overrides the configured ingress for this scope (e.g. public vs internal routes). */
  readonly ingress?: Ingress
}

/**
 * A tracer: configuration resolved once, counters, and the export queue of one service.
 * Scopes are started from it, one per invocation.
 */
export class Tracer {
  /** @internal The validated configuration; stripped from the published types (its type is internal). */
  readonly config: ResolvedConfig
  /** @internal */ readonly statsRecorder: StatsRecorder
  /** @internal */ readonly queue: FlushQueue
  readonly #fetch: typeof fetch | undefined
  /** @internal Counters and baggage caps for extract/inject. */
  readonly hooks: PropagationHooks

  /** @internal Use {@link createTracer}. */
  constructor(config: TracerConfig) {
    if (config === null || typeof config !== 'object')
      throw new TracehopError('createTracer needs a config object')
    const { service, exporters = [] } = config
    if (typeof service !== 'string' || service.trim() === '') {
      throw new TracehopError(
        `config.service must be a non-empty string (it becomes service.name), got ${describeValue(service)}`,
      )
    }
    const p = config.propagation ?? {}
    const ingress = p.ingress ?? 'trusted'
    if (ingress !== 'trusted' && ingress !== 'untrusted' && ingress !== 'link') {
      throw new TracehopError(
        `propagation.ingress must be 'trusted', 'untrusted' or 'link', got ${String(ingress)}`,
      )
    }
    const flush = config.flush ?? {}
    // Undefined: the default depends on whether the response waits (see flush below).
    const budgetMs =
      flush.budgetMs === undefined
        ? undefined
        : checkNumber('flush.budgetMs', flush.budgetMs, (n) => n > 0, 'above 0 (ms)')
    for (const key of ['windowMs', 'maxBatchSpans', 'maxQueuedSpans'] as const) {
      if (flush[key] !== undefined) checkNumber(`flush.${key}`, flush[key], (n) => n >= 0, 'at least 0')
    }
    if (!Array.isArray(exporters)) {
      throw new TracehopError(
        `config.exporters: expected an array such as [otlp({ url })], got ${describeValue(exporters)}`,
      )
    }
    for (const e of exporters) {
      if (typeof e?.export !== 'function') {
        throw new TracehopError(
          `every entry of config.exporters must be an exporter, e.g. otlp({ url }), got ${describeValue(e)}${typeof e === 'function' ? ' (call it: otlp({ url }), not otlp)' : ''}`,
        )
      }
    }
    const resolved: ResolvedConfig = {
      service,
      sampling: resolveSampling(config.sampling),
      read: resolveFormats(p.read ?? ['w3c', 'baggage', 'langsmith', 'xray'], 'read'),
      write: resolveFormats(p.write ?? ['w3c', 'baggage', 'langsmith'], 'write'),
      destinations: {
        allow: (p.allow ?? []).map(normalizeRule),
        sameOrigin: p.sameOrigin ?? true,
        origins: resolveOrigins(p.origin),
        trustHostHeader: p.trustHostHeader === true,
      },
      ingress,
      randomFlag: p.randomFlag ?? false,
      baggage: resolveBaggagePolicy(p.baggage),
      limits: resolveLimits(config.limits),
      redact: resolveRedaction(config.redact),
      flush: {
        budgetMs: budgetMs ?? DEFAULT_FLUSH_BUDGET_MS,
        awaitedBudgetMs: budgetMs ?? AWAITED_FLUSH_BUDGET_MS,
        windowMs: flush.windowMs ?? 10,
        maxBatchSpans: flush.maxBatchSpans ?? 512,
        maxQueuedSpans: flush.maxQueuedSpans ?? 4096,
      },
    }
    this.config = resolved
    this.#fetch = config.fetch
    // `console.warn` by default: the one line per distinct export problem.
    const log = config.log ?? ((line: string) => console.warn(line))
    const stats = new StatsRecorder(log)
    this.statsRecorder = stats
    // A silent tracer is the most common "I see no spans": said once per process.
    if (exporters.length === 0 && !warnedNoExporters) {
      warnedNoExporters = true
      log(
        `tracehop: service '${service}' has no exporters: spans are counted but sent nowhere (add exporters: [otlp({ url })])`,
      )
    }
    this.hooks = {
      onInvalid: (what) => stats.countInvalid(what),
      onLimit: (what) => stats.countLimit(what),
      baggageLimits: { maxMembers: resolved.limits.baggageMembers, maxBytes: resolved.limits.baggageBytes },
    }
    this.queue = new FlushQueue(
      exporters,
      {
        resource: {
          attributes: {
            'service.name': service,
            'telemetry.sdk.name': 'tracehop',
            'telemetry.sdk.language': 'webjs',
            'telemetry.sdk.version': VERSION,
            ...config.resource,
          },
        },
        scopeName: 'tracehop',
        scopeVersion: VERSION,
      },
      stats,
      resolved.flush,
    )
  }

  /**
   * Starts one invocation's scope from an incoming carrier (a `Request`, `Headers`, a
   * header record, or a carrier getter), or from a context you hold. Bad input never
   * throws: it starts a fresh trace and is counted in `stats().invalid`.
   *
   * @example
   * const scope = tracer.start(request, { name: 'POST /chat', waitUntil: ctx.waitUntil.bind(ctx) })
   */
  start(carrier?: CarrierInput | TraceContext | null, options?: StartOptions): Scope {
    const incoming = this.extract(carrier, options?.ingress)
    // A Request's URL is whatever Host the client sent, unless an adapter says the platform
    // vouches for it (`origin`): same origin only with `trustHostHeader`.
    if (options?.origin === undefined && options?.hostOrigin === undefined && isRequest(carrier)) {
      const hostOrigin = originOf(carrier.url)
      if (hostOrigin !== undefined) return new Scope(this, incoming, { ...options, hostOrigin })
    }
    return new Scope(this, incoming, options)
  }

  /** Reads a carrier without starting a scope (adapters use it for links and batches). */
  extract(carrier?: CarrierInput | TraceContext | null, ingress?: Ingress): Incoming {
    if (carrier == null) return { links: [] }
    const c = carrier as TraceContext
    if (typeof c.traceId === 'string' && typeof c.spanId === 'string' && typeof c.flags === 'number') {
      // A context from a message body or an RPC argument is input like any header.
      const flags = c.flags
      if (isValidHexId(c.traceId, 32) && isValidHexId(c.spanId, 16) && flags >>> 0 === flags && flags < 256) {
        // Unknown flag bits are dropped, as parseTraceparent does (W3C §3.2.2.5); the
        // ingress rules are those of headers: an object is no more believable than they are.
        return believe(flags > 3 ? { ...c, flags: flags & 3 } : c, ingress ?? this.config.ingress)
      }
      this.hooks.onInvalid('context')
      return { links: [] }
    }
    try {
      const getter = toCarrier(carrier as CarrierInput)
      if (getter) return extract(getter, this.config.read, ingress ?? this.config.ingress, this.hooks)
    } catch {
      // A carrier whose getters throw (a hostile object): a fresh trace, counted.
      this.hooks.onInvalid('event')
    }
    return { links: [] }
  }

  /**
   * Writes a context into a carrier without a span, in the configured write formats: for a
   * relay that passes a trace on as it arrived (`tracer.extract(headers).parent`), or a
   * context carried in a message body. Baggage keys routed to named destinations only
   * (`propagation.baggage.keys: [{ key, to }]`) are left out: the destination is unknown.
   * A plain record is written into; a `CarrierSetter` is called. Never throws.
   *
   * @example
   * const { parent } = tracer.extract(request.headers)
   * if (parent) tracer.inject(parent, forwarded) // forwarded: Record<string, string>
   */
  inject(context: TraceContext, carrier: Record<string, string> | CarrierSetter): void {
    try {
      const f = context.flags
      if (
        (!CheckedContext.idsChecked(context) &&
          (!isValidHexId(context.traceId, 32) || !isValidHexId(context.spanId, 16))) ||
        f >>> 0 !== f ||
        f > 255
      ) {
        this.hooks.onInvalid('context')
        return
      }
      const routed = this.config.baggage.routes.size > 0 && context.baggage !== undefined
      const ctx = routed
        ? withBaggage(context, filterOutgoing(context.baggage, this.config.baggage, null))
        : context
      const setter =
        typeof carrier.set === 'function'
          ? (carrier as CarrierSetter)
          : recordSetter(carrier as Record<string, string>)
      inject(ctx, setter, this.config.write, undefined, this.hooks)
    } catch {
      // A context that is not one (a hostile object) or a setter that throws: nothing written.
      this.hooks.onInvalid('context')
    }
  }

  /** Counters: scopes kept and why, spans exported and dropped (by reason), bad input, limits. */
  stats(): TracerStats {
    // Batches whose invocation ended without finishing them are counted before reading.
    this.queue.sweep()
    return this.statsRecorder.snapshot()
  }

  /** @internal */
  fetchImpl(): typeof fetch {
    return this.#fetch ?? globalThis.fetch
  }
}

function resolveOrigins(origin: string | readonly string[] | undefined): readonly string[] {
  const list: readonly unknown[] = origin === undefined ? [] : Array.isArray(origin) ? origin : [origin]
  return list.map((o) => {
    const normalized = typeof o === 'string' ? originOf(o) : undefined
    if (normalized === undefined || normalized === 'null') {
      throw new TracehopError(
        `propagation.origin must be origins such as 'https://api.example.com', got ${JSON.stringify(o)}`,
      )
    }
    return normalized
  })
}

function originOf(url: string): string | undefined {
  try {
    return new URL(url).origin
  } catch {
    return undefined
  }
}

/**
 * Creates a tracer. Configuration errors throw a {@link TracehopError} saying what to change.
 *
 * @example
 * const tracer = createTracer({ service: 'gateway', sampling: { ratio: 0.1 }, exporters: [otlp({ url })] })
 * const scope = tracer.start(request)
 * const res = await scope.root.child('auth', () => authorize(request))
 * scope.end(res)
 */
export function createTracer(config: TracerConfig): Tracer {
  return new Tracer(config)
}

/**
 * A `Request`, checked by shape first: reading the `Request` global in Node loads its whole
 * `fetch` stack (undici, ~20 ms), which a Lambda event's header record must not pay for.
 */
function isRequest(x: unknown): x is Request {
  return (
    typeof (x as { url?: unknown } | null | undefined)?.url === 'string' &&
    typeof Request === 'function' &&
    x instanceof Request
  )
}

function withBaggage(context: TraceContext, baggage: TraceContext['baggage']): TraceContext {
  const { baggage: _, ...rest } = context
  return baggage === undefined ? rest : { ...rest, baggage }
}
