/**
 * chainlog extract: the original lines back, in chain order, for jq and
 * pino-pretty; a broken chain refused, or with --force printed with each break
 * marked on stderr.
 */
import * as fs from 'node:fs'
import * as path from 'node:path'
import { describe, expect, test } from 'vitest'
import { CHAINLOG, chainlog, editLine, insertForged, oneLineError, pinoLine, ROOT, sh, tmpDir, writeChain } from './helpers'

/** Lines that need the escape (FORMAT.md §3) next to plain pino lines. */
const TRICKY = [
  'Error: boom\n    at main (app.js:1:1)',
  '\\starts with a backslash',
  '\\m{"t":"header","v":1} pretending to be metadata',
  'a | pipe and a \r carriage return',
  '',
  'ünïcödé ✓ 😀',
  '0'.repeat(64) + '|looks like a record|' + 'f'.repeat(64),
]

describe('chainlog extract', () => {
  test('prints the original lines in chain order, escapes undone, across rotated and gzipped files', async () => {
    const dir = tmpDir()
    const lines = Array.from({ length: 40 }, (_, i) => (i % 6 === 5 ? TRICKY[(i / 6) | 0]! : pinoLine(i)))
    const files = await writeChain(dir, lines, { size: 1500, compress: true })
    expect(files.length).toBeGreaterThan(3)
    const r = await chainlog(['extract', dir])
    expect(r.stderr).toBe('')
    expect(r.status).toBe(0)
    expect(r.stdout).toBe(lines.map((l) => l + '\n').join(''))
  })

  test('pipes into jq and pino-pretty', async () => {
    const dir = tmpDir()
    await writeChain(dir, [pinoLine(0), pinoLine(1), pinoLine(2)])
    const jq = sh(`node ${CHAINLOG} extract ${dir} | jq -r .msg`)
    expect(jq.status).toBe(0)
    expect(jq.stdout).toBe('request 0 served\nrequest 1 served\nrequest 2 served\n')
    const pretty = sh(`node ${CHAINLOG} extract ${dir} | ${path.join(ROOT, 'node_modules/.bin/pino-pretty')} --colorize false`)
    expect(pretty.status).toBe(0)
    expect(pretty.stdout).toMatch(/INFO \(4242[^)]*\): request 0 served/)
    expect(pretty.stdout.match(/request \d served/g)).toHaveLength(3)
  })

  test('stops quietly when the reader goes away (| head)', async () => {
    const dir = tmpDir()
    await writeChain(dir, Array.from({ length: 3000 }, (_, i) => pinoLine(i)))
    const r = sh(`node ${CHAINLOG} extract ${dir} | head -n 2`)
    expect(r.status).toBe(0)
    expect(r.stdout).toBe(`${pinoLine(0)}\n${pinoLine(1)}\n`)
    expect(r.stderr).toBe('')
  })

  test('refuses a broken chain: nothing on stdout, the break on stderr, exit 1', async () => {
    const dir = tmpDir()
    const files = await writeChain(dir, Array.from({ length: 30 }, (_, i) => pinoLine(i)), { size: 2000 })
    editLine(files[1]!, 3, (s) => s.replace('served', 'SERVED'))
    const r = await chainlog(['extract', dir])
    expect(r.status).toBe(1)
    expect(r.stdout).toBe('')
    expect(oneLineError(r)).toBe(
      `chainlog extract: refusing to extract from a broken chain: it breaks at ${files[1]}:3 (HASH_MISMATCH: the line does not match its hash: the line or its prev field was changed). Run verify-log for details, or add --force to extract anyway (each break is then marked on stderr)`,
    )
  })

  test('--force prints every line and marks each break on stderr where it falls', async () => {
    const dir = tmpDir()
    const lines = Array.from({ length: 30 }, (_, i) => pinoLine(i))
    const files = await writeChain(dir, lines, { size: 2000 })
    const inFirst = fs.readFileSync(files[0]!, 'utf8').split('\n').length - 2 // user lines in file 1 (minus header and final '')
    editLine(files[1]!, 3, (s) => s.replace('served', 'SERVED'))
    insertForged(files[2]!, 4, '{"level":30,"msg":"forged"}')
    const r = await chainlog(['extract', '--force', dir])
    expect(r.status).toBe(1)
    const edited = inFirst + 2 // the 2nd user line of file 2 (line 3, after the header)
    const want = [...lines]
    want[edited - 1] = want[edited - 1]!.replace('served', 'SERVED')
    const inSecond = fs.readFileSync(files[1]!, 'utf8').split('\n').length - 2
    want.splice(inFirst + inSecond + 2, 0, '{"level":30,"msg":"forged"}')
    expect(r.stdout).toBe(want.map((l) => l + '\n').join(''))
    expect(r.stderr.split('\n')).toEqual([
      `chainlog extract: BROKEN at ${files[1]}:3 (byte ${fs.readFileSync(files[1]!, 'utf8').split('\n').slice(0, 2).join('\n').length + 1}): HASH_MISMATCH: the line does not match its hash: the line or its prev field was changed; output line ${edited} is that line, unverified`,
      expect.stringMatching(new RegExp(`^chainlog extract: BROKEN at ${files[2]!.replace(/\./g, '\\.')}:5 \\(byte [\\d,]+\\): PREV_MISMATCH: .*; output line ${inFirst + inSecond + 4} is that line, unverified$`)),
      // The inserted line also shows in the next header's count of the lines before it.
      expect.stringMatching(new RegExp(`^chainlog extract: BROKEN at ${files[3]!.replace(/\./g, '\\.')}:1 \\(byte 0\\): BAD_HEADER: header says \\d+ lines precede it, the chain has \\d+; after output line \\d+$`)),
      'chainlog extract: the chain is broken (3 breaks); lines after a break are not trustworthy',
      '',
    ])
  })

  test('from stdin: lines as they are verified, stopping at the first break', async () => {
    const dir = tmpDir()
    const [file] = await writeChain(dir, Array.from({ length: 10 }, (_, i) => pinoLine(i)))
    const ok = await chainlog(['extract', '-'], { input: fs.readFileSync(file!) })
    expect(ok.status).toBe(0)
    expect(ok.stdout.split('\n')).toHaveLength(11)
    editLine(file!, 6, (s) => s.replace('served', 'SERVED'))
    const broken = await chainlog(['extract', '-'], { input: fs.readFileSync(file!) })
    expect(broken.status).toBe(1)
    expect(broken.stdout).toBe(Array.from({ length: 4 }, (_, i) => pinoLine(i) + '\n').join(''))
    expect(oneLineError(broken)).toMatch(/^chainlog extract: the chain is broken at -:6 \(HASH_MISMATCH: .*\); output stopped before it\. Run verify-log for details$/)
  })

  test('--help', async () => {
    const r = await chainlog(['extract', '--help'])
    expect(r.status).toBe(0)
    expect(r.stdout).toMatch(/^Usage: chainlog extract \[options\] <path\.\.\.>/)
    expect(r.stdout).toContain('--force')
  })
})
