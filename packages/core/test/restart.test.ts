/**
 * Restart continuation (issue #2 §4, FORMAT.md §7): a new writer continues the
 * chain from its last valid record, terminates and names a torn record,
 * completes a record missing only its LF, and never appends to a broken tail.
 */
import { createHash } from 'node:crypto'
import { spawnSync } from 'node:child_process'
import fs from 'node:fs'
import * as path from 'node:path'
import { describe, expect, test } from 'vitest'
import { createChainWriter, verify, type RecoveryEvent } from '../src/index'
import { GENESIS } from '../src/format'
import { forge, hashOf, logFiles, metaOf, physicalLines, prevOf, runPython, tmpDir, writeLines, writeLog } from './helpers'

async function reopenAndWrite(dir: string, lines: string[], options = {}): Promise<{ recoveries: RecoveryEvent[]; errors: Error[] }> {
  const recoveries: RecoveryEvent[] = []
  const errors: Error[] = []
  const w = await createChainWriter({ file: path.join(dir, 'app.log'), ...options }, (writer) => {
    writer.on('recovery', (e: RecoveryEvent) => recoveries.push(e))
    writer.on('error', (e: Error) => errors.push(e))
  })
  for (const l of lines) w.write(l)
  await w.close()
  return { recoveries, errors }
}

async function readBack(input: string, options = {}) {
  const lines: string[] = []
  const report = await verify(input, { ...options, onLine: (l) => lines.push(l) })
  return { lines, report }
}

describe('a clean restart', () => {
  test('continues the same file and chain: one header, one chain, the head counts both runs', async () => {
    const dir = tmpDir()
    await writeLog(dir, ['a', 'b', 'c'])
    const chain = metaOf(physicalLines(path.join(dir, 'app.1.log'))[0]!)!.chain
    const { recoveries } = await reopenAndWrite(dir, ['d', 'e'])
    expect(recoveries).toEqual([])
    expect(logFiles(dir)).toEqual([path.join(dir, 'app.1.log')])
    const physical = physicalLines(path.join(dir, 'app.1.log'))
    expect(physical.filter((l) => metaOf(l)?.t === 'header')).toHaveLength(1)
    const { lines, report } = await readBack(dir)
    expect(report.ok).toBe(true)
    expect(report.chain).toBe(chain)
    expect(lines).toEqual(['a', 'b', 'c', 'd', 'e'])
    expect(report.head).toEqual({ hash: hashOf(physical.at(-1)!), count: 6 })
  })

  test('continues in the newest file after rotations', async () => {
    const dir = tmpDir()
    const files = await writeLog(dir, Array.from({ length: 18 }, (_, i) => `x${i}`), { size: 1024 })
    expect(files.length).toBeGreaterThan(2)
    expect(fs.statSync(files.at(-1)!).size).toBeLessThan(1024 - 200) // room for one more record
    await reopenAndWrite(dir, ['after restart'], { size: 1024 })
    expect(logFiles(dir)).toEqual(files)
    const { lines, report } = await readBack(dir)
    expect(report.ok).toBe(true)
    expect(lines.at(-1)).toBe('after restart')
  })

  test("append: false starts the next file of the same chain, header reason 'restart'", async () => {
    const dir = tmpDir()
    await writeLog(dir, ['a'])
    await reopenAndWrite(dir, ['b'], { append: false })
    const files = logFiles(dir)
    expect(files.map((f) => path.basename(f))).toEqual(['app.1.log', 'app.2.log'])
    const header = metaOf(physicalLines(files[1]!)[0]!)!
    expect(header).toMatchObject({ index: 1, prevFile: 'app.1.log', prevHash: hashOf(physicalLines(files[0]!).at(-1)!), seq: 2, reason: 'restart' })
    expect(header.chain).toBe(metaOf(physicalLines(files[0]!)[0]!)!.chain)
    expect((await readBack(dir)).lines).toEqual(['a', 'b'])
  })

  test("a restart with another algorithm starts the next file ('algorithm-change') and the chain verifies across it", async () => {
    const dir = tmpDir()
    await writeLog(dir, ['sha'])
    await reopenAndWrite(dir, ['blake'], { algorithm: 'blake3' })
    const files = logFiles(dir)
    expect(files).toHaveLength(2)
    expect(metaOf(physicalLines(files[1]!)[0]!)).toMatchObject({ alg: 'blake3', reason: 'algorithm-change', index: 1 })
    const { lines, report } = await readBack(dir)
    expect(report.ok).toBe(true)
    expect(lines).toEqual(['sha', 'blake'])
  })

  test('a new file created, never written (a crash right after rotation) is dropped and the chain continues', async () => {
    const dir = tmpDir()
    const files = await writeLog(dir, Array.from({ length: 10 }, (_, i) => `x${i}`), { size: 1024 })
    // A new file exists under a temporary name until its header is in it; the dead writer's pid is in that name.
    const dead = spawnSync(process.execPath, ['-e', '']).pid
    const empty = path.join(dir, `app.${files.length + 1}.log.${dead}.0badcafe.new`)
    fs.writeFileSync(empty, '')
    await reopenAndWrite(dir, ['after'], { size: 1024 })
    const { lines, report } = await readBack(dir)
    expect(report.ok).toBe(true)
    expect(lines.at(-1)).toBe('after')
    expect(fs.existsSync(empty)).toBe(false)
  })
})

