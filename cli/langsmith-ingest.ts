/**
 * LangSmith run ingestion, as the `langsmith` SDKs send it, into collected spans.
 *
 * Endpoints (LangSmith API): `POST /runs/multipart` (parts `post.<id>`, `post.<id>.inputs`,
 * `patch.<id>`, `patch.<id>.outputs`, … `attachment.<id>.<name>`, `feedback.<id>`),
 * `POST /runs/batch` (`{ post: [...], patch: [...] }`), `POST /runs`, `PATCH /runs/<id>`.
 *
 * Mapping (tracehop's identity rule, see src/ids.ts): trace id = the run's `trace_id` without
 * dashes; span id = the last 16 hex digits of the run id; the parent from `parent_run_id`
 * (else the dotted order's second-to-last segment); the service from
 * `extra.metadata['service.name']`, else the project (`session_name`).
 */
import { isUuid, spanIdFromRunId, uuidToHex } from '../src/ids.js'
import type { Attributes } from '../src/span-record.js'
import type { FormPart } from './multipart.js'
import { toAttributeValue } from './otlp-decode.js'
import type { CollectedEvent, CollectedSpan } from './types.js'

type Obj = Record<string, unknown>

// The run fields read here (LangSmith `RunCreate`/`RunUpdate`), unchecked until used.
interface RunJson {
  readonly id?: unknown
  readonly trace_id?: unknown
  readonly parent_run_id?: unknown
  readonly dotted_order?: unknown
  readonly name?: unknown
  readonly run_type?: unknown
  readonly start_time?: unknown
  readonly end_time?: unknown
  readonly inputs?: unknown
  readonly outputs?: unknown
  readonly error?: unknown
  readonly extra?: unknown
  readonly events?: unknown
  readonly tags?: unknown
  readonly session_name?: unknown
}
interface ExtraJson {
  readonly metadata?: unknown
  readonly runtime?: unknown
}
interface RunEventJson {
  readonly name?: unknown
  readonly time?: unknown
  readonly kwargs?: unknown
}
interface BatchJson {
  readonly post?: unknown
  readonly patch?: unknown
}

/** One run operation of a request, in the order the server applies them. */
export interface RunOperation {
  readonly op: 'post' | 'patch'
  readonly run: Obj
}

/** The operations of a request, or why the request is malformed. */
export type RunBatch =
  | { readonly ok: true; readonly ops: RunOperation[] }
  | { readonly ok: false; readonly error: string }

const ISO_TIME = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:?\d{2})?$/i
// What the multipart part name's field suffix may be (everything else is ignored).
const RUN_FIELDS: ReadonlySet<string> = new Set([
  'inputs',
  'outputs',
  'events',
  'extra',
  'error',
  'serialized',
])
const DEFAULT_SERVICE = 'langsmith'

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

/**
 * A run time as ms since the epoch: a number is ms (the JS SDK's `Date.now()`), a string
 * is ISO 8601 with up to nanoseconds, `Z`/offset or none (the Python SDK's naive UTC).
 *
 * @example
 * parseRunTime('2024-05-31T10:01:00.540304Z') // 1717149660540.304
 */
export function parseRunTime(v: unknown): number | undefined {
  if (typeof v === 'number') return Number.isFinite(v) && v > 0 ? v : undefined
  if (typeof v !== 'string') return undefined
  const m = ISO_TIME.exec(v.trim())
  if (!m) return undefined
  const zone = m[3] === undefined || m[3].toUpperCase() === 'Z' ? 'Z' : m[3]
  const base = Date.parse(`${m[1]}${zone}`)
  if (Number.isNaN(base)) return undefined
  return m[2] === undefined ? base : base + Number(`0.${m[2]}`) * 1000
}

/** `20240531T100100540304Z` (a dotted-order segment's time) as ms. */
function segmentTime(segment: string): number | undefined {
  if (segment.length < 22 || segment[8] !== 'T' || segment[21] !== 'Z') return undefined
  const s = segment
  return parseRunTime(
    `${s.slice(0, 4)}-${s.slice(4, 6)}-${s.slice(6, 8)}T${s.slice(9, 11)}:${s.slice(11, 13)}:${s.slice(13, 15)}.${s.slice(15, 21)}Z`,
  )
}

