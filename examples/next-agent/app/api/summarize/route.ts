// Edge route: a child of the chat route's fetch span.
import { after } from 'next/server'
import { traceOf, withTrace } from 'tracehop/vercel'
import { tracingConfig } from '../../../lib/tracing'

export const runtime = 'edge'

export const POST = withTrace(
  async (request: Request) => {
    const { text } = (await request.json()) as { text: string }
    const summary = traceOf(request).child('summarize', { runType: 'chain' }, () => text.slice(0, 40))
    return Response.json({ summary })
  },
  tracingConfig('next-summarize'),
  { route: '/api/summarize', after },
)
