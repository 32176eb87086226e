/**
 * `npm ci` prints no EBADENGINE warning (issue #13): every package in
 * package-lock.json accepts the oldest Node the project's `engines` allows and
 * the Node running this test. Read offline from the lockfile, which records
 * each package's `engines`.
 */
import * as fs from 'node:fs'
import * as path from 'node:path'
import semver from 'semver'
import { describe, expect, test } from 'vitest'

const ROOT = path.resolve(__dirname, '..')
const lock = JSON.parse(fs.readFileSync(path.join(ROOT, 'package-lock.json'), 'utf8')) as {
  packages: Record<string, { version?: string; engines?: Record<string, string> | string[] }>
}
const rootRange = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')).engines.node as string

/** Every package's `engines.node` range that rejects `node`. */
function rejecting(node: string): string[] {
  const out: string[] = []
  for (const [where, pkg] of Object.entries(lock.packages)) {
    // Very old packages wrote engines as an array, which npm ignores.
    const range = pkg.engines && !Array.isArray(pkg.engines) ? pkg.engines.node : undefined
    if (range && !semver.satisfies(node, range)) out.push(`${where || '(root)'}@${pkg.version ?? ''} wants node ${range}`)
  }
  return out
}

describe('package-lock.json and the Node versions the project supports', () => {
  test('the root range is the published packages\' range', () => {
    for (const pkg of ['core', 'pino', 'winston', 'cli']) expect(lock.packages[`packages/${pkg}`].engines).toEqual({ node: rootRange })
  })

  test('every locked package accepts the oldest supported Node', () => {
    const oldest = semver.minVersion(rootRange)!.version
    expect(rejecting(oldest)).toEqual([])
  })

  test('every locked package accepts the Node running the tests', () => {
    expect(semver.satisfies(process.version, rootRange)).toBe(true)
    expect(rejecting(process.version)).toEqual([])
  })
})
