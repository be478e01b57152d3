// `npm run bench [-- name ...]`: bundles each bench/suites/*.ts with esbuild (so suites can
// import src/ directly and the real competitor packages), then runs them one after another
// in this process. Every suite measures ours and the competitors in the same run.

import { mkdirSync, readdirSync } from 'node:fs'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { build } from 'esbuild'

const root = fileURLToPath(new URL('..', import.meta.url))
const only = process.argv.slice(2)
const order = [
  'w3c',
  'langsmith',
  'sampler',
  'core',
  'export',
  'bridges',
  'lambda',
  'cold-start',
  'workerd',
  'workerd-js',
  'worker-startup',
]
const suites = readdirSync(`${root}/bench/suites`)
  .filter((f) => f.endsWith('.ts'))
  .map((f) => f.slice(0, -3))
  .filter((name) => only.length === 0 || only.includes(name))
  .sort((a, b) => (order.indexOf(a) + 1 || 99) - (order.indexOf(b) + 1 || 99))
const outdir = `${root}/node_modules/.cache/tracehop-bench`
mkdirSync(outdir, { recursive: true })
await build({
  entryPoints: suites.map((s) => `${root}/bench/suites/${s}.ts`),
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  outdir,
  outExtension: { '.js': '.mjs' },
  packages: 'external',
  logLevel: 'warning',
})
console.log(`tracehop bench — node ${process.version}, ${suites.length} suites: ${suites.join(', ')}`)
console.log('ratio = their time / ours: above 1.00x means tracehop is faster')
for (const name of suites) {
  console.log(`\n=== ${name} ===`)
  const mod = await import(pathToFileURL(`${outdir}/${name}.mjs`).href)
  await mod.run()
}
