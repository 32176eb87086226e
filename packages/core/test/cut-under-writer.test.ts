/**
 * A file cut, emptied or rewritten under a running writer (#12 A3). The
 * writer must not continue from what is left (a chain re-read from the
 * shortened file verifies): it goes on in a new file whose first record says
 * what it had left and what it found, and the verifier reports the cut as a
 * TRUNCATED break at the first line the writer cannot vouch for.
 */
import fs from 'node:fs'
import * as path from 'node:path'
import { describe, expect, test } from 'vitest'
import { createChainWriter, verify, type ChainlogError, type ChainWriter } from '../src/index'
import { FIXTURES, forge, hashOf, logFiles, metaOf, openWriter, physicalLines, tmpDir, until } from './helpers'

/** A writer on dir/app.log with `n` lines flushed, and the errors and truncation events it emits. */
async function running(n: number): Promise<{ dir: string; w: ChainWriter; errors: ChainlogError[]; cuts: unknown[]; file: string }> {
  const dir = tmpDir()
  const w = await openWriter({ file: path.join(dir, 'app.log') })
  const errors: ChainlogError[] = []
  const cuts: unknown[] = []
  w.on('error', (e) => errors.push(e))
  w.on('truncation', (e) => cuts.push(e))
  for (let i = 0; i < n; i++) w.write(`line ${i}`)
  await w.flush()
  return { dir, w, errors, cuts, file: path.join(dir, 'app.1.log') }
}

/** Byte offset of each line start of `file`, and its end. */
function lineStarts(file: string): number[] {
  const data = fs.readFileSync(file)
  const starts = [0]
  for (let i = data.indexOf(0x0a); i !== -1; i = data.indexOf(0x0a, i + 1)) starts.push(i + 1)
  return starts
}

