/**
 * Retention (FORMAT.md §6): the writer records each file it deletes, with its
 * last hash, before deleting it; the verifier accepts a missing start only
 * when such a record accounts for it.
 */
import fs from 'node:fs'
import * as path from 'node:path'
import { gunzipSync } from 'node:zlib'
import { describe, expect, onTestFinished, test, vi } from 'vitest'
import { verify } from '../src/index'
import { hashOf, logFiles, metaOf, openWriter, patchFs, physicalLines, tmpDir, writeLog } from './helpers'

const LOG_RE = /^app\.\d+\.log(\.gz)?$/

const readAny = (f: string): Buffer => (f.endsWith('.gz') ? gunzipSync(fs.readFileSync(f)) : fs.readFileSync(f))

interface Deletion {
  target: string
  /** A retention record naming the file, its index, last hash and line count was on disk when it was deleted. */
  recorded: boolean
}

/** Watches every way a file can be deleted and checks, at that moment, that the chain already records it. */
function watchDeletions(dir: string): Deletion[] {
  const seen: Deletion[] = []
  const check = (target: unknown) => {
    const p = String(target)
    if (path.dirname(p) !== dir || !LOG_RE.test(path.basename(p)) || !fs.existsSync(p)) return
    // Compression removes the plain file once its .gz is in place: nothing is lost, nothing to record.
    if (!p.endsWith('.gz') && fs.existsSync(p + '.gz')) return
    const data = readAny(p)
    const lines = data.toString('utf8').split('\n').slice(0, -1)
    const header = metaOf(lines[0]!)!
    const want = { file: header.file, index: header.index, lastHash: hashOf(lines.at(-1)!), records: lines.length }
    const plain = p.replace(/\.gz$/, '')
    const recorded = logFiles(dir)
      .filter((f) => f.replace(/\.gz$/, '') !== plain)
      .some((f) => {
        return readAny(f)
          .toString('utf8')
          .split('\n')
          .map((l) => (l.includes('\\m{"t":"retention"') ? metaOf(l) : null))
          .some((m) => m?.deleted.some((d: typeof want) => d.file === want.file && d.index === want.index && d.lastHash === want.lastHash && d.records === want.records))
      })
    seen.push({ target: p, recorded })
  }
  const realRmSync = fs.rmSync
  const realUnlinkSync = fs.unlinkSync
  const realRm = fs.promises.rm
  const realUnlink = fs.promises.unlink
  patchFs('rmSync', ((p: fs.PathLike, o?: fs.RmOptions) => (check(p), realRmSync(p, o))) as typeof fs.rmSync)
  patchFs('unlinkSync', ((p: fs.PathLike) => (check(p), realUnlinkSync(p))) as typeof fs.unlinkSync)
  // fs.promises is one object shared by every view of the module.
  const rm = vi.spyOn(fs.promises, 'rm').mockImplementation((p, o) => (check(p), realRm(p, o)))
  const unlink = vi.spyOn(fs.promises, 'unlink').mockImplementation((p) => (check(p), realUnlink(p)))
  onTestFinished(() => {
    rm.mockRestore()
    unlink.mockRestore()
  })
  return seen
}

