// withTrace, the stage-3 decorator and the middy middleware: one scope per invocation, the
// result and errors passed through unchanged, the flush awaited before the handler resolves
// and bounded by the Lambda deadline, faas.* conventions, cold start per wrapped handler.
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import middy from '@middy/core'
import { build } from 'esbuild'
import { describe, expect, it } from 'vitest'
import { forEachRecord, tracehopMiddleware, traceOf, withTrace } from '../../adapters/lambda/index.js'
import {
  createTracer,
  type Exporter,
  type ExportResult,
  otlp,
  SpanKind,
  StatusCode,
  TracehopError,
} from '../../src/index.js'
import { fixture, lambdaContext, memoryConfig, setEnv, TRACE_ID, TRACEPARENT } from './helpers.js'

/** An exporter that holds every export until released: to see whether the handler waits for it. */
function gatedExporter(): Exporter & { release(): void; exported: number } {
  let release!: () => void
  const gate = new Promise<void>((r) => {
    release = r
  })
  const self = {
    name: 'gated',
    exported: 0,
    release: () => release(),
    async export(batch: { spans: readonly unknown[] }): Promise<ExportResult> {
      await gate
      self.exported += batch.spans.length
      return { exported: batch.spans.length, dropped: 0, attempts: 1 }
    },
  }
  return self
}

/** An exporter that never answers, except through its deadline. */
function hangingExporter(): Exporter {
  return {
    name: 'hanging',
    export: (batch, deadline) =>
      new Promise((resolve) =>
        setTimeout(
          () => resolve({ exported: 0, dropped: batch.spans.length, reason: 'timeout', attempts: 1 }),
          Math.max(0, deadline - Date.now()),
        ),
      ),
  }
}