describe('the current file cut under a running writer', () => {
  test('cut at a record boundary: the writer goes on in app.2.log after a truncation record; verify reports TRUNCATED at app.1.log:8', async () => {
    const { dir, w, errors, cuts, file } = await running(10)
    const starts = lineStarts(file) // header + 10 records: 11 lines
    const head = hashOf(physicalLines(file).at(-1)!)
    fs.truncateSync(file, starts[7]) // 7 lines left: lines 8-11 gone
    w.write('after the cut')
    await w.close()
    expect(errors.map((e) => e.code)).toEqual(['FILE_TRUNCATED'])
    expect(errors[0]!.message).toMatch(/app\.1\.log was cut while being written: this writer left 11 lines \(\d+ bytes\) in it and found 7/)
    expect(cuts).toEqual([{ file, expected: { size: starts[11], lines: 11 }, found: { size: starts[7], lines: 7 }, next: path.join(dir, 'app.2.log') }])
    const next = physicalLines(path.join(dir, 'app.2.log'))
    // The new file continues from the writer's own head, not from what the cut left.
    expect(metaOf(next[0]!)).toMatchObject({ t: 'header', index: 1, prevFile: 'app.1.log', prevHash: head, seq: 11, reason: 'truncated' })
    expect(metaOf(next[1]!)).toMatchObject({ t: 'truncation', file: 'app.1.log', index: 0, expected: { lines: 11, hash: head, count: 11 }, found: { lines: 7 }, at: { line: 8, offset: starts[7] } })
    const r = await verify(dir)
    expect(r.verdict).toBe('BROKEN')
    expect(r.breaks).toEqual([expect.objectContaining({ file, line: 8, offset: starts[7], reason: 'TRUNCATED', expected: head, message: expect.stringMatching(/cut short while a writer was appending to it: the writer had left 11 lines .* found 7 .* line 8 on is not in the chain \(recorded at .*app\.2\.log:2\)/) })])
  })

  test('cut while the writer sits idle, then closed: the cut is recorded at close', async () => {
    const { dir, w, errors, file } = await running(5)
    await new Promise((resolve) => setTimeout(resolve, 20)) // the lease is let go
    const starts = lineStarts(file)
    fs.truncateSync(file, starts[3])
    await w.close()
    expect(errors.map((e) => e.code)).toEqual(['FILE_TRUNCATED'])
    const r = await verify(dir)
    expect(r.breaks).toEqual([expect.objectContaining({ file, line: 4, reason: 'TRUNCATED' })])
  })

  test('emptied (what copytruncate does): no new genesis, the empty file stays, TRUNCATED at app.1.log:1', async () => {
    const { dir, w, errors, file } = await running(5)
    fs.truncateSync(file, 0)
    w.write('after')
    await w.close()
    expect(errors.map((e) => e.code)).toEqual(['FILE_TRUNCATED'])
    expect(fs.statSync(file).size).toBe(0) // the evidence is kept
    expect(metaOf(physicalLines(path.join(dir, 'app.2.log'))[0]!)).toMatchObject({ index: 1, seq: 6, reason: 'truncated' })
    const r = await verify(dir)
    expect(r.breaks).toEqual([expect.objectContaining({ file, line: 1, offset: 0, reason: 'TRUNCATED', message: expect.stringMatching(/emptied \(logrotate's copytruncate does this\)/) })])
  })

  test('cut and written again to the same size (forged sha256 records): the replaced last record is found, TRUNCATED at its line', async () => {
    const { dir, w, errors, file } = await running(6)
    const lines = physicalLines(file)
    const starts = lineStarts(file)
    // Replace the last two records with forged ones of the same length that link: the size does not change.
    const a = forge(lines[4]!.toString('latin1').slice(-64), 'line 4'.replace('4', 'X'))
    const b = forge(a.hash, 'line 5'.replace('5', 'Y'))
    fs.writeFileSync(file, Buffer.concat([fs.readFileSync(file).subarray(0, starts[5]), Buffer.from(a.text + b.text)]))
    expect(fs.statSync(file).size).toBe(starts[7])
    w.write('after')
    await w.close()
    expect(errors.map((e) => e.code)).toEqual(['FILE_TRUNCATED'])
    const r = await verify(dir)
    expect(r.breaks).toEqual([expect.objectContaining({ file, line: 7, offset: starts[6], reason: 'TRUNCATED', message: expect.stringMatching(/the record a writer had left as line 7 of this file is not there any more/) })])
  })

  test('an empty file of the log found at start is kept and recorded, never removed', async () => {
    const dir = tmpDir()
    const w1 = await openWriter({ file: path.join(dir, 'app.log') })
    w1.write('one')
    await w1.rotate()
    w1.write('two')
    await w1.close()
    fs.truncateSync(path.join(dir, 'app.2.log'), 0)
    const errors: ChainlogError[] = []
    // Found while opening: heard by listeners added before start-up.
    const w2 = await createChainWriter({ file: path.join(dir, 'app.log') }, (w) => w.on('error', (e) => errors.push(e)))
    w2.write('three')
    await w2.close()
    expect(errors.map((e) => e.code)).toEqual(['FILE_TRUNCATED'])
    expect(fs.existsSync(path.join(dir, 'app.2.log'))).toBe(true)
    expect(logFiles(dir).map((f) => path.basename(f))).toEqual(['app.1.log', 'app.2.log', 'app.3.log'])
    const r = await verify(dir)
    expect(r.breaks).toEqual([expect.objectContaining({ file: path.join(dir, 'app.2.log'), line: 1, reason: 'TRUNCATED', message: expect.stringMatching(/emptied while no writer had it open/) })])
  })

  test('no file of the log is ever empty by the writer: a new file appears under its name only with its header', async () => {
    const dir = tmpDir()
    const w = await openWriter({ file: path.join(dir, 'app.log'), size: 400 })
    const seen: number[] = []
    w.on('new', (f) => seen.push(fs.statSync(f).size))
    for (let i = 0; i < 50; i++) w.write(`record number ${i} with some text`)
    await w.close()
    expect(seen.length).toBeGreaterThan(3)
    expect(seen.every((size) => size > 0)).toBe(true)
    expect(fs.readdirSync(dir).filter((n) => n.endsWith('.new'))).toEqual([])
    expect((await verify(dir)).verdict).toBe('VALID')
  })
})

describe('other writers of the log are not taken for a cut', () => {
  test('two writers appending and rotating in turn: no FILE_TRUNCATED, VALID', async () => {
    const dir = tmpDir()
    const a = await openWriter({ file: path.join(dir, 'app.log'), size: 2000 })
    const b = await openWriter({ file: path.join(dir, 'app.log'), size: 2000 })
    const errors: ChainlogError[] = []
    a.on('error', (e) => errors.push(e))
    b.on('error', (e) => errors.push(e))
    for (let i = 0; i < 300; i++) {
      ;(i % 3 ? a : b).write(`writer ${i % 3 ? 'a' : 'b'} line ${i}`)
      if (i % 25 === 0) await Promise.all([a.flush(), b.flush()])
    }
    await Promise.all([a.close(), b.close()])
    expect(errors).toEqual([])
    expect(logFiles(dir).length).toBeGreaterThan(3)
    const r = await verify(dir)
    expect(r.breaks).toEqual([])
    expect(r.verdict).toBe('VALID')
  })

  test('a cut another writer continued from is found by the writer whose records were cut', async () => {
    const dir = tmpDir()
    const a = await openWriter({ file: path.join(dir, 'app.log') })
    const errors: ChainlogError[] = []
    a.on('error', (e) => errors.push(e))
    a.write('a1')
    a.write('a2')
    await a.flush()
    const file = path.join(dir, 'app.1.log')
    const starts = lineStarts(file)
    fs.truncateSync(file, starts[2]) // a2 cut
    // b opens after the cut: it cannot know, and continues from a1.
    const b = await openWriter({ file: path.join(dir, 'app.log'), append: true })
    b.write('b1')
    await b.close()
    await until(() => {
      a.write('probe')
      return errors.length > 0
    }, 'FILE_TRUNCATED')
    await a.close()
    expect(errors.map((e) => e.code)).toEqual(['FILE_TRUNCATED'])
    const r = await verify(dir)
    expect(r.breaks).toEqual([expect.objectContaining({ file, line: 3, reason: 'TRUNCATED', message: expect.stringMatching(/the record a writer had left as line 3 of this file is not there any more/) })])
  })
})

describe('the frozen fixture (test/fixtures/format-1/truncation, FORMAT.md §7.1)', () => {
  test('verifies BROKEN with one TRUNCATED break at app.1.log:7, the header break it explains reported once', async () => {
    const dir = path.join(FIXTURES, 'truncation')
    const file = path.join(dir, 'app.1.log')
    const all = await verify(dir, { all: true })
    expect(all.breaks).toEqual([
      {
        file, line: 7, offset: 1066, reason: 'TRUNCATED',
        message: `this file was cut short while a writer was appending to it: the writer had left 9 lines (1480 bytes) and found 6 (1066 bytes); line 7 on is not in the chain (recorded at ${path.join(dir, 'app.2.log')}:2)`,
        expected: '79a041c364cb67275f5d249de40b0c3ac4e98384c3626d3af55a765637c774fb',
        found: 'db75bde2604edc44d7d4cdc9f1a7d38e42bc63dbf4dfa7a36d895f04d581cecb',
      },
    ])
    // The cut file alone is a shorter, valid chain: only the writer's record shows the cut.
    const cutOnly = await verify([file], {})
    expect(cutOnly.verdict).toBe('VALID')
  })
})

describe('a cut inside a record', () => {
  test('the partial line left is reported at its line (TORN_TAIL: no recovery record names it), and the writer\'s record puts TRUNCATED at the same line', async () => {
    const { dir, w, errors, file } = await running(6)
    const starts = lineStarts(file)
    fs.truncateSync(file, starts[4]! + 20) // 4 whole lines and 20 bytes of line 5
    w.write('after')
    await w.close()
    expect(errors.map((e) => e.code)).toEqual(['FILE_TRUNCATED'])
    const r = await verify(dir, { all: true })
    expect(r.breaks.map((b) => [b.file, b.line, b.reason])).toEqual([
      [file, 5, 'TORN_TAIL'],
      [file, 5, 'TRUNCATED'],
    ])
  })
})
