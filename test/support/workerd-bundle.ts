// The one set of esbuild options for code that runs in workerd, as wrangler bundles it: ESM,
// the workerd/worker/browser export conditions, `cloudflare:*` left to the runtime. The
// Worker tests, the demo (examples/demo/topology.ts) and the workerd bench share it.
import { fileURLToPath } from 'node:url'
import { type BuildOptions, build } from 'esbuild'

export interface WorkerdBuildOptions {
  /** Leave `node:*` imports to the runtime (a Worker with `nodejs_compat`). Default false. */
  readonly nodeCompat?: boolean
  readonly minify?: boolean
  /**
   * Default `neutral`. `browser` also applies a package.json `browser` map, which older
   * OpenTelemetry packages use to swap out their Node platform files (the bench's peers).
   */
  readonly platform?: 'neutral' | 'browser'
  /** Import specifiers to resolve elsewhere (e.g. `tracehop` to the sources). */
  readonly alias?: Record<string, string>
}

/** esbuild options for a workerd bundle; add the entry (`entryPoints` or `stdin`). */
export function workerdBuildOptions(options: WorkerdBuildOptions = {}): BuildOptions {
  return {
    bundle: true,
    write: false,
    format: 'esm',
    platform: options.platform ?? 'neutral',
    target: 'es2022',
    conditions: ['workerd', 'worker', 'browser'],
    mainFields: ['browser', 'module', 'main'],
    external: options.nodeCompat ? ['cloudflare:*', 'node:*'] : ['cloudflare:*'],
    ...(options.alias ? { alias: options.alias } : {}),
    minify: options.minify ?? false,
    logLevel: 'silent',
  }
}

/** Bundles the file at `entryPath` (absolute) into one ES module for workerd; returns its text. */
export async function bundleForWorkerd(
  entryPath: string,
  options: WorkerdBuildOptions = {},
): Promise<string> {
  const result = await build({ entryPoints: [entryPath], ...workerdBuildOptions(options) })
  return result.outputFiles![0]!.text
}

const root = fileURLToPath(new URL('../../', import.meta.url))

/** `tracehop` and its subpaths resolve to the sources, as the built package would export them. */
export const TRACEHOP_ALIASES: Record<string, string> = {
  'tracehop/cloudflare': `${root}adapters/cloudflare/index.ts`,
  'tracehop/hono': `${root}adapters/hono/index.ts`,
  tracehop: `${root}src/index.ts`,
}

/** Bundles a test Worker, `entry` relative to the repo root, with `tracehop` aliased to the sources. */
export function bundleWorker(
  entry: string,
  options: Omit<WorkerdBuildOptions, 'alias' | 'platform'> = {},
): Promise<string> {
  return bundleForWorkerd(`${root}${entry}`, { ...options, alias: TRACEHOP_ALIASES })
}

/** The `node:` modules a bundle imports (a Worker without `nodejs_compat` must have none). */
export function nodeImports(code: string): string[] {
  const found = new Set<string>()
  for (const m of code.matchAll(/(?:from\s*|import\s*\(\s*|require\s*\(\s*)["'](node:[^"']+)["']/g))
    found.add(m[1]!)
  return [...found]
}
