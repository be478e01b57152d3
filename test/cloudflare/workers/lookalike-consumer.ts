// An instrument()ed queue consumer whose ingress comes from its binding: it reports what its
// handler saw (the body, exactly) and what the tracer believed, to the test's observer.
import { instrument, traceOf } from '../../../adapters/cloudflare/index.js'
import type { Ingress } from '../../../src/index.js'

interface Env {
  readonly INGRESS: Ingress
  readonly OBSERVER_URL: string
}

export default instrument(
  {
    async queue(batch, env: Env) {
      for (const msg of batch.messages) {
        const span = traceOf(msg)
        const scope = span.scope
        await fetch(env.OBSERVER_URL, {
          method: 'POST',
          body: JSON.stringify({
            ingress: env.INGRESS,
            body: msg.body,
            bodyType: msg.body instanceof ArrayBuffer ? 'ArrayBuffer' : typeof msg.body,
            traceId: span.traceId,
            parentSpanId: span.parentSpanId ?? null,
            sampled: scope.sampled,
            baggage: span.context().baggage ?? null,
            invalid: scope.tracer.stats().invalid,
          }),
        })
        msg.ack()
      }
    },
  },
  (env: Env) => ({
    service: `consumer-${env.INGRESS}`,
    sampling: { ratio: 0, keepErrors: false },
    propagation: { ingress: env.INGRESS, baggage: { attributes: ['user.id'] } },
    log: () => {},
  }),
)
