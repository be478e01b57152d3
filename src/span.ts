import { recordSetter } from './carrier.js'
import { now } from './clock.js'
import { isAllowedDestination } from './destinations.js'
import { newRunIdentity } from './ids.js'
import { inject } from './propagation/inject.js'
import { childDottedOrder, clampChildStartTime } from './propagation/langsmith-trace.js'
import type { Scope } from './scope.js'
import {
  type Attributes,
  type AttributeValue,
  type SpanEvent,
  SpanKind,
  type SpanLink,
  type SpanRecord,
  type SpanStatus,
  StatusCode,
} from './span-record.js'
import type { TraceContext } from './trace-context.js'

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

/** The identity a span hands to its children. */
interface ParentInfo {
  readonly spanId: string
  readonly runId: string | undefined
  readonly dottedOrder: string
  readonly startTime: number
}

const TRUNCATED_SUFFIX = '…'

/**
 * A node of a scope's span tree. You hold it; children are created from it, so fan-out
 * (`Promise.all`, timers, callbacks) always gets the right parent, with no ambient context.
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
  /** The LangSmith run id of this span (its last 16 hex digits are `spanId`). */
  readonly runId: string
  readonly parentSpanId: string | undefined
  readonly parentRunId: string | undefined
  readonly dottedOrder: string
  readonly kind: SpanKind
  readonly startTime: number
  /** False for a span past the scope's span limit: it propagates but is not exported. */
  readonly isRecording: boolean
  name: string
  private endTime: number | undefined
  private attrs: Attributes = {}
  private attrCount = 0
  private events: SpanEvent[] | undefined
  private links: SpanLink[] | undefined
  private status: SpanStatus = { code: StatusCode.UNSET }
  private droppedAttributes = 0
  private droppedEvents = 0
  private droppedLinks = 0

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
    this.kind = options?.kind ?? SpanKind.INTERNAL
    this.isRecording = recording
    let start = options?.startTime ?? now()
    if (parent !== undefined) start = clampChildStartTime(start, parent.startTime)
    this.startTime = start
    const id = identity ?? newRunIdentity(start)
    this.spanId = id.spanId
    this.runId = id.runId
    this.parentSpanId = parent?.spanId
    this.parentRunId = parent?.runId
    this.dottedOrder = childDottedOrder(parent?.dottedOrder || undefined, start, id.runId)
    if (scope.baggageAttributes !== undefined) this.setAttributes(scope.baggageAttributes)
    if (options?.attributes !== undefined) this.setAttributes(options.attributes)
    if (options?.runType !== undefined) this.set('langsmith.span.kind', options.runType)
    if (options?.links !== undefined) for (const l of options.links) this.link(l)
  }

  /** Whether `end()` was called. */
  get ended(): boolean {
    return this.endTime !== undefined
  }

  /**
   * Runs `fn` in a child span, ends the span when `fn` settles, records a thrown error
   * (or rejected promise) on it and rethrows it unchanged.
   *
   * @example
   * const docs = await span.child('retrieve', { kind: SpanKind.CLIENT }, (s) => s.fetch(url))
   */
  child<T>(name: string, fn: (span: Span) => T): T
  child<T>(name: string, options: SpanOptions, fn: (span: Span) => T): T
  child<T>(name: string, a: SpanOptions | ((span: Span) => T), b?: (span: Span) => T): T {
    const fn = typeof a === 'function' ? a : b!
    const span = this.startChild(name, typeof a === 'function' ? undefined : a)
    let result: T
    try {
      result = fn(span)
    } catch (err) {
      span.error(err)
      span.end()
      throw err
    }
    if (
      result !== null &&
      typeof result === 'object' &&
      typeof (result as { then?: unknown }).then === 'function'
    ) {
      return (result as unknown as Promise<unknown>).then(
        (value) => {
          span.end()
          return value
        },
        (err: unknown) => {
          span.error(err)
          span.end()
          throw err
        },
      ) as T
    }
    span.end()
    return result
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

  /** Sets one attribute (OpenTelemetry semantic-convention names, e.g. `gen_ai.usage.input_tokens`). */
  set(key: string, value: AttributeValue | undefined | null): this {
    if (this.endTime !== undefined || value === undefined || value === null) return this
    const limits = this.scope.limits
    if (!(key in this.attrs)) {
      if (this.attrCount >= limits.attributesPerSpan) {
        this.droppedAttributes++
        this.scope.stats.countLimit('attributes')
        return this
      }
      this.attrCount++
    }
    if (typeof value === 'string' && value.length > limits.attributeValueLength) {
      value = value.slice(0, limits.attributeValueLength) + TRUNCATED_SUFFIX
      this.scope.stats.countLimit('attribute-length')
    }
    this.attrs[key] = value
    return this
  }

  /** @internal The flush marks why a scope was kept, after its root has ended. */
  setAfterEnd(key: string, value: AttributeValue): void {
    this.attrs[key] = value
  }

  /** Sets several attributes; `undefined` values are skipped. */
  setAttributes(attributes: Readonly<Record<string, AttributeValue | undefined>>): this {
    for (const key in attributes) this.set(key, attributes[key])
    return this
  }

  /** Reads back an attribute (what exporters will see). */
  get(key: string): AttributeValue | undefined {
    return this.attrs[key]
  }

  /** Adds a timestamped event. */
  event(name: string, attributes?: Attributes, time?: number): this {
    if (this.endTime !== undefined) return this
    if ((this.events?.length ?? 0) >= this.scope.limits.eventsPerSpan) {
      this.droppedEvents++
      this.scope.stats.countLimit('events')
      return this
    }
    ;(this.events ??= []).push(
      attributes ? { name, time: time ?? now(), attributes } : { name, time: time ?? now() },
    )
    return this
  }

  /** Links this span to another context (a queue message's producer, a batch member). */
  link(target: SpanLink | TraceContext, attributes?: Attributes): this {
    if (this.endTime !== undefined) return this
    if ((this.links?.length ?? 0) >= this.scope.limits.linksPerSpan) {
      this.droppedLinks++
      this.scope.stats.countLimit('links')
      return this
    }
    const link: SpanLink = {
      traceId: target.traceId,
      spanId: target.spanId,
      ...(target.flags !== undefined ? { flags: target.flags } : {}),
      ...((attributes ?? (target as SpanLink).attributes)
        ? { attributes: attributes ?? (target as SpanLink).attributes! }
        : {}),
    }
    ;(this.links ??= []).push(link)
    return this
  }

  /**
   * Records an error: an `exception` event (OTel semantic conventions) and status ERROR.
   * The scope then counts as failed, so always-keep-errors exports it.
   */
  error(err: unknown): this {
    if (this.endTime !== undefined) return this
    const e = err instanceof Error ? err : undefined
    const message = e ? e.message : String(err)
    const attributes: Attributes = { 'exception.type': e ? e.name : typeof err, 'exception.message': message }
    if (e?.stack) attributes['exception.stacktrace'] = e.stack
    this.event('exception', attributes)
    this.setStatus(StatusCode.ERROR, message)
    return this
  }

  /** Sets the status; ERROR marks the scope failed. OK is final (OTel: it wins over ERROR). */
  setStatus(code: StatusCode, message?: string): this {
    if (this.endTime !== undefined || this.status.code === StatusCode.OK) return this
    this.status = message !== undefined && code === StatusCode.ERROR ? { code, message } : { code }
    if (code === StatusCode.ERROR) this.scope.markFailed()
    return this
  }

  /** Whether this span's status is ERROR. */
  get failed(): boolean {
    return this.status.code === StatusCode.ERROR
  }

  /** Ends the span (idempotent: a second call is ignored). */
  end(endTime?: number): void {
    if (this.endTime !== undefined) return
    this.endTime = Math.max(endTime ?? now(), this.startTime)
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
    let url: URL | undefined
    if (destination !== undefined) {
      url = toUrl(destination)
      if (url === undefined || !this.mayReceive(url)) return out
    }
    inject(this.scope.contextOf(this, url), recordSetter(out), this.scope.tracer.config.write)
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
    return {
      traceId: this.traceId,
      spanId: this.spanId,
      ...(this.parentSpanId !== undefined ? { parentSpanId: this.parentSpanId } : {}),
      name: this.name,
      kind: this.kind,
      startTime: this.startTime,
      endTime: this.endTime ?? this.startTime,
      attributes: this.attrs,
      events: this.events ?? [],
      links: this.links ?? [],
      status: this.status,
      ...(scope.traceStateHeader !== undefined ? { traceState: scope.traceStateHeader } : {}),
      flags: scope.flags,
      droppedAttributes: this.droppedAttributes,
      droppedEvents: this.droppedEvents,
      droppedLinks: this.droppedLinks,
      runId: this.runId,
      runTraceId: scope.runTraceId,
      dottedOrder: this.dottedOrder,
      ...(this.parentRunId !== undefined ? { parentRunId: this.parentRunId } : {}),
      remoteParent: this === scope.root && scope.remoteParent,
      ...(ls?.project !== undefined ? { langsmithProject: ls.project } : {}),
      ...(ls?.tags !== undefined ? { langsmithTags: ls.tags } : {}),
      ...(ls?.metadata !== undefined ? { langsmithMetadata: ls.metadata } : {}),
    }
  }

  /** @internal What a child needs from its parent. */
  parentInfo(): ParentInfo {
    return {
      spanId: this.spanId,
      runId: this.runId,
      dottedOrder: this.dottedOrder,
      startTime: this.startTime,
    }
  }
}

