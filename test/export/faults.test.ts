// The faults check: every way a receiver can fail, against both exporters, through a real
// tracer with a flush budget. Every span ends up exported or dropped under the reason that
// says what happened, the flush ends within the budget, and stats().exports counts the
// requests the receiver saw.
import type { ServerResponse } from 'node:http'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { DropReason, Exporter } from '../../src/export/exporter.js'
import { langsmith } from '../../src/export/langsmith-exporter.js'
import { otlp } from '../../src/export/otlp-exporter.js'
import { createTracer } from '../../src/tracer.js'
import { type Receiver, type Recorded, refusedUrl, startReceiver } from '../support/http-receiver.js'

const BUDGET_MS = 1_500
// Past the budget: the time a flush may take to notice the deadline and return.
const SLACK_MS = 1_000
const SPANS = 6

type Mode = 'ok' | 'slow' | 'hang' | '5xx' | '429' | '413' | 'garbage' | 'reset' | 'refused' | 'flaky'

/** How the receiver answers an export request (the LangSmith `/info` read gets the same). */
function fault(mode: Mode): (req: Recorded, res: ServerResponse) => unknown {
  let posts = 0
  const ok = (res: ServerResponse) => res.writeHead(200, { 'content-type': 'application/json' }).end('{}')
  return (req, res) => {
    const post = req.method === 'POST'
    if (post) posts++
    switch (mode) {
      case 'ok':
        return ok(res)
      case 'slow':
        return new Promise((r) => setTimeout(r, 300)).then(() => ok(res))
      case 'hang':
        return new Promise(() => {})
      case '5xx':
        return res.writeHead(500).end('internal error')
      case '429':
        return res.writeHead(429, { 'retry-after': '0' }).end('slow down')
      case '413':
        return res.writeHead(413).end('payload too large')
      case 'garbage':
        // Bytes that are not HTTP, then the connection closes.
        res.socket?.end('\x00\x13garbage\r\n\r\n')
        return
      case 'reset':
        res.socket?.resetAndDestroy()
        return
      case 'flaky':
        return post && posts === 1 ? res.writeHead(503).end() : ok(res)
      default:
        return ok(res)
    }
  }
}

const EXPECTED: Record<Mode, DropReason | 'exported'> = {
  ok: 'exported',
  slow: 'exported',
  hang: 'timeout',
  '5xx': 'http-5xx',
  '429': 'rate-limited',
  '413': 'http-4xx',
  garbage: 'network',
  reset: 'network',
  refused: 'network',
  flaky: 'exported',
}

const EXPORTERS: Record<string, (base: string) => Exporter> = {
  otlp: (base) => otlp({ url: `${base}/v1/traces`, encoding: 'json' }),
  langsmith: (base) => langsmith({ apiUrl: base }),
}

let rx: Receiver
let refused: string
beforeAll(async () => {
  rx = await startReceiver()
  refused = await refusedUrl()
})
afterAll(() => rx.close())

describe.each(Object.keys(EXPORTERS))('faults check: %s exporter', (name) => {
  it.each(Object.keys(EXPECTED) as Mode[])(
    '%s',
    async (mode) => {
      rx.requests.length = 0
      rx.handle(fault(mode))
      const lines: string[] = []
      const tracer = createTracer({
        service: 'faults',
        exporters: [EXPORTERS[name]!(mode === 'refused' ? refused : rx.url)],
        flush: { budgetMs: BUDGET_MS, windowMs: 0 },
        log: (l) => lines.push(l),
      })
      const scope = tracer.start()
      for (let i = 1; i < SPANS; i++) scope.root.child(`c${i}`, () => {})
      const t0 = Date.now()
      await scope.end()
      expect(Date.now() - t0).toBeLessThan(BUDGET_MS + SLACK_MS)

      const { spans, exports } = tracer.stats()
      const dropped = Object.values(spans.dropped).reduce((a, b) => a + b, 0)
      expect(spans.recorded).toBe(SPANS)
      expect(spans.exported + dropped).toBe(SPANS)
      const want = EXPECTED[mode]
      if (want === 'exported') {
        expect(spans).toMatchObject({ exported: SPANS, dropped: {} })
        expect(lines).toEqual([])
      } else {
        expect(spans.dropped).toEqual({ [want]: SPANS })
        expect(lines).toHaveLength(1)
        expect(lines[0]).toContain(want)
      }
      // Counted as sent: the receiver saw exactly the export requests stats() reports.
      // (Connections refused reach no receiver: those attempts are counted all the same.)
      const posts = rx.requests.filter((r) => r.method === 'POST').length
      if (mode === 'refused') expect(exports.requests).toBeGreaterThanOrEqual(1)
      else expect(exports.requests).toBe(posts)
      if (mode === 'flaky') expect(exports.retries).toBeGreaterThanOrEqual(1)
      if (mode === 'ok' || mode === 'slow') expect(exports).toEqual({ requests: 1, retries: 0, failed: 0 })
    },
    15_000,
  )
})