function segmentRunId(segment: string | undefined): string | undefined {
  const id = segment?.slice(22)
  return id !== undefined && isUuid(id) ? id : undefined
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined
}

function jsonAttr(v: unknown): string | undefined {
  if (v === undefined || v === null) return undefined
  try {
    return JSON.stringify(v)
  } catch {
    return undefined
  }
}

function eventsOf(v: unknown): CollectedEvent[] | undefined {
  if (!Array.isArray(v)) return undefined
  const out: CollectedEvent[] = []
  for (const item of v) {
    if (!isObj(item)) continue
    const e: RunEventJson = item
    const attributes: Attributes = {}
    if (isObj(e.kwargs)) {
      for (const k in e.kwargs) {
        const value = toAttributeValue(e.kwargs[k])
        if (value !== undefined) attributes[k] = value
      }
    }
    out.push({ name: str(e.name) ?? 'event', time: parseRunTime(e.time) ?? 0, attributes })
  }
  return out
}

/**
 * A run create or update as a collected span, merged over `previous` (the same run's
 * earlier state, e.g. its create when this is the patch). Undefined when the run has no
 * usable id, trace or start time.
 *
 * @example
 * const span = runToSpan({ id, trace_id: id, dotted_order, name: 'agent', start_time: Date.now() }, undefined)
 */
export function runToSpan(input: Obj, previous: CollectedSpan | undefined): CollectedSpan | undefined {
  const run: RunJson = input
  const id = str(run.id)
  if (id === undefined || !isUuid(id)) return undefined
  const dotted = typeof run.dotted_order === 'string' ? run.dotted_order.split('.') : []
  const parentRunId =
    str(run.parent_run_id) ?? (dotted.length >= 2 ? segmentRunId(dotted[dotted.length - 2]) : undefined)
  const traceUuid =
    str(run.trace_id) ??
    segmentRunId(dotted[0]) ??
    (parentRunId === undefined && previous === undefined ? id : undefined)
  const traceId = traceUuid !== undefined && isUuid(traceUuid) ? uuidToHex(traceUuid) : previous?.traceId
  if (traceId === undefined) return undefined
  const parentSpanId =
    parentRunId !== undefined && isUuid(parentRunId) ? spanIdFromRunId(parentRunId) : previous?.parentSpanId
  const last = dotted[dotted.length - 1]
  const startTime =
    parseRunTime(run.start_time) ??
    previous?.startTime ??
    (last !== undefined ? segmentTime(last) : undefined)
  if (startTime === undefined) return undefined
  const endTime = parseRunTime(run.end_time) ?? previous?.endTime ?? startTime

  const same = previous?.source === 'langsmith' ? previous : undefined
  const attributes: Attributes = same ? { ...same.attributes } : {}
  const extra: ExtraJson | undefined = isObj(run.extra) ? run.extra : undefined
  const metadata = extra && isObj(extra.metadata) ? extra.metadata : undefined
  let service = str(metadata?.['service.name'])
  if (metadata) {
    for (const k in metadata) {
      if (k === 'service.name') continue
      const value = toAttributeValue(metadata[k])
      if (value !== undefined) attributes[k] = value
    }
  }
  const inputs = jsonAttr(run.inputs)
  if (inputs !== undefined) attributes['langsmith.inputs'] = inputs
  const outputs = jsonAttr(run.outputs)
  if (outputs !== undefined) attributes['langsmith.outputs'] = outputs
  if (Array.isArray(run.tags)) attributes['langsmith.span.tags'] = run.tags.map(String)
  const project = str(run.session_name)
  if (project !== undefined) attributes['langsmith.project'] = project
  service ??= same?.service ?? project ?? previous?.service ?? DEFAULT_SERVICE

  const resource: Attributes = same ? { ...same.resource } : {}
  resource['service.name'] = service
  const runtime = extra && isObj(extra.runtime) ? extra.runtime : undefined
  if (runtime) {
    for (const k in runtime) {
      const value = toAttributeValue(runtime[k])
      if (value !== undefined) resource[`langsmith.runtime.${k}`] = value
    }
  }

  const error = run.error
  const status: CollectedSpan['status'] =
    typeof error === 'string' && error !== ''
      ? { code: 'error', message: error }
      : (same?.status ?? { code: 'unset' })
  const runType = str(run.run_type) ?? previous?.runType
  return {
    traceId,
    spanId: spanIdFromRunId(id),
    ...(parentSpanId !== undefined ? { parentSpanId } : {}),
    name: str(run.name) ?? previous?.name ?? 'run',
    service,
    kind: 'internal',
    startTime,
    endTime: Math.max(endTime, startTime),
    attributes,
    events: eventsOf(run.events) ?? same?.events ?? [],
    links: [],
    status,
    resource,
    source: 'langsmith',
    runId: id.toLowerCase(),
    ...(runType !== undefined ? { runType } : {}),
  }
}

