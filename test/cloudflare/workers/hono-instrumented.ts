// The same Hono app inside instrument(): the middleware reuses the Worker's server span.
import { Hono } from 'hono'
import { instrument } from '../../../adapters/cloudflare/index.js'
import { type TracehopVariables, tracehop } from '../../../adapters/hono/index.js'
import { otlp } from '../../../src/index.js'
import { routes } from './hono-app.js'

interface Env {
  OTLP_URL: string
}

const app = new Hono<{ Bindings: Env; Variables: TracehopVariables }>()
app.use(tracehop())
routes(app)

export default instrument(app, (env: Env) => ({
  service: 'hono-instrumented',
  exporters: [otlp({ url: env.OTLP_URL, encoding: 'json' })],
  log: () => {},
}))