describe('withTrace', () => {
  it('returns the handler result unchanged (same object)', async () => {
    const { config } = memoryConfig()
    const result = { statusCode: 200, body: 'x', headers: { a: 'b' } }
    const handler = withTrace(async () => result, config)
    expect(await handler({}, lambdaContext())).toBe(result)
  })

  it('rethrows the handler error unchanged (same object, same stack) and exports it', async () => {
    const { memory, config } = memoryConfig()
    const error = new TypeError('deep failure')
    const stack = error.stack
    const handler = withTrace(async () => {
      throw error
    }, config)
    const caught = await handler({}, lambdaContext()).catch((e: unknown) => e)
    expect(caught).toBe(error)
    expect((caught as Error).stack).toBe(stack)
    const [root] = memory.spans()
    expect(root?.status.code).toBe(StatusCode.ERROR)
    expect(root?.events[0]?.attributes?.['exception.type']).toBe('TypeError')
  })

  it('rethrows a synchronous throw and a non-Error value unchanged', async () => {
    const { config } = memoryConfig()
    const sync = withTrace(
      (() => {
        throw 'plain string'
      }) as () => Promise<never>,
      config,
    )
    await expect(sync({}, lambdaContext())).rejects.toBe('plain string')
  })

  it('awaits the flush before the handler promise resolves', async () => {
    const gated = gatedExporter()
    const handler = withTrace(async () => 'ok', { service: 's', exporters: [gated] })
    let resolved = false
    const p = handler({}, lambdaContext(5000)).then(() => {
      resolved = true
    })
    await new Promise((r) => setTimeout(r, 50))
    expect(resolved).toBe(false)
    gated.release()
    await p
    expect(gated.exported).toBe(1)
  })

  it('bounds the flush by getRemainingTimeInMillis() minus the margin, for results and errors alike', async () => {
    const handler = withTrace(
      async (e: { fail?: boolean }) => {
        if (e.fail) throw new Error('x')
        return 'ok'
      },
      { service: 's', exporters: [hangingExporter()] },
      // The cut is at 1000 - 700 = 300 ms; the deadline leaves a loaded machine 700 ms more.
      { flushMarginMs: 700 },
    )
    for (const fail of [false, true]) {
      const t0 = Date.now()
      const out = await handler({ fail }, lambdaContext(1000)).then(
        (v) => v,
        (e: unknown) => e,
      )
      const took = Date.now() - t0
      // Cut by this margin (the default 250 ms margin would cut at 750 ms), well before
      // Lambda's own deadline, and not held by the hanging exporter.
      expect(took).toBeLessThan(700)
      expect(took).toBeGreaterThanOrEqual(250)
      if (fail) expect(out).toBeInstanceOf(Error)
      else expect(out).toBe('ok')
    }
  })

  it('returns at once when the deadline is already inside the margin', async () => {
    const handler = withTrace(
      async () => 'ok',
      { service: 's', exporters: [hangingExporter()] },
      { flushMarginMs: 2500 },
    )
    const t0 = Date.now()
    expect(await handler({}, lambdaContext(2000))).toBe('ok')
    // Well before the 2 s deadline: the hanging exporter is not waited for at all.
    expect(Date.now() - t0).toBeLessThan(1000)
  })

  it('keeps `this` for the wrapped handler', async () => {
    const { config } = memoryConfig()
    const self = { greeting: 'hi' }
    const handler = withTrace(function (this: typeof self) {
      return Promise.resolve(this.greeting)
    }, config)
    expect(await handler.call(self, {}, lambdaContext())).toBe('hi')
  })

  it('records faas.* and cloud.* on the invocation span', async () => {
    const restore = setEnv({ AWS_REGION: 'eu-west-1' })
    try {
      const { memory, config } = memoryConfig()
      const handler = withTrace(async () => 'ok', config)
      const context = lambdaContext()
      await handler({ direct: true }, context)
      const root = memory.spans()[0]!
      expect(root.name).toBe('retrieval')
      expect(root.kind).toBe(SpanKind.SERVER)
      expect(root.attributes).toMatchObject({
        'faas.trigger': 'other',
        'faas.invocation_id': context.awsRequestId,
        'faas.name': 'retrieval',
        'faas.version': '$LATEST',
        'faas.coldstart': true,
        'cloud.provider': 'aws',
        'cloud.region': 'eu-west-1',
        'cloud.account.id': '123456789012',
        'aws.lambda.invoked_arn': 'arn:aws:lambda:eu-west-1:123456789012:function:retrieval:live',
      })
    } finally {
      restore()
    }
  })

  it('puts cloud.* and faas.* resource attributes on the tracer it creates', async () => {
    const restore = setEnv({
      AWS_REGION: 'us-east-2',
      AWS_LAMBDA_FUNCTION_NAME: 'fn',
      AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '128',
    })
    try {
      const { memory, config } = memoryConfig()
      await withTrace(async () => 'ok', config)({}, lambdaContext())
      expect(memory.batches()[0]?.resource.attributes).toMatchObject({
        'service.name': 'lambda-test',
        'cloud.provider': 'aws',
        'cloud.platform': 'aws_lambda',
        'cloud.region': 'us-east-2',
        'faas.name': 'fn',
        'faas.max_memory': 128 * 1024 * 1024,
      })
    } finally {
      restore()
    }
  })

  it('tracks cold start per wrapped handler, not per module', async () => {
    const { memory, config } = memoryConfig()
    const a = withTrace(async () => 'a', config)
    const b = withTrace(async () => 'b', config)
    await a({}, lambdaContext())
    await a({}, lambdaContext())
    await b({}, lambdaContext())
    expect(memory.spans().map((s) => s.attributes['faas.coldstart'])).toEqual([true, false, true])
  })

  it('is never cold under provisioned concurrency', async () => {
    const restore = setEnv({ AWS_LAMBDA_INITIALIZATION_TYPE: 'provisioned-concurrency' })
    try {
      const { memory, config } = memoryConfig()
      await withTrace(async () => 'a', config)({}, lambdaContext())
      expect(memory.spans()[0]?.attributes['faas.coldstart']).toBe(false)
    } finally {
      restore()
    }
  })

  it('accepts a Tracer instance', async () => {
    const { memory, config } = memoryConfig()
    const tracer = createTracer(config)
    await withTrace(async () => 'ok', tracer)({}, lambdaContext())
    expect(memory.spans()).toHaveLength(1)
  })

  it('rejects a bad configuration at wrap time with a TracehopError', () => {
    expect(() => withTrace(async () => 1, { service: '' })).toThrow(TracehopError)
    expect(() => withTrace(async () => 1, { service: 's' }, { flushMarginMs: -1 })).toThrow(/flushMarginMs/)
    expect(() => withTrace(async () => 1, { service: 's', powertools: {} as never })).toThrow(/powertools/)
  })

  it('traceOf(context) gives the invocation span; children land in the same trace', async () => {
    const { memory, config } = memoryConfig()
    const handler = withTrace(async (_event: object, context: object) => {
      expect(traceOf(context)).toBe(traceOf(context))
      return traceOf(context).child('search', { runType: 'retriever' }, () => 'docs')
    }, config)
    const event = fixture('apigw-http-no-auth.json')
    event.headers.traceparent = TRACEPARENT
    expect(await handler(event, lambdaContext())).toBe('docs')
    const spans = memory.spans()
    const search = spans.find((s) => s.name === 'search')!
    const root = spans.find((s) => s.name === 'POST /lambda')!
    expect(search.parentSpanId).toBe(root.spanId)
    expect(search.traceId).toBe(TRACE_ID)
    expect(search.attributes['langsmith.span.kind']).toBe('retriever')
  })

  it('traceOf on an object no wrapped handler saw throws a TracehopError naming the fix', async () => {
    expect(() => traceOf({})).toThrow(/withTrace/)
    await expect(forEachRecord({ Records: [] }, {}, () => undefined)).rejects.toThrow(TracehopError)
  })

  it('runs concurrent invocations in separate scopes (no shared current span)', async () => {
    const { memory, config } = memoryConfig()
    const handler = withTrace(async (event: { id: number }, context: object) => {
      await new Promise((r) => setTimeout(r, 10 - event.id))
      return traceOf(context).child(`work ${event.id}`, () => event.id)
    }, config)
    await Promise.all([0, 1, 2, 3].map((id) => handler({ id }, lambdaContext())))
    for (const id of [0, 1, 2, 3]) {
      const work = memory.spans().find((s) => s.name === `work ${id}`)!
      const parent = memory.spans().find((s) => s.spanId === work.parentSpanId)!
      expect(parent.traceId).toBe(work.traceId)
      expect(parent.parentSpanId).toBeUndefined()
    }
    expect(new Set(memory.spans().map((s) => s.traceId)).size).toBe(4)
  })
})

