/**
 * `npx verify-log` and `npx chainlog` work in a project that installs
 * @chainlog/cli (issue #5): pack core and cli with npm, install the tarballs
 * into a fresh project (npm's cache where it can, else the registry: `npm ci` never caches registry metadata, so an install limited to the cache fails on a fresh machine), and run the commands.
 */
import { execFileSync, spawnSync } from 'node:child_process'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'

const ROOT = path.resolve(__dirname, '..')
let work: string
let project: string

const npm = (args: string[], cwd: string) => execFileSync('npm', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })
const npx = (args: string[], cwd: string) => spawnSync('npx', ['--no-install', ...args], { cwd, encoding: 'utf8' })

beforeAll(() => {
  for (const pkg of ['core', 'cli']) execFileSync(process.execPath, [path.join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', path.join(ROOT, 'packages', pkg, 'tsconfig.build.json')])
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'chainlog-pack-'))
  npm(['pack', path.join(ROOT, 'packages/core'), path.join(ROOT, 'packages/cli'), '--pack-destination', work], work)
  project = path.join(work, 'project')
  fs.mkdirSync(project)
  fs.writeFileSync(path.join(project, 'package.json'), JSON.stringify({ name: 'incident-review', private: true }))
  const tarballs = fs.readdirSync(work).filter((f) => f.endsWith('.tgz')).map((f) => path.join(work, f))
  expect(tarballs).toHaveLength(2)
  npm(['install', '--prefer-offline', '--no-audit', '--no-fund', ...tarballs], project)
})

afterAll(() => fs.rmSync(work, { recursive: true, force: true }))

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
    expect(version.stdout).toMatch(/^verify-log \d+\.\d+\.\d+ \(chainlog format 1\)\n$/)
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
