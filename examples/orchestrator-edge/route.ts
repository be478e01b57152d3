/**
 * The same orchestrator as a Next.js App Router route (`app/api/agent/route.ts`) on the
 * Edge runtime: `withTrace` finds `waitUntil` through Vercel's request context.
 */
import { configFromEnv, createOrchestrator } from './orchestrator.js'

export const runtime = 'edge'

export const POST: (request: Request) => Promise<Response> = createOrchestrator(configFromEnv(process.env))
