/**
 * The developer's side of the collector: the waterfall page at `GET /` and its API,
 * `GET /api/traces`, `GET /api/traces/<id>`, `DELETE /api/traces`. Same-origin only: no
 * CORS headers (the collector also refuses Host names other than loopback ones).
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import { HttpError, sendJson } from './http.js'
import type { CollectorLimits } from './limits.js'
import { pageHtml } from './page.js'
import type { TraceStore } from './trace-store.js'
import type { CollectedTrace } from './types.js'

/** A trace summary as `GET /api/traces` lists it. */
export type TraceSummary = Omit<CollectedTrace, 'spans'> & { readonly spanCount: number }

export interface UiRouteDeps {
  readonly store: TraceStore
  /** Bumped on every change, so the page polls cheaply. */
  readonly version: () => number
  /** Shown on the page beside what was evicted. */
  readonly limits: Pick<CollectorLimits, 'maxTraces' | 'maxStoredBytes'>
}

const TRACE_PATH = /^\/api\/traces\/([0-9a-fA-F-]{32,36})$/

export function normalizeTraceId(id: string): string {
  return id.replaceAll('-', '').toLowerCase()
}

function summaryOf(t: CollectedTrace): TraceSummary {
  const { spans, ...rest } = t
  return { ...rest, spanCount: spans.length }
}

/** Answers a page or API route; false when `path` is none of them. */
export function handleUi(
  path: string,
  req: IncomingMessage,
  res: ServerResponse,
  deps: UiRouteDeps,
): boolean {
  const method = req.method ?? 'GET'
  if (path !== '/' && path !== '/index.html' && path !== '/api/traces' && !TRACE_PATH.test(path)) return false
  if (path === '/' || path === '/index.html') {
    if (method !== 'GET' && method !== 'HEAD') throw new HttpError(405, 'use GET')
    res
      .writeHead(200, {
        'content-type': 'text/html; charset=utf-8',
        'cache-control': 'no-store',
        'content-security-policy':
          "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; img-src 'self' data:",
      })
      .end(method === 'HEAD' ? undefined : pageHtml())
    return true
  }
  if (path === '/api/traces') {
    if (method === 'DELETE') {
      deps.store.clear()
      sendJson(res, 200, {})
      return true
    }
    if (method !== 'GET') throw new HttpError(405, 'use GET or DELETE')
    sendJson(res, 200, {
      version: deps.version(),
      traces: deps.store.list().map(summaryOf),
      // The page says when older traces were evicted, and why.
      evicted: deps.store.evicted(),
      limits: { maxTraces: deps.limits.maxTraces, maxStoredBytes: deps.limits.maxStoredBytes },
    })
    return true
  }
  const id = TRACE_PATH.exec(path)![1]!
  if (method !== 'GET') throw new HttpError(405, 'use GET')
  const trace = deps.store.get(normalizeTraceId(id))
  if (trace) sendJson(res, 200, trace)
  else sendJson(res, 404, { detail: `no trace ${id}` })
  return true
}
