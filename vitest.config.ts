import { defineConfig } from 'vitest/config'

// The suites that hash and check records, run a second time on the JS hash
// path (#17): the default projects take the native path wherever the addon is
// built, so together both paths run the format vectors, the fixtures, the
// tamper and the fuzz tests.
const HASH_SUITES_CORE = ['vectors', 'tamper', 'bitflip', 'truncation', 'verifier', 'write-chunk', 'write-lines', 'hash-path', 'tree'].map((f) => `packages/core/test/${f}.test.ts`)
const HASH_SUITES_CLI = ['fuzz', 'parallel'].map((f) => `packages/cli/test/${f}.test.ts`)
const JS_PATH = { CHAINLOG_HASH_PATH: 'js' }
const PACKAGING = ['types', 'readme-snippets', 'cli-pack', 'package-contents', 'lockfile-engines', 'examples', 'checkpoints', 'witness', 'tree-interop', 'shipped-rsyslog', 'migration', 'header-matrix', 'conformance/conformance'].map((f) => `test/${f}.test.ts`)

// One project per package plus the cross-package suite in test/. Each
// package's `npm test` runs its own project; the root runs them in turn.
export default defineConfig({
  test: {
    projects: [
      { test: { name: 'core', include: ['packages/core/test/**/*.test.ts'], testTimeout: 60_000 } },
      { test: { name: 'core-js', include: HASH_SUITES_CORE, env: JS_PATH, testTimeout: 60_000 } },
      { test: { name: 'pino', include: ['packages/pino/test/**/*.test.ts'], testTimeout: 60_000 } },
      { test: { name: 'winston', include: ['packages/winston/test/**/*.test.ts'], testTimeout: 60_000 } },
      { test: { name: 'cli', include: ['packages/cli/test/**/*.test.ts'], testTimeout: 60_000, globalSetup: ['packages/cli/test/global-setup.ts'] } },
      // The JS path hashes several times slower: its fuzz properties get the time the native ones take less of.
      { test: { name: 'cli-js', include: HASH_SUITES_CLI, env: JS_PATH, testTimeout: 120_000, globalSetup: ['packages/cli/test/global-setup.ts'] } },
      // The cross-package suite, in two lanes that run side by side, each one file at a time:
      // the files that time writers, signals, locks and seals, and those that pack, install,
      // compile or drive other programs (npm, tsc, Go, rsyslog), which mostly wait on them.
      { test: { name: 'integration', include: ['test/**/*.test.ts'], exclude: PACKAGING, testTimeout: 300_000, hookTimeout: 120_000, fileParallelism: false } },
      { test: { name: 'integration-tools', include: PACKAGING, testTimeout: 300_000, hookTimeout: 120_000, fileParallelism: false } },
    ],
  },
})