function parseJson(body: Buffer | string): unknown {
  try {
    return JSON.parse(typeof body === 'string' ? body : body.toString('utf8'))
  } catch {
    return undefined
  }
}

/**
 * The run operations of a `POST /runs/multipart` body. Fields sent as their own parts
 * (`post.<id>.inputs`) are folded into their run; attachments and feedback are skipped.
 *
 * @example
 * const batch = multipartRuns(parseMultipart(body, boundary)!)
 */
export function multipartRuns(parts: readonly FormPart[]): RunBatch {
  const runs = new Map<string, { op: 'post' | 'patch'; run: Obj }>()
  const get = (op: 'post' | 'patch', id: string): Obj => {
    const key = `${op}.${id}`
    let entry = runs.get(key)
    if (!entry) runs.set(key, (entry = { op, run: { id } }))
    return entry.run
  }
  for (const part of parts) {
    const dot = part.name.indexOf('.')
    const op = part.name.slice(0, dot)
    if (op !== 'post' && op !== 'patch') continue // attachment.*, feedback.*
    const rest = part.name.slice(dot + 1)
    const fieldDot = rest.indexOf('.')
    const id = fieldDot < 0 ? rest : rest.slice(0, fieldDot)
    if (!isUuid(id)) return { ok: false, error: `part ${part.name}: run id is not a UUID` }
    const value = parseJson(part.body)
    if (value === undefined) return { ok: false, error: `part ${part.name}: body is not JSON` }
    const run = get(op, id)
    if (fieldDot < 0) {
      if (!isObj(value)) return { ok: false, error: `part ${part.name}: a run must be a JSON object` }
      Object.assign(run, value, { id })
    } else {
      const field = rest.slice(fieldDot + 1)
      if (RUN_FIELDS.has(field)) run[field] = value
    }
  }
  const ops: RunOperation[] = []
  for (const entry of runs.values()) if (entry.op === 'post') ops.push(entry)
  for (const entry of runs.values()) if (entry.op === 'patch') ops.push(entry)
  return { ok: true, ops }
}

/**
 * The run operations of a `POST /runs/batch` body (`{ post?: Run[], patch?: Run[] }`).
 *
 * @example
 * batchRuns('{"post":[{"id":"…"}]}')
 */
export function batchRuns(body: Buffer | string): RunBatch {
  const value = parseJson(body)
  if (!isObj(value)) return { ok: false, error: 'body must be a JSON object with post and patch arrays' }
  const batch: BatchJson = value
  const ops: RunOperation[] = []
  for (const op of ['post', 'patch'] as const) {
    const runs = batch[op]
    if (runs === undefined || runs === null) continue
    if (!Array.isArray(runs)) return { ok: false, error: `${op} must be an array` }
    for (const run of runs) {
      if (!isObj(run)) return { ok: false, error: `${op} holds a run that is not an object` }
      ops.push({ op, run })
    }
  }
  return { ok: true, ops }
}

/**
 * The run of a `POST /runs` or `PATCH /runs/<id>` body; the path's id wins for a patch.
 *
 * @example
 * singleRun(body, 'patch', '0190…')
 */
export function singleRun(body: Buffer | string, op: 'post' | 'patch', pathId?: string): RunBatch {
  const value = parseJson(body)
  if (!isObj(value)) return { ok: false, error: 'body must be a JSON object (a run)' }
  if (pathId !== undefined && !isUuid(pathId)) return { ok: false, error: 'run id in the path is not a UUID' }
  return { ok: true, ops: [{ op, run: pathId !== undefined ? { ...value, id: pathId } : value }] }
}
