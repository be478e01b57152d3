// tracehop/langsmith: langsmith `traceable` runs nested under tracehop spans.
export { runTree } from './run-tree.js'
export type { RunTreeOptions } from './run-tree.js'
export { awaitOnScopeEnd } from './flush-hook.js'
export type { PendingBatches } from './flush-hook.js'
