/**
 * `npx verify-log` and `npx chainlog` work in a project that installs
 * @chainlog/cli (issue #5): the packed tarballs installed into a fresh project
 * (test/helpers/packed.ts), and the commands run there.
 */
import { execFileSync, spawnSync } from 'node:child_process'
import * as fs from 'node:fs'
import * as path from 'node:path'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { PUBLISHED, packedProject, type PackedProject } from './helpers/packed'

let packed: PackedProject
let project: string

const npx = (args: string[], cwd: string) => spawnSync('npx', ['--no-install', ...args], { cwd, encoding: 'utf8' })

beforeAll(() => {
  packed = packedProject({ name: 'incident-review' })
  project = packed.project
  expect(Object.keys(packed.tarballs)).toHaveLength(PUBLISHED.length)
}, 300_000)

afterAll(() => packed?.cleanup())

describe('@chainlog/cli installed from its tarball', () => {
  test('npx verify-log finds a tamper, npx chainlog extracts and heads', () => {
    // A chain written with the installed core, then tampered with.
    const script = `
      const { createChainWriter } = require('@chainlog/core')
      ;(async () => {
        const w = await createChainWriter({ file: 'logs/app.log', mkdir: true, size: 2000 })
        for (let i = 0; i < 30; i++) w.write(JSON.stringify({ level: 30, time: 1795000000000 + i, msg: 'line ' + i }))
        await w.close()
      })()
    `
    execFileSync(process.execPath, ['-e', script], { cwd: project })
    const version = npx(['verify-log', '--version'], project)
    expect(version.status).toBe(0)
    expect(version.stdout).toMatch(/^verify-log \d+\.\d+\.\d+ \(chainlog format 1\)\nhash path: (native \(@chainlog\/native, OpenSSL .+\)|js \(crypto\.hash; .+\))\n$/)
    const ok = npx(['verify-log', 'logs'], project)
    expect(ok.status).toBe(0)
    expect(ok.stdout).toMatch(/^VALID: the chain is intact\n/)
    const head = npx(['chainlog', 'head', 'logs/app.log'], project)
    expect(head.status).toBe(0)
    expect(JSON.parse(head.stdout)).toMatchObject({ count: expect.any(Number), hash: expect.stringMatching(/^[0-9a-f]{64}$/) })
    const extract = npx(['chainlog', 'extract', 'logs'], project)
    expect(extract.stdout.split('\n')).toHaveLength(31)
    const file = path.join(project, 'logs/app.2.log')
    fs.writeFileSync(file, fs.readFileSync(file, 'utf8').replace('"line 9"', '"line 99"'))
    const broken = npx(['verify-log', 'logs'], project)
    expect(broken.status).toBe(1)
    expect(broken.stdout).toMatch(/^BROKEN: the chain is broken at logs\/app\.2\.log:\d+ \(HASH_MISMATCH\)\n/)
  })
})
