/**
 * The bridges, against the libraries they bridge, in the same run:
 * - `otelTracer(span)` span start + end vs the OpenTelemetry SDK's tracer (2.x,
 *   BasicTracerProvider, no processor);
 * - `runTree(span)` + a `traceable` call vs a plain `traceable` call with a plain `RunTree`
 *   parent: both post to the same local no-op LangSmith receiver through one SDK client.
 */
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { context, trace } from '@opentelemetry/api'
import { BasicTracerProvider } from '@opentelemetry/sdk-trace-base'
import { Client } from 'langsmith'
import { RunTree } from 'langsmith/run_trees'
import { traceable } from 'langsmith/traceable'
import { runTree } from '../../adapters/langsmith/run-tree.js'
import { otelTracer } from '../../adapters/otel/tracer.js'
import { createTracer, type Scope } from '../../src/index.js'
import { compare, compareAsync, note } from '../harness.js'

const INFO = JSON.stringify({
  version: '0.10.0',
  batch_ingest_config: { use_multipart_endpoint: true, size_limit: 100, size_limit_bytes: 20_971_520 },
  instance_flags: { gzip_body_enabled: false },
})

/** A LangSmith API that accepts everything and keeps nothing. */
async function noopLangSmith(): Promise<{ url: string; close: () => Promise<void>; posts: () => number }> {
  let posts = 0
  const server = createServer((req, res) => {
    req.resume()
    req.on('end', () => {
      if (req.method === 'GET') res.writeHead(200, { 'content-type': 'application/json' }).end(INFO)
      else {
        posts++
        res.writeHead(202).end('{}')
      }
    })
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  const port = (server.address() as AddressInfo).port
  return {
    url: `http://127.0.0.1:${port}`,
    posts: () => posts,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections()
        server.close(() => r())
      }),
  }
}

export async function run(): Promise<void> {
  // --- OTel API spans -----------------------------------------------------------------
  const provider = new BasicTracerProvider({ spanProcessors: [] })
  const sdkTracer = provider.getTracer('bench')
  const sdkParent = trace.setSpan(context.active(), sdkTracer.startSpan('root'))
  const tracer = createTracer({ service: 'bench', limits: { spansPerScope: 1000 }, log: () => {} })
  let scope: Scope = tracer.start()
  let bound = otelTracer(scope.root)
  let n = 0
  const attributes = { 'gen_ai.request.model': 'stub-1', 'gen_ai.usage.input_tokens': 12 }
  compare({
    name: 'OTel API span start + end (2 attributes)',
    ours: {
      label: 'tracehop otelTracer(span).startSpan + end',
      fn: () => {
        if (++n === 500) {
          n = 0
          scope = tracer.start()
          bound = otelTracer(scope.root)
        }
        const s = bound.startSpan('gen_ai.chat', { attributes })
        s.end()
        return s
      },
    },
    theirs: [
      {
        label: '@opentelemetry/sdk-trace-base startSpan + end',
        fn: () => {
          const s = sdkTracer.startSpan('gen_ai.chat', { attributes }, sdkParent)
          s.end()
          return s
        },
      },
    ],
  })

  // --- langsmith traceable under a hop ------------------------------------------------
  const receiver = await noopLangSmith()
  const client = new Client({ apiUrl: receiver.url, apiKey: 'bench', autoBatchTracing: true })
  const step = traceable(async (_run: RunTree, q: string) => ({ answer: q.length }), {
    name: 'step',
    run_type: 'chain',
  })
  let hopScope: Scope = tracer.start()
  let m = 0
  await compareAsync({
    name: 'traceable call with an explicit parent (tracing on, local no-op receiver)',
    iterations: 300,
    ours: {
      label: 'tracehop runTree(span) + traceable',
      fn: () => {
        if (++m === 500) {
          m = 0
          hopScope = tracer.start()
        }
        return step(runTree(hopScope.root, { client, tracingEnabled: true }), 'question')
      },
    },
    theirs: [
      {
        label: 'langsmith new RunTree(...) + traceable',
        fn: () => step(new RunTree({ name: 'parent', client, tracingEnabled: true }), 'question'),
      },
    ],
  })
  await client.awaitPendingTraceBatches()
  note('langsmith receiver', [
    `${receiver.posts()} ingest requests received (runs were posted for both contenders)`,
  ])
  await receiver.close()
}
