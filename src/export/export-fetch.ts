/**
 * The `fetch` exporters send with when they were not given their own. The platform's by
 * default, resolved at call time (never a `fetch` detached from its realm). A runtime
 * adapter may supply a cheaper transport for its platform through `installExportFetch`
 * (tracehop/lambda: `node:http`, so a cold start does not load Node's whole `fetch` stack):
 * the core stays runtime-neutral. Kept on `globalThis` under a registered symbol so two
 * copies of tracehop in one bundle agree.
 */
import type { FetchLike } from './retry.js'

const KEY = Symbol.for('tracehop.exportFetch')

interface Installed {
  readonly fetch: FetchLike
  /** `globalThis.fetch` when installed: a `fetch` the user puts there later wins. */
  readonly platform: unknown
}

type Holder = { [KEY]?: Installed }

/**
 * @internal Installs the transport for exporters that were not given a `fetch` (first
 * install wins; later calls are no-ops).
 *
 * @example
 * installExportFetch(nodeHttpFetch)
 */
export function installExportFetch(fetch: FetchLike): void {
  const g = globalThis as Holder
  // Reading the `fetch` property does not load Node's fetch stack; calling it does.
  g[KEY] ??= { fetch, platform: (globalThis as { fetch?: unknown }).fetch }
}

/**
 * The default `fetch` of the exporters: an adapter's transport when one is installed and
 * `globalThis.fetch` is still the one it saw, else `globalThis.fetch`.
 *
 * @example
 * sendWithRetry(url, init, { fetch: options.fetch ?? exportFetch, deadline })
 */
export function exportFetch(input: string, init: RequestInit): Promise<Response> {
  const installed = (globalThis as Holder)[KEY]
  if (installed && installed.platform === (globalThis as { fetch?: unknown }).fetch) {
    return installed.fetch(input, init)
  }
  return fetch(input, init)
}
