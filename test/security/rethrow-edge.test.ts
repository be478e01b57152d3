// Thrown values are rethrown untouched by tracehop/vercel inside Vercel's edge-runtime VM.
import { fileURLToPath } from 'node:url'
import { EdgeRuntime } from 'edge-runtime'
import { beforeAll, describe, expect, it } from 'vitest'
import { bundleForEdge } from '../support/edge-script.js'
import { HOSTILE_THROWN } from '../support/hostile-thrown.js'

const FIXTURE = fileURLToPath(new URL('./fixtures/rethrow-edge.ts', import.meta.url))
let runtime: EdgeRuntime

beforeAll(async () => {
  runtime = new EdgeRuntime({ initialCode: await bundleForEdge(FIXTURE) })
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
