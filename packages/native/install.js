'use strict'
// Builds the addon from source with node-gyp, against the headers of the Node
// that runs the install. Nothing is downloaded: where those headers are not
// on this machine, the build is not attempted (node-gyp would fetch them).
// Where the build cannot run (no compiler, no Python, no headers),
// installation goes on: this package is optional, and @chainlog/core falls
// back to its JS hash path with the same results bit for bit (#17).
const { spawnSync } = require('node:child_process')
const fs = require('node:fs')
const path = require('node:path')

/** A Node installation prefix holding Node's own headers (include/node), or null. */
function nodeDir() {
  const configured = process.env.npm_config_nodedir
  if (configured) return configured
  const prefix = path.resolve(path.dirname(process.execPath), '..')
  return fs.existsSync(path.join(prefix, 'include', 'node', 'node_api.h')) ? prefix : null
}

function skip(why) {
  process.stderr.write(`@chainlog/native was not built (${why}); chainlog uses its JS hash path, with identical results.\n`)
  fs.rmSync(path.join(__dirname, 'build'), { recursive: true, force: true })
}

const dir = nodeDir()
if (dir === null) skip(`no Node headers next to ${process.execPath}, and npm's nodedir is not set`)
else {
  // npm names its own node-gyp; outside npm (`node install.js`), the one npm
  // carries beside this Node, else one on PATH.
  const bundled = path.resolve(path.dirname(process.execPath), '../lib/node_modules/npm/node_modules/node-gyp/bin/node-gyp.js')
  const gyp = process.env.npm_config_node_gyp || (fs.existsSync(bundled) ? bundled : null)
  const args = ['rebuild', `--nodedir=${dir}`]
  const run = gyp ? spawnSync(process.execPath, [gyp, ...args], { cwd: __dirname, stdio: 'inherit' }) : spawnSync('node-gyp', args, { cwd: __dirname, stdio: 'inherit', shell: process.platform === 'win32' })
  if (run.status !== 0) skip(run.error ? run.error.message : `node-gyp exited with ${run.status ?? run.signal}`)
}
