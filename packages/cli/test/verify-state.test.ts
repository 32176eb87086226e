/**
 * `verify-log --state` (#15 part 4), through the built executable, in the
 * loop a cron job runs: write, verify, write, tamper with what an earlier
 * run verified, verify again. Rotation, retention and compression happen
 * between runs; a garbage or foreign state file is a usage failure (2).
 */
import * as fs from 'node:fs'
import * as path from 'node:path'
import { describe, expect, test } from 'vitest'
import { createChainWriter, type ChainWriterOptions } from '@chainlog/core'
import { editAndRehash, editLine, json, logFiles, pinoLine, tmpDir, verifyLog } from './helpers'

interface StateJson {
  ok: boolean
  status: string
  records: number
  files: string[]
  count: number
  breaks: { file: string; line: number; reason: string; message: string }[]
  state: { first: boolean; unchanged: number; saved: boolean }
}

/** Appends `n` lines to the log in `dir` (a new writer each time, as a restarted service). */
async function write(dir: string, from: number, n: number, options: Partial<ChainWriterOptions> = {}): Promise<void> {
  const w = await createChainWriter({ file: path.join(dir, 'app.log'), size: 4000, ...options })
  for (let i = from; i < from + n; i++) w.write(pinoLine(i))
  await w.close()
}

async function run(dir: string, state: string): Promise<{ status: number | null; report: StateJson }> {
  const r = await verifyLog(['--json', '--state', state, path.join(dir, 'app.log')])
  return { status: r.status, report: json<StateJson>(r) }
}

