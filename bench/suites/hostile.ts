/**
 * Hostile input: what one oversized trace header, `_meta` value or envelope field costs
 * through the public API (`tracer.start`, an MCP server transport, an `instrument()`ed
 * queue consumer). Each input is read 15 times (a fresh tracer per read, so nothing is
 * cached); the figure is the median with the 10th–90th percentile spread. OpenTelemetry's
 * W3C propagators (`@opentelemetry/core`) read the same header where they read that format.
 */
import { defaultTextMapGetter, ROOT_CONTEXT } from '@opentelemetry/api'
import { W3CBaggagePropagator, W3CTraceContextPropagator } from '@opentelemetry/core'
import { instrument } from '../../adapters/cloudflare/index.js'
import { forEachRecord, withTrace } from '../../adapters/lambda/index.js'
import { traceMcpServer } from '../../adapters/mcp/index.js'
import type { JsonRpcMessage, McpTransport } from '../../adapters/mcp/transport.js'
import { createTracer, type Ingress, type Tracer } from '../../src/index.js'
import { consume, note } from '../harness.js'

const KB = 1024
const MB = 1024 * KB
const SAMPLES = 15
const TP = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01'
const LS_TRACE = '20240101T000000000000Z4bf92f35-77b3-4da6-a3ce-929d0e0e4736'

/** `unit` repeated to `n` characters, as one flat string (a network value is never a rope). */
function fill(n: number, unit: string): string {
  return JSON.parse(JSON.stringify(unit.repeat(Math.ceil(n / unit.length)).slice(0, n))) as string
}

type Headers = Record<string, string>

interface Input {
  readonly name: string
  readonly headers: Headers
  /** The OTel propagator that reads this format, if any. */
  readonly otel?: 'trace' | 'baggage'
}

function inputs(): Input[] {
  const out: Input[] = []
  for (const size of [MB, 4 * MB]) {
    const s = `${size / MB} MB`
    out.push(
      { name: `traceparent ${s}`, headers: { traceparent: fill(size, 'a') }, otel: 'trace' },
      {
        name: `tracestate ${s} (k=v members)`,
        headers: { traceparent: TP, tracestate: fill(size, 'k=v,') },
        otel: 'trace',
      },
      {
        name: `baggage ${s} (k=v members)`,
        headers: { traceparent: TP, baggage: fill(size, 'k=v,') },
        otel: 'baggage',
      },
      {
        name: `baggage ${s} (one %-encoded value)`,
        headers: { traceparent: TP, baggage: `k=${fill(size, '%41')}` },
        otel: 'baggage',
      },
      {
        name: `baggage ${s} langsmith-metadata`,
        headers: { traceparent: TP, baggage: `langsmith-metadata=${fill(size, '%7B%22a%22%3A')}` },
      },
      {
        name: `baggage ${s} langsmith-tags`,
        headers: { traceparent: TP, baggage: `langsmith-tags=${fill(size, 'a,')}` },
      },
      {
        name: `baggage ${s} langsmith-project`,
        headers: { traceparent: TP, baggage: `langsmith-project=${fill(size, 'p')}` },
      },
      { name: `langsmith-trace ${s}`, headers: { 'langsmith-trace': fill(size, `${LS_TRACE}.`) } },
      {
        name: `x-amzn-trace-id ${s}`,
        headers: { 'x-amzn-trace-id': fill(size, 'Root=1-5759e988-bd862e3fe1be46a994272793;') },
      },
    )
  }
  return out
}

/** Median and 10th–90th percentile of `fn`'s time, each run after `setup` (not timed). */
function measure(fn: () => unknown): { median: number; p10: number; p90: number } {
  consume(fn()) // first call: lazy code paths
  const xs: number[] = []
  for (let i = 0; i < SAMPLES; i++) {
    const t0 = performance.now()
    consume(fn())
    xs.push(performance.now() - t0)
  }
  xs.sort((a, b) => a - b)
  const at = (q: number): number => xs[Math.min(xs.length - 1, Math.floor(q * xs.length))]!
  return { median: at(0.5), p10: at(0.1), p90: at(0.9) }
}

