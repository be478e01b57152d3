// Bundles a test Worker the way wrangler does for workerd: ESM, neutral platform, the
// workerd/worker/browser export conditions, `cloudflare:*` left to the runtime.
import { fileURLToPath } from 'node:url'
import { build } from 'esbuild'

const root = fileURLToPath(new URL('../../../', import.meta.url))

export interface BundleOptions {
  /** Leave `node:*` imports to the runtime (a Worker with `nodejs_compat`). Default false. */
  readonly nodeCompat?: boolean
  readonly minify?: boolean
}

/** `tracehop` and its subpaths resolve to the sources, as the built package would export them. */
export const TRACEHOP_ALIASES: Record<string, string> = {
  'tracehop/cloudflare': `${root}adapters/cloudflare/index.ts`,
  'tracehop/hono': `${root}adapters/hono/index.ts`,
  tracehop: `${root}src/index.ts`,
}

/** Bundles `entry` (relative to the repo root) into one ES module and returns its text. */
export async function bundleWorker(entry: string, options: BundleOptions = {}): Promise<string> {
  const result = await build({
    entryPoints: [`${root}${entry}`],
    bundle: true,
    write: false,
    format: 'esm',
    platform: 'neutral',
    target: 'es2022',
    conditions: ['workerd', 'worker', 'browser'],
    mainFields: ['browser', 'module', 'main'],
    external: options.nodeCompat ? ['cloudflare:*', 'node:*'] : ['cloudflare:*'],
    alias: TRACEHOP_ALIASES,
    minify: options.minify ?? false,
    logLevel: 'silent',
  })
  return result.outputFiles[0]!.text
}

/** The `node:` modules a bundle imports (a Worker without `nodejs_compat` must have none). */
export function nodeImports(code: string): string[] {
  const found = new Set<string>()
  for (const m of code.matchAll(/(?:from\s*|import\s*\(\s*|require\s*\(\s*)["'](node:[^"']+)["']/g))
    found.add(m[1]!)
  return [...found]
}
