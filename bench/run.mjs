// `npm run bench [-- name ...]`: bundles each bench/suites/*.ts with esbuild (so suites can
// import src/ directly and the real competitor packages), then runs them one after another
// in this process. Every suite measures ours and the competitors in the same run.
// `npm run profile:workerd` (`--profile workerd`) runs bench/profile/workerd.ts the same way.

import { mkdirSync, readdirSync } from 'node:fs'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { build } from 'esbuild'

const root = fileURLToPath(new URL('..', import.meta.url))
const args = process.argv.slice(2)
const profile = args[0] === '--profile' ? args[1] : undefined
if (args[0] === '--profile' && profile === undefined)
  throw new Error('bench/run.mjs --profile <name>: name one of bench/profile/*.ts, e.g. workerd')
const only = profile === undefined ? args : []
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
const dir = profile === undefined ? 'suites' : 'profile'
const suites = readdirSync(`${root}/bench/${dir}`)
  .filter((f) => f.endsWith('.ts'))
  .map((f) => f.slice(0, -3))
  .filter((name) => (profile === undefined ? only.length === 0 || only.includes(name) : name === profile))
  .sort((a, b) => (order.indexOf(a) + 1 || 99) - (order.indexOf(b) + 1 || 99))
if (suites.length === 0)
  throw new Error(`bench/run.mjs: nothing to run in bench/${dir} for ${args.join(' ')}`)
const outdir = `${root}/node_modules/.cache/tracehop-bench/${dir}`
mkdirSync(outdir, { recursive: true })
await build({
  entryPoints: suites.map((s) => `${root}/bench/${dir}/${s}.ts`),
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  outdir,
  outExtension: { '.js': '.mjs' },
  packages: 'external',
  logLevel: 'warning',
})
console.log(`tracehop bench — node ${process.version}, ${suites.length} ${dir}: ${suites.join(', ')}`)
if (profile === undefined) console.log('ratio = their time / ours: above 1.00x means tracehop is faster')
for (const name of suites) {
  console.log(`\n=== ${name} ===`)
  const mod = await import(pathToFileURL(`${outdir}/${name}.mjs`).href)
  await mod.run()
}