describe('limit.count', () => {
  test.each([false, true])('deletes the oldest files, each only after a retention record naming it and its last hash (compress: %s)', async (compress) => {
    const dir = tmpDir()
    const deletions = watchDeletions(dir)
    const w = await openWriter({ file: path.join(dir, 'app.log'), size: 1024, limit: { count: 2 }, compress })
    const removed: string[] = []
    w.on('remove', (p: string) => removed.push(path.basename(p)))
    const lines = Array.from({ length: 120 }, (_, i) => `{"i":${i},"msg":"${'r'.repeat(60)}"}`)
    for (const l of lines) {
      w.write(l)
      await w.flush()
    }
    const total = w.head().count
    await w.close()

    const left = logFiles(dir)
    expect(left).toHaveLength(3) // the current file and two rotated ones
    expect(deletions.length).toBeGreaterThan(5)
    expect(deletions.filter((d) => !d.recorded)).toEqual([])
    expect(removed.length).toBeGreaterThan(5)

    const seen: string[] = []
    const report = await verify(path.join(dir, 'app.log'), { onLine: (l) => seen.push(l) })
    expect(report.breaks).toEqual([])
    expect(report.ok).toBe(true)
    expect(report.files).toEqual(left)
    // The head still counts every line of the chain, deleted files included.
    expect(report.head!.count).toBe(total)
    const firstHeader = metaOf(readAny(left[0]!).toString('utf8').split('\n')[0]!)!
    // What lets the verifier accept the missing start: a record naming the file just before it, with the hash it links to.
    expect(report.retention).toContainEqual(expect.objectContaining({ index: firstHeader.index - 1, lastHash: firstHeader.prevHash }))
    expect(lines.slice(-seen.length)).toEqual(seen)
  })

  test('count: 0 keeps only the current file, which records its predecessor', async () => {
    const dir = tmpDir()
    const w = await openWriter({ file: path.join(dir, 'app.log'), limit: { count: 0 } })
    for (const l of ['a', 'b', 'c']) {
      w.write(l)
      await w.rotate()
    }
    await w.close()
    expect(logFiles(dir).map((f) => path.basename(f))).toEqual(['app.4.log'])
    const report = await verify(dir)
    expect(report.ok).toBe(true)
    // Only the record naming app.3 is left: the earlier ones went with the files they were in.
    expect(report.retention.map((d) => d.file)).toEqual(['app.3.log'])
  })
})

describe('a missing start without retention', () => {
  test('deleting the oldest file by hand is MISSING_FILE at line 1 of the first file left', async () => {
    const dir = tmpDir()
    const files = await writeLog(dir, Array.from({ length: 30 }, (_, i) => `line ${i}`), { size: 1024 })
    fs.rmSync(files[0]!)
    const report = await verify(dir)
    expect(report.ok).toBe(false)
    expect(report.breaks).toHaveLength(1)
    expect(report.breaks[0]).toMatchObject({ file: files[1], line: 1, offset: 0, reason: 'MISSING_FILE' })
  })

  test('a retention record for another file does not excuse the gap', async () => {
    const dir = tmpDir()
    const w = await openWriter({ file: path.join(dir, 'app.log'), limit: { count: 3 } })
    for (let i = 0; i < 5; i++) {
      w.write(`line ${i}`)
      await w.rotate()
    }
    await w.close()
    // Retention deleted app.1 and app.2 (recorded); an attacker also deletes app.3.
    expect(logFiles(dir).map((f) => path.basename(f))).toEqual(['app.3.log', 'app.4.log', 'app.5.log', 'app.6.log'])
    fs.rmSync(path.join(dir, 'app.3.log'))
    const report = await verify(dir)
    expect(report.breaks).toEqual([expect.objectContaining({ file: path.join(dir, 'app.4.log'), line: 1, reason: 'MISSING_FILE' })])
  })

  test('a user line imitating a retention record is data and excuses nothing', async () => {
    const dir = tmpDir()
    const w = await openWriter({ file: path.join(dir, 'app.log') })
    w.write('first')
    await w.rotate()
    const first = physicalLines(path.join(dir, 'app.1.log'))
    const forged = { t: 'retention', time: new Date().toISOString(), deleted: [{ file: 'app.1.log', index: 0, lastHash: hashOf(first.at(-1)!), records: first.length }] }
    w.write('\\m' + JSON.stringify(forged))
    await w.close()
    fs.rmSync(path.join(dir, 'app.1.log'))
    const report = await verify(dir)
    expect(report.retention).toEqual([])
    expect(report.breaks).toEqual([expect.objectContaining({ file: path.join(dir, 'app.2.log'), line: 1, reason: 'MISSING_FILE' })])
  })
})
