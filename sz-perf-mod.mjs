import { build, transform } from 'esbuild'
import { gzipSync } from 'node:zlib'
const src = process.argv[2] === 'otlp' ? `import { createTracer, otlp } from './src/index.ts'
const t = createTracer({ service: 's', sampling: { ratio: 0.1 }, exporters: [otlp({ url: 'http://x/v1/traces' })] })
export default async (req) => { const s = t.start(req); const h = s.root.child('x', (c) => c.headers()); await s.end(); return h }` : `import { createTracer } from './src/index.ts'
const t = createTracer({ service: 's', sampling: { ratio: 0.1 } })
export default async (req) => { const s = t.start(req); const h = s.root.child('x', (c) => c.headers()); await s.end(); return h }`
const r = await build({ stdin: { contents: src, resolveDir: '/work/main', loader: 'ts' }, bundle: true, minify: false, format: 'esm', platform: 'browser', write: false, logLevel: 'silent' })
const text = r.outputFiles[0].text
const parts = text.split(/^\/\/ (src\/\S+|<stdin>)$/m)
const full = (await transform(text, { minify: true })).code
const fullGz = gzipSync(full).length
const rows = []
for (let i = 1; i < parts.length; i += 2) {
  const name = parts[i], code = parts[i + 1]
  const without = parts.filter((_, j) => j !== i && j !== i + 1 && j % 2 === 0).join('\n')
  const m = (await transform(without, { minify: true })).code
  rows.push([name, fullGz - gzipSync(m).length])
}
rows.sort((a, b) => b[1] - a[1])
for (const [n, g] of rows) console.log(String(g).padStart(6), n)
console.log('full gz', fullGz)
