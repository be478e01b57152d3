#!/usr/bin/env node
/**
 * The `tracehop` binary (package.json `bin`). `tracehop dev` runs the local collector.
 */
import { VERSION } from '../src/version.js'
import { DEV_USAGE, MAIN_USAGE, parseArgs } from './args.js'
import { runDev } from './dev.js'

/**
 * Runs the CLI with `argv` (without `node` and the script); resolves with the exit code.
 *
 * @example
 * process.exitCode = await main(['dev', '--port', '4319'])
 */
export async function main(argv: readonly string[]): Promise<number> {
  const parsed = parseArgs(argv)
  switch (parsed.command) {
    case 'help':
      process.stdout.write(`${parsed.topic === 'dev' ? DEV_USAGE : MAIN_USAGE}\n`)
      return 0
    case 'version':
      process.stdout.write(`tracehop ${VERSION}\n`)
      return 0
    case 'error':
      process.stderr.write(
        `tracehop: ${parsed.message}\nRun 'tracehop ${parsed.topic === 'dev' ? 'dev ' : ''}--help' for usage.\n`,
      )
      return 2
    case 'dev': {
      // FORCE_COLOR wins over NO_COLOR, as in Node's own tty.getColorDepth.
      const { FORCE_COLOR, NO_COLOR } = process.env
      const color =
        FORCE_COLOR !== undefined && FORCE_COLOR !== '0'
          ? true
          : NO_COLOR === undefined && process.stdout.isTTY === true
      return runDev(parsed.options, {
        out: (text) => process.stdout.write(`${text}\n`),
        err: (text) => process.stderr.write(`${text}\n`),
        color,
        width: () => Math.max(60, Math.min(process.stdout.columns ?? 100, 160)),
      })
    }
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code
  },
  (e: unknown) => {
    process.stderr.write(`tracehop: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`)
    process.exitCode = 1
  },
)