describe('traceLambdaHandler (stage-3 decorator)', () => {
  it('wraps a class method: same scope semantics, `this` kept, errors unchanged', async () => {
    // Bundled with esbuild, which lowers standard decorators (see fixtures/decorated-handler.ts).
    const outfile = join(tmpdir(), `tracehop-decorated-${process.pid}.mjs`)
    await build({
      entryPoints: [fileURLToPath(new URL('./fixtures/decorated-handler.ts', import.meta.url))],
      bundle: true,
      format: 'esm',
      platform: 'node',
      target: 'node20',
      outfile,
      logLevel: 'silent',
    })
    const { createRetrieval } = (await import(
      pathToFileURL(outfile).href
    )) as typeof import('./fixtures/decorated-handler.js')
    const { memory, config } = memoryConfig()
    const { handler } = createRetrieval(config)
    expect(await handler({}, lambdaContext())).toBe('doc-1')
    const err = await handler({ fail: true }, lambdaContext()).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(RangeError)
    expect((err as Error).message).toBe('bad')
    const spans = memory.spans()
    expect(spans.map((s) => s.name).sort()).toEqual(['retrieval', 'retrieval', 'search'])
    expect(spans.filter((s) => s.status.code === StatusCode.ERROR)).toHaveLength(1)
    expect(spans.filter((s) => s.attributes['faas.coldstart'] === true)).toHaveLength(1)
    const search = spans.find((s) => s.name === 'search')!
    expect(spans.find((s) => s.spanId === search.parentSpanId)?.name).toBe('retrieval')
  })
})

