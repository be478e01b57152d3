// The streaming marks the runtime reads: withTrace keeps them whichever way round it is
// composed with streamifyResponse, and a plain handler gets none.
import { describe, expect, it } from 'vitest'
import { streamifyResponse, withTrace } from '../../adapters/lambda/index.js'
import { watchResponseStream } from '../../adapters/lambda/response-stream.js'
import { createTracer, memoryExporter } from '../../src/index.js'

const STREAMING = Symbol.for('aws.lambda.runtime.handler.streaming')
const HIGH_WATER_MARK = Symbol.for('aws.lambda.runtime.handler.streaming.highWaterMark')
const marks = (f: object) => [(f as any)[STREAMING], (f as any)[HIGH_WATER_MARK]]

describe('streamifyResponse and withTrace', () => {
  // A fresh handler per case: streamifyResponse marks the function it is given.
  const inner = () => async (_e: unknown, s: { end(): unknown }) => void s.end()
  it('marks the wrapper when withTrace wraps an already streamified handler', () => {
    const wrapped = withTrace(streamifyResponse(inner(), { highWaterMark: 1024 }), { service: 's' })
    expect(marks(wrapped)).toEqual(['response', 1024])
  })
  it('marks the wrapper when streamifyResponse wraps withTrace', () => {
    expect(marks(streamifyResponse(withTrace(inner(), { service: 's' })))).toEqual(['response', undefined])
  })
  it('leaves a buffered handler unmarked', () => {
    expect(marks(withTrace(async () => 1, { service: 's' }))).toEqual([undefined, undefined])
  })
})

describe('watchResponseStream', () => {
  it('passes every write through and counts UTF-8 when the global Buffer is partial', () => {
    const scope = createTracer({ service: 's', exporters: [memoryExporter()] }).start()
    const written: unknown[] = []
    const stream = {
      write: (chunk: unknown, _encoding?: unknown) => written.push(chunk) > 0,
      end: () => undefined,
      on: () => undefined,
    }
    const watched = watchResponseStream(stream, scope.root, Date.now())
    const realBuffer = globalThis.Buffer
    // A runtime's polyfill without isEncoding: counting must not break the write.
    ;(globalThis as { Buffer?: unknown }).Buffer = { byteLength: () => 0 }
    try {
      expect(() => stream.write('héllo', 'utf8')).not.toThrow()
    } finally {
      globalThis.Buffer = realBuffer
    }
    stream.write('!')
    expect(written).toEqual(['héllo', '!'])
    watched.recordSoFar()
    expect(scope.root.get('http.response.body.size')).toBe(7)
  })
})
