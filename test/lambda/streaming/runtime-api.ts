// A local Lambda Runtime API on 127.0.0.1, as documented ("Using the Lambda runtime API for
// custom runtimes" and "Response streaming for custom runtimes"): GET /invocation/next
// long-polls for the queued event; a streamed response is a chunked POST to
// /invocation/{id}/response with `Lambda-Runtime-Function-Response-Mode: streaming`, and a
// failure mid-stream arrives as the `Lambda-Runtime-Function-Error-Type` / `-Body` trailers.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'

const BASE = '/2018-06-01/runtime'

export interface StreamedResponse {
  readonly requestId: string
  readonly mode: string | undefined
  readonly contentType: string | undefined
  /** Each chunk as it arrived, with the time it arrived. */
  readonly chunks: { at: number; data: Buffer }[]
  body(): Buffer
  trailers: Record<string, string>
  endedAt: number
  /** True when the stream broke off (the connection closed before the body ended). */
  aborted: boolean
}

export interface RuntimeApi {
  /** host:port, the value of AWS_LAMBDA_RUNTIME_API. */
  readonly address: string
  /** Times at which the runtime asked for its next invocation (its previous one was complete). */
  readonly polls: number[]
  readonly responses: Map<string, StreamedResponse>
  readonly errors: { path: string; body: string }[]
  /**
   * Resolves once no `next` long-poll is open. A runtime process that exited may still hold
   * one here until its connection's close is read, and an invocation queued before then
   * would go to it; wait for this after stopping a runtime.
   */
  noOpenPolls(timeoutMs?: number): Promise<void>
  /**
   * Queues one invocation; resolves when its response has ended (or broke off), and rejects
   * if it has not within `timeoutMs` (15 s): a runtime that died or never polled fails the
   * test with a message instead of hanging it.
   */
  invoke(
    event: unknown,
    options?: { deadlineMs?: number; abortAfterChunks?: number; timeoutMs?: number },
  ): Promise<StreamedResponse>
  close(): Promise<void>
}

interface Pending {
  readonly id: string
  readonly event: unknown
  readonly deadlineMs: number
  readonly abortAfterChunks: number | undefined
  readonly done: (r: StreamedResponse) => void
}

export async function startRuntimeApi(): Promise<RuntimeApi> {
  const queue: Pending[] = []
  const waiting: ServerResponse[] = []
  const inflight = new Map<string, Pending>()
  const polls: number[] = []
  const responses = new Map<string, StreamedResponse>()
  const errors: { path: string; body: string }[] = []
  const onPollClosed: (() => void)[] = []
  const invocationTimers = new Set<ReturnType<typeof setTimeout>>()
  let n = 0

  const deliver = (): void => {
    while (queue.length > 0 && waiting.length > 0) {
      const p = queue.shift()!
      const res = waiting.shift()!
      inflight.set(p.id, p)
      res.writeHead(200, {
        'content-type': 'application/json',
        'lambda-runtime-aws-request-id': p.id,
        'lambda-runtime-deadline-ms': String(Date.now() + p.deadlineMs),
        'lambda-runtime-invoked-function-arn': 'arn:aws:lambda:us-east-1:123456789012:function:chat',
      })
      res.end(JSON.stringify(p.event))
    }
  }

  const streamed = (req: IncomingMessage, res: ServerResponse, id: string): void => {
    const p = inflight.get(id)
    const r: StreamedResponse = {
      requestId: id,
      mode: req.headers['lambda-runtime-function-response-mode'] as string | undefined,
      contentType: req.headers['content-type'],
      chunks: [],
      body: () => Buffer.concat(r.chunks.map((c) => c.data)),
      trailers: {},
      endedAt: 0,
      aborted: false,
    }
    responses.set(id, r)
    const finish = (): void => {
      if (r.endedAt !== 0) return
      r.endedAt = Date.now()
      inflight.delete(id)
      p?.done(r)
    }
    req.on('data', (data: Buffer) => {
      r.chunks.push({ at: Date.now(), data })
      if (p?.abortAfterChunks !== undefined && r.chunks.length >= p.abortAfterChunks) {
        // The client went away mid-stream: Lambda breaks off the response.
        r.aborted = true
        req.socket.destroy()
        finish()
      }
    })
    req.on('end', () => {
      r.trailers = { ...(req.trailers as Record<string, string>) }
      res.writeHead(202).end('{"status":"OK"}')
      finish()
    })
    req.on('close', () => {
      if (r.endedAt === 0) r.aborted = true
      finish()
    })
  }

  const server = createServer((req, res) => {
    const url = req.url ?? ''
    if (req.method === 'GET' && url === `${BASE}/invocation/next`) {
      polls.push(Date.now())
      waiting.push(res)
      // A runtime that went away while polling takes no invocation.
      res.on('close', () => {
        const i = waiting.indexOf(res)
        if (i >= 0) waiting.splice(i, 1)
        for (const f of onPollClosed.splice(0)) f()
      })
      deliver()
      return
    }
    const m = /^\/2018-06-01\/runtime\/invocation\/([^/]+)\/response$/.exec(url)
    if (req.method === 'POST' && m !== null) return streamed(req, res, decodeURIComponent(m[1]!))
    // Buffered errors (/invocation/{id}/error, /init/error): recorded for the failure message.
    let body = ''
    req.on('data', (c: Buffer) => (body += c.toString()))
    req.on('end', () => {
      errors.push({ path: url, body })
      res.writeHead(202).end('{"status":"OK"}')
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    address: `127.0.0.1:${port}`,
    polls,
    responses,
    errors,
    async noOpenPolls(timeoutMs = 5_000) {
      const deadline = Date.now() + timeoutMs
      while (waiting.length > 0) {
        const left = deadline - Date.now()
        if (left <= 0)
          throw new Error(`${waiting.length} next-invocation poll(s) still open after ${timeoutMs} ms`)
        await new Promise<void>((resolve) => {
          const closed = (): void => {
            clearTimeout(timer)
            resolve()
          }
          const timer = setTimeout(() => {
            onPollClosed.splice(onPollClosed.indexOf(closed), 1)
            resolve()
          }, left)
          onPollClosed.push(closed)
        })
      }
    },
    invoke(event, options = {}) {
      return new Promise((resolve, reject) => {
        const id = `req-${++n}`
        const timeoutMs = options.timeoutMs ?? 15_000
        const timer = setTimeout(() => {
          invocationTimers.delete(timer)
          const taken = inflight.has(id) || responses.has(id)
          reject(
            new Error(
              `invocation ${id}: no complete response within ${timeoutMs} ms (${taken ? 'taken by a runtime' : 'never taken'})`,
            ),
          )
        }, timeoutMs)
        queue.push({
          id,
          event,
          deadlineMs: options.deadlineMs ?? 30_000,
          abortAfterChunks: options.abortAfterChunks,
          done: (r) => {
            clearTimeout(timer)
            invocationTimers.delete(timer)
            resolve(r)
          },
        })
        invocationTimers.add(timer)
        deliver()
      })
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const t of invocationTimers) clearTimeout(t)
        for (const w of waiting) w.destroy()
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}
