/**
 * The chain writer on one file: record layout, header, every kind of line
 * through the writer and back through the verifier, flush(), backpressure.
 */
import fs from 'node:fs'
import * as path from 'node:path'
import { once } from 'node:events'
import * as lockfile from 'proper-lockfile'
import { describe, expect, test } from 'vitest'
import { ChainlogError, createChainWriter, verify } from '../src/index'
import { createHashFn, escapeLine, GENESIS } from '../src/format'
import { fdPath, hashOf, logFiles, metaOf, openWriter, patchFs, physicalLines, prevOf, runPython, tmpDir, writeLog } from './helpers'

const sha = createHashFn('sha256')

async function readBack(file: string): Promise<{ lines: string[]; report: Awaited<ReturnType<typeof verify>> }> {
  const lines: string[] = []
  const report = await verify(file, { onLine: (l) => lines.push(l) })
  return { lines, report }
}

describe('records and the header (FORMAT.md §2, §5)', () => {
  test('every physical line is prev|line|hash, chained from GENESIS through the header', async () => {
    const dir = tmpDir()
    const t = Date.UTC(2026, 10, 22, 10, 0, 0)
    const [file] = await writeLog(dir, ['one', 'two', 'three'], { now: () => t, chainId: 'cd'.repeat(16) })
    expect(file).toBe(path.join(dir, 'app.1.log'))
    const raw = fs.readFileSync(file!)
    expect(raw.at(-1)).toBe(0x0a)
    const lines = physicalLines(file!)
    expect(lines).toHaveLength(4)
    let prev = GENESIS
    for (const l of lines) {
      const s = l.toString()
      expect(prevOf(s)).toBe(prev)
      expect(s[64]).toBe('|')
      expect(s[s.length - 65]).toBe('|')
      expect(hashOf(s)).toBe(sha(s.slice(0, -65)))
      prev = hashOf(s)
    }
    expect(metaOf(lines[0]!)).toEqual({ t: 'header', v: 1, alg: 'sha256', chain: 'cd'.repeat(16), index: 0, file: 'app.1.log', prevFile: null, prevHash: GENESIS, seq: 0, time: '2026-11-22T10:00:00.000Z' })
    expect(lines.slice(1).map((l) => l.toString().slice(65, -65))).toEqual(['one', 'two', 'three'])
  })

  test('a random chain id is 32 lowercase hex characters and exposed as writer.chain', async () => {
    const dir = tmpDir()
    const w = await openWriter({ file: path.join(dir, 'app.log') })
    expect(w.chain).toMatch(/^[0-9a-f]{32}$/)
    await w.close()
    expect(metaOf(physicalLines(w.file)[0]!)!.chain).toBe(w.chain)
  })

  test("'new' is emitted for the first file and head() tracks the chain", async () => {
    const dir = tmpDir()
    const seen: string[] = []
    const w = await createChainWriter({ file: path.join(dir, 'app.log') }, (writer) => writer.on('new', (p: string) => seen.push(p)))
    expect(seen).toEqual([path.join(dir, 'app.1.log')])
    for (let i = 0; i < 10; i++) w.write(`line ${i}`)
    await w.flush()
    const head = w.head()
    const last = physicalLines(w.file).at(-1)!
    expect(head).toMatchObject({ chain: w.chain, hash: hashOf(last), count: 11, file: path.join(dir, 'app.1.log'), index: 0 })
    await w.close()
    const { report } = await readBack(path.join(dir, 'app.log'))
    expect(report.head).toEqual({ hash: head.hash, count: head.count })
  })

  test('lines keep the order they were written in, across ticks and batches', async () => {
    const dir = tmpDir()
    const w = await openWriter({ file: path.join(dir, 'app.log') })
    const want: string[] = []
    for (let i = 0; i < 3000; i++) {
      const line = `{"i":${i},"pad":"${'x'.repeat(i % 300)}"}`
      want.push(line)
      w.write(line)
      if (i % 700 === 0) await new Promise((r) => setImmediate(r))
    }
    await w.close()
    const { lines, report } = await readBack(w.file)
    expect(report.ok).toBe(true)
    expect(lines).toEqual(want)
  })
})

