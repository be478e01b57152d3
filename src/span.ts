import { recordSetter } from './carrier.js'
import { now } from './clock.js'
import { isAllowedDestination } from './destinations.js'
import { clientErrorType, exceptionAttributes } from './exception.js'
import { runIdFor, runSpanId } from './ids.js'
import { inject } from './propagation/inject.js'
import {
  childDottedOrder,
  clampChildStartTime,
  dottedOrderDepth,
  dottedOrderTraceId,
} from './propagation/langsmith-trace.js'
import { redactUrl } from './redact-url.js'
import { followRedirects, stripTraceHeaders } from './redirect.js'
import type { Scope } from './scope.js'
import { settle } from './settle.js'
import type {
  Attributes,
  AttributeValue,
  SpanEvent,
  SpanKind,
  SpanLink,
  SpanRecord,
  SpanStatus,
  StatusCode,
} from './span-record.js'
import type { TraceContext } from './trace-context.js'
import type { Writable } from './writable.js'

/** Options for a new span. */
export interface SpanOptions {
  /** Default `INTERNAL` (`SERVER` for a scope's root, chosen by the adapter). */
  readonly kind?: SpanKind
  readonly attributes?: Attributes
  readonly links?: readonly SpanLink[]
  /** ms since epoch; default now. */
  readonly startTime?: number
  /**
   * The LangSmith run type this span becomes (`llm`, `tool`, `retriever`, `chain`, …).
   * Stored as the `langsmith.span.kind` attribute, which LangSmith's OTel ingestion reads too.
   */
  readonly runType?: string
}

/** The identity a span hands to its children (a span, or a scope's remote parent). */
export interface ParentInfo {
  readonly spanId: string
  readonly runId: string | undefined
  readonly dottedOrder: string
  readonly startTime: number
}

// `StatusCode` and `SpanKind` values as literal constants, which bundlers inline (the
// enum objects would be bundled and read by property); `satisfies` keeps them in step.
const UNSET = 0 satisfies typeof StatusCode.UNSET
const OK = 1 satisfies typeof StatusCode.OK
/** @internal */ export const ERROR = 2 satisfies typeof StatusCode.ERROR
const INTERNAL = 0 satisfies typeof SpanKind.INTERNAL
const CLIENT = 2 satisfies typeof SpanKind.CLIENT
/** @internal */ export const SERVER = 1 satisfies typeof SpanKind.SERVER
const UNSET_STATUS: SpanStatus = Object.freeze({ code: UNSET })
const NONE_DROPPED: readonly number[] = Object.freeze([0, 0, 0])

/**
 * A node of a scope's span tree. You hold it; children are created from it, so fan-out
 * (`Promise.all`, timers, callbacks) always gets the right parent, with no ambient context.
 * Methods are one word naming what they change (`set`, `event`, `link`, `exception`, `error`,
 * `status`, `end`); OpenTelemetry's names live on the span `tracehop/otel` hands out.
 *
 * @example
 * const answer = await span.child('plan', async (plan) => {
 *   plan.set('gen_ai.request.model', 'stub-1')
 *   return plan.child('retrieve', (s) => s.fetch('https://retrieval.internal/q'))
 * })
 */
export class Span {
  readonly scope: Scope
  readonly traceId: string
  readonly spanId: string
  readonly parentSpanId: string | undefined
  readonly kind: SpanKind
  readonly startTime: number
  /**
   * False for a span past the scope's span limit (it propagates but is not exported), and
   * for a late span, started after its scope's flush was over: it sends no trace headers.
   */
  readonly isRecording: boolean
  name: string
  #endTime: number | undefined
  #attrs: Attributes = {}
  #attrCount = 0
  // Allocated on first use: most spans never get an event, a link or a status.
  #events: SpanEvent[] | undefined
  #links: SpanLink[] | undefined
  #status: SpanStatus = UNSET_STATUS
  /** Attributes, events and links dropped past their limits. */
  #dropped: number[] | undefined
  // The LangSmith identity is derived on first use (export, outgoing headers): a span that
  // is never sampled never pays for UUID and dotted-order formatting.
  readonly #parent: ParentInfo | undefined
  #runId: string | undefined
  #dottedOrder: string | undefined

