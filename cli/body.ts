/**
 * Request bodies for the ingest routes, read as a stream: the wire bytes are counted
 * against `maxBodyBytes`, and the Content-Encoding is undone by a streaming decoder whose
 * output is counted against `maxDecodedBytes`. Whichever limit is crossed stops the read
 * there (413): a gzip bomb is never inflated past the limit.
 */
import type { IncomingMessage } from 'node:http'
import { Transform, type TransformCallback } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import * as zlib from 'node:zlib'
import { HttpError } from './http.js'
import { type CollectorLimits, formatBytes } from './limits.js'

/** Counters the collector reports in `stats()`. */
export interface BodyCounters {
  /** Bytes produced by decoders (gzip, deflate, br, zstd) so far, all requests together. */
  decodedBytes: number
  /** Requests refused with 413. */
  tooLarge: number
}

type ZstdFactory = () => Transform

/** A streaming decoder for `encoding`; undefined for identity; 415 for what it cannot undo. */
function decoderFor(encoding: string): Transform | undefined {
  if (encoding === 'identity' || encoding === '') return undefined
  if (encoding === 'gzip' || encoding === 'x-gzip') return zlib.createGunzip()
  if (encoding === 'deflate') return zlib.createInflate()
  if (encoding === 'br') return zlib.createBrotliDecompress()
  // Node ≥ 22.15 decompresses zstd; older ones answer 415 (and /info never offers it).
  const zstd = (zlib as unknown as { createZstdDecompress?: ZstdFactory }).createZstdDecompress
  if (encoding === 'zstd' && zstd) return zstd()
  throw new HttpError(415, `unsupported Content-Encoding: ${encoding}`)
}

/** Passes chunks through, failing with 413 once more than `max` bytes went by. */
function meter(max: number, what: string, onBytes: (n: number) => void = () => {}): Transform {
  let seen = 0
  return new Transform({
    transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback) {
      seen += chunk.length
      onBytes(chunk.length)
      if (seen > max) done(new HttpError(413, `${what} exceeds the ${formatBytes(max)} limit`))
      else done(null, chunk)
    },
  })
}

/**
 * The request body, read and decoded within `limits`. Rejects with an `HttpError`: 413
 * over a limit, 415 for an unknown encoding, 400 for a body that does not decode or a
 * client that went away. The request is left paused on failure, for the 413 answer.
 */
export async function readDecodedBody(
  req: IncomingMessage,
  limits: Pick<CollectorLimits, 'maxBodyBytes' | 'maxDecodedBytes'>,
  counters: BodyCounters,
): Promise<Buffer> {
  const encoding = String(req.headers['content-encoding'] ?? 'identity')
    .trim()
    .toLowerCase()
  try {
    const declared = Number(req.headers['content-length'])
    if (declared > limits.maxBodyBytes)
      throw new HttpError(
        413,
        `body of ${declared} bytes exceeds the ${formatBytes(limits.maxBodyBytes)} limit`,
      )
    const decoder = decoderFor(encoding)
    // Without an encoding the body is its decoded form: both limits apply to it.
    const wire = meter(
      decoder ? limits.maxBodyBytes : Math.min(limits.maxBodyBytes, limits.maxDecodedBytes),
      'body',
    )
    const chunks: Buffer[] = []
    const collect = async (source: AsyncIterable<Buffer>): Promise<void> => {
      for await (const chunk of source) chunks.push(chunk)
    }
    const abort = (): void => {
      if (!req.complete)
        wire.destroy(new HttpError(400, 'the client closed the request before its body ended'))
    }
    req.on('error', abort)
    req.on('close', abort)
    req.pipe(wire)
    try {
      if (!decoder) await pipeline(wire, collect)
      else {
        const decoded = meter(limits.maxDecodedBytes, 'decompressed body', (n) => {
          counters.decodedBytes += n
        })
        await pipeline(wire, decoder, decoded, collect)
      }
    } finally {
      req.unpipe(wire)
      req.off('error', abort)
      req.off('close', abort)
    }
    return Buffer.concat(chunks)
  } catch (e) {
    if (e instanceof HttpError) {
      if (e.status === 413) counters.tooLarge++
      throw e
    }
    throw new HttpError(400, `body is not valid ${encoding}`)
  }
}
