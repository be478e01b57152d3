// tracehop/vercel: Vercel Edge route handlers, Edge Functions and Next.js middleware.

export type { EndedResponse } from './traced-body.js'
export { endWithBody } from './traced-body.js'
export { findWaitUntil } from './wait-until.js'
export type { WithTraceOptions } from './with-trace.js'
export { traceOf, withTrace } from './with-trace.js'
