// Next 16's request interceptor (formerly middleware.ts). Its span continues the caller's
// trace; the request goes on to the route with this span's headers, so the route's span
// is its child.
import { after, type NextRequest, NextResponse } from 'next/server'
import { traceOf, withTrace } from 'tracehop/vercel'
import { tracingConfig } from './lib/tracing'

export const proxy = withTrace(
  (request: NextRequest) => {
    const headers = new Headers(request.headers)
    for (const [name, value] of Object.entries(traceOf(request).headers())) headers.set(name, value)
    return NextResponse.next({ request: { headers } })
  },
  tracingConfig('next-proxy'),
  { route: '/api/:path*', after },
)

export const config = { matcher: '/api/:path*' }
