// The core and tracehop/lambda bundled as the published package is (ESM, code splitting,
// Node 20) into a temporary folder, for tests that run a fresh `node` on them.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { build } from 'esbuild'

const root = fileURLToPath(new URL('../../', import.meta.url))

/** The folder with `index.js` (tracehop) and `lambda.js`; `remove()` deletes it. */
export async function bundleForNode(prefix: string): Promise<{ dir: string; remove(): void }> {
  const dir = mkdtempSync(join(tmpdir(), prefix))
  await build({
    entryPoints: { index: `${root}src/index.ts`, lambda: `${root}adapters/lambda/index.ts` },
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    outdir: dir,
    logLevel: 'silent',
  })
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) }
}
