// Bundles bench/main.ts with esbuild (so suites can import src/ directly) and runs it.
// Usage: npm run bench [-- suite-name ...]
import { build } from 'esbuild'
import { mkdirSync } from 'node:fs'
import { fileURLToPath, pathToFileURL } from 'node:url'

const root = fileURLToPath(new URL('..', import.meta.url))
mkdirSync(`${root}/node_modules/.cache/tracehop-bench`, { recursive: true })
const outfile = `${root}/node_modules/.cache/tracehop-bench/main.mjs`
await build({
  entryPoints: [`${root}/bench/main.ts`],
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  outfile,
  packages: 'external',
  logLevel: 'warning',
})
await import(pathToFileURL(outfile).href)
