/**
 * A finished span as a LangSmith run create: the body the `langsmith` SDK's `Client`
 * posts, built from the span's LangSmith identity (run id, trace id, dotted order) and its
 * attributes, read the way LangSmith's own OpenTelemetry ingestion reads them
 * (`langsmith.span.kind`, `gen_ai.*`, `input.value`/`output.value`, `langsmith.metadata.*`).
 */
import type { Attributes, AttributeValue, Resource, SpanRecord } from '../span-record.js'
import { StatusCode } from '../span-record.js'
import { VERSION } from '../version.js'

export type LangSmithRunType = 'llm' | 'chain' | 'tool' | 'retriever' | 'embedding' | 'prompt' | 'parser'

/** The token counts LangSmith reads (`usage_metadata`, as the SDK's `traceable` records it). */
export interface UsageMetadata {
  readonly input_tokens: number
  readonly output_tokens: number
  readonly total_tokens: number
}

export interface LangSmithRunEvent {
  readonly name: string
  readonly time: string
  readonly kwargs?: Readonly<Record<string, unknown>>
}

/** One run create, field for field as the `langsmith` SDK sends it. */
export interface LangSmithRun {
  readonly id: string
  readonly trace_id: string
  readonly dotted_order: string
  readonly parent_run_id?: string
  readonly name: string
  readonly run_type: LangSmithRunType
  /** ISO 8601 with microseconds: exactly the time in the run's dotted-order segment. */
  readonly start_time: string
  readonly end_time: string
  readonly inputs: Readonly<Record<string, unknown>>
  readonly outputs?: Readonly<Record<string, unknown>>
  readonly error?: string
  readonly extra: {
    readonly metadata: Readonly<Record<string, unknown>>
    readonly runtime: Readonly<Record<string, string>>
  }
  readonly events?: readonly LangSmithRunEvent[]
  readonly tags?: readonly string[]
  readonly session_name?: string
}

const RUN_TYPES: ReadonlySet<string> = new Set([
  'llm',
  'chain',
  'tool',
  'retriever',
  'embedding',
  'prompt',
  'parser',
])

// gen_ai.operation.name values (OTel GenAI semantic conventions) and what LangSmith calls them.
const OPERATION_RUN_TYPES: Readonly<Record<string, LangSmithRunType>> = {
  chat: 'llm',
  text_completion: 'llm',
  completion: 'llm',
  generate_content: 'llm',
  embeddings: 'embedding',
  embedding: 'embedding',
  execute_tool: 'tool',
  retrieval: 'retriever',
}

// Attributes that become a run field rather than metadata.
const CONSUMED: ReadonlySet<string> = new Set([
  'langsmith.span.kind',
  'langsmith.trace.name',
  'langsmith.span.tags',
  'langsmith.inputs',
  'langsmith.outputs',
  'input.value',
  'output.value',
  'gen_ai.prompt',
  'gen_ai.completion',
])
const METADATA_PREFIX = 'langsmith.metadata.'
const RUNTIME = { sdk: 'tracehop', sdk_version: VERSION, library: 'tracehop' } as const

function pad(n: number, width: number): string {
  return String(n).padStart(width, '0')
}

/**
 * ISO 8601 with microseconds, as LangSmith stores run times.
 *
 * @example
 * isoMicros(1700000000000.25) // '2023-11-14T22:13:20.000250Z'
 */
export function isoMicros(ms: number): string {
  if (!(ms >= 0 && ms < 8.64e15)) ms = 0
  let whole = Math.floor(ms)
  let micros = Math.round((ms - whole) * 1000)
  if (micros === 1000) {
    whole++
    micros = 0
  }
  return `${new Date(whole).toISOString().slice(0, -1)}${pad(micros, 3)}Z`
}

/** `20240531T100100540304Z…` → `2024-05-31T10:01:00.540304Z`, or undefined. */
function segmentTime(segment: string): string | undefined {
  if (segment.length < 22 || segment[8] !== 'T' || segment[21] !== 'Z') return undefined
  for (let i = 0; i < 21; i++) {
    if (i === 8) continue
    const c = segment.charCodeAt(i)
    if (c < 48 || c > 57) return undefined
  }
  const s = segment
  return `${s.slice(0, 4)}-${s.slice(4, 6)}-${s.slice(6, 8)}T${s.slice(9, 11)}:${s.slice(11, 13)}:${s.slice(13, 15)}.${s.slice(15, 21)}Z`
}

