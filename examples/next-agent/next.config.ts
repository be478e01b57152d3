import type { NextConfig } from 'next'

const config: NextConfig = {
  // The test builds a copy of this folder whose node_modules link to the repository's.
  ...(process.env['NEXT_ROOT']
    ? { turbopack: { root: process.env['NEXT_ROOT'] }, outputFileTracingRoot: process.env['NEXT_ROOT'] }
    : {}),
}

export default config
