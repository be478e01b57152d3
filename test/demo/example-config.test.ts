/**
 * How the examples the demo runs read their environment (examples/orchestrator-edge,
 * examples/retrieval-lambda): SAMPLING_RATIO, the LangSmith exporter, fault injection, and
 * that importing the retrieval handler module builds no tracer.
 */
import fc from 'fast-check'
import { afterEach, describe, expect, it, vi } from 'vitest'
import {
  configFromEnv as orchestratorConfig,
  tracerConfig,
} from '../../examples/orchestrator-edge/orchestrator.js'
import { configFromEnv as retrievalConfig } from '../../examples/retrieval-lambda/handler.js'
import { TracehopError } from '../../src/index.js'

const TOOLS = { RETRIEVAL_URL: 'http://127.0.0.1:1/retrieve', ENQUEUE_URL: 'http://127.0.0.1:2/jobs' }

/** The sampling ratio and exporter count each example derives from `env`. */
const examples = {
  orchestrator(env: Record<string, string | undefined>): { ratio: number | undefined; exporters: number } {
    const t = tracerConfig(orchestratorConfig({ ...TOOLS, ...env }))
    return { ratio: t.sampling?.ratio, exporters: t.exporters?.length ?? 0 }
  },
  retrieval(env: Record<string, string | undefined>): { ratio: number | undefined; exporters: number } {
    const c = retrievalConfig(env)
    return { ratio: c.sampling?.ratio, exporters: c.exporters?.length ?? 0 }
  },
}

describe('examples read SAMPLING_RATIO and the LangSmith exporter from their environment', () => {
  for (const [name, read] of Object.entries(examples)) {
    it(`${name}: SAMPLING_RATIO unset or empty means 1 (tracehop's default), not 0`, () => {
      expect(read({}).ratio).toBe(1)
      expect(read({ SAMPLING_RATIO: '' }).ratio).toBe(1)
      expect(read({ SAMPLING_RATIO: '  ' }).ratio).toBe(1)
    })

    it(`${name}: SAMPLING_RATIO within [0, 1] is the head-sampling ratio`, () => {
      expect(read({ SAMPLING_RATIO: '0.1' }).ratio).toBe(0.1)
      expect(read({ SAMPLING_RATIO: '0' }).ratio).toBe(0)
      expect(read({ SAMPLING_RATIO: '1' }).ratio).toBe(1)
    })

    it(`${name}: any other SAMPLING_RATIO is a TracehopError naming the variable`, () => {
      for (const bad of ['abc', '1.5', '-0.1', 'NaN', '10%']) {
        expect(() => read({ SAMPLING_RATIO: bad }), bad).toThrow(TracehopError)
        expect(() => read({ SAMPLING_RATIO: bad }), bad).toThrow(/SAMPLING_RATIO/)
      }
      fc.assert(
        fc.property(fc.string(), (value) => {
          try {
            const ratio = read({ SAMPLING_RATIO: value }).ratio!
            return ratio >= 0 && ratio <= 1
          } catch (e) {
            return e instanceof TracehopError
          }
        }),
      )
    })

    it(`${name}: a LangSmith exporter with LANGSMITH_ENDPOINT or LANGSMITH_API_KEY, none without`, () => {
      const otlp = { OTLP_URL: 'http://127.0.0.1:4318/v1/traces' }
      expect(read(otlp).exporters).toBe(1)
      expect(read({ ...otlp, LANGSMITH_ENDPOINT: 'http://127.0.0.1:4318' }).exporters).toBe(2)
      expect(read({ ...otlp, LANGSMITH_API_KEY: 'lsv2-key' }).exporters).toBe(2)
      expect(read({ ...otlp, LANGSMITH_ENDPOINT: '', LANGSMITH_API_KEY: '' }).exporters).toBe(1)
    })
  }

  it('orchestrator: fault injection only with FAULT_INJECTION=1 or true', () => {
    expect(orchestratorConfig(TOOLS).faultInjection).toBeUndefined()
    expect(orchestratorConfig({ ...TOOLS, FAULT_INJECTION: '0' }).faultInjection).toBeUndefined()
    expect(orchestratorConfig({ ...TOOLS, FAULT_INJECTION: '1' }).faultInjection).toBe(true)
    expect(orchestratorConfig({ ...TOOLS, FAULT_INJECTION: 'true' }).faultInjection).toBe(true)
  })
})

describe('examples/retrieval-lambda handler module', () => {
  const saved = process.env['SAMPLING_RATIO']
  afterEach(() => {
    if (saved === undefined) delete process.env['SAMPLING_RATIO']
    else process.env['SAMPLING_RATIO'] = saved
  })

  it('builds its tracer on the first invocation, not at import: a bad environment fails the invocation, not the import', async () => {
    process.env['SAMPLING_RATIO'] = 'not a ratio'
    // A fresh module instance, evaluated with the bad environment in place.
    vi.resetModules()
    const mod = await import('../../examples/retrieval-lambda/handler.js')
    expect(typeof mod.handler).toBe('function')
    expect(() => mod.handler({ query: 'v2' }, {})).toThrow(/SAMPLING_RATIO/)
  })
})
