/**
 * The current file cut or emptied under a running application (#12 A3), with
 * the real transports in their own processes: pino in its worker thread and
 * winston. The cut is made the ways it happens: `truncate` back to a record
 * boundary, emptied, and logrotate's `copytruncate` (the real logrotate).
 * Then the built CLI must say BROKEN (exit 1) at the exact file:line, with
 * the reason; and several writers sharing the log are never taken for a cut.
 */
import { spawn, spawnSync } from 'node:child_process'
import fs from 'node:fs'
import * as path from 'node:path'
import { describe, expect, test } from 'vitest'
import { ROOT, runChild, testDir } from './helpers/chain'
import { VERIFY_LOG, verifyJson } from './helpers/seal-writers'

interface Running {
  /** Resolves with the child's stdout once it has ended. */
  finish(): Promise<string>
}

/** Starts test/helpers/cut-child.cjs; resolves once `before` lines are written, with a way to let it log `after` more and end. */
function start(transport: 'pino' | 'winston', file: string, before: number, after: number): Promise<Running> {
  const child = spawn(process.execPath, [path.join(ROOT, 'test/helpers/cut-child.cjs')], {
    env: { ...process.env, CHAINLOG_CHILD: JSON.stringify({ transport, file, before, after }) },
    stdio: ['pipe', 'pipe', 'pipe'],
  })
  let stdout = ''
  let stderr = ''
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d))
  const ended = new Promise<string>((resolve, reject) => {
    child.on('error', reject)
    child.on('close', (code) => (code === 0 ? resolve(stdout) : reject(new Error(`child exited ${code}:\n${stdout}\n${stderr}`))))
  })
  return new Promise((resolve, reject) => {
    ended.catch(reject)
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      stdout += d
      if (!stdout.includes('ready\n')) return
      resolve({
        finish: () => {
          child.stdin.end('go\n')
          return ended
        },
      })
    })
  })
}

/** Byte offset of each line start of `file`, and its end. */
function lineStarts(file: string): number[] {
  const data = fs.readFileSync(file)
  const starts = [0]
  for (let i = data.indexOf(0x0a); i !== -1; i = data.indexOf(0x0a, i + 1)) starts.push(i + 1)
  return starts
}

/** The built verify-log in text: exit status and output. */
function verifyText(args: string[]): { status: number | null; out: string } {
  const r = spawnSync(process.execPath, [VERIFY_LOG, ...args], { encoding: 'utf8' })
  return { status: r.status, out: r.stdout + r.stderr }
}

