/**
 * A `multipart/form-data` body reader (RFC 7578 over the RFC 2046 §5.1.1 syntax): enough
 * for what the LangSmith SDKs send to `POST /runs/multipart`, where each part carries its
 * own `Content-Type` (`application/json; length=N`) and may hold binary attachments, so
 * parts stay bytes until the caller decides.
 */

export interface FormPart {
  /** The `name` parameter of the part's `Content-Disposition`. */
  readonly name: string
  /** The part's `Content-Type`, '' when absent. */
  readonly contentType: string
  readonly body: Buffer
}

const BOUNDARY_PARAM = /;\s*boundary=(?:"([^"]+)"|([^;\s]+))/i
const NAME_QUOTED = /;\s*name="((?:[^"\\]|\\.)*)"/i
const NAME_TOKEN = /;\s*name=([^;\s]+)/i
const ESCAPED = /\\(.)/g
const CRLF = Buffer.from('\r\n')
const HEADERS_END = Buffer.from('\r\n\r\n')

/**
 * The boundary of a `multipart/form-data` Content-Type, or undefined.
 *
 * @example
 * boundaryOf('multipart/form-data; boundary=----LangSmithFormBoundaryx1') // '----LangSmithFormBoundaryx1'
 */
export function boundaryOf(contentType: string | undefined): string | undefined {
  if (!contentType?.toLowerCase().startsWith('multipart/form-data')) return undefined
  const m = BOUNDARY_PARAM.exec(contentType)
  const boundary = m?.[1] ?? m?.[2]
  // RFC 2046 §5.1.1: 1 to 70 characters.
  return boundary && boundary.length <= 70 ? boundary : undefined
}

function partHeaders(text: string): { name: string | undefined; contentType: string } {
  let name: string | undefined
  let contentType = ''
  for (const line of text.split('\r\n')) {
    const colon = line.indexOf(':')
    if (colon < 0) continue
    const key = line.slice(0, colon).trim().toLowerCase()
    const value = line.slice(colon + 1).trim()
    if (key === 'content-type') contentType = value
    else if (key === 'content-disposition') {
      const quoted = NAME_QUOTED.exec(value)
      name = quoted ? quoted[1]!.replace(ESCAPED, '$1') : NAME_TOKEN.exec(value)?.[1]
    }
  }
  return { name, contentType }
}

/**
 * Splits a multipart body into its parts; undefined when it is not well formed (no
 * opening delimiter, a part without a name, no closing delimiter).
 *
 * @example
 * const parts = parseMultipart(body, boundaryOf(req.headers['content-type'])!)
 */
export function parseMultipart(body: Buffer, boundary: string): FormPart[] | undefined {
  const delimiter = Buffer.from(`--${boundary}`)
  const next = Buffer.concat([CRLF, delimiter])
  let pos = body.indexOf(delimiter)
  if (pos < 0) return undefined
  const parts: FormPart[] = []
  for (;;) {
    pos += delimiter.length
    // The close delimiter: `--boundary--`.
    if (body[pos] === 45 && body[pos + 1] === 45) return parts
    // Transport padding, then the CRLF that ends the delimiter line.
    while (body[pos] === 32 || body[pos] === 9) pos++
    if (body[pos] !== 13 || body[pos + 1] !== 10) return undefined
    pos += 2
    let contentStart: number
    let headerText = ''
    if (body[pos] === 13 && body[pos + 1] === 10)
      contentStart = pos + 2 // no headers at all
    else {
      const headersEnd = body.indexOf(HEADERS_END, pos)
      if (headersEnd < 0) return undefined
      headerText = body.toString('utf8', pos, headersEnd)
      contentStart = headersEnd + 4
    }
    const end = body.indexOf(next, contentStart)
    if (end < 0) return undefined
    const { name, contentType } = partHeaders(headerText)
    if (name === undefined) return undefined
    parts.push({ name, contentType, body: body.subarray(contentStart, end) })
    pos = end + 2
  }
}
