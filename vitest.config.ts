import { defineConfig } from 'vitest/config'

// One project per package plus the cross-package suite in test/. Each
// package's `npm test` runs its own project; the root runs them in turn.
export default defineConfig({
  test: {
    projects: [
      { test: { name: 'core', include: ['packages/core/test/**/*.test.ts'], testTimeout: 60_000 } },
      { test: { name: 'pino', include: ['packages/pino/test/**/*.test.ts'], testTimeout: 60_000 } },
      { test: { name: 'winston', include: ['packages/winston/test/**/*.test.ts'], testTimeout: 60_000 } },
      { test: { name: 'cli', include: ['packages/cli/test/**/*.test.ts'], testTimeout: 60_000, globalSetup: ['packages/cli/test/global-setup.ts'] } },
      { test: { name: 'integration', include: ['test/**/*.test.ts'], testTimeout: 300_000, hookTimeout: 120_000, fileParallelism: false } },
    ],
  },
})
