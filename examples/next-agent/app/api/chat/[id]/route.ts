// Node.js route: plans with the AI SDK (spans through otelTracer), then asks the edge route
// to summarize through the traced fetch.
import { generateText } from 'ai'
import { after } from 'next/server'
import { otelTracer } from 'tracehop/otel'
import { traceOf, withTrace } from 'tracehop/vercel'
import { stubModel } from '../../../../lib/stub-model'
import { appOrigin, tracingConfig } from '../../../../lib/tracing'

export const runtime = 'nodejs'

export const POST = withTrace(
  async (request: Request, context: { params: Promise<{ id: string }> }) => {
    const { id } = await context.params
    const span = traceOf(request)
    const { question } = (await request.json()) as { question: string }
    const plan = await generateText({
      model: stubModel(),
      prompt: question,
      experimental_telemetry: { isEnabled: true, tracer: otelTracer(span), functionId: 'plan' },
    })
    const summary = await span.fetch(`${appOrigin()}/api/summarize`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ text: plan.text }),
    })
    return Response.json({ id, plan: plan.text, summary: await summary.json() })
  },
  tracingConfig('next-chat'),
  { route: '/api/chat/[id]', after },
)
