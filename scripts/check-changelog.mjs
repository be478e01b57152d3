#!/usr/bin/env node
// Keeps CHANGELOG.md honest (run by `npm test`): the version in package.json must have its own
// `## [x.y.z]` heading, and an `## [Unreleased]` section must be there for the next changes.
import { readFileSync } from 'node:fs'

const root = new URL('../', import.meta.url)
const { version } = JSON.parse(readFileSync(new URL('package.json', root), 'utf8'))
const changelog = readFileSync(new URL('CHANGELOG.md', root), 'utf8')
const headings = new Set([...changelog.matchAll(/^## \[([^\]]+)\]/gm)].map((m) => m[1]))

const problems = []
if (!headings.has(version)) problems.push(`package.json version ${version} has no "## [${version}]" heading`)
if (!headings.has('Unreleased')) problems.push('no "## [Unreleased]" heading')
if (problems.length > 0) {
  for (const p of problems) console.error(`CHANGELOG.md: ${p}`)
  process.exit(1)
}
console.log(`CHANGELOG.md: ${version} and Unreleased present`)
