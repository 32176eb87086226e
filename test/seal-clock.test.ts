// A clock that steps back (#12 C), for real: a pino child process under
// libfaketime (Debian package faketime) whose clock starts just before
// midnight UTC and, once past it, steps 25 s back, as an NTP correction does.
// The sealing state has moved on to the new epoch; the writer must keep
// sealing, and the built verify-log must say VALID, with a notice.
import { spawn } from 'node:child_process'
import * as fs from 'node:fs'
import * as path from 'node:path'
import { expect, test } from 'vitest'
import { generateSealKeys, writeSealKeys } from '@chainlog/core'
import { testDir } from './helpers/chain'
import { isSeal, readChain, sealOf, timeOf, isUser } from './helpers/seal-forge'
import { cli, VERIFY_LOG, verifyJson } from './helpers/seal-writers'

const HOUR = 3_600_000

/** libfaketime's multi-threaded library (pino's transport is a worker thread), wherever Debian put it for this architecture. */
function libfaketime(): string {
  for (const dir of fs.readdirSync('/usr/lib')) {
    const lib = path.join('/usr/lib', dir, 'faketime/libfaketimeMT.so.1')
    if (fs.existsSync(lib)) return lib
  }
  throw new Error('libfaketime is not installed (Debian package faketime)')
}

test('pino under faketime, 25 s back across midnight: no writer error, seals in order, VALID with a CLOCK_BACK notice at the first line after the step', async () => {
  const dir = testDir('chainlog-seal-clock-')
  const real = Date.now()
  const midnight = (Math.floor(real / (24 * HOUR)) + 1) * 24 * HOUR
  // The child's clock starts 2 s before midnight: libfaketime takes an offset from the real clock, in seconds.
  const offset = Math.round((midnight - 2000 - real) / 1000)
  const rc = path.join(dir, 'faketime.rc')
  fs.writeFileSync(rc, `+${offset}\n`)
  const keys = writeSealKeys(path.join(dir, 'keys'), generateSealKeys({ interval: HOUR, epochs: 48, start: midnight - 24 * HOUR }))
  const file = path.join(dir, 'logs', 'app.log')
  const child = spawn(process.execPath, [path.join(__dirname, 'helpers/seal-clock-child.cjs')], {
    env: {
      ...process.env,
      LD_PRELOAD: libfaketime(),
      FAKETIME_TIMESTAMP_FILE: rc,
      FAKETIME_NO_CACHE: '1',
      // Timers keep real time; only the wall clock (Date.now) is faked.
      FAKETIME_DONT_FAKE_MONOTONIC: '1',
      CHAINLOG_CLOCK_CHILD: JSON.stringify({ file, midnight, offset, stepBack: 25, options: { sealKey: keys.sealKey, sealEvery: 10 } }),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let stdout = ''
  let stderr = ''
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d))
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d))
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve))
  expect(stderr).toBe('')
  expect(code).toBe(0)
  expect(stdout).not.toContain('transport-error')
  const [, before, after] = /^stepped (\d+) (\d+)$/m.exec(stdout)!.map(Number)
  expect(before).toBeGreaterThan(midnight)
  expect(after).toBeLessThan(midnight - 20_000)

  const es = readChain(path.dirname(file))
  const seals = es.filter(isSeal).map(sealOf)
  expect(seals.at(-1)!.kind).toBe('close')
  // Epoch 23 before midnight (if pino started by then), 24 after; after the step, seals stay in epoch 24 and never go back in time.
  expect(seals.every((s) => s.epoch === 23 || s.epoch === 24)).toBe(true)
  expect(seals.at(-1)!.epoch).toBe(24)
  for (let i = 1; i < seals.length; i++) expect(seals[i]!.time).toBeGreaterThanOrEqual(seals[i - 1]!.time)
  const firstAfter = es.find((e) => isUser(e) && timeOf(e) < midnight - 20_000)!
  expect(firstAfter.stored).toContain('after the step')

  const { status, report } = await verifyJson(['--verify-key', keys.verifyKey, file])
  expect(report.breaks).toEqual([])
  expect(status).toBe(0)
  const notices = (report.seals as unknown as { notices: { kind: string; file: string; line: number }[] }).notices
  expect(notices).toEqual([expect.objectContaining({ kind: 'CLOCK_BACK', file: firstAfter.file, line: firstAfter.line })])
  const text = await cli(VERIFY_LOG, ['--verify-key', keys.verifyKey, file])
  expect(text.stdout).toMatch(/^VALID: the chain is intact\n/)
  expect(text.stdout).toContain(`  notice     ${firstAfter.file}:${firstAfter.line}: records from here are dated up to 2`)
}, 60_000)
