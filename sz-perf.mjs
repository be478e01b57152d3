import { build } from 'esbuild'
import { gzipSync } from 'node:zlib'
const r = await build({ stdin: { contents: `import { createTracer } from './src/index.ts'
const t = createTracer({ service: 's', sampling: { ratio: 0.1 } })
export default async (req) => { const s = t.start(req); const h = s.root.child('x', (c) => c.headers()); await s.end(); return h }`, resolveDir: '/work/main', loader: 'ts' }, bundle: true, minify: true, format: 'esm', platform: 'browser', write: false, metafile: true, logLevel: 'silent' })
const out = Object.values(r.metafile.outputs)[0]
const rows = Object.entries(out.inputs).map(([f, v]) => [f, v.bytesInOutput]).sort((a, b) => b[1] - a[1])
for (const [f, b] of rows) console.log(String(b).padStart(7), f)
console.log('total min', r.outputFiles[0].contents.length, 'gz', gzipSync(r.outputFiles[0].contents).length)
