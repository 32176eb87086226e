/**
 * Rotation: by size, by time, dated names, the symlink, gzip of rotated files.
 * Whatever triggers it, a record is never split and each file starts with a
 * header linking to the previous file's last hash (FORMAT.md §5).
 */
import fs from 'node:fs'
import * as path from 'node:path'
import { gunzipSync, gzipSync } from 'node:zlib'
import { describe, expect, test } from 'vitest'
import { verify } from '../src/index'
import { GENESIS } from '../src/format'
import { hashOf, logFiles, metaOf, openWriter, physicalLines, prevOf, prng, runPython, tmpDir, writeLog } from './helpers'

/** Checks the links between files and returns the user lines in chain order. */
function checkLinks(files: string[], read: (f: string) => Buffer = (f) => fs.readFileSync(f)): string[] {
  let prevHash = GENESIS
  let prevName: string | null = null
  let seq = 0
  const user: string[] = []
  files.forEach((f, index) => {
    const data = read(f)
    expect(data.at(-1), `${f} ends with LF`).toBe(0x0a)
    const lines = data.toString('utf8').slice(0, -1).split('\n')
    const header = metaOf(lines[0]!)
    expect(header, `${f} starts with a header`).toMatchObject({ t: 'header', index, prevFile: prevName, prevHash, seq, file: path.basename(f).replace(/\.gz$/, '') })
    expect(prevOf(lines[0]!)).toBe(prevHash)
    for (const l of lines.slice(1)) if (!l.slice(65, -65).startsWith('\\m')) user.push(l.slice(65, -65))
    prevHash = hashOf(lines.at(-1)!)
    prevName = header!.file
    seq += lines.length
  })
  return user
}

describe('size rotation', () => {
  test('files stay within size, records are never split, and each header links to the previous file', async () => {
    const dir = tmpDir()
    const rnd = prng(7)
    const lines = Array.from({ length: 300 }, (_, i) => `{"i":${i},"msg":"${'m'.repeat(Math.floor(rnd() * 400))}"}`)
    const files = await writeLog(dir, lines, { size: 2048 })
    expect(files.length).toBeGreaterThan(20)
    for (const f of files) {
      const n = physicalLines(f).length
      // Over size only when the file holds its header and one record that alone is bigger.
      if (fs.statSync(f).size > 2048) expect(n, f).toBe(2)
    }
    expect(checkLinks(files)).toEqual(lines)
    const report = await verify(path.join(dir, 'app.log'))
    expect(report.ok).toBe(true)
    expect(report.files).toEqual(files)
    expect(runPython(files).status).toBe(0)
  })

  test('a record larger than size goes alone into a file after its header', async () => {
    const dir = tmpDir()
    const files = await writeLog(dir, ['small', 'L'.repeat(5000), 'small again'], { size: 1024 })
    expect(files.map((f) => physicalLines(f).map((l) => l.toString().slice(65, -65).slice(0, 5)))).toEqual([
      [expect.stringMatching(/^\\m/), 'small'],
      [expect.stringMatching(/^\\m/), 'LLLLL'],
      [expect.stringMatching(/^\\m/), 'small'],
    ])
    expect((await verify(dir)).ok).toBe(true)
  })

  test("rotate() starts the next file on demand; 'rotate' and 'new' are emitted", async () => {
    const dir = tmpDir()
    const w = await openWriter({ file: path.join(dir, 'app.log') })
    const events: string[] = []
    w.on('rotate', (e: { from: string; to: string }) => events.push(`rotate ${path.basename(e.from)} -> ${path.basename(e.to)}`))
    w.on('new', (p: string) => events.push(`new ${path.basename(p)}`))
    w.write('a')
    await w.rotate()
    w.write('b')
    await w.rotate()
    await w.close()
    expect(events).toEqual(['new app.2.log', 'rotate app.1.log -> app.2.log', 'new app.3.log', 'rotate app.2.log -> app.3.log'])
    expect(checkLinks(logFiles(dir))).toEqual(['a', 'b'])
  })
})

