/**
 * The demo's fault injection. The orchestrator forwards only the question (as the
 * retrieval tool's `query`), so the failing request carries this marker in its question and
 * the demo's retrieval entry turns it into the example's own switch (`"fail": true`).
 */

/** A question containing this fails deep in retrieval (`search index` throws; HTTP 500). */
export const FAULT_MARKER = '[fail:retrieval]'
