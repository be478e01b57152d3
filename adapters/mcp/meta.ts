/**
 * What client and server share: trace context in JSON-RPC `params._meta` (MCP SEP-414, OTel
 * MCP semantic conventions "Context propagation"), span names and attributes, outcomes.
 */
import {
  type Attributes,
  type CarrierGetter,
  type InvalidInput,
  recordSetter,
  type Span,
  type SpanKind,
  StatusCode,
} from '../../src/index.js'
import { inject, type StatsRecorder } from '../../src/internal.js'
import type { JsonRpcId, JsonRpcMessage } from './transport.js'

/** A JSON object; the few fields read here are named so they read as properties. */
export interface Rec {
  [key: string]: unknown
  name?: unknown
  uri?: unknown
  _meta?: unknown
  baggage?: unknown
  requestId?: unknown
  reason?: unknown
  code?: unknown
  message?: unknown
  isError?: unknown
  protocolVersion?: unknown
  headers?: unknown
}

/** Options both sides share. */
export interface McpSpanOptions {
  /**
   * Requests tracked at once (awaiting their response). Past it, the oldest is ended with
   * `tracehop.force_ended` and counted in `stats().limits.spans`. Default 1000.
   */
  readonly maxPending?: number
  /**
   * Name `resources/*` spans `resources/read {uri}`. Off by default: the OTel MCP
   * conventions keep URIs out of span names (high cardinality); `mcp.resource.uri` is
   * always set.
   */
  readonly resourceUriInName?: boolean
  /**
   * `network.transport` of the spans (OTel MCP conventions: `tcp` for HTTP, `pipe` for
   * stdio). Default: `tcp` where the transport shows it is HTTP (a session id on the client,
   * HTTP request info on the server), else unset; set `pipe` for stdio.
   */
  readonly networkTransport?: 'tcp' | 'quic' | 'pipe' | 'unix'
}

/** A JSON object (not an array, not null). */
export function isRecord(x: unknown): x is Rec {
  return typeof x === 'object' && x !== null && !Array.isArray(x)
}

/** The id of a request or response we track; `null`/absent/other types are not tracked. */
export function idOf(message: JsonRpcMessage): JsonRpcId | undefined {
  const id = message.id
  return typeof id === 'string' || typeof id === 'number' ? id : undefined
}

/** A JSON-RPC batch: passed through untraced (the SDK's Client and Server never send one). */
export function isBatch(
  message: JsonRpcMessage | readonly JsonRpcMessage[],
): message is readonly JsonRpcMessage[] {
  return Array.isArray(message)
}

/** The method of a request or notification; `undefined` for a response or a non-message. */
export function methodOf(message: JsonRpcMessage): string | undefined {
  const method = typeof message === 'object' && message !== null ? message.method : undefined
  return typeof method === 'string' ? method : undefined
}

/** The id of a response (no method); `undefined` for anything else. */
export function responseId(message: JsonRpcMessage): JsonRpcId | undefined {
  return typeof message === 'object' && message !== null && message.method === undefined
    ? idOf(message)
    : undefined
}

/** What a request's span starts with. */
export interface Described {
  readonly name: string
  readonly kind: SpanKind
  readonly attributes: Attributes
  readonly runType?: string
}

// Span names come from the peer's input on the server side: keep them short.
const MAX_TARGET = 100

/** Span name and options for a request: `{mcp.method.name} {target}` (OTel MCP conventions). */
export function describe(
  message: JsonRpcMessage,
  method: string,
  kind: SpanKind,
  sessionId: unknown,
  version: string | undefined,
  uriInName: boolean | undefined,
): Described {
  const p = isRecord(message.params) ? message.params : undefined
  const attributes: Attributes = { 'mcp.method.name': method }
  const id = idOf(message)
  if (id !== undefined) attributes['jsonrpc.request.id'] = String(id)
  const name = typeof p?.name === 'string' ? p.name : undefined
  const uri = typeof p?.uri === 'string' ? p.uri : undefined
  let target: string | undefined
  if (method === 'tools/call') {
    attributes['gen_ai.operation.name'] = 'execute_tool'
    if (name !== undefined) attributes['gen_ai.tool.name'] = target = name
  } else if (method === 'prompts/get' && name !== undefined) attributes['gen_ai.prompt.name'] = target = name
  if (uri !== undefined && method.startsWith('resources/')) {
    attributes['mcp.resource.uri'] = uri
    if (uriInName) target = uri
  }
  if (typeof sessionId === 'string') attributes['mcp.session.id'] = sessionId
  if (version !== undefined) attributes['mcp.protocol.version'] = version
  return {
    name:
      target === undefined
        ? method
        : `${method} ${target.length > MAX_TARGET ? target.slice(0, MAX_TARGET) : target}`,
    kind,
    attributes,
    ...(method === 'tools/call' ? { runType: 'tool' } : {}),
  }
}

