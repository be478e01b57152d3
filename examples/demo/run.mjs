#!/usr/bin/env node
// `npm run demo` (README command 1): bundles examples/demo/demo.ts with the repository's own
// sources (esbuild, well under a second) and runs it. See examples/demo/README.md.
import { join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { build } from 'esbuild'

const root = fileURLToPath(new URL('../../', import.meta.url))
// Inside node_modules so that the bundle's package imports (miniflare, edge-runtime, …) resolve.
const outfile = join(root, 'node_modules/.cache/tracehop-demo/demo.mjs')
await build({
  entryPoints: [join(root, 'examples/demo/demo.ts')],
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  packages: 'external',
  outfile,
  logLevel: 'warning',
})
const { runDemo } = await import(pathToFileURL(outfile).href)
const code = await runDemo(process.argv.slice(2), root)
// Every server and child process is closed by now; exit without waiting for idle sockets.
process.exit(code)