describe('a torn last record (the process died mid-write)', () => {
  const LINES = ['{"n":1}', '{"n":2}', 'multi\nline', '{"n":4,"msg":"the record the crash tore"}']

  /** Writes LINES, then cuts the file `cut` bytes into its last record: exactly what a crash mid-write leaves. */
  async function crashAt(cut: (recordLength: number) => number) {
    const dir = tmpDir()
    const [file] = await writeLog(dir, LINES)
    const data = fs.readFileSync(file!)
    const start = data.lastIndexOf(0x0a, data.length - 2) + 1
    const keep = start + cut(data.length - start)
    fs.truncateSync(file!, keep)
    return { dir, file: file!, start, fragment: data.subarray(start, keep), lastWhole: hashOf(data.subarray(0, start - 1).toString('latin1')) }
  }

  test('before any restart the verifier reports a partial line, not a break, and the head is the record before it', async () => {
    const { dir, file, start, fragment, lastWhole } = await crashAt((n) => n >> 1)
    const report = await verify(dir)
    expect(report.ok).toBe(true)
    expect(report.breaks).toEqual([])
    expect(report.partial).toEqual({ file, line: 5, offset: start, length: fragment.length })
    expect(report.head).toEqual({ hash: lastWhole, count: 4 })
  })

  test.each([
    ['1 byte', () => 1],
    ['all of prev', () => 64],
    ['prev and its |', () => 65],
    ['half the record', (n: number) => n >> 1],
    ['all but the last hash character and LF', (n: number) => n - 2],
  ])('torn after %s: terminated, named by a recovery record, verified as recovered', async (_name, cut) => {
    const { dir, file, start, fragment, lastWhole } = await crashAt(cut)
    const { recoveries, errors } = await reopenAndWrite(dir, ['after the crash'])
    expect(errors).toEqual([])
    expect(recoveries).toEqual([expect.objectContaining({ file, reason: 'torn-tail', length: fragment.length })])
    const physical = physicalLines(file)
    // The fragment stays, terminated, as line 5; never glued to new data, never dropped.
    expect(physical[4]!.equals(fragment)).toBe(true)
    const recovery = physical[5]!
    expect(prevOf(recovery)).toBe(lastWhole)
    expect(metaOf(recovery)).toMatchObject({ t: 'recovery', reason: 'torn-tail', length: fragment.length, sha256: createHash('sha256').update(fragment).digest('hex') })
    expect(physical[6]!.toString().slice(65, -65)).toBe('after the crash')

    const { lines, report } = await readBack(dir)
    expect(report.breaks).toEqual([])
    expect(report.ok).toBe(true)
    expect(report.recovered).toEqual([{ file, line: 5, offset: start, length: fragment.length }])
    expect(report.partial).toBeNull()
    expect(lines).toEqual([...LINES.slice(0, 3), 'after the crash'])
    expect(report.head!.count).toBe(physical.length)
  })

  test('a recovery record accounts only for the exact fragment it names: a fragment altered later is a break', async () => {
    const { dir, file } = await crashAt((n) => n >> 1)
    await reopenAndWrite(dir, ['after'])
    const lines = physicalLines(file)
    for (const alter of [(f: Buffer) => Buffer.concat([f, Buffer.from('x')]), (f: Buffer) => Buffer.from(f.toString('latin1').replace(/[0-9a-f]$/, (c) => (c === '0' ? '1' : '0')), 'latin1')]) {
      writeLines(file, [...lines.slice(0, 4), alter(lines[4]!), ...lines.slice(5)])
      const report = await verify(dir)
      expect(report.recovered).toEqual([])
      expect(report.breaks).toEqual([expect.objectContaining({ file, line: 5, reason: 'MALFORMED' })])
    }
  })

  test('a fragment that is a whole record missing only its LF is completed, not recovered', async () => {
    const { dir, file } = await crashAt((n) => n - 1)
    const { recoveries } = await reopenAndWrite(dir, ['after'])
    expect(recoveries).toEqual([])
    const physical = physicalLines(file)
    expect(physical.some((l) => metaOf(l)?.t === 'recovery')).toBe(false)
    const { lines, report } = await readBack(dir)
    expect(report.ok).toBe(true)
    expect(report.recovered).toEqual([])
    expect(lines).toEqual([...LINES, 'after'])
    expect(runPython([file]).status).toBe(0)
  })

  test('a second crash and restart after a recovery still verifies', async () => {
    const { dir, file } = await crashAt((n) => n >> 1)
    await reopenAndWrite(dir, ['second run', 'will be torn too'])
    const data = fs.readFileSync(file)
    fs.truncateSync(file, data.length - 10)
    await reopenAndWrite(dir, ['third run'])
    const { lines, report } = await readBack(dir)
    expect(report.ok).toBe(true)
    expect(report.recovered.map((r) => r.line)).toEqual([5, 8])
    expect(lines).toEqual([...LINES.slice(0, 3), 'second run', 'third run'])
  })
})

