/**
 * The packed packages type-check in every TypeScript setup a user has (issue
 * #13): `.mts`, `.cts`, a `"type": "module"` project, `moduleResolution:
 * bundler` and `node10` (fixtures in test/types/), and @arethetypeswrong/cli
 * finds no problem in any tarball. The ESM entry points export the same names
 * as the CommonJS ones, so their declarations (esm.d.mts) stay true.
 * test/types/events.ts is checked in every setup.
 */
import { spawnSync } from 'node:child_process'
import * as fs from 'node:fs'
import * as path from 'node:path'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { PUBLISHED, packedProject, ROOT, type PackedProject } from './helpers/packed'

const FIXTURES = path.join(ROOT, 'test/types')
const SETUPS = ['nodenext-cjs', 'nodenext-esm', 'bundler', 'node10']
const TSC = path.join(ROOT, 'node_modules/typescript/bin/tsc')
const ATTW = path.join(ROOT, 'node_modules/@arethetypeswrong/cli/dist/index.js')

let packed: PackedProject

beforeAll(() => {
  packed = packedProject({ name: 'types-user' })
  for (const setup of SETUPS) {
    fs.cpSync(path.join(FIXTURES, setup), path.join(packed.project, setup), { recursive: true })
    // The event maps and the error codes type-check the same in every setup: one file, checked in each.
    fs.copyFileSync(path.join(FIXTURES, 'events.ts'), path.join(packed.project, setup, 'events.ts'))
  }
}, 300_000)

afterAll(() => packed?.cleanup())

describe('TypeScript setups, against the installed tarballs', () => {
  test.each(SETUPS)('%s type-checks', (setup) => {
    const res = spawnSync(process.execPath, [TSC, '-p', '.'], { cwd: path.join(packed.project, setup), encoding: 'utf8' })
    expect(res.stdout + res.stderr).toBe('')
    expect(res.status).toBe(0)
  })

  test('the fixtures are checked: a type error in one fails tsc', () => {
    const dir = path.join(packed.project, 'nodenext-esm-broken')
    fs.cpSync(path.join(FIXTURES, 'nodenext-esm'), dir, { recursive: true })
    fs.appendFileSync(path.join(dir, 'index.ts'), "\nexport const wrong: string = chainlog\n")
    const res = spawnSync(process.execPath, [TSC, '-p', '.'], { cwd: dir, encoding: 'utf8' })
    expect(res.status).not.toBe(0)
    expect(res.stdout).toMatch(/index\.ts\(\d+,\d+\): error TS2322/)
  })

  test.each(['pino', 'winston'])('@chainlog/%s: import and require give the same names', (pkg) => {
    const script = `
      import * as esm from '@chainlog/${pkg}'
      import { createRequire } from 'node:module'
      const cjs = createRequire(process.cwd() + '/')('@chainlog/${pkg}')
      console.log(JSON.stringify({ esm: Object.keys(esm).sort(), cjs: Object.keys(cjs).filter((k) => k !== '__esModule').sort(), same: esm.default === cjs.default }))
    `
    const res = spawnSync(process.execPath, ['--input-type=module', '-e', script], { cwd: packed.project, encoding: 'utf8' })
    expect(res.stderr).toBe('')
    const { esm, cjs, same } = JSON.parse(res.stdout)
    expect(esm).toEqual(cjs)
    expect(same).toBe(true)
  })

  test.each(PUBLISHED)('@chainlog/%s: arethetypeswrong finds no problem (node10, node16 CJS and ESM, bundler)', (pkg) => {
    const res = spawnSync(process.execPath, [ATTW, '--format', 'json', packed.tarballs[pkg]], { cwd: packed.work, encoding: 'utf8' })
    const out = JSON.parse(res.stdout) as { analysis: { entrypoints: Record<string, { resolutions: Record<string, unknown> }> }; problems: unknown }
    expect(out.problems).toEqual({})
    expect(Object.keys(out.analysis.entrypoints['.'].resolutions).sort()).toEqual(['bundler', 'node10', 'node16-cjs', 'node16-esm'])
    expect(res.status).toBe(0)
  })
})
