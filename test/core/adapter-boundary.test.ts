// Adapters reach the core through two files only: src/index.ts (public) and src/internal.ts
// (the named helpers they share). biome.json's noRestrictedImports enforces it while editing;
// this test states it for the whole tree.
import { readdirSync, readFileSync } from 'node:fs'
import { join, relative } from 'node:path'
import { describe, expect, it } from 'vitest'

const root = new URL('../../', import.meta.url).pathname

function tsFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? tsFiles(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  )
}

describe('the boundary between the core and the adapters', () => {
  it('every adapter imports the core only from src/index.js or src/internal.js', () => {
    const files = tsFiles(join(root, 'adapters'))
    expect(files.length).toBeGreaterThan(20)
    const crossings: string[] = []
    for (const file of files) {
      for (const [, spec] of readFileSync(file, 'utf8').matchAll(/from '((?:\.\.\/)+src\/[^']+)'/g)) {
        if (!/\/src\/(index|internal)\.js$/.test(spec!)) crossings.push(`${relative(root, file)}: ${spec}`)
      }
    }
    expect(crossings).toEqual([])
  })
})
