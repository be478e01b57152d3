// Bundles a test script for Vercel's edge-runtime VM: one classic script (iife), browser
// platform, evaluated with `new EdgeRuntime({ initialCode })`.
import { build } from 'esbuild'

/** The script at `entry` (an absolute path) with its imports, as edge-runtime evaluates it. */
export async function bundleForEdge(entry: string): Promise<string> {
  const result = await build({
    entryPoints: [entry],
    bundle: true,
    format: 'iife',
    platform: 'browser',
    target: 'es2022',
    write: false,
    logLevel: 'silent',
  })
  return result.outputFiles[0]!.text
}
