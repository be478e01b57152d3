/**
 * Reads a few members of a JSON object text without parsing the rest of it. A message body
 * is chosen by whoever sent it: parsing a 256 KB body of deeply nested padding to find one
 * small member would cost milliseconds per record. One linear scan finds where the wanted
 * members' values are; only those (bounded) slices are ever parsed.
 */

const QUOTE = 0x22
const BACKSLASH = 0x5c

function isSpace(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09
}

function skipSpace(s: string, i: number): number {
  while (i < s.length && isSpace(s.charCodeAt(i))) i++
  return i
}

/** End (exclusive) of the string literal starting at `i` (a `"`), or -1. */
function skipString(s: string, i: number): number {
  for (let j = i + 1; j < s.length; j++) {
    const c = s.charCodeAt(j)
    if (c === BACKSLASH) j++
    else if (c === QUOTE) return j + 1
  }
  return -1
}

/** End (exclusive) of the JSON value starting at `i`, or -1. Brackets are counted, not checked. */
function skipValue(s: string, i: number): number {
  const c = s.charCodeAt(i)
  if (c === QUOTE) return skipString(s, i)
  if (c === 0x7b /* { */ || c === 0x5b /* [ */) {
    let depth = 0
    for (let j = i; j < s.length; j++) {
      const d = s.charCodeAt(j)
      if (d === QUOTE) {
        j = skipString(s, j) - 1
        if (j < 0) return -1
      } else if (d === 0x7b || d === 0x5b) depth++
      else if (d === 0x7d /* } */ || d === 0x5d /* ] */) {
        if (--depth === 0) return j + 1
      }
    }
    return -1
  }
  // A number or a literal: up to the next delimiter.
  let j = i
  while (j < s.length) {
    const d = s.charCodeAt(j)
    if (d === 0x2c || d === 0x7d || d === 0x5d || isSpace(d)) break
    j++
  }
  return j > i ? j : -1
}

/**
 * Where the values of the members named in `names` are, in the object that starts at
 * `start` (after optional whitespace): name to `[from, to)`. Undefined when the text there
 * is not an object. On repeated names the last wins, as `JSON.parse` does. Never throws.
 *
 * @example
 * const at = memberExtents('{"Type":"Notification","n":1}', 0, ['Type'])
 * at?.get('Type') // [8, 22]: the text '"Notification"'
 */
export function memberExtents(
  s: string,
  start: number,
  names: readonly string[],
): Map<string, readonly [number, number]> | undefined {
  let i = skipSpace(s, start)
  if (s.charCodeAt(i) !== 0x7b) return undefined
  const found = new Map<string, readonly [number, number]>()
  i = skipSpace(s, i + 1)
  if (s.charCodeAt(i) === 0x7d) return found
  for (;;) {
    if (s.charCodeAt(i) !== QUOTE) return undefined
    const keyEnd = skipString(s, i)
    if (keyEnd < 0) return undefined
    // Names are compared as written: the ones read here are plain ASCII.
    const key = keyEnd - i <= 66 ? s.slice(i + 1, keyEnd - 1) : undefined
    i = skipSpace(s, keyEnd)
    if (s.charCodeAt(i) !== 0x3a /* : */) return undefined
    i = skipSpace(s, i + 1)
    const valueEnd = skipValue(s, i)
    if (valueEnd < 0) return undefined
    if (key !== undefined && names.includes(key)) found.set(key, [i, valueEnd])
    i = skipSpace(s, valueEnd)
    const c = s.charCodeAt(i)
    if (c === 0x7d) return found
    if (c !== 0x2c) return undefined
    i = skipSpace(s, i + 1)
  }
}

/**
 * The member's value parsed, when it is at most `maxChars` long; undefined otherwise or
 * when it is not JSON. Never throws.
 */
export function parseMember(s: string, at: readonly [number, number] | undefined, maxChars: number): unknown {
  if (at === undefined || at[1] - at[0] > maxChars) return undefined
  try {
    return JSON.parse(s.slice(at[0], at[1]))
  } catch {
    return undefined
  }
}
