// The ```ts samples of README.md and docs/*.md, as files a harness can bundle and run.
// A sample is named by its document and a string only it contains, so a harness keeps
// finding it when samples are added or reordered above it.
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { build, type Plugin } from 'esbuild'
import { bundleForWorkerd } from '../support/workerd-bundle.js'

export const root = fileURLToPath(new URL('../../', import.meta.url))
// Inside the checkout, so the bundles resolve their packages from its node_modules; one
// folder per test process, so files running in parallel never overwrite each other's samples.
const runs = `${root}.doc-run`
const out = `${runs}/${process.pid}`
removeFinishedRuns()

/** Removes what earlier test processes left in `.doc-run` (a folder per process no longer alive). */
function removeFinishedRuns(): void {
  let entries: string[]
  try {
    entries = readdirSync(runs)
  } catch {
    return
  }
  for (const name of entries) {
    if (/^\d+$/.test(name) && processAlive(Number(name))) continue
    rmSync(`${runs}/${name}`, { recursive: true, force: true })
  }
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    // EPERM: it exists, owned by someone else.
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}

export interface DocSample {
  readonly doc: string
  /** 1-based position among the document's ```ts blocks. */
  readonly index: number
  readonly code: string
}

/** README.md and every docs/*.md, relative to the repo root. */
export function docFiles(): string[] {
  const docs = readdirSync(`${root}docs`).filter((f) => f.endsWith('.md'))
  return ['README.md', ...docs.map((f) => `docs/${f}`)]
}

/** Every ```ts block of `doc`, in order. */
export function docSamples(doc: string): DocSample[] {
  const text = readFileSync(`${root}${doc}`, 'utf8')
  return [...text.matchAll(/```ts\n([\s\S]*?)```/g)].map((m, i) => ({ doc, index: i + 1, code: m[1]! }))
}

/** The one ```ts block of `doc` that contains `marker`; throws unless exactly one does. */
export function docSample(doc: string, marker: string): DocSample {
  const found = docSamples(doc).filter((s) => s.code.includes(marker))
  if (found.length !== 1) throw new Error(`${doc}: ${found.length} samples contain ${JSON.stringify(marker)}`)
  return found[0]!
}

/** External URLs in a sample, swapped for local receivers before it runs. */
export type Replacements = Readonly<Record<string, string>>

function substitute(code: string, replace: Replacements): string {
  let text = code
  for (const [from, to] of Object.entries(replace)) {
    if (!text.includes(from)) throw new Error(`the sample no longer contains ${from}`)
    text = text.split(from).join(to)
  }
  return text
}

const ENTRIES = ['cloudflare', 'hono', 'lambda', 'vercel', 'otel', 'langsmith', 'mcp']

/** `tracehop` and every `tracehop/<entry>` resolve to the sources, as the package exports them. */
export const SOURCE_ALIASES: Record<string, string> = {
  tracehop: `${root}src/index.ts`,
  ...Object.fromEntries(ENTRIES.map((e) => [`tracehop/${e}`, `${root}adapters/${e}/index.ts`])),
}

/** Writes the sample (URLs replaced) as a .ts file; returns its absolute path. */
export function writeSample(sample: DocSample, replace: Replacements = {}): string {
  mkdirSync(out, { recursive: true })
  const path = `${out}/${sample.doc.replace(/[/.]/g, '_')}_${sample.index}.ts`
  writeFileSync(path, substitute(sample.code, replace))
  return path
}

/** Bundles tracehop from the sources and leaves every other package to Node's resolution. */
const tracehopFromSources: Plugin = {
  name: 'tracehop-from-sources',
  setup(b) {
    b.onResolve({ filter: /^tracehop(\/|$)/ }, (args) => {
      const path = SOURCE_ALIASES[args.path]
      return path ? { path } : { errors: [{ text: `no such entry: ${args.path}` }] }
    })
    b.onResolve({ filter: /^[^./]/ }, (args) => ({ path: args.path, external: true }))
  },
}

let serial = 0

/**
 * Runs a sample in Node: bundled to an ES module next to node_modules and imported. Names a
 * sample only `declare`s (a model, a function it calls) come from `globals`.
 */
export async function importNodeSample<T = Record<string, unknown>>(
  sample: DocSample,
  options: { replace?: Replacements; globals?: Record<string, unknown> } = {},
): Promise<T> {
  const entry = writeSample(sample, options.replace)
  const file = `${entry.slice(0, -3)}.${++serial}.mjs`
  await build({
    entryPoints: [entry],
    outfile: file,
    bundle: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    plugins: [tracehopFromSources],
    logLevel: 'silent',
  })
  Object.assign(globalThis, options.globals ?? {})
  return (await import(file)) as T
}

/**
 * A sample as one classic script for Vercel's edge-runtime VM (tracehop from the sources,
 * every other package bundled in), its exports on `globalThis[globalName]`.
 */
export async function bundleEdgeSample(
  sample: DocSample,
  options: { replace?: Replacements; globalName: string },
): Promise<string> {
  const result = await build({
    entryPoints: [writeSample(sample, options.replace)],
    bundle: true,
    format: 'iife',
    globalName: options.globalName,
    platform: 'browser',
    target: 'es2022',
    alias: SOURCE_ALIASES,
    write: false,
    logLevel: 'silent',
  })
  return result.outputFiles[0]!.text
}

/** A sample as one ES module for workerd, `tracehop` from the sources (see workerd-bundle.ts). */
export function bundleWorkerdSample(sample: DocSample, replace: Replacements = {}): Promise<string> {
  return bundleForWorkerd(writeSample(sample, replace), { alias: SOURCE_ALIASES })
}
