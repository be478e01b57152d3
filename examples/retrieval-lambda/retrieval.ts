/**
 * A deterministic "retrieval" over a small fixed corpus, traced with LangSmith-style child
 * spans: `retrieve` (run type `retriever`) → `embed query` (`embedding`) → `search index`
 * (`retriever`) → `rerank` (`chain`). Asked to fail, it throws from `search index`, the
 * deepest span, so a trace shows exactly where the error happened.
 */
import type { Span } from '../../src/index.js'

export interface Document {
  readonly id: string
  readonly title: string
  readonly text: string
  readonly score: number
}

export interface RetrievalRequest {
  readonly query: string
  /** How many documents to return (1..10). Default 3. */
  readonly k?: number
  /** Fail inside `search index` (the demo's "error deep in retrieval"). */
  readonly fail?: boolean
}

/** The error thrown from `search index` when asked to fail. */
export class IndexUnavailableError extends Error {
  override readonly name = 'IndexUnavailableError'
}

const CORPUS: readonly { id: string; title: string; text: string }[] = [
  {
    id: 'doc-1',
    title: 'Release notes v2',
    text: 'v2 adds streaming answers, queue-based indexing and LangSmith tracing.',
  },
  {
    id: 'doc-2',
    title: 'Migration guide',
    text: 'Upgrading from v1 to v2: rename the index, rebuild embeddings, redeploy.',
  },
  {
    id: 'doc-3',
    title: 'Queue indexing',
    text: 'Documents are indexed asynchronously through a queue; failures are retried.',
  },
  {
    id: 'doc-4',
    title: 'Tracing',
    text: 'One trace spans the gateway, the orchestrator, retrieval and the queue.',
  },
  { id: 'doc-5', title: 'Sampling', text: 'Sampling is decided from the trace id; errors are always kept.' },
  {
    id: 'doc-6',
    title: 'Limits',
    text: 'Messages carry at most ten attributes; trace context fits in four.',
  },
  { id: 'doc-7', title: 'Changelog v1', text: 'v1 shipped synchronous indexing and a single region.' },
]

const DIMENSIONS = 64

/** A toy embedding: hashed bag of words, normalized (deterministic, no model). */
function embed(text: string): number[] {
  const v = new Array<number>(DIMENSIONS).fill(0)
  for (const word of text.toLowerCase().split(/[^a-z0-9]+/)) {
    if (word.length < 2) continue
    let h = 2166136261
    for (let i = 0; i < word.length; i++) h = Math.imul(h ^ word.charCodeAt(i), 16777619)
    v[(h >>> 0) % DIMENSIONS]! += 1
  }
  const norm = Math.hypot(...v) || 1
  return v.map((x) => x / norm)
}

function cosine(a: readonly number[], b: readonly number[]): number {
  let s = 0
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!
  return s
}

const INDEX = CORPUS.map((d) => ({ ...d, vector: embed(`${d.title} ${d.text}`) }))

/**
 * Retrieves the `k` documents closest to `query` under `parent`. Same query, same answer.
 *
 * @example
 * const docs = await retrieve(traceOf(context), { query: 'What changed in v2?', k: 3 })
 */
export function retrieve(parent: Span, request: RetrievalRequest): Promise<Document[]> {
  const k = Math.min(10, Math.max(1, Math.floor(request.k ?? 3)))
  return parent.child(
    'retrieve',
    { runType: 'retriever', attributes: { 'retrieval.query': request.query, 'retrieval.top_k': k } },
    async (span) => {
      const vector = await span.child(
        'embed query',
        {
          runType: 'embedding',
          attributes: { 'gen_ai.operation.name': 'embeddings', 'gen_ai.request.model': 'bag-of-words-64' },
        },
        () => embed(request.query),
      )
      const hits = await span.child(
        'search index',
        {
          runType: 'retriever',
          attributes: {
            'db.system.name': 'in-memory',
            'db.collection.name': 'docs',
            'retrieval.index.size': INDEX.length,
          },
        },
        (search) => {
          if (request.fail) throw new IndexUnavailableError('index shard docs-2 unavailable')
          const scored = INDEX.map((d) => ({
            id: d.id,
            title: d.title,
            text: d.text,
            score: cosine(vector, d.vector),
          }))
          search.set('retrieval.candidates', scored.length)
          return scored
        },
      )
      const ranked = await span.child('rerank', { runType: 'chain' }, () =>
        [...hits].sort((a, b) => b.score - a.score || a.id.localeCompare(b.id)).slice(0, k),
      )
      span.set(
        'retrieval.documents',
        ranked.map((d) => d.id),
      )
      return ranked.map((d) => ({ ...d, score: Math.round(d.score * 1e4) / 1e4 }))
    },
  )
}