describe('verify-log --state', () => {
  test('the loop: each run verifies only what is new, and tampering with a file verified before is caught at its line', async () => {
    const dir = tmpDir()
    const state = path.join(dir, 'verify.state')
    await write(dir, 0, 100)
    const first = await run(dir, state)
    expect(first.status).toBe(0)
    expect(first.report.state).toEqual({ path: state, first: true, unchanged: 0, saved: true })
    const filesBefore = logFiles(dir).length
    expect(filesBefore).toBeGreaterThan(3)
    expect(first.report.count).toBe(100 + filesBefore)

    await write(dir, 100, 30)
    const second = await run(dir, state)
    expect(second.status).toBe(0)
    // Closed files re-checked by digest, not verified: the report verifies the open file on.
    expect(second.report.state.unchanged).toBe(filesBefore - 1)
    expect(second.report.files[0]).toBe(logFiles(dir)[filesBefore - 1])
    expect(second.report.count).toBe(130 + logFiles(dir).length)
    expect(second.report.records).toBeLessThan(60)

    // Tamper with line 3 of the first file (verified twice already), re-hashing it so the record matches itself.
    const victim = logFiles(dir)[0]!
    editAndRehash(victim, 3, (s) => s.replace('request 1 served', 'request 1 denied'))
    const third = await run(dir, state)
    expect(third.status).toBe(1)
    expect(third.report.status).toBe('BROKEN')
    expect(third.report.breaks[0]).toMatchObject({ file: victim, line: 4, reason: 'FILE_CHANGED' })
    expect(third.report.state.saved).toBe(false)
    // Not forgotten: the next run reports it again.
    expect((await run(dir, state)).report.breaks[0]).toMatchObject({ file: victim, reason: 'FILE_CHANGED' })
  }, 60_000)

  test('an edit of the open file inside the part verified before is caught; so is a closed file cut short', async () => {
    const dir = tmpDir()
    const state = path.join(dir, 'verify.state')
    await write(dir, 0, 60, { size: 1 << 20 })
    expect((await run(dir, state)).status).toBe(0)
    const [only] = logFiles(dir)
    editLine(only!, 10, (s) => s.replace('request 8', 'request 9'))
    await write(dir, 60, 5, { size: 1 << 20 })
    const r = await run(dir, state)
    expect(r.status).toBe(1)
    expect(r.report.breaks[0]).toMatchObject({ file: only, line: 10, reason: 'FILE_CHANGED' })

    const dir2 = tmpDir()
    const state2 = path.join(dir2, 'verify.state')
    await write(dir2, 0, 100)
    expect((await run(dir2, state2)).status).toBe(0)
    const closed = logFiles(dir2)[1]!
    const lines = fs.readFileSync(closed, 'utf8').split('\n').length - 1
    // Cut after a whole line: the file alone still verifies, only the digest tells.
    const text = fs.readFileSync(closed, 'utf8')
    fs.writeFileSync(closed, text.split('\n').slice(0, 5).join('\n') + '\n')
    const cut = await run(dir2, state2)
    expect(cut.status).toBe(1)
    expect(cut.report.breaks[0]).toMatchObject({ file: closed, line: 6, reason: 'FILE_CHANGED' })
    expect(cut.report.breaks[0]!.message).toContain(`truncated since it was verified: 5 of its ${lines} lines are left`)
  }, 60_000)

  test('a closed file removed without a retention record is MISSING_FILE; one removed by retention is not a break', async () => {
    const dir = tmpDir()
    const state = path.join(dir, 'verify.state')
    await write(dir, 0, 100)
    expect((await run(dir, state)).status).toBe(0)
    const second = logFiles(dir)[1]!
    fs.rmSync(second)
    const r = await run(dir, state)
    expect(r.status).toBe(1)
    expect(r.report.breaks[0]).toMatchObject({ file: path.basename(second), reason: 'MISSING_FILE' })

    const kept = tmpDir()
    const keptState = path.join(kept, 'verify.state')
    await write(kept, 0, 60)
    expect((await run(kept, keptState)).status).toBe(0)
    const before = logFiles(kept).length
    // Rotation with retention between runs: the oldest files go, and the chain records each deletion.
    await write(kept, 60, 100, { limit: { count: 2 } })
    const after = await run(kept, keptState)
    expect(logFiles(kept).length).toBe(3)
    expect(after.report.breaks).toEqual([])
    expect(after.status).toBe(0)
    expect(before).toBeGreaterThan(3)
    // And the state no longer lists them: the next run is clean too.
    expect((await run(kept, keptState)).status).toBe(0)
  }, 60_000)

  test('files compressed between runs are recognised by their content; tampering inside a .gz is caught', async () => {
    const dir = tmpDir()
    const state = path.join(dir, 'verify.state')
    await write(dir, 0, 80)
    expect((await run(dir, state)).status).toBe(0)
    await write(dir, 80, 80, { compress: true })
    const r = await run(dir, state)
    expect(logFiles(dir).some((f) => f.endsWith('.gz'))).toBe(true)
    expect(r.report.breaks).toEqual([])
    expect(r.status).toBe(0)
    expect(r.report.state.unchanged).toBeGreaterThan(2)
    expect((await run(dir, state)).status).toBe(0)
    // Replace a verified archive with one holding an edited line.
    const gz = logFiles(dir).find((f) => f.endsWith('.gz'))!
    const { gunzipSync, gzipSync } = await import('node:zlib')
    const text = gunzipSync(fs.readFileSync(gz)).toString()
    fs.writeFileSync(gz, gzipSync(text.replace('request 2 served', 'request 2 ignored')))
    const t = await run(dir, state)
    expect(t.status).toBe(1)
    expect(t.report.breaks[0]).toMatchObject({ file: gz, reason: 'FILE_CHANGED' })
  }, 60_000)

  test.each([
    ['garbage', 'not json at all', /^verify-log: .* is not a verify-log state file \(not JSON\)/],
    ['another JSON file', '{"hello":1}', /is not a verify-log state file \(no "chainlog": "verify-state"\)/],
    ['a later version', '{"chainlog":"verify-state","v":7}', /version 7; this verify-log reads version 1/],
  ])('a state file that is %s: exit 2 with a clear error, and the file is left as it was', async (_name, content, message) => {
    const dir = tmpDir()
    await write(dir, 0, 20)
    const state = path.join(dir, 'verify.state')
    fs.writeFileSync(state, content)
    const r = await verifyLog(['--state', state, path.join(dir, 'app.log')])
    expect(r.status).toBe(2)
    expect(r.stderr).toMatch(message)
    expect(r.stderr).not.toMatch(/\n\s+at /)
    expect(fs.readFileSync(state, 'utf8')).toBe(content)
  })

  test("another chain's state: exit 2, naming both chains", async () => {
    const a = tmpDir()
    const b = tmpDir()
    await write(a, 0, 20)
    await write(b, 0, 20)
    const state = path.join(a, 'verify.state')
    expect((await run(a, state)).status).toBe(0)
    const r = await verifyLog(['--state', state, path.join(b, 'app.log')])
    expect(r.status).toBe(2)
    expect(r.stderr).toMatch(/^verify-log: .* is the state of chain [0-9a-f]{32}, but .* holds chain [0-9a-f]{32}; give each chain its own state file/)
  })

  test('stdin is refused beside --state (exit 2): it cannot be re-checked next time', async () => {
    const dir = tmpDir()
    await write(dir, 0, 5)
    const r = await verifyLog(['--state', path.join(dir, 's'), '-'])
    expect(r.status).toBe(2)
    expect(r.stderr).toMatch(/--state needs the log files/)
  })
})
