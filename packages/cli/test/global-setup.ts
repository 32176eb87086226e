/**
 * The CLI tests run the built executables, so the build must match the
 * sources: rebuild @chainlog/core and @chainlog/cli when a source file is
 * newer than its output (as `npm test` through turbo does anyway).
 */
import { execFileSync } from 'node:child_process'
import * as fs from 'node:fs'
import * as path from 'node:path'

const ROOT = path.resolve(__dirname, '../../..')

function stale(pkg: string): boolean {
  const src = path.join(ROOT, 'packages', pkg, 'src')
  for (const name of fs.readdirSync(src)) {
    if (!name.endsWith('.ts')) continue
    const out = path.join(ROOT, 'packages', pkg, 'dist', name.replace(/\.ts$/, '.js'))
    if (!fs.existsSync(out) || fs.statSync(out).mtimeMs < fs.statSync(path.join(src, name)).mtimeMs) return true
  }
  return false
}

export default function setup(): void {
  const tsc = path.join(ROOT, 'node_modules/typescript/bin/tsc')
  for (const pkg of ['core', 'cli']) {
    if (!stale(pkg)) continue
    try {
      execFileSync(process.execPath, [tsc, '-p', path.join(ROOT, 'packages', pkg, 'tsconfig.build.json')], { stdio: 'pipe' })
    } catch (err) {
      // Type errors still emit JavaScript; the tests say whether it works.
      const out = String((err as { stdout?: Buffer }).stdout ?? '')
      if (!/error TS/.test(out)) throw err
    }
  }
}