describe('tracehopMiddleware (middy)', () => {
  it('starts the scope in before, ends and flushes in after; the response is untouched', async () => {
    const { memory, config } = memoryConfig()
    const response = { statusCode: 201, body: 'made' }
    const handler = middy(async (_event: unknown, context: object) => {
      traceOf(context).child('work', () => undefined)
      return response
    }).use(tracehopMiddleware(config))
    const event = fixture('apigw-http-no-auth.json')
    event.headers.traceparent = TRACEPARENT
    expect(await handler(event, lambdaContext() as never)).toBe(response)
    const spans = memory.spans()
    expect(spans.map((s) => s.name).sort()).toEqual(['POST /lambda', 'work'])
    expect(spans.every((s) => s.traceId === TRACE_ID)).toBe(true)
    expect(spans.find((s) => s.name === 'POST /lambda')?.attributes['http.response.status_code']).toBe(201)
  })

  it('records and rethrows the handler error in onError', async () => {
    const { memory, config } = memoryConfig()
    const error = new Error('middy failure')
    const handler = middy(async () => {
      throw error
    }).use(tracehopMiddleware(config))
    await expect(handler({}, lambdaContext() as never)).rejects.toBe(error)
    expect(memory.spans()[0]?.status.code).toBe(StatusCode.ERROR)
  })

  it('works with forEachRecord inside a middy handler', async () => {
    const { memory, config } = memoryConfig()
    const handler = middy((event: any, context: object) =>
      forEachRecord(event, context, (record: any) => {
        if (record.body === 'Test message.') throw new Error('poison')
      }),
    ).use(tracehopMiddleware(config))
    const event = fixture('sqs-base.json')
    const out = await handler(event, lambdaContext() as never)
    expect(out).toEqual({ batchItemFailures: [{ itemIdentifier: event.Records[0].messageId }] })
    expect(memory.spans()).toHaveLength(3)
  })
})

describe('withTrace(handler, () => config): a configuration function that throws', () => {
  const fromEnv = () => ({
    service: 'retrieval',
    exporters: [otlp({ url: process.env['TRACEHOP_TEST_MISSING_OTLP_URL'] as string })],
  })

  it('serves invocations untraced, logs the error once and counts it', async () => {
    const errors: string[] = []
    const original = console.error
    console.error = (line: string) => errors.push(line)
    try {
      const handler = withTrace(async (_event: object, context: object) => {
        await traceOf(context).child('work', () => {})
        return traceOf(context).scope.tracer.stats()
      }, fromEnv)
      for (let i = 0; i < 3; i++) {
        const stats = await handler({}, lambdaContext())
        expect(stats.configErrors).toBe(1)
        expect(stats.scopes.sampled).toBe(0)
      }
    } finally {
      console.error = original
    }
    expect(errors).toHaveLength(1)
    expect(errors[0]).toMatch(
      /served untraced.*otlp\.url: expected a URL string, .*got undefined|served untraced.*otlp\.url/,
    )
  })

  it("onConfigError: 'throw' keeps the strict behaviour: the wrap throws", () => {
    expect(() => withTrace(async () => 1, fromEnv, { onConfigError: 'throw' })).toThrow(/otlp\.url/)
  })

  it('a function that returns a valid configuration traces as an object would', async () => {
    const { memory, config } = memoryConfig()
    await withTrace(
      async () => 'ok',
      () => config,
    )({}, lambdaContext())
    expect(memory.spans()).toHaveLength(1)
  })
})
