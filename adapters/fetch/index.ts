// tracehop/fetch: any web-standard `fetch` handler — Deno.serve and Deno Deploy, Supabase and
// Netlify Edge Functions, Bun.serve, Node servers through @hono/node-server.

export type { AfterResponse } from './platform.js'
export type { FetchConfig, FetchOptions } from './with-trace.js'
export { traceOf, withTrace } from './with-trace.js'
