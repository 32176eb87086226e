'use strict'
// Builds the addon from source with node-gyp (nothing is downloaded: npm is
// the one that provides node-gyp and Node's headers). Where the build cannot
// run (no compiler, no Python, no headers), installation goes on: this
// package is optional and @chainlog/core falls back to its JS hash path with
// the same results bit for bit (#17).
const { spawnSync } = require('node:child_process')
const path = require('node:path')

const gyp = process.env.npm_config_node_gyp
const [cmd, args] = gyp ? [process.execPath, [gyp, 'rebuild']] : ['node-gyp', ['rebuild']]
const run = spawnSync(cmd, args, { cwd: __dirname, stdio: 'inherit', shell: !gyp && process.platform === 'win32' })
if (run.status !== 0) {
  const why = run.error ? run.error.message : `node-gyp exited with ${run.status ?? run.signal}`
  process.stderr.write(`@chainlog/native was not built (${why}); chainlog uses its JS hash path, with identical results.\n`)
  require('node:fs').rmSync(path.join(__dirname, 'build'), { recursive: true, force: true })
}
