import { configDefaults, defineConfig } from 'vitest/config'

/**
 * Test files that start a runtime or bind a port: workerd (miniflare), edge-runtime,
 * serverless-offline, Chromium, the TypeScript compiler over the platform types, real HTTP
 * and UDP receivers, the dev collector. Everything else is `unit` (no runtime, no server:
 * seconds), and test/support/no-servers.ts fails a unit test that binds a port.
 */
const RUNTIME = [
  // workerd (miniflare)
  'test/cloudflare/chain.test.ts',
  'test/cloudflare/fetch.test.ts',
  'test/cloudflare/gateway.test.ts',
  'test/cloudflare/receiver-failure.test.ts',
  'test/cloudflare/workers-semantics.test.ts',
  'test/cloudflare-agent/agent-e2e.test.ts',
  'test/cloudflare-agent/durable-object.test.ts',
  'test/cloudflare-agent/workflow.test.ts',
  'test/hono/hono-workerd.test.ts',
  'test/mcp/workerd.test.ts',
  'test/cloudflare/export-queue.test.ts',
  'test/cloudflare/late-spans.test.ts',
  // tsc over @cloudflare/workers-types (tens of seconds)
  'test/cloudflare/types.test.ts',
  // edge-runtime
  'test/vercel/edge-runtime.test.ts',
  'test/vercel/orchestrator-edge.test.ts',
  'test/vercel/vercel-semantics.test.ts',
  'test/vercel/awaited-budget.test.ts',
  // serverless-offline, the AWS SDK against a local SQS/SNS (fauxqs), an X-Ray daemon (UDP)
  'test/lambda/serverless-offline.test.ts',
  'test/lambda/producers.test.ts',
  'test/lambda/queue-hop.test.ts',
  'test/lambda/powertools.test.ts',
  // next build && next start
  'test/next/next-app.test.ts',
  // every service on its runtime, Chromium
  'test/demo/demo.test.ts',
  'test/cli/browser.test.ts',
  // the dev collector and real receivers on 127.0.0.1
  'test/cli/bin.test.ts',
  'test/cli/collector.test.ts',
  'test/cli/langsmith.test.ts',
  'test/cli/otlp.test.ts',
  'test/core/continue-root.test.ts',
  'test/core/flush-deadline.test.ts',
  'test/export/langsmith-exporter.test.ts',
  'test/export/otlp-exporter.test.ts',
  'test/export/retry.test.ts',
  'test/lambda/export.test.ts',
  'test/lambda/node-fetch.test.ts',
  'test/langsmith-bridge/run-tree.test.ts',
  'test/mcp/mcp-semconv.test.ts',
  'test/mcp/streamable-http.test.ts',
  // the W3C harnesses' callback servers
  'test/propagation/w3c-baggage-suite.test.ts',
  'test/propagation/w3c-trace-context-suite.test.ts',
  // tests/security and others that start servers, workerd, edge-runtime or Chromium
  'test/cli/limits.test.ts',
  'test/cli/origins.test.ts',
  'test/cloudflare/envelope-ingress.test.ts',
  'test/core/late-spans.test.ts',
  'test/lambda/lookalike-ingress.test.ts',
  'test/security/mcp-destinations.test.ts',
  'test/security/redirects-browser.test.ts',
  'test/security/redirects-workerd.test.ts',
  'test/security/redirects.test.ts',
  'test/security/rethrow-edge.test.ts',
  'test/security/rethrow-workerd.test.ts',
  'test/security/same-origin.test.ts',
  'test/security/url-redaction-edge.test.ts',
  'test/security/url-redaction-workerd.test.ts',
  'test/security/url-redaction.test.ts',
  'test/cloudflare/config-error.test.ts',
  'test/export/faults.test.ts',
  'test/export/langsmith-budget.test.ts',
  'test/fetch/node-server.test.ts',
  'test/fetch/runtimes.test.ts',
  'test/lambda/streaming.test.ts',
  'test/propagation/langsmith-w3c-hop.test.ts',
  'test/vercel/config-error.test.ts',
  // the docs' samples, run on their runtimes against local receivers
  'test/docs/bridges-sample.test.ts',
  'test/docs/node-samples.test.ts',
  'test/docs/edge-samples.test.ts',
  'test/docs/workerd-samples.test.ts',
]

export default defineConfig({
  test: {
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // expect.poll waits for a page or a server to catch up: its 1 s default is short on a
    // loaded two-core machine (a Chromium round trip per poll).
    expect: { poll: { timeout: 10_000 } },
    // Runtime tests start workerd, edge-runtime and local receivers: two cores, keep it calm.
    maxWorkers: 2,
    minWorkers: 1,
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: ['test/**/*.test.ts'],
          exclude: [...configDefaults.exclude, ...RUNTIME],
          setupFiles: ['test/support/no-servers.ts'],
        },
      },
      { extends: true, test: { name: 'runtime', include: RUNTIME } },
    ],
  },
})
