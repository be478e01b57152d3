// docs/runtimes.md "Bridges" runs in Node with the real `ai` and `langsmith` packages: a stub
// model answers, the langsmith SDK's own client posts the `traceable` child to a local
// LangSmith receiver, tracehop's exporter posts the hop and the AI SDK's spans to another.
import { MockLanguageModelV3 } from 'ai/test'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { langsmith } from '../../src/export/langsmith-exporter.js'
import { createTracer, type Span } from '../../src/index.js'
import { type LangSmithReceiver, startLangSmithReceiver } from '../support/langsmith-receiver.js'
import { docSample, importNodeSample } from './samples.js'

let receiver: LangSmithReceiver

beforeAll(async () => {
  receiver = await startLangSmithReceiver()
  // The SDK's shared client reads its endpoint and project from the environment.
  process.env['LANGSMITH_ENDPOINT'] = `${receiver.base}/sdk`
  process.env['LANGSMITH_API_KEY'] = 'test-key'
  delete process.env['LANGSMITH_PROJECT']
  delete process.env['LANGCHAIN_PROJECT']
})
afterAll(async () => {
  await receiver?.close()
})

const LONG = 'x'.repeat(150)

const model = new MockLanguageModelV3({
  provider: 'stub-provider',
  modelId: 'stub-1',
  doGenerate: async () => ({
    content: [{ type: 'text', text: LONG }],
    finishReason: { unified: 'stop', raw: 'stop' },
    usage: {
      inputTokens: { total: 3, noCache: 3, cacheRead: 0, cacheWrite: 0 },
      outputTokens: { total: 150, text: 150, reasoning: 0 },
    },
    warnings: [],
  }),
})

it("the bridge sample runs: AI SDK spans under the hop, traceable children in the SDK's project", async () => {
  const { answer } = await importNodeSample<{ answer(span: Span, prompt: string): Promise<string> }>(
    docSample('docs/runtimes.md', 'runTree(span)'),
    { globals: { model } },
  )
  const tracer = createTracer({
    service: 'orchestrator',
    exporters: [langsmith({ apiUrl: `${receiver.base}/tracehop`, apiKey: 'k', project: 'exporter' })],
  })
  const scope = tracer.start(undefined, { name: 'POST /chat' })
  expect(await answer(scope.root, 'hello')).toBe(LONG.slice(0, 100))
  // No waitUntil: end() resolves after tracehop's export and the SDK's pending batches.
  await scope.end()

  const posts = receiver.runs().filter((r) => r.op === 'post')
  const summarize = posts.find((r) => r.name === 'summarize')
  expect(summarize?.source).toBe('sdk')
  expect(summarize?.parent_run_id).toBe(scope.root.runId)
  expect(summarize?.trace_id).toBe(scope.runTraceId)
  // The SDK's own project (LANGSMITH_PROJECT, else "default"), never the exporter's.
  expect(summarize?.session_name).toBe('default')
  const hop = posts.find((r) => r.id === scope.root.runId)
  expect(hop?.source).toBe('tracehop')
  expect(hop?.session_name).toBe('exporter')
  const generate = posts.find((r) => r.name === 'ai.generateText')
  expect(generate?.source).toBe('tracehop')
  expect(generate?.parent_run_id).toBe(scope.root.runId)
})
