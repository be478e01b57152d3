// terminalSafe, the one sanitizer every `tracehop dev` print path uses: each kind of
// escape sequence a terminal obeys is removed whole, and only text is left.
import { describe, expect, it } from 'vitest'
import { terminalSafe } from '../../cli/terminal-text.js'

describe('terminalSafe', () => {
  it.each([
    ['OSC 52 clipboard write (BEL)', 'a\x1b]52;c;cm0gLXJmIH4=\x07b', 'ab'],
    ['OSC 0 title (ST)', 'a\x1b]0;pwned\x1b\\b', 'ab'],
    ['OSC, unterminated', 'a\x1b]52;c;cm0g', 'a'],
    ['C1 OSC', 'a\x9d2;t\x9cb', 'ab'],
    ['CSI clear screen and home', 'a\x1b[2J\x1b[3J\x1b[Hb', 'ab'],
    ['CSI with intermediates', 'a\x1b[1 qb', 'ab'],
    ['C1 CSI', 'a\x9b2Jb', 'ab'],
    ['DCS (DECRQSS)', 'a\x1bP$q"p\x1b\\b', 'ab'],
    ['APC, PM, SOS', 'a\x1b_x\x1b\\\x1b^y\x1b\\\x1bXz\x1b\\b', 'ab'],
    ['RIS (ESC c)', 'a\x1bcb', 'ab'],
    ['charset (ESC ( 0)', 'a\x1b(0b', 'ab'],
    ['bare ESC at the end', 'a\x1b', 'a'],
    ['C0 and DEL', 'a\x00\x07\x08\x7fb', 'ab'],
    ['line breaks and tabs', 'a\nb\r\nc\td', 'a b  c d'],
    ['plain text and Unicode', 'POST /chat → ✗ ünï 😀', 'POST /chat → ✗ ünï 😀'],
  ])('%s', (_, input, expected) => {
    expect(terminalSafe(input)).toBe(expected)
  })
})
