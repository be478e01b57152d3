/**
 * Text from the network made safe for a terminal. Span names, services, error messages and
 * log lines come from whoever can POST to the collector; a terminal obeys escape sequences
 * in them (OSC 52 writes the clipboard, OSC 0/2 the window title, CSI clears the screen or
 * moves the cursor, DCS talks to the terminal itself). Every `tracehop dev` print path runs
 * such text through `terminalSafe`; the colours tracehop adds are added after it.
 */

// String-type sequences run to ST (ESC \ or 0x9C) or BEL, or to the end when unterminated:
// OSC (ESC ] / 0x9D), DCS (ESC P / 0x90), SOS (ESC X / 0x98), PM (ESC ^ / 0x9E), APC (ESC _ / 0x9F).
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is this module's job
const STRING_SEQUENCE = /(?:\x1b[\]PX^_]|[\x90\x98\x9d\x9e\x9f])[\s\S]*?(?:\x07|\x1b\\|\x9c|$)/g
// CSI (ESC [ / 0x9B): parameter bytes, intermediate bytes, one final byte (if present).
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is this module's job
const CSI_SEQUENCE = /(?:\x1b\[|\x9b)[\x30-\x3f]*[\x20-\x2f]*[\x40-\x7e]?/g
// Any other escape: ESC, intermediates, one final byte (nF, Fp, Fe, Fs), or a bare ESC.
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is this module's job
const OTHER_ESCAPE = /\x1b[\x20-\x2f]*[\x30-\x7e]?/g
// Line breaks and tabs would break the layout: one space each.
const LAYOUT = /[\t\n\v\f\r]/g
// Whatever control character is left: C0, DEL, C1.
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is this module's job
const CONTROL = /[\x00-\x1f\x7f-\x9f]/g

/**
 * `text` without escape sequences or control characters: sequences are removed whole,
 * tabs and line breaks become spaces, other control characters are removed.
 *
 * @example
 * terminalSafe('search\x1b]52;c;cm0gLXJmIH4=\x07 done') // 'search done'
 */
export function terminalSafe(text: string): string {
  return text
    .replace(STRING_SEQUENCE, '')
    .replace(CSI_SEQUENCE, '')
    .replace(OTHER_ESCAPE, '')
    .replace(LAYOUT, ' ')
    .replace(CONTROL, '')
}