  /** @internal Spans are created by a scope or by another span, not with `new`. */
  constructor(
    scope: Scope,
    name: string,
    parent: ParentInfo | undefined,
    options: SpanOptions | undefined,
    identity: { spanId: string; runId: string } | undefined,
    recording: boolean,
  ) {
    this.scope = scope
    this.name = name
    this.traceId = scope.traceId
    this.kind = options?.kind ?? INTERNAL
    this.isRecording = recording
    const start = clampChildStartTime(options?.startTime ?? now(), parent?.startTime ?? Number.NaN)
    this.startTime = start
    if (identity) {
      this.spanId = identity.spanId
      this.#runId = identity.runId
    } else this.spanId = runSpanId()
    this.#parent = parent
    this.parentSpanId = parent?.spanId
    if (scope.baggageAttributes) this.set(scope.baggageAttributes)
    if (options) {
      if (options.attributes) this.set(options.attributes)
      this.set('langsmith.span.kind', options.runType)
      for (const l of options.links ?? []) this.link(l)
    }
  }

  /** The LangSmith run id of this span: a UUIDv7 whose last 16 hex digits are `spanId`. */
  get runId(): string {
    return (this.#runId ??= runIdFor(this.startTime, this.spanId))
  }

  /**
   * The parent's LangSmith run id, when the parent is a run (local, or a remote LangSmith
   * parent) and this run continues its LangSmith trace (not past the depth limit).
   */
  get parentRunId(): string | undefined {
    const id = this.#parent?.runId
    return id !== undefined && dottedOrderDepth(this.dottedOrder) > 1 ? id : undefined
  }

  /** The LangSmith trace id of this run: the first run of its dotted order. */
  get runTraceId(): string {
    return dottedOrderTraceId(this.dottedOrder)
  }

  /** This run's LangSmith dotted order (the parent's, then this span's stamp and run id). */
  get dottedOrder(): string {
    return (this.#dottedOrder ??= childDottedOrder(this.#parent?.dottedOrder, this.startTime, this.runId))
  }

  /** Whether `end()` was called. */
  get ended(): boolean {
    return this.#endTime !== undefined
  }

  /**
   * Runs `fn` in a child span, ends the span when `fn` settles, records a thrown error
   * (or rejected promise) on it and rethrows it: the very value thrown, whatever it is.
   *
   * @example
   * const docs = await span.child('retrieve', { kind: SpanKind.CLIENT }, (s) => s.fetch(url))
   */
  child<T>(name: string, fn: (span: Span) => T): T
  child<T>(name: string, options: SpanOptions, fn: (span: Span) => T): T
  child<T>(name: string, a: SpanOptions | ((span: Span) => T), b?: (span: Span) => T): T {
    const fn = typeof a === 'function' ? a : b!
    const span = this.startChild(name, typeof a === 'function' ? undefined : a)
    return settle(
      () => fn(span),
      (err, failed) => {
        if (failed) span.error(err)
        span.end()
      },
    )
  }

  /**
   * Starts a child span you end yourself, for work that is not one callback.
   *
   * @example
   * const s = span.startChild('stream tokens', { runType: 'llm' }); …; s.end()
   */
  startChild(name: string, options?: SpanOptions): Span {
    return this.scope.createSpan(name, this, options)
  }

  /** Counts one drop past a limit (`which`: 0 attributes, 1 events, 2 links); false if full. */
  #room(which: number, used: number, limit: number, hit: 'attributes' | 'events' | 'links'): boolean {
    if (used < limit) return true
    const dropped = (this.#dropped ??= [0, 0, 0])
    dropped[which]!++
    this.scope.stats.countLimit(hit)
    return false
  }

  /**
   * Sets one attribute (OpenTelemetry semantic-convention names, e.g. `gen_ai.usage.input_tokens`),
   * or several from a record; `undefined` and `null` values are skipped.
   */
  set(key: string, value: AttributeValue | undefined | null): this
  set(attributes: Readonly<Record<string, AttributeValue | undefined | null>>): this
  set(
    key: string | Readonly<Record<string, AttributeValue | undefined | null>>,
    value?: AttributeValue | undefined | null,
  ): this {
    if (typeof key !== 'string') {
      if (key !== null && typeof key === 'object') for (const name in key) this.set(name, key[name])
      return this
    }
    const limits = this.scope.limits
    if (this.ended || value == null) return this
    if (!(key in this.#attrs)) {
      if (!this.#room(0, this.#attrCount, limits.attributesPerSpan, 'attributes')) return this
      this.#attrCount++
    }
    if (typeof value === 'string' && value.length > limits.attributeValueLength) {
      value = `${value.slice(0, limits.attributeValueLength)}…`
      this.scope.stats.countLimit('attribute-length')
    }
    this.#attrs[key] = value
    return this
  }

  /** @internal The flush marks why a scope was kept, after its root has ended. */
  setAfterEnd(key: string, value: AttributeValue): void {
    this.#attrs[key] = value
  }

  /** Reads back an attribute (what exporters will see). */
  get(key: string): AttributeValue | undefined {
    return this.#attrs[key]
  }

  /** Adds a timestamped event. */
  event(name: string, attributes?: Attributes, time?: number): this {
    if (!this.ended && this.#room(1, this.#events?.length ?? 0, this.scope.limits.eventsPerSpan, 'events')) {
      ;(this.#events ??= []).push(
        attributes ? { name, time: time ?? now(), attributes } : { name, time: time ?? now() },
      )
    }
    return this
  }

  /** Links this span to another context (a queue message's producer, a batch member). */
  link(target: SpanLink | TraceContext, attributes?: Attributes): this {
    if (!this.ended && this.#room(2, this.#links?.length ?? 0, this.scope.limits.linksPerSpan, 'links')) {
      const link: Writable<SpanLink> = { traceId: target.traceId, spanId: target.spanId }
      if (target.flags !== undefined) link.flags = target.flags
      const attrs = attributes ?? (target as SpanLink).attributes
      if (attrs) link.attributes = attrs
      ;(this.#links ??= []).push(link)
    }
    return this
  }

  /**
   * Records an error: an `exception` event and `error.type` (OTel semantic conventions),
   * and status ERROR. The scope then counts as failed, so always-keep-errors exports it.
   */
  error(err: unknown): this {
    const attributes = exceptionAttributes(err)
    this.event('exception', attributes)
    if (this.get('error.type') === undefined) this.set('error.type', attributes['exception.type'])
    return this.status(ERROR, attributes['exception.message'] as string)
  }

  /**
   * Records an `exception` event only, status unchanged: for an error the operation handled
   * (a server answering 401 to a thrown `HTTPException`: 4xx is not a server span error).
   */
  exception(err: unknown): this {
    return this.event('exception', exceptionAttributes(err))
  }

  /** Sets the status; ERROR marks the scope failed. OK is final (OTel: it wins over ERROR). */
  status(code: StatusCode, message?: string): this {
    if (this.ended || this.#status.code === OK) return this
    this.#status = message !== undefined && code === ERROR ? { code, message } : { code }
    if (code === ERROR) this.scope.markFailed()
    return this
  }

  /** Whether this span's status is ERROR. */
  get failed(): boolean {
    return this.#status.code === ERROR
  }

  /** Ends the span (idempotent: a second call is ignored). */
  end(endTime?: number): void {
    if (this.ended) return
    this.#endTime = Math.max(endTime ?? now(), this.startTime)
    this.scope.spanEnded(this)
  }

  /**
   * The context to continue this trace elsewhere (a queue message, an RPC argument).
   *
   * @example
   * await queue.send({ body, trace: span.context() })
   */
  context(): TraceContext {
    return this.scope.contextOf(this)
  }

  /**
   * Outgoing trace headers (W3C, LangSmith, … as configured). With a `destination`, the
   * headers are returned only if it is allowed (same origin or the allow-list), else `{}`.
   *
   * @example
   * await fetch(url, { headers: { ...span.headers(url), 'content-type': 'application/json' } })
   */
  headers(destination?: string | URL): Record<string, string> {
    const out: Record<string, string> = {}
    const url = destination === undefined ? undefined : toUrl(destination)
    // A span that will never be exported (started after its scope's flush) sends nothing:
    // downstream spans must not point at a parent that never arrives.
    if (!this.scope.propagates(this)) return out
    if (destination === undefined || (url !== undefined && this.mayReceive(url))) {
      const tracer = this.scope.tracer
      inject(this.scope.contextOf(this, url), recordSetter(out), tracer.config.write, undefined, tracer.hooks)
    }
    return out
  }

  /** Whether `destination` may receive this trace's headers under the configured policy. */
  mayReceive(destination: string | URL): boolean {
    const url = toUrl(destination)
    return (
      url !== undefined && isAllowedDestination(url, this.scope.tracer.config.destinations, this.scope.origin)
    )
  }

  /**
   * `fetch` in a CLIENT child span (`GET host`, HTTP semantic conventions), with trace
   * headers added for allowed destinations only. A network error or 5xx marks the span.
   *
   * @example
   * const res = await span.fetch('https://retrieval.internal/search', { method: 'POST', body })
   */
  fetch(input: RequestInfo | URL, init?: RequestInit): Promise<Response> {
    return tracedFetch(this, input, init, undefined)
  }

  /** @internal The finished record exporters read. */
  toRecord(): SpanRecord {
    const scope = this.scope
    const ls = scope.langsmithView
    const [droppedAttributes, droppedEvents, droppedLinks] = (this.#dropped ?? NONE_DROPPED) as [
      number,
      number,
      number,
    ]
    const r: Writable<SpanRecord> = {
      traceId: this.traceId,
      spanId: this.spanId,
      name: this.name,
      kind: this.kind,
      startTime: this.startTime,
      endTime: this.#endTime ?? this.startTime,
      attributes: this.#attrs,
      events: this.#events ?? [],
      links: this.#links ?? [],
      status: this.#status,
      flags: scope.flags,
      droppedAttributes,
      droppedEvents,
      droppedLinks,
      runId: this.runId,
      runTraceId: this.runTraceId,
      dottedOrder: this.dottedOrder,
      remoteParent: this === scope.root && scope.remoteParent,
    }
    if (this.parentSpanId !== undefined) r.parentSpanId = this.parentSpanId
    const parentRunId = this.#parent?.runId
    if (parentRunId !== undefined) {
      if (this.parentRunId !== undefined) r.parentRunId = parentRunId
      else
        r.langsmithContinues = { runId: parentRunId, traceId: dottedOrderTraceId(this.#parent!.dottedOrder) }
    }
    if (scope.traceStateHeader !== undefined) r.traceState = scope.traceStateHeader
    if (ls?.project !== undefined) r.langsmithProject = ls.project
    if (ls?.tags !== undefined) r.langsmithTags = ls.tags
    if (ls?.metadata !== undefined) r.langsmithMetadata = ls.metadata
    return r
  }
}

/**
 * The traced `fetch` behind `span.fetch()` and the adapters' traced bindings. `alwaysInject`
 * is for destinations that are ours by construction (service bindings). Redirects
 * (`redirect: 'follow'`, the default) are followed here, one CLIENT span per hop, so each
 * hop gets only the trace headers its own destination is allowed.
 */
export async function tracedFetch(
  parent: Span,
  input: RequestInfo | URL,
  init: RequestInit | undefined,
  target:
    | { fetch: (input: RequestInfo | URL, init?: RequestInit) => Promise<Response>; name: string }
    | undefined,
): Promise<Response> {
  const redirect = init?.redirect ?? (input instanceof Request ? input.redirect : 'follow')
  // A binding is ours whatever it redirects to; `manual` and `error` never reach another origin.
  if (target !== undefined || redirect !== 'follow') {
    return sendHop(parent, new Request(input, init), target, 0, true)
  }
  const first = manualRequest(input, init)
  // Only a body fetch could send twice is kept for a 307/308: a stream is read once, so a
  // spare copy of it would buffer the whole upload (fetch itself fails such a redirect).
  // (A Request given whole may hold a string body fetch could resend: it is kept as before.)
  const body = init?.body
  const replayable =
    first.body === null || (body === undefined || body === null ? true : isReplayableBody(body))
  return followRedirects(first, replayable, (hop, resendCount, trace, url) =>
    sendHop(parent, hop, undefined, resendCount, trace, url),
  )
}

const MANUAL: RequestInit = { redirect: 'manual' }

/** The caller's request with `redirect: 'manual'`, built once when `init` is a plain object. */
function manualRequest(input: RequestInfo | URL, init: RequestInit | undefined): Request {
  if (init === undefined) return keepingReferrer(input, MANUAL)
  const proto = Object.getPrototypeOf(init)
  if (proto === Object.prototype || proto === null) {
    const manual: RequestInit = { ...init, redirect: 'manual' }
    // Only a Request has a referrer to keep: a URL string (the common case) skips the check.
    return input instanceof Request && isEmptyInit(init)
      ? keepingReferrer(input, manual)
      : new Request(input, manual)
  }
  // An init that is not a plain object (its members may be getters): read as `fetch` would.
  return keepingReferrer(new Request(input, init), MANUAL)
}

/**
 * `new Request(input, init)`, keeping `input`'s referrer and policy when it is a `Request`:
 * a non-empty `init` resets both to the defaults (Fetch, Request constructor), which
 * `fetch(request)` itself does not do. Without this, a request made with `referrerPolicy:
 * 'no-referrer'` would go out under the default policy. workerd has neither option; a value
 * the runtime does not take back leaves the request as it was built before.
 */
function keepingReferrer(input: RequestInfo | URL, init: RequestInit): Request {
  if (typeof Request === 'function' && input instanceof Request) {
    const { referrer, referrerPolicy } = input
    if (referrer !== undefined || referrerPolicy !== undefined) {
      try {
        return new Request(input, { ...init, referrer, referrerPolicy })
      } catch {
        // Not accepted here: as before.
      }
    }
  }
  return new Request(input, init)
}

/** Whether `fetch(input, init)` would leave the request as it is (no member present, WebIDL). */
function isEmptyInit(init: RequestInit): boolean {
  for (const key in init) if ((init as Record<string, unknown>)[key] !== undefined) return false
  return true
}

/** One request in its CLIENT span, with the trace headers its destination may receive. */
async function sendHop(
  parent: Span,
  request: Request,
  target: { fetch: (input: RequestInfo | URL) => Promise<Response>; name: string } | undefined,
  resendCount: number,
  trace: boolean,
  parsedUrl?: URL,
): Promise<Response> {
  const url = parsedUrl ?? new URL(request.url)
  const method = request.method
  const scope = parent.scope
  const span = parent.startChild(`${method} ${target ? target.name : url.host}`, {
    kind: CLIENT,
    attributes: {
      'http.request.method': method,
      // OTel HTTP semconv: `url.full` must not carry credentials (userinfo, signed query values).
      'url.full': redactUrl(url, scope.tracer.config.redact),
      'server.address': url.hostname,
      'server.port': url.port ? Number(url.port) : undefined,
      // OTel HTTP semconv: set on the second and later requests of a redirect chain.
      'http.request.resend_count': resendCount > 0 ? resendCount : undefined,
    } as Attributes,
  })
  const headers = request.headers
  // A redirect hop starts from the caller's headers less any trace header: copies the caller
  // made for the first URL (`span.headers(url)`) are not this hop's to receive.
  if (resendCount > 0) stripTraceHeaders(headers)
  // A late span is never exported: its headers would name a parent that never arrives.
  if (trace && (target !== undefined || span.mayReceive(url)) && scope.propagates(span)) {
    const existing = headers.get('baggage') ?? undefined
    inject(
      scope.contextOf(span, target ? undefined : url),
      { set: (k, v) => headers.set(k, v) },
      scope.tracer.config.write,
      existing,
      scope.tracer.hooks,
    )
  }
  try {
    // Called as a method: a binding's fetch detached from its object throws "Illegal invocation".
    const response = await (target ? target.fetch(request) : scope.tracer.fetchImpl()(request))
    const status = response.status
    span.set('http.response.status_code', status)
    if (status >= 500) span.status(ERROR, `HTTP ${status}`)
    span.end()
    return response
  } catch (err) {
    span.set('error.type', clientErrorType(err)).error(err).end()
    throw err
  }
}

function toUrl(destination: string | URL): URL | undefined {
  if (typeof destination !== 'string') return destination
  try {
    return new URL(destination)
  } catch {
    return undefined
  }
}

/** A body `fetch` keeps as bytes (so a 307/308 can send it again), not a one-time stream. */
function isReplayableBody(body: BodyInit | null | undefined): boolean {
  return (
    typeof body === 'string' ||
    body instanceof ArrayBuffer ||
    ArrayBuffer.isView(body) ||
    (typeof Blob === 'function' && body instanceof Blob) ||
    (typeof FormData === 'function' && body instanceof FormData) ||
    (typeof URLSearchParams === 'function' && body instanceof URLSearchParams)
  )
}
