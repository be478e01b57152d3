// Size budgets per entry point, checked in `npm test`: what a user's edge bundle grows by.
// `budget` is what CI enforces: the measured size plus ~2.5%, so nothing grows silently.
// Each case bundles a small realistic program against dist/ with esbuild (minified,
// tree-shaken, peers external), gzips it, and compares with its budget. What matters to a
// user is that tracehop stays a fraction of what it replaces, so the same program written
// with the library tracehop replaces is measured beside it (`peer`, everything bundled, as a
// user's bundle would have it) and printed as a ratio; peers are not budgeted.

import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { gzipSync } from 'node:zlib'
import { build } from 'esbuild'

const root = fileURLToPath(new URL('..', import.meta.url))
const KB = 1024

/** name, budget (gzip bytes), program, entries it needs, optional baseline program to subtract. */
const cases = [
  {
    name: 'tracehop (core: tracer, scope, spans, propagation, sampler)',
    budget: 18.6 * KB,
    needs: ['index'],
    code: `import { createTracer } from './dist/index.js'
      const t = createTracer({ service: 's', sampling: { ratio: 0.1 } })
      export default async (req) => { const s = t.start(req); const h = s.root.child('x', (c) => c.headers()); await s.end(); return h }`,
  },
  {
    name: 'tracehop + OTLP exporter',
    budget: 22.4 * KB,
    needs: ['index'],
    code: `import { createTracer, otlp } from './dist/index.js'
      const t = createTracer({ service: 's', sampling: { ratio: 0.1 }, exporters: [otlp({ url: 'http://c/v1/traces' })] })
      export default async (req) => { const s = t.start(req); const h = s.root.child('x', (c) => c.headers()); await s.end(); return h }`,
  },
  {
    name: 'Worker with tracehop/cloudflare + OTLP (over a bare Worker)',
    budget: 26.5 * KB,
    needs: ['index', 'cloudflare'],
    code: `import { otlp } from './dist/index.js'
      import { instrument, traceOf } from './dist/cloudflare.js'
      export default instrument({ async fetch(req, env, ctx) { return traceOf(ctx).fetch('https://up.example/') } },
        (env) => ({ service: 'gw', exporters: [otlp({ url: env.OTLP_URL })] }))`,
    baseline: `export default { async fetch(req, env, ctx) { return fetch('https://up.example/') } }`,
    peer: {
      name: '@microlabs/otel-cf-workers',
      code: `import { instrument } from '@microlabs/otel-cf-workers'
        export default instrument({ async fetch(req, env, ctx) { return fetch('https://up.example/') } },
          (env) => ({ service: { name: 'gw' }, exporter: { url: env.OTLP_URL } }))`,
      platform: 'browser',
      conditions: ['workerd', 'worker', 'browser'],
    },
  },
  {
    name: 'tracehop/vercel + OTLP',
    budget: 24.5 * KB,
    needs: ['index', 'vercel'],
    code: `import { otlp } from './dist/index.js'
      import { withTrace, traceOf } from './dist/vercel.js'
      export const POST = withTrace(async (req) => traceOf(req).fetch('https://up.example/'),
        { service: 'orch', exporters: [otlp({ url: 'http://c/v1/traces' })] })`,
    peer: {
      name: 'OTel SDK (sdk-trace-base + OTLP/HTTP exporter)',
      code: `import { BasicTracerProvider, BatchSpanProcessor } from '@opentelemetry/sdk-trace-base'
        import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http'
        import { W3CTraceContextPropagator } from '@opentelemetry/core'
        import { context, propagation, trace } from '@opentelemetry/api'
        const provider = new BasicTracerProvider({ spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter({ url: 'http://c/v1/traces' }))] })
        trace.setGlobalTracerProvider(provider); propagation.setGlobalPropagator(new W3CTraceContextPropagator())
        export const POST = async (req) => { const span = trace.getTracer('orch').startSpan('POST'); const h = {}
          propagation.inject(trace.setSpan(context.active(), span), h); const r = await fetch('https://up.example/', { headers: h })
          span.end(); await provider.forceFlush(); return r }`,
      platform: 'browser',
      conditions: ['worker', 'browser'],
    },
  },
  {
    name: 'tracehop/fetch (Deno, Bun, Node, Netlify, Supabase) + OTLP',
    budget: 24.4 * KB,
    needs: ['index', 'fetch'],
    code: `import { otlp } from './dist/index.js'
      import { withTrace, traceOf } from './dist/fetch.js'
      export default withTrace(async (req) => traceOf(req).fetch('https://up.example/'),
        { service: 'edge', propagation: { origin: 'https://api.example' }, exporters: [otlp({ url: 'http://c/v1/traces' })] })`,
  },
  {
    name: 'Lambda with tracehop/lambda + OTLP',
    budget: 31.9 * KB,
    needs: ['index', 'lambda'],
    code: `import { otlp } from './dist/index.js'
      import { withTrace, traceOf } from './dist/lambda.js'
      export const handler = withTrace(async (event, context) => traceOf(context).child('work', () => 1),
        { service: 'retrieval', exporters: [otlp({ url: 'http://c/v1/traces' })] })`,
    peer: {
      name: '@aws-lambda-powertools/tracer',
      code: `import { Tracer } from '@aws-lambda-powertools/tracer'
        import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware'
        import middy from '@middy/core'
        const tracer = new Tracer({ serviceName: 'retrieval' })
        export const handler = middy(async () => 1).use(captureLambdaHandler(tracer))`,
      platform: 'node',
      conditions: [],
    },
  },
  {
    name: 'tracehop/hono middleware (over the core)',
    budget: 2.5 * KB,
    needs: ['index', 'hono'],
    code: `import { createTracer } from './dist/index.js'
      import { tracehop } from './dist/hono.js'
      export const mw = tracehop({ service: 'gw' }); export const t = createTracer`,
    baseline: `import { createTracer } from './dist/index.js'; export const t = createTracer; export const s = (r) => createTracer({service:'s'}).start(r).end()`,
  },
  {
    name: 'tracehop/mcp (over the core)',
    budget: 2.9 * KB,
    needs: ['index', 'mcp'],
    code: `import { createTracer } from './dist/index.js'
      import * as mcp from './dist/mcp.js'
      export const all = mcp; export const t = createTracer`,
    baseline: `import { createTracer } from './dist/index.js'; export const t = createTracer; export const s = (r) => createTracer({service:'s'}).start(r).end()`,
  },
]