/**
 * The traced `fetch` behind `span.fetch()` and the adapters' traced bindings. `alwaysInject`
 * is for destinations that are ours by construction (service bindings).
 */
export async function tracedFetch(
  parent: Span,
  input: RequestInfo | URL,
  init: RequestInit | undefined,
  target:
    | { fetch: (input: RequestInfo | URL, init?: RequestInit) => Promise<Response>; name: string }
    | undefined,
): Promise<Response> {
  const request = new Request(input, init)
  const url = new URL(request.url)
  const method = request.method
  const span = parent.startChild(target ? `${method} ${target.name}` : `${method} ${url.host}`, {
    kind: SpanKind.CLIENT,
    attributes: {
      'http.request.method': method,
      'url.full': redactUrl(url),
      'server.address': url.hostname,
      ...(url.port ? { 'server.port': Number(url.port) } : {}),
    },
  })
  if (target !== undefined || span.mayReceive(url)) {
    const existing = request.headers.get('baggage') ?? undefined
    const ctx = parent.scope.contextOf(span, target ? undefined : url)
    inject(ctx, { set: (k, v) => request.headers.set(k, v) }, parent.scope.tracer.config.write, existing)
  }
  try {
    // Called as a method: a binding's fetch detached from its object throws "Illegal invocation".
    const response = await (target ? target.fetch(request) : parent.scope.tracer.fetchImpl()(request))
    span.set('http.response.status_code', response.status)
    if (response.status >= 500) span.setStatus(StatusCode.ERROR, `HTTP ${response.status}`)
    span.end()
    return response
  } catch (err) {
    span.set('error.type', err instanceof Error ? err.name : 'Error')
    span.error(err)
    span.end()
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

/** OTel HTTP semconv: `url.full` must not carry credentials; query values may be secrets too. */
function redactUrl(url: URL): string {
  if (!url.username && !url.password) return url.href
  const copy = new URL(url.href)
  copy.username = 'REDACTED'
  copy.password = 'REDACTED'
  return copy.href
}