/** The same for async work: one call at a time. */
async function measureAsync(
  fn: () => Promise<unknown>,
): Promise<{ median: number; p10: number; p90: number }> {
  consume(await fn())
  const xs: number[] = []
  for (let i = 0; i < SAMPLES; i++) {
    const t0 = performance.now()
    consume(await fn())
    xs.push(performance.now() - t0)
  }
  xs.sort((a, b) => a - b)
  const at = (q: number): number => xs[Math.min(xs.length - 1, Math.floor(q * xs.length))]!
  return { median: at(0.5), p10: at(0.1), p90: at(0.9) }
}

function row(label: string, m: { median: number; p10: number; p90: number }): string {
  return `${label.padEnd(58)} ${m.median.toFixed(3).padStart(9)} ms  (p10–p90 ${m.p10.toFixed(3)}–${m.p90.toFixed(3)})`
}

function tracerOf(ingress: Ingress): Tracer {
  return createTracer({ service: 'bench', propagation: { ingress }, log: () => {} })
}

/** An in-memory transport whose `deliver` plays the client's message into the traced server. */
function loopTransport(): McpTransport & { deliver(m: JsonRpcMessage): void } {
  const t = {
    onmessage: undefined as ((m: JsonRpcMessage, extra?: unknown) => void) | undefined,
    async start() {},
    async send() {},
    async close() {},
    deliver(m: JsonRpcMessage) {
      t.onmessage?.(m)
    },
  }
  return t as unknown as McpTransport & { deliver(m: JsonRpcMessage): void }
}

function deepObject(depth: number): unknown {
  let o: unknown = { leaf: 1 }
  for (let i = 0; i < depth; i++) o = { o }
  return o
}

