/**
 * Request bodies for the ingest routes: read up to a limit, then undo their
 * Content-Encoding.
 */
import type { IncomingMessage } from 'node:http'
import { promisify } from 'node:util'
import * as zlib from 'node:zlib'
import { HttpError } from './http.js'

/** OTLP/HTTP and LangSmith bodies above this are refused with 413. */
export const MAX_BODY_BYTES: number = 10 * 1024 * 1024
// A decompressed body may be larger than the wire limit, within reason.
const MAX_INFLATED_BYTES = 100 * 1024 * 1024

const gunzip = promisify(zlib.gunzip)
const inflate = promisify(zlib.inflate)
const brotli = promisify(zlib.brotliDecompress)

/** Reads a request body, refusing (413) beyond `MAX_BODY_BYTES`. */
function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length'])
    if (declared > MAX_BODY_BYTES) {
      reject(new HttpError(413, `body of ${declared} bytes exceeds the ${MAX_BODY_BYTES} byte limit`))
      return
    }
    const chunks: Buffer[] = []
    let size = 0
    req.on('data', (chunk: Buffer) => {
      size += chunk.length
      if (size > MAX_BODY_BYTES) {
        reject(new HttpError(413, `body exceeds the ${MAX_BODY_BYTES} byte limit`))
        req.pause()
        return
      }
      chunks.push(chunk)
    })
    req.on('end', () => resolve(Buffer.concat(chunks)))
    req.on('error', reject)
  })
}

/** The body with its Content-Encoding undone. */
async function decoded(req: IncomingMessage, body: Buffer): Promise<Buffer> {
  const encoding = String(req.headers['content-encoding'] ?? 'identity')
    .trim()
    .toLowerCase()
  const opts = { maxOutputLength: MAX_INFLATED_BYTES }
  try {
    if (encoding === 'identity' || encoding === '') return body
    if (encoding === 'gzip' || encoding === 'x-gzip') return await gunzip(body, opts)
    if (encoding === 'deflate') return await inflate(body, opts)
    if (encoding === 'br') return await brotli(body, opts)
    // Node ≥ 22.15 decompresses zstd; older ones answer 415 (and /info never offers it).
    const zstd = (zlib as unknown as { zstdDecompressSync?: (b: Buffer, o: object) => Buffer })
      .zstdDecompressSync
    if (encoding === 'zstd' && zstd) return zstd(body, opts)
  } catch (e) {
    if ((e as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE')
      throw new HttpError(413, `decompressed body exceeds ${MAX_INFLATED_BYTES} bytes`)
    throw new HttpError(400, `body is not valid ${encoding}`)
  }
  throw new HttpError(415, `unsupported Content-Encoding: ${encoding}`)
}

/** The request body, read and decoded. */
export async function readDecodedBody(req: IncomingMessage): Promise<Buffer> {
  return decoded(req, await readBody(req))
}