describe('every kind of line round-trips through the writer and the verifier (FORMAT.md §3)', () => {
  const SPECIAL: [string, string][] = [
    ['empty', ''],
    ['pipes', '|a||b|c|'],
    ['NUL', 'nul\u0000byte\u0000'],
    ['lone high surrogate', 'lone \ud800 high'],
    ['lone low surrogate at the end', 'lone low \udc00'],
    ['surrogate pair', 'emoji \ud83d\ude00'],
    ['LF', 'Error: boom\n    at main (app.js:1:1)'],
    ['CRLF', 'a\r\nb'],
    ['bare CR', 'carriage\rreturn'],
    ['trailing LF', 'ends with a newline\n'],
    ['only LF', '\n'],
    ['leading backslash', '\\starts'],
    ['literal \\n text', 'not a newline: \\n'],
    ['imitates a header', `\\m{"t":"header","v":1,"alg":"sha256","chain":"${'0'.repeat(32)}","index":0,"file":"x.1.log","prevFile":null,"prevHash":"${GENESIS}","seq":0,"time":"2026-01-01T00:00:00.000Z"}`],
    ['imitates a retention record', `\\m{"t":"retention","time":"2026-01-01T00:00:00.000Z","deleted":[{"file":"app.1.log","index":0,"lastHash":"${'a'.repeat(64)}","records":3}]}`],
    ['imitates a recovery record', '\\m{"t":"recovery","reason":"torn-tail","length":1,"sha256":"x"}'],
    ['imitates an escaped line', '\\e\\n'],
    ['imitates a whole record', `${GENESIS}|{"msg":"forged"}|${'a'.repeat(64)}`],
    ['imitates a record with a newline', `${GENESIS}|x|${'a'.repeat(64)}\n${'a'.repeat(64)}|y|${'b'.repeat(64)}`],
    ['non-ASCII', 'héllo wörld ✓ 日本語'],
  ]

  test('each line is stored in its documented form and read back exactly, as data only', async () => {
    const dir = tmpDir()
    const lines = SPECIAL.map(([, l]) => l)
    const [file] = await writeLog(dir, lines)
    const physical = physicalLines(file!)
    // One physical line per record: the header and one per user line, nothing else.
    expect(physical).toHaveLength(lines.length + 1)
    for (let i = 0; i < lines.length; i++) {
      const s = physical[i + 1]!.toString('utf8')
      expect(s.slice(65, -65), SPECIAL[i]![0]).toBe(escapeLine(lines[i]!))
      expect(s.slice(65, -65).startsWith('\\m'), SPECIAL[i]![0]).toBe(false)
    }
    const { lines: back, report } = await readBack(file!)
    expect(report.ok).toBe(true)
    expect(back).toEqual(lines)
    // Nothing the user logged was taken for metadata.
    expect(report.files).toEqual([file])
    expect(report.retention).toEqual([])
    expect(report.recovered).toEqual([])
    expect(report.records).toBe(lines.length + 1)
    expect(report.firstLine).toBe(lines[0])
    expect(report.lastLine).toBe(lines.at(-1))
  })

  test('lines given as UTF-8 bytes are stored like the same string; other bytes are INVALID_LINE and not logged', async () => {
    const dir = tmpDir()
    const w = await openWriter({ file: path.join(dir, 'app.log') })
    w.write(Buffer.from('bytes ✓\nline'))
    w.write(new TextEncoder().encode('typed array'))
    expect(() => w.write(Buffer.from([0x61, 0xff, 0x62]))).toThrow(expect.objectContaining({ code: 'INVALID_LINE' }))
    expect(() => w.write(Buffer.from([0xed, 0xa0, 0x80]))).toThrow(expect.objectContaining({ code: 'INVALID_LINE' })) // an encoded lone surrogate
    expect(() => w.write(42 as unknown as string)).toThrow(TypeError)
    w.write('after')
    await w.close()
    expect((await readBack(w.file)).lines).toEqual(['bytes ✓\nline', 'typed array', 'after'])
  })

  test('multi-megabyte lines (plain, multi-byte, escaped) go through whole and come back via onLine', async () => {
    const dir = tmpDir()
    const big = [
      'a'.repeat(5 * 1024 * 1024), // more than the verifier's 4 MiB read chunk
      'é✓日'.repeat(400_000) + '|end', // about 3.6 MB of UTF-8
      ('stack frame\n' + 'x'.repeat(500)).repeat(6000) + '\\', // escaped, about 3 MB
      'small after',
    ]
    const [file, ...more] = await writeLog(dir, big, { size: '1m' })
    // Larger than `size`, so each big record is alone in its file after the header: never split.
    expect(more).toHaveLength(3)
    const sizes = [file!, ...more].map((f) => physicalLines(f).length)
    expect(sizes).toEqual([2, 2, 2, 2])
    const seen: string[] = []
    const report = await verify(dir, { onLine: (l) => seen.push(l) })
    expect(report.ok).toBe(true)
    expect(seen.length).toBe(big.length)
    for (let i = 0; i < big.length; i++) expect(seen[i] === big[i], `line ${i}`).toBe(true)
    expect(runPython(logFiles(dir)).status).toBe(0)
  })
})

