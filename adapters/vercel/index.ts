// tracehop/vercel: Vercel Edge route handlers, Edge Functions and Next.js middleware.
export { withTrace, traceOf } from './with-trace.js'
export type { WithTraceOptions } from './with-trace.js'
export { findWaitUntil } from './wait-until.js'
export { endWithBody } from './traced-body.js'
export type { EndedResponse } from './traced-body.js'