/** A peer's program, everything bundled but the platform's own modules. */
async function peerGzipBytes(peer) {
  const result = await build({
    stdin: { contents: peer.code, resolveDir: root, loader: 'ts' },
    bundle: true,
    minify: true,
    format: 'esm',
    platform: peer.platform,
    conditions: peer.conditions,
    target: 'es2022',
    write: false,
    external: ['cloudflare:*', 'node:*'],
    logLevel: 'silent',
  })
  return gzipSync(result.outputFiles[0].contents, { level: 9 }).length
}

async function gzipBytes(code) {
  const result = await build({
    stdin: { contents: code, resolveDir: root, loader: 'ts' },
    bundle: true,
    minify: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    write: false,
    external: [
      'cloudflare:*',
      'node:*',
      '@opentelemetry/*',
      'langsmith',
      'langsmith/*',
      'hono',
      'hono/*',
      '@modelcontextprotocol/*',
    ],
    logLevel: 'silent',
  })
  return gzipSync(result.outputFiles[0].contents, { level: 9 }).length
}

let failed = false
const rows = []
/** [our case, peer name, our bytes, peer bytes, error?] */
const peers = []
for (const c of cases) {
  const missing = c.needs.filter((e) => !existsSync(`${root}/dist/${e}.js`))
  if (missing.length > 0) {
    rows.push([
      c.name,
      'not built',
      `${(c.budget / KB).toFixed(1)} KB`,
      `missing dist/${missing.join(', dist/')}.js`,
    ])
    if (process.env.CI) failed = true
    continue
  }
  const size = (await gzipBytes(c.code)) - (c.baseline ? await gzipBytes(c.baseline) : 0)
  const ok = size <= c.budget
  if (!ok) failed = true
  rows.push([
    c.name,
    `${(size / KB).toFixed(2)} KB`,
    `${(c.budget / KB).toFixed(1)} KB`,
    ok ? 'ok' : 'OVER BUDGET',
  ])
  if (c.peer !== undefined) {
    try {
      const peer = (await peerGzipBytes(c.peer)) - (c.baseline ? await gzipBytes(c.baseline) : 0)
      peers.push([c.name, c.peer.name, size, peer])
    } catch (err) {
      peers.push([c.name, c.peer.name, size, Number.NaN, String(err).split('\n')[0]])
    }
  }
}
// dist/ is split into shared chunks, where esbuild can only drop unused code statement by
// statement: a module-level side effect (a table filled by a loop, `new TextEncoder()` not
// marked pure) then stays in every user's bundle although src/ would drop it whole. The
// core program bundled from dist/ must weigh what it weighs bundled from src/.
const core = cases[0]
if (existsSync(`${root}/dist/index.js`)) {
  const fromDist = await gzipBytes(core.code)
  const fromSrc = await gzipBytes(core.code.replace('./dist/index.js', './src/index.ts'))
  const leak = fromDist - fromSrc
  const ok = leak <= 256
  if (!ok) failed = true
  rows.push([
    'core from dist/ vs from src/ (module-level side effects)',
    `${leak >= 0 ? '+' : ''}${leak} B`,
    '0.25 KB',
    ok ? 'ok' : 'LEAK: a top-level statement in src/ is not tree-shakeable',
  ])
}
console.log('\nSize budgets (minified + gzip, esbuild, peer dependencies external)')
for (const [name, size, budget, status] of rows) {
  console.log(`  ${name.padEnd(64)} ${size.padStart(10)}  budget ${budget.padStart(7)}  ${status}`)
}
if (peers.length > 0) {
  console.log('\nWhat tracehop replaces, the same program bundled whole (minified + gzip)')
  for (const [ours, name, size, peer, error] of peers) {
    const note = Number.isNaN(peer)
      ? `could not bundle: ${error}`
      : `${(peer / KB).toFixed(2)} KB; tracehop is ${((size / peer) * 100).toFixed(0)}% of it`
    console.log(`  ${`${name} (vs ${ours})`.padEnd(100)} ${note}`)
  }
}
if (failed) {
  console.error('\nsize check failed: an entry is over its budget or not built')
  process.exit(1)
}
