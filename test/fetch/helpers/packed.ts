// The packed tarball, installed as a user would: `npm pack` of this repo into a temp dir, and
// a tiny project that depends on it, installed by Bun offline (tracehop has no dependencies).
// Deno resolves the same node_modules (`nodeModulesDir: manual`); Node resolves it natively.
import { type ChildProcess, execFile, spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { copyFile, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'

const run = promisify(execFile)
export const root = fileURLToPath(new URL('../../../', import.meta.url))
export const DENO = join(root, 'node_modules/@deno/linux-x64-glibc/deno')
export const BUN = join(root, 'node_modules/@oven/bun-linux-x64/bin/bun')

export interface PackedProject {
  readonly dir: string
  /** Environment for Deno and Bun: caches inside `dir`, no update checks, no telemetry. */
  readonly env: NodeJS.ProcessEnv
  cleanup(): Promise<void>
}

/** Packs the built package and installs it into a fresh project holding `files` (from test/fetch/services). */
export async function packedProject(files: readonly string[]): Promise<PackedProject> {
  if (!existsSync(join(root, 'dist/fetch.js')))
    throw new Error('dist/ is not built: run `npm run build` first')
  const dir = await mkdtemp(join(tmpdir(), 'tracehop-packed-'))
  const { stdout } = await run('npm', ['pack', root, '--pack-destination', dir, '--silent'], { cwd: dir })
  const tarball = stdout.trim().split('\n').pop()!
  await writeFile(
    join(dir, 'package.json'),
    JSON.stringify({
      name: 'packed-test',
      private: true,
      type: 'module',
      dependencies: { tracehop: `file:./${tarball}` },
    }),
  )
  await writeFile(join(dir, 'deno.json'), JSON.stringify({ nodeModulesDir: 'manual' }))
  for (const f of files) await copyFile(join(root, 'test/fetch/services', f), join(dir, f))
  const env: NodeJS.ProcessEnv = {
    PATH: process.env['PATH'],
    HOME: dir,
    DENO_DIR: join(dir, '.deno'),
    DENO_NO_UPDATE_CHECK: '1',
    BUN_INSTALL_CACHE_DIR: join(dir, '.bun-cache'),
    DO_NOT_TRACK: '1',
  }
  await run(BUN, ['install', '--offline', '--no-progress'], { cwd: dir, env })
  return { dir, env, cleanup: () => rm(dir, { recursive: true, force: true }) }
}

export interface Service {
  readonly url: string
  readonly child: ChildProcess
  /** Everything the process wrote, for the failure message. */
  output(): string
  stop(): Promise<void>
}

/**
 * Starts a service that prints `{"ready":<port>}` on stdout once it listens; fails after
 * `timeoutMs` with the process output.
 */
export function startService(
  command: string,
  args: readonly string[],
  cwd: string,
  env: NodeJS.ProcessEnv,
  timeoutMs = 20_000,
): Promise<Service> {
  const child = spawn(command, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  const stop = (): Promise<void> =>
    new Promise((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve()
      child.once('exit', () => resolve())
      child.kill('SIGTERM')
    })
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      void stop()
      reject(new Error(`${command} ${args.join(' ')} did not start in ${timeoutMs} ms:\n${out}`))
    }, timeoutMs)
    child.stderr!.on('data', (c: Buffer) => (out += c.toString()))
    child.stdout!.on('data', (c: Buffer) => {
      out += c.toString()
      const m = /\{"ready":(\d+)\}/.exec(out)
      if (m !== null) {
        clearTimeout(timer)
        resolve({ url: `http://127.0.0.1:${m[1]}`, child, output: () => out, stop })
      }
    })
    child.once('exit', (code) => {
      clearTimeout(timer)
      reject(new Error(`${command} exited with ${code}:\n${out}`))
    })
  })
}
