/**
 * A semaphore with a bounded queue for the requests whose bodies the collector reads and
 * decodes: at most `maxActive` at once, at most `maxQueued` waiting, the rest answered
 * 503 with Retry-After (OTLP and LangSmith clients retry it).
 */
import type { IncomingMessage } from 'node:http'
import { HttpError } from './http.js'

export interface GateCounters {
  /** Bodies being read or decoded now, and the most at once so far. */
  active: number
  peakActive: number
  /** Requests waiting for a turn now, and the most at once so far. */
  queued: number
  peakQueued: number
  /** Requests answered 503 because the queue was full. */
  busy: number
}

export interface Gate {
  readonly counters: GateCounters
  /** Runs `work` once a turn is free; rejects with 503 when the queue is full. */
  run<T>(req: IncomingMessage, work: () => Promise<T>): Promise<T>
}

export function createGate(maxActive: number, maxQueued: number): Gate {
  const counters: GateCounters = { active: 0, peakActive: 0, queued: 0, peakQueued: 0, busy: 0 }
  const waiting: (() => void)[] = []

  function release(): void {
    const next = waiting.shift()
    if (next) {
      counters.queued--
      next() // the turn passes on: active stays the same
    } else counters.active--
  }

  function acquire(req: IncomingMessage): Promise<void> {
    if (counters.active < maxActive) {
      counters.active++
      counters.peakActive = Math.max(counters.peakActive, counters.active)
      return Promise.resolve()
    }
    if (waiting.length >= maxQueued) {
      counters.busy++
      return Promise.reject(
        new HttpError(503, `busy: ${maxActive} request bodies in progress and ${maxQueued} waiting`, {
          'retry-after': '1',
        }),
      )
    }
    return new Promise<void>((resolve, reject) => {
      const turn = (): void => {
        req.off('close', gone)
        resolve()
      }
      // A client that leaves while waiting gives up its place.
      const gone = (): void => {
        const i = waiting.indexOf(turn)
        if (i < 0) return
        waiting.splice(i, 1)
        counters.queued--
        reject(new HttpError(400, 'the client closed the request while it waited'))
      }
      waiting.push(turn)
      counters.queued++
      counters.peakQueued = Math.max(counters.peakQueued, counters.queued)
      req.on('close', gone)
    })
  }

  return {
    counters,
    async run(req, work) {
      await acquire(req)
      try {
        return await work()
      } finally {
        release()
      }
    },
  }
}
