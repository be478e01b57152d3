/**
 * `POST /v1/traces` (also `/otel/v1/traces`, LangSmith's OTLP path): OTLP/HTTP export
 * requests in JSON or binary protobuf, answered in the encoding they came in.
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import { HttpError, mediaType } from './http.js'
import { decodeOtlpJson, decodeOtlpProtobuf, otlpResponse, otlpStatus } from './otlp-decode.js'
import type { CollectedSpan } from './types.js'

export const OTLP_PATHS: readonly string[] = ['/v1/traces', '/otel/v1/traces']

export interface OtlpRouteDeps {
  /** The request body, read and decoded within the collector's limits. */
  readonly readBody: (req: IncomingMessage) => Promise<Buffer>
  readonly ingest: (spans: readonly CollectedSpan[]) => void
  readonly log: (line: string) => void
}

export async function handleOtlp(
  req: IncomingMessage,
  res: ServerResponse,
  deps: OtlpRouteDeps,
): Promise<void> {
  if (req.method !== 'POST') throw new HttpError(405, 'use POST')
  const type = mediaType(req)
  const encoding =
    type === 'application/x-protobuf' ? 'protobuf' : type === 'application/json' ? 'json' : undefined
  const answer = (status: number, body: string | Uint8Array): void => {
    res
      .writeHead(status, {
        'content-type': encoding === 'protobuf' ? 'application/x-protobuf' : 'application/json',
      })
      .end(body)
  }
  if (!encoding) {
    answer(
      415,
      otlpStatus(
        'json',
        3,
        `unsupported Content-Type ${type || '(none)'}: use application/json or application/x-protobuf`,
      ),
    )
    return
  }
  const body = await deps.readBody(req)
  const result = encoding === 'json' ? decodeOtlpJson(body.toString('utf8')) : decodeOtlpProtobuf(body)
  if (!result) {
    deps.log(`tracehop dev: rejected an OTLP ${encoding} request: not an ExportTraceServiceRequest`)
    answer(400, otlpStatus(encoding, 3, `body is not an OTLP ExportTraceServiceRequest (${encoding})`))
    return
  }
  deps.ingest(result.spans)
  if (result.rejected > 0) deps.log(`tracehop dev: rejected ${result.rejected} OTLP span(s): ${result.error}`)
  answer(200, otlpResponse(encoding, result.rejected, result.error))
}
