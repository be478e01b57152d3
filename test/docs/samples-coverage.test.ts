// Every ```ts sample in README.md and docs/*.md is run by a harness in test/docs/ (on its
// runtime, output checked), or listed here with the reason it cannot run locally. A new
// sample fails this test until it is given one or the other.
import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { type DocSample, docFiles, docSamples, root } from './samples.js'

interface Run {
  readonly doc: string
  /** The string the harness passes to docSample() to find the sample. */
  readonly marker: string
  readonly harness: string
}

const RUN: readonly Run[] = [
  { doc: 'README.md', marker: 'POST /chat', harness: 'node-samples.test.ts' },
  { doc: 'docs/fan-out.md', marker: "['search', 'retrieve', 'calculator']", harness: 'node-samples.test.ts' },
  { doc: 'docs/fan-out.md', marker: 'debounceFlush', harness: 'node-samples.test.ts' },
  { doc: 'docs/fan-out.md', marker: 'process job', harness: 'node-samples.test.ts' },
  { doc: 'docs/fan-out.md', marker: 'tracer.inject(parent, out)', harness: 'node-samples.test.ts' },
  { doc: 'docs/sampling.md', marker: "algorithm: 'opentelemetry'", harness: 'node-samples.test.ts' },
  { doc: 'docs/sampling.md', marker: 'export const gateway', harness: 'node-samples.test.ts' },
  { doc: 'docs/sampling.md', marker: 'nightly job', harness: 'node-samples.test.ts' },
  { doc: 'docs/troubleshooting.md', marker: 'debugRoute', harness: 'node-samples.test.ts' },
  { doc: 'docs/langsmith-vs-otel.md', marker: "service: 'retrieval'", harness: 'node-samples.test.ts' },
  { doc: 'docs/runtimes.md', marker: 'export const retrieve = withTrace(', harness: 'node-samples.test.ts' },
  { doc: 'docs/runtimes.md', marker: 'runTree(span)', harness: 'bridges-sample.test.ts' },
  { doc: 'docs/runtimes.md', marker: "route: '/api/chat' }", harness: 'edge-samples.test.ts' },
  { doc: 'docs/runtimes.md', marker: 'ORCHESTRATOR: Fetcher', harness: 'workerd-samples.test.ts' },
  { doc: 'docs/runtimes.md', marker: "app.get('/users/:id'", harness: 'workerd-samples.test.ts' },
  { doc: 'docs/runtimes.md', marker: 'fetch: app.fetch', harness: 'workerd-samples.test.ts' },
]

const NEXT =
  "Next's `after` needs a Next request context: the same route and proxy shapes run in examples/next-agent under `next build && next start` (test/next/next-app.test.ts)"

const FETCH_RUNTIMES =
  'needs Deno, Bun or a platform global (EdgeRuntime, Netlify context): the same withTrace shapes run from the packed tarball in Deno 2 and Bun (test/fetch/runtimes.test.ts), on Node through @hono/node-server (test/fetch/node-server.test.ts), with Supabase and Netlify waitUntil stand-ins (test/fetch/with-trace.test.ts)'

const NOT_RUN: readonly { doc: string; marker: string; why: string }[] = [
  { doc: 'docs/runtimes.md', marker: '// app/api/chat/[id]/route.ts', why: NEXT },
  { doc: 'docs/runtimes.md', marker: '// proxy.ts', why: NEXT },
  {
    doc: 'docs/runtimes.md',
    marker: 'streamifyResponse(',
    why: "needs the Lambda runtime's response stream: the same shape runs under the real aws-lambda-ric in test/lambda/streaming.test.ts",
  },
  { doc: 'docs/runtimes.md', marker: '`deno serve main.ts`', why: FETCH_RUNTIMES },
  { doc: 'docs/runtimes.md', marker: 'EdgeRuntime.waitUntil: the response', why: FETCH_RUNTIMES },
  { doc: 'docs/runtimes.md', marker: "service: 'netlify-edge'", why: FETCH_RUNTIMES },
  { doc: 'docs/runtimes.md', marker: "service: 'bun-api'", why: FETCH_RUNTIMES },
  { doc: 'docs/runtimes.md', marker: "service: 'node-api'", why: FETCH_RUNTIMES },
]

function matching(sample: DocSample): string[] {
  return [...RUN, ...NOT_RUN]
    .filter((e) => e.doc === sample.doc && sample.code.includes(e.marker))
    .map((e) => e.marker)
}

describe('doc samples', () => {
  it('every sample is run by a harness or listed with the reason it is not', () => {
    const unaccounted = docFiles()
      .flatMap(docSamples)
      .filter((s) => matching(s).length !== 1)
      .map((s) => `${s.doc} sample ${s.index} (${matching(s).length} entries): ${s.code.split('\n')[0]}`)
    expect(unaccounted).toEqual([])
  })

  it.each(RUN)('$doc "$marker" is found by its harness, $harness', ({ doc, marker, harness }) => {
    const source = readFileSync(`${root}test/docs/${harness}`, 'utf8')
    expect(source).toContain(doc)
    expect(source).toContain(marker)
  })
})
