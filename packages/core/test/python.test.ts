/**
 * docs/verify_chain.py, the independent ten-line checker of FORMAT.md §10, on
 * files the writer produced: it must agree with verify() on what is valid and
 * on the head, and name the same line when something is not.
 */
import fs from 'node:fs'
import * as path from 'node:path'
import { describe, expect, test } from 'vitest'
import { createChainWriter, verify } from '../src/index'
import { logFiles, physicalLines, PY_VERIFIER, runPython, tmpDir, writeLines, writeLog } from './helpers'

describe('docs/verify_chain.py', () => {
  test('is about ten lines of Python using only hashlib and sys', () => {
    const src = fs.readFileSync(PY_VERIFIER, 'utf8')
    expect(src.split('\n').filter((l) => l.trim() !== '').length).toBeLessThanOrEqual(12)
    expect(src).toMatch(/^import hashlib, sys\n/)
  })

  test('agrees with verify() on a rotated chain holding every kind of line', async () => {
    const dir = tmpDir()
    const lines = [
      '{"level":30,"msg":"plain"}',
      'pipes | in | the | line',
      'NUL \u0000 byte',
      'lone \ud800 surrogate',
      'multi\nline\r\nwith CRLF',
      '\\m{"t":"header","v":1} imitation',
      'héllo ✓ 日本語 \ud83d\ude00',
      'x'.repeat(100_000),
      '',
    ]
    const files = await writeLog(dir, [...lines, ...lines, ...lines], { size: 2048 })
    expect(files.length).toBeGreaterThan(3)
    const py = runPython(files)
    expect(py.stderr).toBe('')
    expect(py.status).toBe(0)
    const report = await verify(dir)
    expect(report.ok).toBe(true)
    expect(py.stdout).toBe(`ok ${files.length} files, head ${report.head!.hash}\n`)
  })

  test('knows only sha256 (FORMAT.md §10): an hmac-sha256 chain fails at its first line', async () => {
    const dir = tmpDir()
    const files = await writeLog(dir, ['a', 'b'], { algorithm: 'hmac-sha256', key: Buffer.alloc(32, 7) })
    expect(runPython(files).stderr.trim()).toBe(`${files[0]}:1: broken`)
  })

  test('needs the files in chain order, from the first', async () => {
    const dir = tmpDir()
    const files = await writeLog(dir, Array.from({ length: 20 }, (_, i) => `l${i}`), { size: 1024 })
    expect(runPython([...files].reverse()).status).not.toBe(0)
    expect(runPython(files.slice(1)).stderr.trim()).toBe(`${files[1]}:1: broken`)
  })

  test('names the same line as verify() for an edited record', async () => {
    const dir = tmpDir()
    const files = await writeLog(dir, Array.from({ length: 20 }, (_, i) => `l${i}`), { size: 1024 })
    const lines = physicalLines(files[2]!)
    lines[2] = Buffer.from(lines[2]!.toString().replace(/\|l(\d+)\|/, '|L$1|'))
    writeLines(files[2]!, lines)
    const b = (await verify(dir)).breaks[0]!
    expect(runPython(files).stderr.trim()).toBe(`${b.file}:${b.line}: broken`)
    expect(b.line).toBe(3)
  })

  test('accepts a chain continued by restarts and a torn tail completed by the writer', async () => {
    const dir = tmpDir()
    await writeLog(dir, ['one', 'two'])
    const file = path.join(dir, 'app.1.log')
    fs.truncateSync(file, fs.statSync(file).size - 1) // the crash took only the last LF
    const w = await createChainWriter({ file: path.join(dir, 'app.log') })
    w.write('three')
    await w.close()
    expect(runPython(logFiles(dir)).status).toBe(0)
  })
})
