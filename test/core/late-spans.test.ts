// Spans started after their scope ended (in the user's own waitUntil work, after an await,
// after the response) belong to the trace: they are exported while the flush is open or in
// a follow-up export within the same budget. Only when that is impossible are they counted
// as `late`, logged once, and they send no trace headers.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTracer, otlp, type Tracer } from '../../src/index.js'
import { startEchoServer } from '../cloudflare/helpers/echo-server.js'
import { type OtlpReceiver, startOtlpReceiver } from '../support/otlp-receiver.js'

let receiver: OtlpReceiver
let echo: Awaited<ReturnType<typeof startEchoServer>>

beforeAll(async () => {
  receiver = await startOtlpReceiver()
  echo = await startEchoServer()
})

afterAll(async () => {
  await receiver?.close()
  await echo?.close()
})

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

function setup(budgetMs?: number): { tracer: Tracer; log: string[] } {
  const log: string[] = []
  const tracer = createTracer({
    service: 'late',
    exporters: [otlp({ url: receiver.url, encoding: 'json' })],
    propagation: { allow: [echo.origin] },
    ...(budgetMs !== undefined ? { flush: { budgetMs } } : {}),
    log: (line) => log.push(line),
  })
  return { tracer, log }
}

/** A `waitUntil` as a runtime gives one: collects the promises; `settled()` awaits them all. */
function runtimeWaitUntil(): { waitUntil: (p: Promise<unknown>) => void; settled(): Promise<void> } {
  const pending: Promise<unknown>[] = []
  return {
    waitUntil: (p) => pending.push(p),
    async settled() {
      for (let i = 0; i < pending.length; i++) await pending[i]
    },
  }
}

describe('late spans (Node)', () => {
  it('a child started in waitUntil work after the flush is exported in a follow-up, with its fetch propagated', async () => {
    const { tracer } = setup()
    const rt = runtimeWaitUntil()
    const scope = tracer.start(undefined, { name: 'POST /chat', waitUntil: rt.waitUntil })
    const first = await scope.end(new Response('ok'))
    expect(first).toMatchObject({ kept: true, spans: 1, exported: 1 })
    // The user's own waitUntil work, after the response and after the flush resolved.
    let sent: Record<string, string> = {}
    const work = (async () => {
      await sleep(20)
      await scope.root.child('after-response', async (s) => {
        sent = (await (await s.fetch(`${echo.origin}/`)).json()) as Record<string, string>
      })
    })()
    rt.waitUntil(work)
    await rt.settled()
    const spans = receiver.spans.filter((s) => s.traceId === scope.traceId)
    const after = spans.find((s) => s.name === 'after-response')
    const client = spans.find((s) => s.parentSpanId === after?.spanId)
    expect(after?.parentSpanId).toBe(scope.root.spanId)
    expect(client).toBeDefined()
    // The downstream's parent is a span that arrived.
    expect(sent['traceparent']).toContain(client!.spanId)
    const stats = tracer.stats()
    expect(stats.limits.spans).toBeUndefined()
    expect(stats.spans.late).toBe(0)
    expect(stats.spans.exported).toBe(3)
  })

  it('a child started while the awaited flush is still exporting is part of that flush', async () => {
    const { tracer } = setup()
    receiver.delayMs = 150
    try {
      const scope = tracer.start(undefined, { name: 'job' })
      const flushing = scope.end()
      await sleep(50)
      // The export is in flight (the receiver holds it): this span still makes it.
      scope.root.child('during-export', () => {})
      const report = await flushing
      expect(report).toMatchObject({ kept: true, spans: 2, exported: 2, dropped: 0 })
    } finally {
      receiver.delayMs = 0
    }
    expect(tracer.stats().spans).toMatchObject({ recorded: 2, exported: 2, late: 0 })
    expect(tracer.stats().limits.spans).toBeUndefined()
  })

  it('a child started after an awaited flush resolved is counted late, logged once, and sends no headers', async () => {
    const { tracer, log } = setup()
    const scope = tracer.start(undefined, { name: 'job' })
    await scope.end()
    const late = scope.root.startChild('too-late')
    expect(late.isRecording).toBe(false)
    expect(late.headers()).toEqual({})
    expect(late.headers(`${echo.origin}/`)).toEqual({})
    const sent = (await (await late.fetch(`${echo.origin}/`)).json()) as Record<string, string>
    expect(sent['traceparent']).toBeUndefined()
    expect(sent['baggage']).toBeUndefined()
    expect(Object.keys(sent).filter((k) => k.startsWith('langsmith'))).toEqual([])
    late.end()
    const stats = tracer.stats()
    expect(stats.spans.late).toBe(2) // the child and its fetch span
    expect(stats.limits.spans).toBeUndefined()
    expect(log.filter((l) => l.includes('started after its scope was flushed'))).toHaveLength(1)
  })

  it('with waitUntil, a child started past the budget is late; spans of the same scope before it arrived', async () => {
    const { tracer } = setup(300)
    const rt = runtimeWaitUntil()
    const scope = tracer.start(undefined, { name: 'job', waitUntil: rt.waitUntil })
    void scope.end()
    await rt.settled()
    // The budget is 300 ms, of which the last 100 are kept for the export: too late here.
    await sleep(250)
    const sent = (await (await scope.root.fetch(`${echo.origin}/`)).json()) as Record<string, string>
    expect(sent['traceparent']).toBeUndefined()
    await rt.settled()
    expect(tracer.stats().spans).toMatchObject({ recorded: 1, exported: 1, late: 1 })
  })
})
