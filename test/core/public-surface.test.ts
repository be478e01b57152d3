// The public entries export one name per thing and none of the adapters' plumbing
// (docs/design.md "How adapters plug in" and "One vocabulary").
import { describe, expect, it } from 'vitest'
import * as cloudflare from '../../adapters/cloudflare/index.js'
import * as otel from '../../adapters/otel/index.js'
import * as core from '../../src/index.js'

describe('public surface', () => {
  it('tracehop exports one factory per exporter and no plumbing', () => {
    const names = Object.keys(core)
    expect(names).toEqual(expect.arrayContaining(['otlp', 'langsmith', 'consoleExporter', 'memoryExporter']))
    for (const gone of [
      'createOtlpExporter',
      'createLangSmithExporter',
      'createConsoleExporter',
      'createMemoryExporter',
      'bindSpan',
      'findSpan',
      'spanOf',
      'tracedFetch',
    ]) {
      expect(names).not.toContain(gone)
    }
  })

  it('tracehop/cloudflare has traced() for every binding, no tracedWorkflow', () => {
    expect(Object.keys(cloudflare)).toContain('traced')
    expect(Object.keys(cloudflare)).not.toContain('tracedWorkflow')
  })

  it("tracehop/otel's context manager does not take context-async-hooks' class name", () => {
    expect(Object.keys(otel)).toContain('TracehopContextManager')
    expect(Object.keys(otel)).not.toContain('AsyncLocalStorageContextManager')
  })
})
