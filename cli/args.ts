/**
 * Command-line parsing for the `tracehop` binary. Hand-written rather than `util.parseArgs`
 * so a mistyped flag gets a message that says what to type instead.
 */
import { type CollectorLimits, DEFAULT_LIMITS, formatBytes, parseSize } from './limits.js'
import { parseOrigin } from './origins.js'

export interface DevOptions {
  readonly port: number
  readonly host: string
  readonly jsonFile?: string
  readonly quiet: boolean
  /** Browser origins allowed besides loopback ones (`--cors-origin`, repeatable). */
  readonly corsOrigins: readonly string[]
  /** Limits set by flags; the rest keep their defaults. */
  readonly limits: Partial<CollectorLimits>
}

// The limit flags: name, the limit it sets, and whether it takes a size (`32mb`) or a count.
const LIMIT_FLAGS: readonly (readonly [string, keyof CollectorLimits, 'size' | 'count'])[] = [
  ['--max-body-size', 'maxBodyBytes', 'size'],
  ['--max-decoded-size', 'maxDecodedBytes', 'size'],
  ['--max-attribute-length', 'maxAttributeLength', 'count'],
  ['--max-stored-size', 'maxStoredBytes', 'size'],
  ['--max-traces', 'maxTraces', 'count'],
  ['--max-concurrent-bodies', 'maxConcurrentBodies', 'count'],
  ['--max-queued-bodies', 'maxQueuedBodies', 'count'],
]
const d = DEFAULT_LIMITS

export type ParsedArgs =
  | { readonly command: 'help'; readonly topic: 'main' | 'dev' }
  | { readonly command: 'version' }
  | { readonly command: 'dev'; readonly options: DevOptions }
  | { readonly command: 'error'; readonly message: string; readonly topic: 'main' | 'dev' }

export const MAIN_USAGE: string = `Usage: tracehop <command> [options]

Commands:
  dev         Run the local development collector (OTLP/HTTP + LangSmith ingestion,
              terminal waterfalls, a waterfall page in the browser)

Options:
  -h, --help     Show help (also: tracehop dev --help)
  -v, --version  Show the version`

export const DEV_USAGE: string = `Usage: tracehop dev [options]

Receives traces on http://HOST:PORT and draws each one as a waterfall once it is complete:
  OTLP/HTTP   POST /v1/traces (application/json or application/x-protobuf, gzip ok)
  LangSmith   POST /runs/multipart, /runs/batch, /runs, PATCH /runs/:id, GET /info
  Browser     GET /  (the waterfall page; /#trace=<id> opens one trace)

Options:
  --port <n>     Port to listen on (default 4318; 0 = any free port)
  --host <addr>  Address to bind (default 127.0.0.1)
  --json <file>  Append every received span to <file> as one JSON line (a span that
                 arrives again, e.g. a LangSmith run's patch, is appended again: the
                 last line for a span id is its latest state)
  --quiet        Do not print waterfalls in the terminal
  --cors-origin <origin>
                 Also accept spans from browser pages served at <origin>, e.g.
                 https://app.example.com (repeatable). Pages on localhost, 127.0.0.1 and
                 [::1] are always accepted; a request from any other Origin gets 403.
  -h, --help     Show this help

Limits (anyone who can reach the port can send; these keep memory bounded):
  --max-body-size <size>        Request body on the wire (default ${formatBytes(d.maxBodyBytes)}); more: 413
  --max-decoded-size <size>     Body after gzip/deflate/br (default ${formatBytes(d.maxDecodedBytes)}); more: 413
  --max-attribute-length <n>    Characters kept of a string value (default ${d.maxAttributeLength});
                                longer ones end in "… [truncated by tracehop dev: N characters]"
  --max-stored-size <size>      Spans kept in memory (default ${formatBytes(d.maxStoredBytes)}), then
                                the oldest traces are evicted (the page says how many)
  --max-traces <n>              Traces kept (default ${d.maxTraces}), then the oldest are evicted
  --max-concurrent-bodies <n>   Bodies decoded at once (default ${d.maxConcurrentBodies})
  --max-queued-bodies <n>       Requests waiting for a turn (default ${d.maxQueuedBodies}); more: 503
  Sizes: bytes or with a unit, e.g. 512kb, 32mb, 1gb.

Point your services at it:
  tracehop      exporters: [otlp({ url: 'http://127.0.0.1:4318/v1/traces' }),
                            langsmith({ apiUrl: 'http://127.0.0.1:4318', apiKey: 'dev' })]
  OTel SDKs     OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:4318
  langsmith SDK LANGSMITH_ENDPOINT=http://127.0.0.1:4318 LANGSMITH_TRACING=true LANGSMITH_API_KEY=dev`

