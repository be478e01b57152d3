// tracehop/langsmith: langsmith `traceable` runs nested under tracehop spans.

export type { PendingBatches } from './flush-hook.js'
export { awaitOnScopeEnd } from './flush-hook.js'
export type { RunTreeOptions } from './run-tree.js'
export { runTree } from './run-tree.js'