export async function run(): Promise<void> {
  const traceContext = new W3CTraceContextPropagator()
  const baggage = new W3CBaggagePropagator()
  for (const ingress of ['trusted', 'untrusted'] as const) {
    const lines: string[] = []
    for (const input of inputs()) {
      lines.push(
        row(
          `${input.name}: tracer.start`,
          measure(() => tracerOf(ingress).start(input.headers).root),
        ),
      )
      if (input.otel !== undefined) {
        const p = input.otel === 'trace' ? traceContext : baggage
        lines.push(
          row(
            '  @opentelemetry/core extract',
            measure(() => p.extract(ROOT_CONTEXT, input.headers, defaultTextMapGetter)),
          ),
        )
      }
    }
    note(`one hostile header per request, ingress ${ingress}`, lines)
  }

  // MCP: the server reads `params._meta` of every request.
  const metas: [string, Record<string, unknown>][] = [
    ['_meta.baggage 4 MB string (k=v members)', { traceparent: TP, baggage: fill(4 * MB, 'k=v,') }],
    [
      '_meta.baggage 4 MB string (one %-encoded value)',
      { traceparent: TP, baggage: `k=${fill(4 * MB, '%41')}` },
    ],
    [
      '_meta.baggage 4 MB langsmith-metadata',
      { 'langsmith-trace': LS_TRACE, baggage: `langsmith-metadata=${fill(4 * MB, '%7B%22a%22%3A')}` },
    ],
    ['_meta.traceparent 1 MB string', { traceparent: fill(MB, 'a') }],
    ['_meta.baggage 1M-element array', { traceparent: TP, baggage: new Array(MB).fill('k=v') }],
    ['_meta.baggage nested 10 000 deep', { traceparent: TP, baggage: deepObject(10_000) }],
  ]
  for (const ingress of ['trusted', 'untrusted'] as const) {
    const lines: string[] = []
    let id = 0
    for (const [name, meta] of metas) {
      const transport = loopTransport()
      traceMcpServer(transport, tracerOf(ingress))
      lines.push(
        row(
          `${name}: server receives tools/call`,
          measure(() =>
            transport.deliver({
              jsonrpc: '2.0',
              id: ++id,
              method: 'tools/call',
              params: { name: 't', _meta: meta },
            }),
          ),
        ),
      )
    }
    note(`MCP _meta, ingress ${ingress}`, lines)
  }

  // Cloudflare Queues: an envelope lookalike with oversized context fields. A queue message
  // is at most 128 KB: `ctx` can hold about 12 000 keys. Listing them is O(keys) whatever
  // reads them; structuredClone of the same body (what delivering it costs the platform) is
  // printed beside it for scale.
  const lines: string[] = []
  const manyKeys = Object.fromEntries(Array.from({ length: 12_000 }, (_, i) => [`k${i}`, 'v']))
  const envelopes: [string, object][] = [
    ['envelope ctx.baggage 4 MB', { traceparent: TP, baggage: fill(4 * MB, 'k=v,') }],
    [
      'envelope ctx.baggage 4 MB (one %-encoded value)',
      { traceparent: TP, baggage: `k=${fill(4 * MB, '%41')}` },
    ],
    ['envelope ctx.traceparent 1 MB', { traceparent: fill(MB, 'a') }],
    ['envelope ctx with 12 000 keys (a full 128 KB message)', manyKeys],
  ]
  for (const [name, ctx] of envelopes) {
    const body = { __tracehop: 1, ctx, body: { job: 1 } }
    const worker = instrument({ async queue() {} }, { service: 'bench', log: () => {} })
    const env = {}
    const batch = {
      queue: 'jobs',
      messages: [{ id: 'm1', timestamp: new Date(0), body, attempts: 1, ack() {}, retry() {} }],
      ackAll() {},
      retryAll() {},
    }
    const ctxArg = { waitUntil() {}, passThroughOnException() {} }
    lines.push(
      row(
        `${name}: queue consumer`,
        measure(() => (worker as { queue: (...a: unknown[]) => unknown }).queue(batch, env, ctxArg)),
      ),
    )
    if (ctx === manyKeys) {
      lines.push(
        row(
          '  structuredClone of the same body (reference)',
          measure(() => structuredClone(body)),
        ),
      )
    }
  }
  note('Cloudflare Queues envelope lookalikes (instrument()ed consumer)', lines)

  // AWS Lambda SQS records: attributes and bodies a plain producer chose. One whole
  // invocation each (withTrace + forEachRecord, no exporter), for scale: an empty one first.
  const sqsLines: string[] = []
  const handler = withTrace(
    (event: { Records: unknown[] }, context: object) => forEachRecord(event, context, () => {}),
    { service: 'bench', propagation: { ingress: 'untrusted' }, log: () => {} },
  )
  const record = (body: string, attributes: Record<string, string> = {}) => ({
    messageId: 'm1',
    body,
    attributes: {},
    messageAttributes: Object.fromEntries(
      Object.entries(attributes).map(([k, v]) => [k, { stringValue: v, dataType: 'String' }]),
    ),
    eventSource: 'aws:sqs',
    eventSourceARN: 'arn:aws:sqs:us-east-1:000000000000:jobs',
  })
  const nested = JSON.stringify({
    Type: 'Notification',
    TopicArn: 'arn:aws:sns:us-east-1:000000000000:t',
    MessageAttributes: {},
    pad: Array.from({ length: 24_000 }, (_, i) => ({ a: i })),
  })
  const sqsCases: [string, ReturnType<typeof record>][] = [
    ['plain 1 KB body, no context', record('x'.repeat(1024))],
    ['messageAttributes.traceparent 1 MB', record('x', { traceparent: fill(MB, 'a') })],
    [
      'messageAttributes.baggage 1 MB (one %-encoded value)',
      record('x', { traceparent: TP, baggage: `k=${fill(MB, '%41')}` }),
    ],
    [`SNS-shaped body of ${Math.round(nested.length / KB)} KB, deeply padded`, record(nested)],
    ['1 MB body (not JSON)', record(fill(MB, 'x'))],
  ]
  for (const [name, r] of sqsCases) {
    sqsLines.push(row(`${name}: one SQS invocation`, await measureAsync(() => handler({ Records: [r] }, {}))))
  }
  note(
    'AWS Lambda SQS records from a plain producer (withTrace + forEachRecord, ingress untrusted)',
    sqsLines,
  )
}
