// One tracer configuration for the proxy and both routes. Each runtime (Node, Edge) bundles
// its own copy, so each gets its own tracer; the trace is stitched by the headers.
import { otlp, type TracerConfig } from 'tracehop'

/** The app's own origin: the chat route calls the summarize route through it. */
export function appOrigin(): string {
  return process.env['APP_ORIGIN'] ?? 'http://127.0.0.1:3000'
}

export function tracingConfig(service: string): TracerConfig {
  return {
    service,
    exporters: [
      otlp({
        url: process.env['OTLP_URL'] ?? 'http://127.0.0.1:4318/v1/traces',
        // `tracehop dev` and every collector read both; JSON is easy to inspect.
        encoding: process.env['OTLP_ENCODING'] === 'json' ? 'json' : 'protobuf',
      }),
    ],
    propagation: {
      // Same app, other routes: they may receive trace headers and identity baggage.
      allow: [appOrigin()],
    },
  }
}
