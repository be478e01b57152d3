import { existsSync } from 'node:fs'
import { defineConfig } from 'tsup'

// One entry per public subpath (see `exports` in package.json); entries not written yet are skipped.
const entries: Record<string, string> = {
  index: 'src/index.ts',
  cloudflare: 'adapters/cloudflare/index.ts',
  hono: 'adapters/hono/index.ts',
  lambda: 'adapters/lambda/index.ts',
  vercel: 'adapters/vercel/index.ts',
  fetch: 'adapters/fetch/index.ts',
  otel: 'adapters/otel/index.ts',
  langsmith: 'adapters/langsmith/index.ts',
  mcp: 'adapters/mcp/index.ts',
}
const entry = Object.fromEntries(Object.entries(entries).filter(([, file]) => existsSync(file)))

export default defineConfig([
  {
    entry,
    format: ['esm'],
    // `@internal` members and declarations stay out of the published types.
    dts: { compilerOptions: { stripInternal: true } },
    clean: true,
    sourcemap: true,
    target: 'es2022',
    platform: 'neutral',
    splitting: true,
    treeshake: true,
    external: [
      /^cloudflare:/,
      /^@opentelemetry\//,
      'langsmith',
      /^langsmith\//,
      'hono',
      /^hono\//,
      /^@aws-lambda-powertools\//,
      /^@modelcontextprotocol\//,
    ],
  },
  {
    entry: { 'cli/tracehop': 'cli/tracehop.ts', 'cli/collector': 'cli/collector.ts' },
    format: ['esm'],
    dts: false,
    clean: false,
    target: 'node20',
    platform: 'node',
  },
])
