/**
 * Whether this runtime may freeze or cancel an invocation's work once its response is sent
 * and its `waitUntil` promises have settled: Cloudflare Workers (workerd) and Vercel Edge.
 * There a flush nothing holds may never finish. Node, Bun and Deno keep running it.
 */
export function freezesAfterResponse(): boolean {
  return (freezes ??= detect())
}

let freezes: boolean | undefined

function detect(): boolean {
  const g = globalThis as { navigator?: { userAgent?: unknown }; EdgeRuntime?: unknown }
  // Ref: Workers `navigator.userAgent` is 'Cloudflare-Workers'; Vercel Edge and the
  // `edge-runtime` package define the `EdgeRuntime` global.
  return g.navigator?.userAgent === 'Cloudflare-Workers' || typeof g.EdgeRuntime === 'string'
}
