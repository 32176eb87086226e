/**
 * ChainWriter.writeChunk(): a logger's output cut anywhere (mid-line, mid
 * character) gives exactly the records one write() per line gives, byte for
 * byte; the text after the last LF waits for the rest of its line, and a last
 * line without newline is written at close() and flushSync(). With
 * `refuse: 'count'`, a failing disk past maxBuffered refuses chunks without
 * throwing, and 'resume' counts them.
 */
import { createHash } from 'node:crypto'
import fs from 'node:fs'
import * as path from 'node:path'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { createChainWriter, openChainWriter, verify, type ChainWriter, type ChainWriterOptions } from '../src/index'
import { fakeDisk, logFiles, tmpDir } from './helpers'

const fixed = (): Partial<ChainWriterOptions> => {
  let t = Date.UTC(2026, 10, 22)
  return { now: () => (t += 1), chainId: 'ab'.repeat(16) }
}

/** The files' bytes after writing `text` as `chunks` (cut points), or as one write() per line (split at LF; a last line without LF too). */
async function logBytes(text: string, how: { cuts: number[] } | 'write', options: Partial<ChainWriterOptions> = {}): Promise<Buffer[]> {
  const dir = tmpDir()
  const w = await createChainWriter({ file: path.join(dir, 'app.log'), ...fixed(), ...options })
  if (how === 'write') {
    const lines = text.split('\n')
    if (lines.at(-1) === '') lines.pop()
    for (const line of lines) w.write(line)
  } else {
    let from = 0
    for (const cut of [...how.cuts, text.length]) {
      w.writeChunk(text.slice(from, cut))
      from = cut
    }
  }
  await w.close()
  expect((await verify(dir)).ok).toBe(true)
  return logFiles(dir).map((f) => fs.readFileSync(f))
}

const digests = (files: Buffer[]): string[] => files.map((b) => `${b.length}:${createHash('sha256').update(b).digest('hex')}`)
const stored = (dir: string): string[] => logFiles(dir).flatMap((f) => fs.readFileSync(f, 'utf8').split('\n').slice(1, -1)).map((r) => r.slice(65, -65))
const pinoLine = (i: number): string => `{"level":30,"time":${1763787300000 + i},"pid":4242,"hostname":"h","req":${i},"msg":"request ☃ 😀 completed"}`

describe('writeChunk', () => {
  it('writes the same bytes as write() per line, for chunks cut mid-line and between the halves of a surrogate pair', async () => {
    const text = Array.from({ length: 3000 }, (_, i) => pinoLine(i) + '\n').join('')
    const smile = text.indexOf('😀')
    // Cuts: inside a line, right after an LF, between the two UTF-16 units of 😀, and several in one line.
    const cuts = [10, text.indexOf('\n') + 1, smile + 1, smile + 2, smile + 3, 40_000, 40_001, 150_000].sort((x, y) => x - y)
    const a = await logBytes(text, { cuts })
    expect(digests(a)).toEqual(digests(await logBytes(text, 'write')))
    expect(a[0]!.toString().split('\n').length).toBe(3002)
  })

  it('matches write() for any lines cut at any points, with escapes and a last line without newline (fast-check)', async () => {
    const unit = fc.constantFrom('a', 'é', '\\', '\r', '😀', '\ud800', '{', ' ', '\n', '\n')
    await fc.assert(
      fc.asyncProperty(fc.string({ unit, minLength: 1, maxLength: 60 }), fc.array(fc.nat(), { maxLength: 8 }), async (text, raw) => {
        const cuts = [...new Set(raw.map((n) => n % text.length))].sort((x, y) => x - y)
        expect(digests(await logBytes(text, { cuts }, { size: '1k' }))).toEqual(digests(await logBytes(text, 'write', { size: '1k' })))
      }),
      { numRuns: 40 },
    )
  })

  it('keeps the text after the last LF until its line ends', async () => {
    const dir = tmpDir()
    const w = await createChainWriter({ file: path.join(dir, 'app.log') })
    w.writeChunk('one\ntw')
    w.writeChunk('o')
    await w.flush()
    expect(stored(dir)).toEqual(['one'])
    w.writeChunk('\nthree\n')
    await w.flush()
    expect(stored(dir)).toEqual(['one', 'two', 'three'])
    await w.close()
  })

  it('writes a last line without newline as a record at close()', async () => {
    const dir = tmpDir()
    const w = await createChainWriter({ file: path.join(dir, 'app.log') })
    w.writeChunk('a\nb\r')
    await w.close()
    expect(stored(dir)).toEqual(['a', '\\eb\\r'])
    expect((await verify(dir)).ok).toBe(true)
    expect(() => w.writeChunk('late')).toThrow(expect.objectContaining({ code: 'WRITER_CLOSED' }))
  })

  it('writes a last line without newline at flushSync()', async () => {
    const dir = tmpDir()
    const w = await createChainWriter({ file: path.join(dir, 'app.log') })
    w.writeChunk('x\npartial')
    w.flushSync()
    expect(stored(dir)).toEqual(['x', 'partial'])
    await w.close()
    expect(stored(dir)).toEqual(['x', 'partial'])
  })

  it("with refuse: 'count', refuses chunks past maxBuffered without throwing; one error, and resume counts the lines", async () => {
    const dir = tmpDir()
    const w = openChainWriter({ file: path.join(dir, 'app.log'), maxBuffered: '4k' }, { refuse: 'count' })
    const errors: string[] = []
    w.on('error', (err) => errors.push(err.code))
    await new Promise<void>((resolve) => w.once('ready', () => resolve()))
    const disk = fakeDisk(dir, 0)
    const chunk = (from: number) => Array.from({ length: 50 }, (_, i) => pinoLine(from + i) + '\n').join('')
    w.writeChunk(chunk(0))
    await expect(w.flush()).rejects.toMatchObject({ code: 'DISK_FULL' })
    // 50 lines wait (more than 4k): every chunk from here is refused, and nothing throws.
    for (let k = 1; k <= 4; k++) expect(w.writeChunk(chunk(k * 50))).toBe(false)
    expect(w.write('one more')).toBe(false)
    expect(errors).toEqual(['DISK_FULL', 'BUFFER_FULL'])
    const resumed = new Promise<{ refused: number }>((resolve) => w.once('resume', resolve))
    disk.free = 1e9
    expect(await resumed).toEqual({ refused: 201 })
    // The waiting lines went through: the writer takes lines again.
    expect(w.writeChunk('after\n')).toBe(true)
    await w.close()
    const report = await verify(dir)
    expect(report.ok).toBe(true)
    expect(report.records).toBe(1 + 50 + 1)
    expect(stored(dir).at(-1)).toBe('after')
  })

  it("without refuse: 'count', a refused chunk throws BUFFER_FULL as writeLines() does, and its tail is kept", async () => {
    const dir = tmpDir()
    const w: ChainWriter = await createChainWriter({ file: path.join(dir, 'app.log'), maxBuffered: '4k' })
    w.on('error', () => {})
    const disk = fakeDisk(dir, 0)
    w.writeChunk(Array.from({ length: 50 }, (_, i) => pinoLine(i) + '\n').join(''))
    await expect(w.flush()).rejects.toMatchObject({ code: 'DISK_FULL' })
    expect(() => w.writeChunk('refused\nstart of ')).toThrow(expect.objectContaining({ code: 'BUFFER_FULL' }))
    disk.free = 1e9
    await new Promise<void>((resolve) => w.once('resume', () => resolve()))
    w.writeChunk('a line\n')
    await w.close()
    expect(stored(dir).slice(-2)).toEqual([pinoLine(49), 'start of a line'])
  })
})
