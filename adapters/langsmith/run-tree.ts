import type { Client } from 'langsmith'
import { RunTree, type RunTreeConfig } from 'langsmith/run_trees'
import type { Span } from '../../src/index.js'
import { awaitOnScopeEnd } from './flush-hook.js'

/** Options of {@link runTree}. */
export interface RunTreeOptions {
  /**
   * The `langsmith` client that posts the `traceable` child runs. Default: the SDK's shared
   * client, configured from the environment (`LANGSMITH_ENDPOINT`, `LANGSMITH_API_KEY`).
   * Either way the scope's end awaits its pending batches within the flush budget.
   */
  readonly client?: Client
  /** Project of the child runs. Default: the trace's (`langsmith-project` baggage), else the SDK's. */
  readonly projectName?: string
  /**
   * Whether `traceable` children are posted. Default: the scope's head-sampling decision,
   * so LangSmith receives the children of exactly the traces tracehop exports.
   */
  readonly tracingEnabled?: boolean
}

/** LangSmith rejects a run whose dotted-order timestamp is earlier than its parent's (µs). */
function clampStart(config: RunTreeConfig, notBefore: number): RunTreeConfig {
  const start = config.start_time
  if (typeof start === 'string') return config
  const at = start ?? Date.now()
  return at >= notBefore
    ? start === undefined
      ? { ...config, start_time: at }
      : config
    : { ...config, start_time: notBefore }
}

/**
 * The SDK writes a child's dotted-order time as its start millisecond plus its execution
 * order as microseconds, and reads time from `Date.now()`, which may lag the clock the
 * hop's span used. A descendant never starts before its parent's millisecond here, so
 * every dotted order the SDK posts sorts after its parent's, as LangSmith requires.
 */
function guardDescendants(run: RunTree): RunTree {
  const notBefore = typeof run.start_time === 'number' ? Math.floor(run.start_time) : 0
  const createChild = run.createChild
  run.createChild = function createOrderedChild(this: RunTree, config: RunTreeConfig): RunTree {
    return guardDescendants(createChild.call(this, clampStart(config, notBefore)))
  }
  return run
}

/**
 * A `RunTree` standing for a tracehop span: its id, trace id and dotted order are the
 * span's, so `traceable` children nest under it. It is never posted or patched itself —
 * the span is exported by tracehop's exporters — and its children start after it.
 */
class HopRunTree extends RunTree {
  /** Children start in a later millisecond than the span (its µs are real, theirs are an order). */
  private readonly childNotBefore: number

  constructor(config: RunTreeConfig, spanStartMs: number) {
    super(config)
    this.childNotBefore = Math.floor(spanStartMs) + 1
  }

  override createChild(config: RunTreeConfig): RunTree {
    return guardDescendants(super.createChild(clampStart(config, this.childNotBefore)))
  }

  /** The hop's run is exported by tracehop; posting it here would rewrite it. */
  override async postRun(): Promise<void> {}

  /** The hop's run is exported by tracehop; patching it here would rewrite it. */
  override async patchRun(): Promise<void> {}
}

/**
 * A real `langsmith` `RunTree` for `span`, to pass as the first argument of `traceable`
 * functions: their runs nest under the hop — same LangSmith trace id as the incoming
 * `langsmith-trace`, dotted orders that continue the span's — with no ambient async context.
 * The span's own run is never posted or patched through it. The scope's `end()` awaits
 * the client's pending batches inside the same `waitUntil` and budget.
 *
 * @example
 * const agent = traceable(async (run: RunTree, q: string) => answer(q), { name: 'agent', run_type: 'chain' })
 * const result = await agent(runTree(traceOf(request), { client }), question)
 */
export function runTree(span: Span, options?: RunTreeOptions): RunTree {
  const scope = span.scope
  const ls = scope.langsmithView
  const runType = span.get('langsmith.span.kind')
  const projectName = options?.projectName ?? ls?.project
  const config: RunTreeConfig = {
    name: span.name,
    id: span.runId,
    trace_id: span.runTraceId,
    dotted_order: span.dottedOrder,
    start_time: span.startTime,
    run_type: typeof runType === 'string' ? runType : 'chain',
    tracingEnabled: options?.tracingEnabled ?? scope.sampled,
    ...(span.parentRunId !== undefined ? { parent_run_id: span.parentRunId } : {}),
    ...(projectName !== undefined ? { project_name: projectName } : {}),
    ...(options?.client !== undefined ? { client: options.client } : {}),
    ...(ls?.tags !== undefined ? { tags: [...ls.tags] } : {}),
    ...(ls?.metadata !== undefined ? { metadata: { ...ls.metadata } } : {}),
  }
  const tree = new HopRunTree(config, span.startTime)
  awaitOnScopeEnd(scope, tree.client)
  return tree
}
