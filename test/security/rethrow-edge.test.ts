// Thrown values are rethrown untouched by tracehop/vercel inside Vercel's edge-runtime VM.
import { fileURLToPath } from 'node:url'
import { EdgeRuntime } from 'edge-runtime'
import { build } from 'esbuild'
import { beforeAll, describe, expect, it } from 'vitest'
import { HOSTILE_THROWN } from '../support/hostile-thrown.js'

const FIXTURE = fileURLToPath(new URL('./fixtures/rethrow-edge.ts', import.meta.url))
let runtime: EdgeRuntime

beforeAll(async () => {
  const result = await build({
    entryPoints: [FIXTURE],
    bundle: true,
    format: 'iife',
    platform: 'browser',
    target: 'es2022',
    write: false,
    logLevel: 'silent',
  })
  runtime = new EdgeRuntime({ initialCode: result.outputFiles[0]!.text })
}, 60_000)

const KINDS = Object.keys(HOSTILE_THROWN)

describe('thrown values are rethrown untouched (edge-runtime, tracehop/vercel)', () => {
  it.each(KINDS)('%s', async (kind) => {
    const json = await runtime.evaluate<Promise<string>>(`__checkRethrow(${JSON.stringify(kind)})`)
    const { sites } = JSON.parse(json) as { sites: Record<string, boolean> }
    expect(Object.keys(sites).length).toBe(3)
    for (const [site, same] of Object.entries(sites)) expect({ site, same }).toEqual({ site, same: true })
  })
})