describe('time rotation', () => {
  test('a short millisecond period rotates on its own; every file is linked and nothing is lost', async () => {
    const dir = tmpDir()
    const w = await openWriter({ file: path.join(dir, 'app.log'), frequency: 30 })
    const written: string[] = []
    let rotations = 0
    w.on('rotate', () => rotations++)
    // Write steadily until the writer has rotated by itself a few times.
    for (let i = 0; rotations < 3; i++) {
      written.push(`tick ${i}`)
      w.write(`tick ${i}`)
      await new Promise((r) => setTimeout(r, 5))
      expect(i).toBeLessThan(5000)
    }
    await w.close()
    const files = logFiles(dir)
    expect(files.length).toBeGreaterThanOrEqual(4)
    expect(checkLinks(files)).toEqual(written)
    const times = files.map((f) => Date.parse(metaOf(physicalLines(f)[0]!)!.time))
    expect([...times].sort((a, b) => a - b)).toEqual(times)
    expect((await verify(dir)).ok).toBe(true)
  })

  test('dateFormat names carry the date of the period, and numbers keep growing across dates', async () => {
    const dir = tmpDir()
    let now = new Date(2026, 10, 22, 23, 0).getTime()
    const w = await openWriter({ file: path.join(dir, 'app.log'), dateFormat: 'yyyy-MM-dd', now: () => now })
    w.write('day one')
    await w.flush()
    now = new Date(2026, 10, 23, 0, 30).getTime()
    await w.rotate()
    w.write('day two')
    await w.rotate()
    w.write('still day two')
    await w.close()
    expect(fs.readdirSync(dir).filter((n) => n.endsWith('.log')).sort()).toEqual(['app.2026-11-22.1.log', 'app.2026-11-23.2.log', 'app.2026-11-23.3.log'])
    const report = await verify(path.join(dir, 'app.log'))
    expect(report.ok).toBe(true)
    expect(report.files.map((f) => path.basename(f))).toEqual(['app.2026-11-22.1.log', 'app.2026-11-23.2.log', 'app.2026-11-23.3.log'])
  })
})

describe('symlink to the current file', () => {
  test('symlink: true keeps current.log pointing (relatively) at the file being written', async () => {
    const dir = tmpDir()
    const w = await openWriter({ file: path.join(dir, 'app.log'), symlink: true })
    const link = path.join(dir, 'current.log')
    expect(fs.readlinkSync(link)).toBe('app.1.log')
    w.write('a')
    await w.rotate()
    expect(fs.readlinkSync(link)).toBe('app.2.log')
    w.write('b')
    await w.close()
    expect(fs.readFileSync(link, 'utf8')).toContain('|b|')
    // The link is not a chain file: the verifier of the directory skips it.
    const report = await verify(dir)
    expect(report.ok).toBe(true)
    expect(report.files).toEqual(logFiles(dir))
    expect(fs.readdirSync(dir).filter((n) => n.endsWith('.tmp'))).toEqual([])
  })

  test('a symlink name of your own', async () => {
    const dir = tmpDir()
    await writeLog(dir, ['x'], { symlink: 'latest' })
    expect(fs.readlinkSync(path.join(dir, 'latest'))).toBe('app.1.log')
  })
})

describe('gzip of rotated files', () => {
  test('rotated files become .gz (the current one stays plain) and the verifier reads them', async () => {
    const dir = tmpDir()
    const lines = Array.from({ length: 120 }, (_, i) => `{"n":${i},"text":"${'z'.repeat(i * 3)}"}`)
    const files = await writeLog(dir, lines, { size: 4096, compress: true })
    expect(files.length).toBeGreaterThan(3)
    expect(files.slice(0, -1).every((f) => f.endsWith('.log.gz'))).toBe(true)
    expect(files.at(-1)!.endsWith('.log')).toBe(true)
    expect(fs.readdirSync(dir).filter((n) => n.endsWith('.tmp'))).toEqual([])
    expect(checkLinks(files, (f) => (f.endsWith('.gz') ? gunzipSync(fs.readFileSync(f)) : fs.readFileSync(f)))).toEqual(lines)
    const seen: string[] = []
    const report = await verify(path.join(dir, 'app.log'), { onLine: (l) => seen.push(l) })
    expect(report.ok).toBe(true)
    expect(report.files).toEqual(files)
    expect(seen).toEqual(lines)
  })

  test('the verifier reads every member of a multi-member .gz to the real end (FORMAT.md §1)', async () => {
    const dir = tmpDir()
    const files = await writeLog(dir, Array.from({ length: 40 }, (_, i) => `line ${i}`), { size: 1024 })
    const first = fs.readFileSync(files[0]!)
    const cut = first.indexOf(0x0a, first.length >> 1) + 1
    fs.writeFileSync(files[0]! + '.gz', Buffer.concat([gzipSync(first.subarray(0, cut)), gzipSync(first.subarray(cut))]))
    fs.rmSync(files[0]!)
    const report = await verify(dir)
    expect(report.ok).toBe(true)
    expect(report.files[0]).toBe(files[0] + '.gz')
    expect(report.records).toBe(40 + files.length)
  })
})