// The span's own context replaces these; `baggage` is merged instead.
const TRACE_KEYS = ['traceparent', 'tracestate', 'langsmith-trace'] as const
const BAGGAGE = 'baggage'

/**
 * A copy of `message` whose `params._meta` carries `span`'s context under the SEP-414 keys
 * `traceparent`, `tracestate`, `baggage` (plus `langsmith-trace` with the LangSmith format).
 * Baggage keys routed to named destinations go only where `destination` is one of theirs
 * (`null`: a peer with no name, which gets none). The caller's own `_meta` keys are kept;
 * its `baggage` members are merged and win on the same key. Neither the message nor the
 * caller's `_meta` is mutated. A message whose `params` or `_meta` is not an object is
 * returned unchanged.
 */
export function withContext(message: JsonRpcMessage, span: Span, destination: URL | null): JsonRpcMessage {
  const params = message.params
  if (params !== undefined && !isRecord(params)) return message
  const callerMeta = params?._meta
  if (callerMeta !== undefined && !isRecord(callerMeta)) return message
  const meta: Rec = { ...callerMeta }
  const headers: Record<string, string> = {}
  const existing = meta.baggage
  // A late span is never exported: its context would name a parent that never arrives.
  if (span.scope.propagates(span)) {
    inject(
      span.scope.contextOf(span, destination),
      recordSetter(headers),
      span.scope.tracer.config.write,
      typeof existing === 'string' ? existing : undefined,
      span.scope.tracer.hooks,
    )
  } else if (typeof existing === 'string') headers[BAGGAGE] = existing
  for (const key of TRACE_KEYS) {
    delete meta[key]
    if (headers[key] !== undefined) meta[key] = headers[key]
  }
  const merged = headers[BAGGAGE]
  if (merged !== undefined) meta.baggage = merged
  return { ...message, params: { ...params, _meta: meta } }
}

/**
 * Reads trace context from a `_meta` record under the exact SEP-414 keys. A key holding
 * anything but a string (a number, an array, an object) is counted as invalid and ignored.
 */
export function metaCarrier(meta: Rec, stats: StatsRecorder): CarrierGetter {
  return {
    get(name) {
      const value = meta[name]
      if (typeof value === 'string') return value
      if (value !== undefined && value !== null) {
        stats.countInvalid((name === 'x-amzn-trace-id' ? 'xray' : name) as InvalidInput)
      }
      return undefined
    },
  }
}

/**
 * Records a response on its span (OTel MCP conventions, "Span status"): a JSON-RPC error
 * sets `error.type` and `rpc.response.status_code` to its code and the status to ERROR with
 * its message; a tool result with `isError: true` sets `error.type` `tool_error`, so
 * always-keep-errors keeps failed tool calls. Returns the negotiated protocol version of
 * an `initialize` result, if any.
 */
export function recordOutcome(span: Span, message: JsonRpcMessage): string | undefined {
  const error = message.error
  if (error !== undefined) {
    const e = isRecord(error) ? error : {}
    const code = e.code
    const type = typeof code === 'number' || typeof code === 'string' ? String(code) : '_OTHER'
    span.set('error.type', type)
    span.set('rpc.response.status_code', type)
    span.status(StatusCode.ERROR, typeof e.message === 'string' ? e.message : 'JSON-RPC error')
    return undefined
  }
  const result = message.result
  if (!isRecord(result)) return undefined
  if (result.isError === true) {
    span.set('error.type', 'tool_error')
    span.status(StatusCode.ERROR, 'tool_error')
  }
  const version = result.protocolVersion
  if (typeof version === 'string' && span.get('mcp.method.name') === 'initialize') {
    span.set('mcp.protocol.version', version)
    return version
  }
  return undefined
}

/**
 * Adds `value` under `id`, ending (through `evict`) a value already under that id and, when
 * the map is full, the oldest one: a peer that never answers cannot grow the map.
 */
export function remember<V>(
  map: Map<JsonRpcId, V>,
  id: JsonRpcId,
  value: V,
  max: number,
  evict: (value: V) => void,
): void {
  const previous = map.get(id)
  if (previous !== undefined) {
    map.delete(id)
    evict(previous)
  } else if (map.size >= max) {
    const oldest = map.entries().next().value
    if (oldest !== undefined) {
      map.delete(oldest[0])
      evict(oldest[1])
    }
  }
  map.set(id, value)
}

/** Ends a span that will get no response (evicted or its id reused). */
export function forceEnd(span: Span): void {
  span.set('tracehop.force_ended', true)
  span.scope.tracer.statsRecorder.countLimit('spans')
  span.end()
}