function runTypeOf(a: Attributes): LangSmithRunType {
  const kind = a['langsmith.span.kind']
  if (typeof kind === 'string' && RUN_TYPES.has(kind.toLowerCase()))
    return kind.toLowerCase() as LangSmithRunType
  const op = a['gen_ai.operation.name']
  if (typeof op === 'string') {
    const t = OPERATION_RUN_TYPES[op.toLowerCase()]
    if (t) return t
  }
  return a['gen_ai.tool.name'] !== undefined ? 'tool' : 'chain'
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

/**
 * An input/output attribute as a run's inputs/outputs object: a JSON object is used as
 * is; a JSON array under `gen_ai.prompt`/`gen_ai.completion` is a message list; anything
 * else is wrapped under `key`.
 */
function payloadOf(v: AttributeValue, key: string, messages: boolean): Record<string, unknown> {
  if (typeof v === 'string') {
    const c = v.charCodeAt(0)
    if (c === 123 || c === 91) {
      try {
        const parsed: unknown = JSON.parse(v)
        if (isRecord(parsed)) return parsed
        return Array.isArray(parsed) && messages ? { messages: parsed } : { [key]: parsed }
      } catch {
        // Not JSON after all: kept as text.
      }
    }
  }
  return { [key]: v }
}

function firstPayload(
  a: Attributes,
  own: string,
  openInference: string,
  genAi: string,
  key: string,
): Record<string, unknown> | undefined {
  let v = a[own]
  if (v !== undefined) return payloadOf(v, key, false)
  v = a[openInference]
  if (v !== undefined) return payloadOf(v, key, false)
  v = a[genAi]
  return v === undefined ? undefined : payloadOf(v, key, true)
}

function usageOf(a: Attributes): UsageMetadata | undefined {
  const input = a['gen_ai.usage.input_tokens'] ?? a['gen_ai.usage.prompt_tokens']
  const output = a['gen_ai.usage.output_tokens'] ?? a['gen_ai.usage.completion_tokens']
  if (typeof input !== 'number' && typeof output !== 'number') return undefined
  const i = typeof input === 'number' ? input : 0
  const o = typeof output === 'number' ? output : 0
  const total = a['gen_ai.usage.total_tokens']
  return { input_tokens: i, output_tokens: o, total_tokens: typeof total === 'number' ? total : i + o }
}

function errorOf(span: SpanRecord): string | undefined {
  if (span.status.code !== StatusCode.ERROR) return undefined
  if (span.status.message) return span.status.message
  for (const e of span.events) {
    if (e.name !== 'exception') continue
    const message = e.attributes?.['exception.message']
    const type = e.attributes?.['exception.type']
    if (message !== undefined) return type !== undefined ? `${type}: ${message}` : String(message)
  }
  return 'Error'
}

/**
 * Maps a finished span onto the LangSmith run create the `langsmith` SDK would post.
 * `project` is used when the trace did not bring one (`langsmith-project` baggage).
 *
 * @example
 * const run = spanToRun(span, { attributes: { 'service.name': 'retrieval' } }, 'my-project')
 * if (validateRun(run) === undefined) runs.push(run)
 */
export function spanToRun(span: SpanRecord, resource: Resource, project?: string): LangSmithRun {
  const a = span.attributes
  const metadata: Record<string, unknown> = { ...span.langsmithMetadata }
  const service = resource.attributes['service.name']
  if (service !== undefined) metadata['service.name'] = service
  const continues = span.langsmithContinues
  if (continues !== undefined) {
    // A new LangSmith trace at the depth limit: where the run would have been.
    metadata['tracehop.continues_run_id'] = continues.runId
    metadata['tracehop.continues_trace_id'] = continues.traceId
  }
  for (const k in a) {
    const v = a[k]
    if (v === undefined || CONSUMED.has(k)) continue
    if (k.startsWith(METADATA_PREFIX)) metadata[k.slice(METADATA_PREFIX.length)] = v
    else metadata[k] = v
  }
  // What LangSmith reads for model cost tracking (as its OTel ingestion derives them).
  const model = a['gen_ai.request.model'] ?? a['gen_ai.response.model']
  if (model !== undefined && metadata['ls_model_name'] === undefined) metadata['ls_model_name'] = model
  const provider = a['gen_ai.provider.name'] ?? a['gen_ai.system']
  if (provider !== undefined && metadata['ls_provider'] === undefined) metadata['ls_provider'] = provider

  let outputs = firstPayload(a, 'langsmith.outputs', 'output.value', 'gen_ai.completion', 'output')
  const usage = usageOf(a)
  if (usage) {
    // Both places, as the SDK's `traceable` records it.
    metadata['usage_metadata'] = usage
    outputs = { ...outputs, usage_metadata: usage }
  }

  const tags: string[] = span.langsmithTags ? [...span.langsmithTags] : []
  const tagAttr = a['langsmith.span.tags']
  const extraTags = typeof tagAttr === 'string' ? tagAttr.split(',') : Array.isArray(tagAttr) ? tagAttr : []
  for (const t of extraTags) {
    const tag = String(t).trim()
    if (tag && !tags.includes(tag)) tags.push(tag)
  }

  const dotted = span.dottedOrder
  const startTime = segmentTime(dotted.slice(dotted.lastIndexOf('.') + 1)) ?? isoMicros(span.startTime)
  const name = a['langsmith.trace.name']
  const error = errorOf(span)
  const session = span.langsmithProject ?? project
  let events: LangSmithRunEvent[] | undefined
  for (const e of span.events) {
    ;(events ??= []).push(
      e.attributes
        ? { name: e.name, time: isoMicros(e.time), kwargs: e.attributes }
        : { name: e.name, time: isoMicros(e.time) },
    )
  }
  return {
    id: span.runId,
    trace_id: span.runTraceId,
    dotted_order: dotted,
    ...(span.parentRunId !== undefined ? { parent_run_id: span.parentRunId } : {}),
    name: typeof name === 'string' && name !== '' ? name : span.name,
    run_type: runTypeOf(a),
    start_time: startTime,
    end_time: isoMicros(Math.max(span.endTime, span.startTime)),
    inputs: firstPayload(a, 'langsmith.inputs', 'input.value', 'gen_ai.prompt', 'input') ?? {},
    ...(outputs !== undefined ? { outputs } : {}),
    ...(error !== undefined ? { error } : {}),
    extra: { metadata, runtime: RUNTIME },
    ...(events !== undefined ? { events } : {}),
    ...(tags.length > 0 ? { tags } : {}),
    ...(session !== undefined && session !== '' ? { session_name: session } : {}),
  }
}

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

/**
 * Checks a run against the rules LangSmith's ingestion enforces; returns why it would be
 * rejected, or undefined. One bad run makes the server reject its whole batch, so such
 * runs are dropped (and counted) before sending.
 * - ids are UUIDs; every dotted-order segment is `YYYYMMDDTHHMMSSffffffZ<uuid>`;
 * - a root (no parent) is its own trace: `trace_id === id`, exactly one segment;
 * - a child's first segment is its trace, its last segment is itself, the one before is
 *   its parent, and segment times never go backwards. Equal times are allowed: the SDKs
 *   clamp a child's start to its parent's (langsmith-sdk #2240).
 *
 * @example
 * validateRun(spanToRun(span, resource)) // undefined, or 'trace_id must equal id for a root run'
 */
export function validateRun(run: LangSmithRun): string | undefined {
  if (!UUID_RE.test(run.id)) return `id is not a UUID: ${run.id}`
  if (!UUID_RE.test(run.trace_id)) return `trace_id is not a UUID: ${run.trace_id}`
  const parent = run.parent_run_id
  if (parent !== undefined && !UUID_RE.test(parent)) return `parent_run_id is not a UUID: ${parent}`
  const segments = run.dotted_order.split('.')
  let previous = ''
  for (const seg of segments) {
    if (seg.length !== 58 || segmentTime(seg) === undefined) return `malformed dotted_order segment: ${seg}`
    if (!UUID_RE.test(seg.slice(22))) return `dotted_order segment without a UUID: ${seg}`
    const time = seg.slice(0, 21)
    if (time < previous) return 'dotted_order segment times go backwards'
    previous = time
  }
  const id = run.id.toLowerCase()
  const segmentId = (i: number): string => segments[i]!.slice(22).toLowerCase()
  if (segmentId(segments.length - 1) !== id) return 'the last dotted_order segment must be the run itself'
  if (parent === undefined) {
    if (run.trace_id.toLowerCase() !== id) return 'trace_id must equal id for a root run'
    if (segments.length !== 1) return 'a root run must have exactly one dotted_order segment'
    return undefined
  }
  if (segments.length < 2) return 'a child run needs its parent in dotted_order'
  if (segmentId(0) !== run.trace_id.toLowerCase())
    return 'the first dotted_order segment must be the trace root'
  if (segmentId(segments.length - 2) !== parent.toLowerCase())
    return 'the dotted_order segment before the run must be its parent'
  return undefined
}
