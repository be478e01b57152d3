#!/usr/bin/env node
/**
 * The `tracehop` binary (package.json `bin`). `tracehop dev` runs the local collector.
 */
import { VERSION } from '../src/version.js'
import { DEV_USAGE, MAIN_USAGE, parseArgs } from './args.js'
import { runDev } from './dev.js'
import { terminalSafe } from './terminal-text.js'

/** stderr, line by line through `terminalSafe`: errors may quote what a client sent. */
function writeErr(text: string): void {
  process.stderr.write(`${text.split('\n').map(terminalSafe).join('\n')}\n`)
}

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
      writeErr(
        `tracehop: ${parsed.message}\nRun 'tracehop ${parsed.topic === 'dev' ? 'dev ' : ''}--help' for usage.`,
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
        err: writeErr,
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
    writeErr(`tracehop: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`)
    process.exitCode = 1
  },
)
