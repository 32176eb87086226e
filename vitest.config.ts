import { defineConfig } from 'vitest/config'

// The suites that hash and check records, run a second time on the JS hash
// path (#17): the default projects take the native path wherever the addon is
// built, so together both paths run the format vectors, the fixtures, the
// tamper and the fuzz tests.
const HASH_SUITES_CORE = ['vectors', 'tamper', 'bitflip', 'truncation', 'verifier', 'write-chunk', 'write-lines', 'hash-path', 'tree', 'shipped-walk', 'queue'].map((f) => `packages/core/test/${f}.test.ts`)
const HASH_SUITES_CLI = ['fuzz', 'parallel', 'shipped'].map((f) => `packages/cli/test/${f}.test.ts`)
const JS_PATH = { CHAINLOG_HASH_PATH: 'js' }

// One project per package plus the cross-package suite in test/. Each
// package's `npm test` runs its own project; the root runs them in turn.
export default defineConfig({
  test: {
    // Two files at a time in every project. Vitest's default in a run is one less than the
    // cores, which on a 2-core machine (CI's) is one file at a time, while most files here
    // wait on child processes, timers and the disk more than they compute.
    maxWorkers: 2,
    projects: [
      { test: { name: 'core', include: ['packages/core/test/**/*.test.ts'], testTimeout: 60_000 } },
      { test: { name: 'core-js', include: HASH_SUITES_CORE, env: JS_PATH, testTimeout: 60_000 } },
      { test: { name: 'pino', include: ['packages/pino/test/**/*.test.ts'], testTimeout: 60_000 } },
      { test: { name: 'winston', include: ['packages/winston/test/**/*.test.ts'], testTimeout: 60_000 } },
      { test: { name: 'cli', include: ['packages/cli/test/**/*.test.ts'], testTimeout: 60_000, globalSetup: ['packages/cli/test/global-setup.ts'] } },
      // The JS path hashes several times slower: its fuzz properties get the time the native ones take less of.
      { test: { name: 'cli-js', include: HASH_SUITES_CLI, env: JS_PATH, testTimeout: 120_000, globalSetup: ['packages/cli/test/global-setup.ts'] } },
      // The cross-package suite: real loggers, child processes, signals, and the programs a user
      // meets (npm, tsc, Go, rsyslog). Its files, like every project's, run two at a time; the packed
      // tarballs are installed once for the run, in the background (test/helpers/packed-setup.ts).
      { test: { name: 'integration', include: ['test/**/*.test.ts'], testTimeout: 300_000, hookTimeout: 300_000, globalSetup: ['test/helpers/packed-setup.ts'] } },
    ],
  },
})
