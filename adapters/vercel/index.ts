// tracehop/vercel: Vercel Edge route handlers, Edge Functions and Next.js middleware.

export type { EndedResponse, FollowOptions } from '../http/streamed-body.js'
export { endWithBody } from '../http/streamed-body.js'
export { findWaitUntil } from './wait-until.js'
export type { WithTraceOptions } from './with-trace.js'
export { traceOf, withTrace } from './with-trace.js'