describe.each(['pino', 'winston'] as const)('%s: the current file cut under the running application', (transport) => {
  test('cut back to a record boundary: exit 1, TRUNCATED at app.1.log:31, and the lines after the cut are in app.2.log', async () => {
    const dir = testDir()
    const base = path.join(dir, 'app.log')
    const app = await start(transport, base, 50, 20)
    const file = path.join(dir, 'app.1.log')
    const starts = lineStarts(file)
    expect(starts.length).toBe(52) // header + 50 lines, and the end
    fs.truncateSync(file, starts[30]) // lines 31-51 gone
    const out = await app.finish()
    expect(out).toMatch(/transport-error FILE_TRUNCATED: .*app\.1\.log was cut while being written: this writer left 51 lines \(\d+ bytes\) in it and found 30/)
    expect(out).toContain(`event truncation {"file":"${file}","expected":{"size":${starts[51]},"lines":51},"found":{"size":${starts[30]},"lines":30},"next":"${path.join(dir, 'app.2.log')}"}`)
    const text = verifyText([base])
    expect(text.status).toBe(1)
    expect(text.out).toContain(`${file}:31`)
    expect(text.out).toMatch(/TRUNCATED/)
    expect(text.out).toMatch(/cut short while a writer was appending to it: the writer had left 51 lines .* found 30 .*line 31 on is not in the chain \(recorded at .*app\.2\.log:2\)/)
    const { status, report } = await verifyJson([dir])
    expect(status).toBe(1)
    expect(report.breaks).toEqual([expect.objectContaining({ file, line: 31, reason: 'TRUNCATED' })])
    // What came after the cut is kept, in the new file.
    expect(fs.readFileSync(path.join(dir, 'app.2.log'), 'utf8')).toContain('"line 69"')
  })

  test('emptied: no new genesis, the empty file is kept, exit 1 with TRUNCATED at app.1.log:1', async () => {
    const dir = testDir()
    const base = path.join(dir, 'app.log')
    const app = await start(transport, base, 40, 5)
    const file = path.join(dir, 'app.1.log')
    fs.truncateSync(file, 0)
    const out = await app.finish()
    expect(out).toMatch(/transport-error FILE_TRUNCATED: /)
    expect(fs.statSync(file).size).toBe(0)
    const header = JSON.parse(fs.readFileSync(path.join(dir, 'app.2.log'), 'utf8').split('\n')[0]!.slice(65, -65).slice(2)) as { index: number; seq: number }
    expect(header).toMatchObject({ index: 1, seq: 41 })
    const text = verifyText([base])
    expect(text.status).toBe(1)
    expect(text.out).toContain(`${file}:1`)
    expect(text.out).toMatch(/TRUNCATED.*\n?.*emptied \(logrotate's copytruncate does this\)/)
  })

  // logrotate is installed by .ci/run (Debian package logrotate).
  test('logrotate --force with copytruncate: the copy and the emptied file are told apart from a clean log, exit 1 at app.1.log:1', async () => {
    const dir = testDir()
    const base = path.join(dir, 'app.log')
    const app = await start(transport, base, 30, 10)
    const file = path.join(dir, 'app.1.log')
    const conf = path.join(dir, 'logrotate.conf')
    fs.writeFileSync(conf, `${path.join(dir, 'app.*.log')} {\n  copytruncate\n  rotate 2\n  missingok\n}\n`, { mode: 0o644 })
    const lr = spawnSync('logrotate', ['--force', '-s', path.join(dir, 'logrotate.state'), conf], { encoding: 'utf8' })
    expect(lr.status, lr.stderr).toBe(0)
    expect(fs.statSync(file).size).toBe(0)
    expect(fs.existsSync(`${file}.1`)).toBe(true) // the copy, under a name that is not the log's
    const out = await app.finish()
    expect(out).toMatch(/transport-error FILE_TRUNCATED: /)
    const { status, report } = await verifyJson([base])
    expect(status).toBe(1)
    expect(report.breaks).toEqual([expect.objectContaining({ file, line: 1, reason: 'TRUNCATED' })])
    expect(report.breaks[0]!.message).toMatch(/the writer had left 31 lines .* found 0 .*emptied \(logrotate's copytruncate does this\)/)
  })
})

describe('several real writers sharing one log are not taken for a cut', () => {
  test('pino workers and winston processes appending and rotating in turn: no FILE_TRUNCATED, exit 0', async () => {
    const dir = testDir()
    const base = path.join(dir, 'app.log')
    const runs = await Promise.all([
      runChild('pino-child.cjs', { file: base, count: 400, scenario: 'flush', options: { size: '8k' } }),
      runChild('pino-child.cjs', { file: base, count: 400, scenario: 'flush', options: { size: '8k' } }),
      runChild('winston-child.cjs', { file: base, count: 400, scenario: 'flush', options: { maxSize: '8k' } }),
    ])
    for (const r of runs) expect(r.stdout + r.stderr).not.toMatch(/FILE_TRUNCATED|transport-error/)
    expect(fs.readdirSync(dir).filter((n) => /^app\.\d+\.log$/.test(n)).length).toBeGreaterThan(5)
    const text = verifyText([base])
    expect(text.out).toMatch(/VALID/)
    expect(text.status).toBe(0)
  })
})
