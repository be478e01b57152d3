// Bundles a test script for Vercel's edge-runtime VM: one classic script (iife), browser
// platform, evaluated with `new EdgeRuntime({ initialCode })`.
import { build } from 'esbuild'

/** Source text to bundle instead of a file: its imports resolve from `resolveDir`. */
export interface EdgeSource {
  readonly contents: string
  readonly resolveDir: string
  readonly sourcefile: string
}

/**
 * The script at `entry` (an absolute path, or source text) with its imports, as
 * edge-runtime evaluates it.
 */
export async function bundleForEdge(entry: string | EdgeSource): Promise<string> {
  const result = await build({
    ...(typeof entry === 'string' ? { entryPoints: [entry] } : { stdin: { ...entry, loader: 'ts' } }),
    bundle: true,
    format: 'iife',
    platform: 'browser',
    target: 'es2022',
    write: false,
    logLevel: 'silent',
  })
  return result.outputFiles[0]!.text
}