describe('a broken tail (the last whole record fails its hash)', () => {
  test("is not continued: the next file starts with reason 'broken-tail' and a recovery record; the verifier reports the break", async () => {
    const dir = tmpDir()
    const [file] = await writeLog(dir, ['a', 'b', 'c'])
    const physical = physicalLines(file!)
    const last = physical.at(-1)!.toString()
    fs.writeFileSync(file!, Buffer.concat([...physical.slice(0, -1), Buffer.from(last.replace('|c|', '|C|'))].map((l) => Buffer.concat([l instanceof Buffer ? l : Buffer.from(l), Buffer.from('\n')]))))
    const before = fs.readFileSync(file!)
    const { recoveries } = await reopenAndWrite(dir, ['after'])
    expect(fs.readFileSync(file!).equals(before)).toBe(true) // not appended to
    expect(recoveries).toEqual([expect.objectContaining({ reason: 'broken-tail' })])
    const files = logFiles(dir)
    expect(files).toHaveLength(2)
    const next = physicalLines(files[1]!)
    expect(metaOf(next[0]!)).toMatchObject({ t: 'header', index: 1, prevFile: 'app.1.log', prevHash: hashOf(last), reason: 'broken-tail' })
    expect(prevOf(next[0]!)).toBe(hashOf(last))
    expect(metaOf(next[1]!)).toMatchObject({ t: 'recovery', reason: 'broken-tail', file: 'app.1.log' })
    const { lines, report } = await readBack(dir, { all: true })
    expect(report.breaks).toEqual([expect.objectContaining({ file, line: 4, reason: 'HASH_MISMATCH' })])
    expect(lines).toEqual(['a', 'b', 'after'])
  })
})

