/**
 * The progress bar: on stderr when it is a terminal (here a pseudo-terminal
 * made by script(1)), never on a pipe, never with --json or --quiet.
 */
import { spawnSync } from 'node:child_process'
import * as fs from 'node:fs'
import * as path from 'node:path'
import { describe, expect, test } from 'vitest'
import { pinoLine, tmpDir, verifyLog, VERIFY_LOG, writeChain } from './helpers'

const hasScript = spawnSync('script', ['--version']).status === 0

/** Runs verify-log with stderr on a pseudo-terminal; stdout goes to a file. Returns what the terminal showed. */
function onTerminal(args: string[], dir: string): { terminal: string; stdout: string; status: number | null } {
  const out = path.join(dir, 'stdout.txt')
  const cmd = [process.execPath, VERIFY_LOG, ...args].map((a) => `'${a}'`).join(' ') + ` > '${out}'`
  const r = spawnSync('script', ['-qefc', cmd, '/dev/null'], { encoding: 'utf8', env: { ...process.env, COLUMNS: '120', TERM: 'xterm' } })
  return { terminal: r.stdout, stdout: fs.readFileSync(out, 'utf8'), status: r.status }
}

describe.skipIf(!hasScript)('progress bar', () => {
  test('on a terminal: bytes done of the total, rate and ETA; the report still on stdout', async () => {
    const dir = tmpDir()
    await writeChain(path.join(dir, 'logs'), Array.from({ length: 2000 }, (_, i) => pinoLine(i)), { mkdir: true, size: 100_000 })
    const r = onTerminal(['--progress', path.join(dir, 'logs')], dir)
    expect(r.status).toBe(0)
    expect(r.stdout).toMatch(/^VALID/)
    expect(r.terminal).toMatch(/\d+% \| [\d.]+ (B|KiB|MiB) of [\d.]+ KiB \| .* \| ETA /)
  })

  test('not for a small input unless asked, and never with --json, --quiet or --no-progress', async () => {
    const dir = tmpDir()
    await writeChain(path.join(dir, 'logs'), [pinoLine(0)], { mkdir: true })
    const logs = path.join(dir, 'logs')
    for (const args of [[logs], ['--progress', '--json', logs], ['--progress', '--quiet', logs], ['--no-progress', logs]]) {
      const r = onTerminal(args, dir)
      expect(r.status).toBe(0)
      expect(r.terminal).not.toContain('ETA')
    }
  })

  test('never on a pipe', async () => {
    const dir = tmpDir()
    await writeChain(dir, [pinoLine(0)])
    const r = await verifyLog(['--progress', dir])
    expect(r.status).toBe(0)
    expect(r.stderr).toBe('')
  })
})
