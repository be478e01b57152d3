/**
 * Configuration values in error messages: what was given, with its type, so a message
 * says "expected a number, got string '0.1'" rather than just "got 0.1".
 */
import { TracehopError } from './errors.js'

/**
 * A value as an error message shows it: its type, then the value when short.
 *
 * @example
 * describeValue('0.1') // "string '0.1'"
 * describeValue(undefined) // 'undefined'
 */
export function describeValue(value: unknown): string {
  const t = typeof value
  if (t === 'string') return `string '${(value as string).slice(0, 60)}'`
  if (t === 'number' || t === 'boolean' || t === 'bigint') return `${t} ${String(value)}`
  return value === null || t === 'undefined'
    ? String(value)
    : Array.isArray(value)
      ? 'an array'
      : `a${t === 'object' ? 'n' : ''} ${t}`
}

/**
 * A number option: a wrongly typed value says so ("expected a number, got string '0.1'"),
 * a number out of range says what range.
 *
 * @example
 * checkNumber('sampling.ratio', config.ratio, (n) => n >= 0 && n <= 1, 'within [0, 1]')
 */
export function checkNumber(
  option: string,
  value: unknown,
  valid: (n: number) => boolean,
  range: string,
): number {
  if (typeof value !== 'number') {
    throw new TracehopError(`${option}: expected a number ${range}, got ${describeValue(value)}`)
  }
  if (!valid(value)) throw new TracehopError(`${option} must be ${range}, got ${String(value)}`)
  return value
}

const LOOPBACK_HOSTS: ReadonlySet<string> = new Set(['localhost', '[::1]'])

/** Whether a URL points at this machine (`localhost`, `127.0.0.0/8`, `::1`): `tracehop dev`. */
export function isLoopback(url: URL): boolean {
  const host = url.hostname.toLowerCase()
  return LOOPBACK_HOSTS.has(host) || host.endsWith('.localhost') || /^127(\.\d{1,3}){3}$/.test(host)
}

/**
 * An exporter endpoint: an absolute `http:` or `https:` URL, or a configuration error that
 * says how to write one. `localhost:4318` parses as a URL whose scheme is `localhost:`, so
 * parsing alone would accept it and every send would fail.
 *
 * @example
 * requireHttpUrl('otlp.url', 'localhost:4318', 'http://127.0.0.1:4318/v1/traces')
 * // throws: otlp.url must be an absolute http: or https: URL … (did you mean "http://localhost:4318"?)
 */
export function requireHttpUrl(option: string, value: unknown, example: string): URL {
  if (typeof value !== 'string') {
    throw new TracehopError(
      `${option}: expected a URL string such as ${example}, got ${describeValue(value)}`,
    )
  }
  let url: URL | undefined
  try {
    url = new URL(value)
  } catch {
    // Not absolute: reported below.
  }
  if (url !== undefined && (url.protocol === 'http:' || url.protocol === 'https:') && url.hostname !== '')
    return url
  const trimmed = value.trim()
  const hint =
    trimmed !== '' && !/^[a-z][a-z\d+.-]*:\/\//i.test(trimmed) ? ` (did you mean "http://${trimmed}"?)` : ''
  throw new TracehopError(
    `${option} must be an absolute http: or https: URL such as ${example}, got ${JSON.stringify(value)}${hint}`,
  )
}
