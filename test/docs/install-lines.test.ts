// Each entry's documented install line (README's per-runtime table, docs/runtimes.md) names
// exactly the packages its built bundle imports: a peer added to an entry without its
// install line, or an install line naming a package the entry no longer needs, fails here.
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { builtinModules } from 'node:module'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { build } from 'esbuild'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { root } from './samples.js'

interface PackageJson {
  exports: Record<string, unknown>
  peerDependencies: Record<string, string>
  peerDependenciesMeta: Record<string, { optional?: boolean }>
}

const pkg = JSON.parse(await readFile(`${root}package.json`, 'utf8')) as PackageJson
/** `tracehop`, `tracehop/cloudflare`, … from package.json `exports`. */
const ENTRIES = Object.keys(pkg.exports)
  .filter((k) => k !== './package.json')
  .map((k) => (k === '.' ? 'tracehop' : `tracehop/${k.slice(2)}`))

const builtins = new Set(builtinModules)

/** `langsmith/run_trees` → `langsmith`; `@opentelemetry/api/x` → `@opentelemetry/api`. */
function packageOf(specifier: string): string {
  const parts = specifier.split('/')
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]!
}

let outDir: string

/** The packages the built entry imports, through its chunks, static or dynamic; builtins aside. */
async function importedPackages(entry: string): Promise<string[]> {
  const file = join(outDir, `${entry === 'tracehop' ? 'index' : entry.slice('tracehop/'.length)}.js`)
  const { metafile } = await build({
    entryPoints: [file],
    bundle: true,
    write: false,
    metafile: true,
    format: 'esm',
    platform: 'neutral',
    packages: 'external',
    external: ['node:*'],
    logLevel: 'silent',
  })
  const found = new Set<string>()
  for (const input of Object.values(metafile.inputs))
    for (const i of input.imports)
      if (i.external && !i.path.startsWith('node:') && !builtins.has(i.path)) found.add(packageOf(i.path))
  return [...found].sort()
}

/** `npm install tracehop a b` → `['a', 'b']` (sorted); throws on any other shape. */
function peersOf(line: string): string[] {
  const words = line.trim().split(/\s+/)
  if (words[0] !== 'npm' || words[1] !== 'install' || words[2] !== 'tracehop')
    throw new Error(`not an install line: ${line}`)
  return words.slice(3).sort()
}

/** README's per-runtime table: entry → the packages of its Install cell. */
async function readmeInstallLines(): Promise<Map<string, string[]>> {
  const lines = new Map<string, string[]>()
  const text = await readFile(`${root}README.md`, 'utf8')
  const table = text.slice(text.indexOf('## Per runtime'))
  const header = table.split('\n').find((l) => l.startsWith('|'))!
  const columns = header.split('|').map((c) => c.trim())
  const entryAt = columns.indexOf('Entry')
  const installAt = columns.indexOf('Install')
  expect([entryAt, installAt].every((i) => i > 0)).toBe(true)
  for (const row of table.split('\n').filter((l) => /^\| .*`tracehop/.test(l))) {
    const cells = row.split('|').map((c) => c.trim().replace(/^`|`$/g, ''))
    lines.set(cells[entryAt]!, peersOf(cells[installAt]!))
  }
  return lines
}

/** docs/runtimes.md: "Install (`tracehop/hono`): `npm install tracehop hono`". */
async function runtimesInstallLines(): Promise<Map<string, string[]>> {
  const text = await readFile(`${root}docs/runtimes.md`, 'utf8')
  const lines = new Map<string, string[]>()
  for (const m of text.matchAll(/Install \(`(tracehop[^`]*)`\): `([^`]+)`/g)) {
    expect(lines.has(m[1]!), `${m[1]} has two install lines`).toBe(false)
    lines.set(m[1]!, peersOf(m[2]!))
  }
  return lines
}

beforeAll(async () => {
  // The package's own build (tsup.config.ts, library entries), without declarations.
  outDir = await mkdtemp(join(tmpdir(), 'tracehop-install-lines-'))
  const { build: tsup } = await import('tsup')
  const configs = (await import('../../tsup.config.js')).default as unknown as { entry?: unknown }[]
  const library = configs.find((c) => JSON.stringify(c.entry).includes('adapters/hono'))
  if (!library) throw new Error('tsup.config.ts has no library entries')
  await tsup({ ...library, outDir, dts: false, sourcemap: false, silent: true, config: false } as Parameters<
    typeof tsup
  >[0])
}, 60_000)
afterAll(async () => {
  if (outDir) await rm(outDir, { recursive: true, force: true })
})

describe('install lines name the peers each built entry imports', () => {
  it.each(ENTRIES)('%s', async (entry) => {
    const imported = await importedPackages(entry)
    // Every package an entry imports is an optional peer, never a dependency users get unasked.
    for (const name of imported) {
      expect(pkg.peerDependencies[name], `${name} is not a peerDependency`).toBeDefined()
      expect(pkg.peerDependenciesMeta[name]?.optional).toBe(true)
    }
    expect((await readmeInstallLines()).get(entry), 'README per-runtime table').toEqual(imported)
    expect((await runtimesInstallLines()).get(entry), 'docs/runtimes.md').toEqual(imported)
  })

  it('every documented entry is a package export', async () => {
    expect([...(await readmeInstallLines()).keys()].sort()).toEqual([...ENTRIES].sort())
    expect([...(await runtimesInstallLines()).keys()].sort()).toEqual([...ENTRIES].sort())
  })
})