describe('a file at the log path that is not a chainlog file', () => {
  // #13: another program's file under a chain file's name (pino-roll's) is
  // foreign: left untouched, named in 'foreign', and the chain starts beside it.
  test.each([
    ['plain text', Buffer.from('2026-11-22 INFO started\n2026-11-22 INFO ready\n')],
    ['binary', Buffer.from([0x00, 0xff, 0x13, 0x0a, 0x88, 0x00])],
    ['nothing (an empty file)', Buffer.alloc(0)],
  ])('%s as app.1.log is foreign: left untouched, and the chain starts in app.2.log', async (_name, content) => {
    const dir = tmpDir()
    const file = path.join(dir, 'app.1.log')
    fs.writeFileSync(file, content)
    const seen: unknown[] = []
    const w = await createChainWriter({ file: path.join(dir, 'app.log') }, (writer) => writer.on('foreign', (e) => seen.push(e)))
    w.write('kept')
    await w.close()
    expect(seen).toEqual([{ files: [file], current: path.join(dir, 'app.2.log') }])
    expect(fs.readFileSync(file).equals(content)).toBe(true)
    const report = await verify(path.join(dir, 'app.log'))
    expect(report.ok).toBe(true)
    expect(report.files.map((f) => path.basename(f))).toEqual(['app.2.log'])
  })

  test.each([
    ['a record that is not a header', Buffer.from(forge(GENESIS, 'not a header').text)],
  ])('%s as app.1.log is NOT_CHAINLOG and left untouched', async (_name, content) => {
    const dir = tmpDir()
    const file = path.join(dir, 'app.1.log')
    fs.writeFileSync(file, content)
    await expect(createChainWriter({ file: path.join(dir, 'app.log') })).rejects.toMatchObject({ code: 'NOT_CHAINLOG', path: file, message: expect.stringContaining(file) })
    expect(fs.readFileSync(file).equals(content)).toBe(true)
  })

  test('a header of another format version is UNSUPPORTED_VERSION', async () => {
    const dir = tmpDir()
    const header = { t: 'header', v: 2, alg: 'sha256', chain: 'ab'.repeat(16), index: 0, file: 'app.1.log', prevFile: null, prevHash: GENESIS, seq: 0, time: new Date().toISOString() }
    fs.writeFileSync(path.join(dir, 'app.1.log'), forge(GENESIS, 'x').text.replace('|x|', '|\\m' + JSON.stringify(header) + '|'))
    await expect(createChainWriter({ file: path.join(dir, 'app.log') })).rejects.toMatchObject({ code: 'UNSUPPORTED_VERSION' })
  })

  test('a file named like the base path itself (app.log) is not part of the rotation and is left alone', async () => {
    const dir = tmpDir()
    const old = path.join(dir, 'app.log')
    fs.writeFileSync(old, 'an old plain log\n')
    await writeLog(dir, ['new'])
    expect(fs.readFileSync(old, 'utf8')).toBe('an old plain log\n')
    const report = await verify(path.join(dir, 'app.1.log'))
    expect(report.ok).toBe(true)
  })
})

describe('the Python verifier agrees with restarts', () => {
  test('a chain continued over three runs verifies with docs/verify_chain.py', async () => {
    const dir = tmpDir()
    await writeLog(dir, ['run 1'], { size: 1024 })
    await reopenAndWrite(dir, Array.from({ length: 10 }, (_, i) => `run 2 line ${i}`), { size: 1024 })
    await reopenAndWrite(dir, ['run 3'], { size: 1024, append: false })
    const r = runPython(logFiles(dir))
    expect(r.stdout).toMatch(/^ok \d+ files, head [0-9a-f]{64}\n$/)
    expect(r.stdout.trim().slice(-64)).toBe((await verify(dir)).head!.hash)
  })
})
