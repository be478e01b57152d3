import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Runtime tests start workerd, edge-runtime and local receivers: two cores, keep it calm.
    maxWorkers: 2,
    minWorkers: 1,
  },
})
