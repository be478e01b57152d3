// A streaming Lambda (Function URL, SSE) as a user writes it, loaded by aws-lambda-ric from
// the packed tarball: ric defines `awslambda` before it imports this module.
import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { otlp } from 'tracehop'
import { traceOf, withTrace } from 'tracehop/lambda'

const sleep = (ms) => new Promise((r) => setTimeout(r, ms))

/** The chunks of the `encoded` mode: 6 + 3 + 3 + 4 bytes sent. */
export const ENCODED = [
  [Buffer.from('héllo').toString('base64'), 'base64'],
  ['c3a9ff', 'hex'],
  ['été', 'latin1'],
  ['hi', 'utf16le'],
]

export const chat = awslambda.streamifyResponse(
  withTrace(
    async (event, responseStream, context) => {
      const { mode } = JSON.parse(event.body ?? '{}')
      const stream = awslambda.HttpResponseStream.from(responseStream, {
        statusCode: 200,
        headers: { 'content-type': 'text/event-stream' },
      })
      const span = traceOf(context)
      async function* tokens() {
        for (const t of ['Hel', 'lo', ' wor', 'ld']) {
          await span.child('token', async () => sleep(40))
          yield `data: ${t}\n\n`
        }
      }
      if (mode === 'encoded') {
        // String chunks in other encodings: the bytes sent are the decoded ones.
        for (const [chunk, encoding] of ENCODED) stream.write(chunk, encoding)
        stream.end()
        return
      }
      if (mode !== 'fail') {
        await pipeline(Readable.from(tokens()), stream)
        return
      }
      // The model fails after the tokens: the handler throws with the stream still open, and
      // the runtime ends it with the error trailers.
      for await (const t of tokens()) stream.write(t)
      throw new Error('the model stream broke')
    },
    { service: 'chat-stream', exporters: [otlp({ url: process.env.OTLP_URL })] },
  ),
)
