// Builds and runs the Go programs of test/go (the interop checker and the
// witness) with Debian's golang-go and golang-golang-x-mod-dev, offline.
import { execFileSync, spawnSync } from 'node:child_process'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { ROOT } from './chain'

// CGO_ENABLED=0: the checkers are pure Go, and Go 1.19 (Debian 12) would otherwise want a C compiler
// for net and os/user, which a machine that builds chainlog without its native addon may not have.
const GO_ENV = { GO111MODULE: 'off', GOPATH: '/usr/share/gocode', CGO_ENABLED: '0' }

/** Builds test/go/<name> into a temporary directory; returns the executable's path. */
export function buildGo(name: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `chainlog-go-${name}-`))
  const out = path.join(dir, name)
  execFileSync('go', ['build', '-o', out, '.'], {
    cwd: path.join(ROOT, 'test/go', name),
    env: { ...process.env, ...GO_ENV, GOCACHE: path.join(os.tmpdir(), 'chainlog-go-cache') },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  return out
}

/** Runs the Go checker with one JSON request; returns its JSON answer. */
export function runGoJson<T>(exe: string, request: object): T {
  const r = spawnSync(exe, [], { input: JSON.stringify(request), encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 })
  if (r.status !== 0) throw new Error(`${path.basename(exe)} exited ${r.status}: ${r.stderr}`)
  return JSON.parse(r.stdout) as T
}