describe('flush() and close()', () => {
  test('once flush() resolves, every line written before it is in the file', async () => {
    const dir = tmpDir()
    const w = await openWriter({ file: path.join(dir, 'app.log') })
    for (let round = 1; round <= 5; round++) {
      for (let i = 0; i < round * 100; i++) w.write(`r${round} l${i}`)
      await w.flush()
      const lines = physicalLines(w.file)
      expect(lines.at(-1)!.toString().slice(65, -65)).toBe(`r${round} l${round * 100 - 1}`)
      expect(fs.readFileSync(w.file).at(-1)).toBe(0x0a)
    }
    await w.flush() // nothing pending
    await w.close()
  })

  test('with fsync: true the file was fsynced after its last write when flush() resolves', async () => {
    const dir = tmpDir()
    const events: string[] = []
    const inDir = (fd: number) => (fdPath(fd) ?? '').startsWith(fs.realpathSync(dir))
    const realWriteSync = fs.writeSync
    const realFsyncSync = fs.fsyncSync
    const realFsync = fs.fsync
    patchFs('writeSync', function (this: unknown, fd: number, ...rest: unknown[]) {
      if (inDir(fd)) events.push('write')
      return (realWriteSync as (...a: unknown[]) => number).call(this, fd, ...rest)
    } as typeof fs.writeSync)
    patchFs('fsyncSync', ((fd: number) => {
      if (inDir(fd)) events.push('fsync')
      return realFsyncSync(fd)
    }) as typeof fs.fsyncSync)
    patchFs('fsync', ((fd: number, cb: fs.NoParamCallback) => {
      if (inDir(fd)) events.push('fsync')
      return realFsync(fd, cb)
    }) as typeof fs.fsync)
    const w = await openWriter({ file: path.join(dir, 'app.log'), fsync: true })
    events.length = 0
    for (let i = 0; i < 100; i++) w.write(`line ${i}`)
    await w.flush()
    expect(events).toContain('write')
    expect(events.at(-1)).toBe('fsync')
    await w.close()
  })

  test('close() writes what is queued, resolves once, and later writes throw WRITER_CLOSED', async () => {
    const dir = tmpDir()
    const w = await createChainWriter({ file: path.join(dir, 'app.log') })
    for (let i = 0; i < 50; i++) w.write(`l${i}`)
    const closed = once(w, 'close')
    const a = w.close()
    expect(w.close()).toBe(a)
    expect(() => w.write('late')).toThrow(expect.objectContaining({ code: 'WRITER_CLOSED' }))
    await a
    await closed
    expect(w.isClosed).toBe(true)
    expect(() => w.write('later')).toThrow(ChainlogError)
    expect(physicalLines(w.file)).toHaveLength(51)
  })

  test('files are created with the given mode', async () => {
    const dir = tmpDir()
    const [file] = await writeLog(dir, ['x'], { mode: 0o600 })
    expect(fs.statSync(file!).mode & 0o777).toBe(0o600)
  })
})

describe('backpressure', () => {
  test("write() returns false while lines wait (here: another writer holds the log's lock) and 'drain' follows", async () => {
    const dir = tmpDir()
    const base = path.join(dir, 'app.log')
    const w = await openWriter({ file: base, highWaterMark: '1m' })
    // Another process holds the lock on the log (FORMAT.md §12): nothing can be appended meanwhile.
    const release = lockfile.lockSync(base, { realpath: false, stale: 60_000 })
    let n = 0
    const line = 'y'.repeat(10_000)
    while (w.write(`${n} ${line}`)) {
      n++
      expect(n).toBeLessThan(10_000)
    }
    n++
    // It stops accepting politely well before running away with memory.
    expect(n).toBeLessThan(1000)
    const drained = once(w, 'drain')
    release()
    await drained
    await w.close()
    const { lines, report } = await readBack(w.file)
    expect(report.ok).toBe(true)
    expect(lines).toEqual(Array.from({ length: n }, (_, i) => `${i} ${line}`))
  })
})
