// The Hono middleware with a signed URL on the way in and on the way out.
import { Hono } from 'hono'
import { type TracehopVariables, tracehop } from '../../../adapters/hono/index.js'
import { callUpstream, redactConfig } from './redact.js'

interface Env {
  OTLP_URL: string
  UPSTREAM: string
}

const app = new Hono<{ Bindings: Env; Variables: TracehopVariables }>()
app.use(tracehop(redactConfig))
app.get('/in', (c) => callUpstream(c.var.span, c.env))
export default app
