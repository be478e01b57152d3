// Every ```ts sample in README.md and docs/*.md is type-checked against the sources, so
// the docs cannot drift from the API. Samples import from 'tracehop' and 'tracehop/<entry>'.
// They also run, on their runtimes with their output checked, in test/docs/ (the list of
// which harness runs which sample, and why two do not, is test/docs/samples-coverage.test.ts).
import { execFileSync } from 'node:child_process'
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('..', import.meta.url))
const out = `${root}/node_modules/.cache/doc-samples`
rmSync(out, { recursive: true, force: true })
mkdirSync(out, { recursive: true })

const docs = [
  'README.md',
  ...readdirSync(`${root}/docs`)
    .filter((f) => f.endsWith('.md'))
    .map((f) => `docs/${f}`),
]
const files = []
for (const doc of docs) {
  const text = readFileSync(`${root}/${doc}`, 'utf8')
  const re = /```ts\n([\s\S]*?)```/g
  let m
  let n = 0
  while ((m = re.exec(text))) {
    const name = `${doc.replace(/[/.]/g, '_')}_${++n}.ts`
    writeFileSync(`${out}/${name}`, `${m[1]}\nexport {}\n`)
    files.push(name)
  }
}
const entries = ['cloudflare', 'hono', 'lambda', 'vercel', 'fetch', 'otel', 'langsmith', 'mcp']
const paths = { tracehop: ['../../../src/index.ts'] }
for (const e of entries) paths[`tracehop/${e}`] = [`../../../adapters/${e}/index.ts`]
const base = JSON.parse(readFileSync(`${root}/tsconfig.json`, 'utf8'))
writeFileSync(
  `${out}/tsconfig.json`,
  JSON.stringify({
    compilerOptions: {
      ...base.compilerOptions,
      baseUrl: '.',
      paths,
      noUnusedLocals: false,
      noUnusedParameters: false,
      types: ['node', '@cloudflare/workers-types'],
    },
    files,
  }),
)
try {
  execFileSync(`${root}/node_modules/.bin/tsc`, ['-p', `${out}/tsconfig.json`], { stdio: 'inherit' })
  console.log(`doc samples: ${files.length} TypeScript samples from ${docs.length} documents type-check`)
} catch {
  console.error(
    'doc samples: a sample in the docs does not type-check (see above; files in node_modules/.cache/doc-samples)',
  )
  process.exit(1)
}