const DEV_FLAGS: readonly string[] = [
  '--port',
  '--host',
  '--json',
  '--quiet',
  '--help',
  '--cors-origin',
  ...LIMIT_FLAGS.map(([flag]) => flag),
]
const PORT_RE = /^\d{1,5}$/

/** Levenshtein distance, for "did you mean". */
function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i)
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0]!
    row[0] = i
    for (let j = 1; j <= b.length; j++) {
      const cur = row[j]!
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1))
      prev = cur
    }
  }
  return row[b.length]!
}

function suggest(flag: string): string {
  let best: string | undefined
  let bestD = 3
  for (const f of DEV_FLAGS) {
    const d = distance(flag, f)
    if (d < bestD) {
      best = f
      bestD = d
    }
  }
  return best ? ` (did you mean ${best}?)` : ''
}

/**
 * Parses `tracehop` arguments (without `node` and the script path).
 *
 * @example
 * parseArgs(['dev', '--port', '4319']) // { command: 'dev', options: { port: 4319, host: '127.0.0.1', quiet: false, corsOrigins: [], limits: {} } }
 */
export function parseArgs(argv: readonly string[]): ParsedArgs {
  const [command, ...rest] = argv
  if (command === undefined || command === '-h' || command === '--help' || command === 'help')
    return { command: 'help', topic: 'main' }
  if (command === '-v' || command === '--version' || command === 'version') return { command: 'version' }
  if (command !== 'dev') {
    const hint = command.startsWith('-') ? `unknown option ${command}` : `unknown command '${command}'`
    return { command: 'error', message: `${hint}; the command is 'tracehop dev'`, topic: 'main' }
  }

  let port = 4318
  let host = '127.0.0.1'
  let jsonFile: string | undefined
  let quiet = false
  const corsOrigins: string[] = []
  const limits: Partial<Record<keyof CollectorLimits, number>> = {}
  const fail = (message: string): ParsedArgs => ({ command: 'error', message, topic: 'dev' })
  for (let i = 0; i < rest.length; i++) {
    const arg = rest[i]!
    const eq = arg.startsWith('--') ? arg.indexOf('=') : -1
    const flag = eq > 0 ? arg.slice(0, eq) : arg
    const inline = eq > 0 ? arg.slice(eq + 1) : undefined
    const value = (): string | undefined => {
      if (inline !== undefined) return inline
      const next = rest[i + 1]
      if (next === undefined || (next.startsWith('-') && next !== '-')) return undefined
      i++
      return next
    }
    switch (flag) {
      case '-h':
      case '--help':
        return { command: 'help', topic: 'dev' }
      case '-q':
      case '--quiet':
        if (inline !== undefined) return fail('--quiet takes no value')
        quiet = true
        break
      case '-p':
      case '--port': {
        const v = value()
        if (v === undefined) return fail('--port needs a value, e.g. --port 4318')
        if (!PORT_RE.test(v) || Number(v) > 65535)
          return fail(`--port must be an integer from 0 to 65535, got '${v}'`)
        port = Number(v)
        break
      }
      case '--host': {
        const v = value()
        if (v === undefined || v === '') return fail('--host needs a value, e.g. --host 127.0.0.1')
        host = v
        break
      }
      case '--json': {
        const v = value()
        if (v === undefined || v === '') return fail('--json needs a file name, e.g. --json spans.jsonl')
        jsonFile = v
        break
      }
      case '--cors-origin': {
        const v = value()
        if (v === undefined)
          return fail('--cors-origin needs a value, e.g. --cors-origin https://app.example.com')
        const origin = parseOrigin(v)
        if (origin === undefined)
          return fail(`--cors-origin must be an http(s) origin such as https://app.example.com, got '${v}'`)
        corsOrigins.push(origin)
        break
      }
      default: {
        const limit = LIMIT_FLAGS.find(([name]) => name === flag)
        if (limit) {
          const [name, key, kind] = limit
          const v = value()
          const example = kind === 'size' ? '32mb' : '100'
          if (v === undefined) return fail(`${name} needs a value, e.g. ${name} ${example}`)
          const n = kind === 'size' ? parseSize(v) : /^\d{1,15}$/.test(v) ? Number(v) : undefined
          const min = key === 'maxQueuedBodies' ? 0 : 1
          if (n === undefined || n < min)
            return fail(
              `${name} must be ${kind === 'size' ? 'a size such as 512kb or 32mb' : `an integer >= ${min}`}, got '${v}'`,
            )
          limits[key] = n
          break
        }
        if (flag.startsWith('-')) return fail(`unknown option ${flag}${suggest(flag)}`)
        return fail(`unexpected argument '${arg}'`)
      }
    }
  }
  return {
    command: 'dev',
    options: {
      port,
      host,
      ...(jsonFile !== undefined ? { jsonFile } : {}),
      quiet,
      corsOrigins,
      limits,
    },
  }
}
