/**
 * The exporters' transport on Lambda: one request through `node:http`/`node:https`, shaped
 * as the part of `fetch` the exporters use. Node loads its `fetch` (undici) lazily, on the
 * first call: ~30 ms of CPU that a cold start would pay for its first export. Anything this
 * transport does not cover the way `fetch` does (a body that is not a string or bytes, a
 * redirect to follow) is handed to the platform `fetch`, so the outcome is the same.
 */
import type { FetchLike } from '../../src/internal.js'

/** What the exporters read from a response: `fetch`'s `Response`, minus the undici object. */
interface NodeResponse {
  readonly ok: boolean
  readonly status: number
  readonly statusText: string
  readonly headers: { get(name: string): string | null }
  arrayBuffer(): Promise<ArrayBuffer>
  text(): Promise<string>
}

interface IncomingLike {
  readonly statusCode?: number
  readonly statusMessage?: string
  readonly headers: Record<string, string | string[] | undefined>
  on(event: 'data', listener: (chunk: Uint8Array) => void): unknown
  on(event: 'end' | 'aborted', listener: () => void): unknown
  on(event: 'error', listener: (err: Error) => void): unknown
  destroy(err?: Error): unknown
}

interface RequestLike {
  on(event: 'error', listener: (err: Error) => void): unknown
  on(event: 'response', listener: (res: IncomingLike) => void): unknown
  end(body?: string | Uint8Array): unknown
  destroy(err?: Error): unknown
}

type RequestFn = (url: URL, options: { method: string; headers: Record<string, string> }) => RequestLike

interface ZlibLike {
  gunzipSync(b: Uint8Array): Uint8Array
  inflateSync(b: Uint8Array): Uint8Array
  brotliDecompressSync(b: Uint8Array): Uint8Array
}

// `node:` modules are imported when first needed: nothing is loaded by importing tracehop/lambda.
const load = (name: string): Promise<unknown> => import(/* @vite-ignore */ name)
let http: Promise<RequestFn> | undefined
let https: Promise<RequestFn> | undefined
const requestOf = (m: unknown): RequestFn => (m as { request: RequestFn }).request

function abortError(signal: AbortSignal): Error {
  const reason = signal.reason
  if (reason instanceof Error) return reason
  const err = new Error('This operation was aborted')
  err.name = 'AbortError'
  return err
}

/** A plain record of the request headers, whatever `HeadersInit` form they came in. */
function headerRecord(init: RequestInit['headers']): Record<string, string> {
  const out: Record<string, string> = {}
  if (!init) return out
  const add = (name: string, value: string): void => {
    const key = name.toLowerCase()
    out[key] = key in out ? `${out[key]}, ${value}` : value
  }
  if (Array.isArray(init)) for (const [k, v] of init) add(k!, v!)
  else if (typeof (init as Headers).forEach === 'function') {
    ;(init as Headers).forEach((v, k) => {
      add(k, v)
    })
  } else for (const [k, v] of Object.entries(init)) add(k, String(v))
  return out
}

async function decoded(body: Uint8Array, encoding: string | undefined): Promise<Uint8Array> {
  const e = encoding?.trim().toLowerCase()
  if (!e || e === 'identity' || body.length === 0) return body
  const zlib = (await load('node:zlib')) as ZlibLike
  if (e === 'gzip' || e === 'x-gzip') return zlib.gunzipSync(body)
  if (e === 'deflate') return zlib.inflateSync(body)
  if (e === 'br') return zlib.brotliDecompressSync(body)
  return body
}

function responseOf(res: IncomingLike, body: Promise<Uint8Array>): NodeResponse {
  const status = res.statusCode ?? 0
  const buffer = async (): Promise<ArrayBuffer> => {
    const b = await decoded(await body, headerOf(res, 'content-encoding') ?? undefined)
    return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer
  }
  return {
    ok: status >= 200 && status < 300,
    status,
    statusText: res.statusMessage ?? '',
    headers: { get: (name) => headerOf(res, name) },
    arrayBuffer: buffer,
    text: async () => new TextDecoder().decode(await buffer()),
  }
}

function headerOf(res: IncomingLike, name: string): string | null {
  const v = res.headers[name.toLowerCase()]
  return v === undefined ? null : Array.isArray(v) ? v.join(', ') : v
}

/**
 * Sends one request with `node:http`/`node:https` and resolves with a `fetch`-shaped
 * response (status, headers, body). Honours `init.signal`. A redirect, or a body that is
 * not a string or bytes, goes through the platform `fetch` instead.
 *
 * @example
 * const res = await nodeHttpFetch('http://127.0.0.1:4318/v1/traces', { method: 'POST', headers, body })
 */
export const nodeHttpFetch: FetchLike = async (input, init) => {
  const body = init.body ?? undefined
  if (body !== undefined && typeof body !== 'string' && !(body instanceof Uint8Array))
    return fetch(input, init)
  const url = new URL(input)
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return fetch(input, init)
  const signal = init.signal ?? undefined
  if (signal?.aborted) throw abortError(signal)
  const request =
    url.protocol === 'https:'
      ? await (https ??= load('node:https').then(requestOf))
      : await (http ??= load('node:http').then(requestOf))
  const headers = headerRecord(init.headers)
  if (body !== undefined) {
    headers['content-length'] = String(
      typeof body === 'string' ? new TextEncoder().encode(body).length : body.length,
    )
  }
  const res = await new Promise<IncomingLike>((resolve, reject) => {
    const req = request(url, { method: (init.method ?? 'GET').toUpperCase(), headers })
    const onAbort = (): void => {
      req.destroy(abortError(signal!))
    }
    signal?.addEventListener('abort', onAbort, { once: true })
    req.on('error', (err) => {
      signal?.removeEventListener('abort', onAbort)
      reject(err)
    })
    req.on('response', (r) => {
      signal?.removeEventListener('abort', onAbort)
      resolve(r)
    })
    req.end(body)
  })
  const status = res.statusCode ?? 0
  if (status >= 300 && status < 400 && headerOf(res, 'location') !== null && init.redirect !== 'manual') {
    res.destroy()
    return fetch(input, init)
  }
  const chunks: Uint8Array[] = []
  const bodyRead = new Promise<Uint8Array>((resolve, reject) => {
    const onAbort = (): void => {
      res.destroy(abortError(signal!))
    }
    if (signal?.aborted) onAbort()
    signal?.addEventListener('abort', onAbort, { once: true })
    const done = (err?: Error): void => {
      signal?.removeEventListener('abort', onAbort)
      if (err) reject(err)
      else {
        let size = 0
        for (const c of chunks) size += c.length
        const out = new Uint8Array(size)
        let at = 0
        for (const c of chunks) {
          out.set(c, at)
          at += c.length
        }
        resolve(out)
      }
    }
    res.on('data', (c) => chunks.push(c))
    res.on('end', () => done())
    res.on('error', (err) => done(err))
    res.on('aborted', () => done(new Error('the response was cut short')))
  })
  bodyRead.catch(() => {})
  return responseOf(res, bodyRead) as unknown as Response
}
