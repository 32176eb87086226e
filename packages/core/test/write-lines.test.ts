/**
 * ChainWriter.writeLines(): a chunk of LF-terminated lines gives exactly the
 * records one write() per line gives, byte for byte, whether the chunk is
 * queued as a block of bytes or line by line (when it needs escapes), across
 * batch boundaries, rotation, flush and a failing disk.
 */
import { createHash } from 'node:crypto'
import fs from 'node:fs'
import * as path from 'node:path'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { createChainWriter, verify, type ChainWriterOptions } from '../src/index'
import { fakeDisk, logFiles, tmpDir } from './helpers'

const fixed = (): Partial<ChainWriterOptions> => {
  let t = Date.UTC(2026, 10, 22)
  return { now: () => (t += 1), chainId: 'ab'.repeat(16) }
}

/** The files' bytes after writing `chunks` one way or the other. */
async function logBytes(chunks: string[], mode: 'lines' | 'write', options: Partial<ChainWriterOptions> = {}): Promise<Buffer[]> {
  const dir = tmpDir()
  const w = await createChainWriter({ file: path.join(dir, 'app.log'), ...fixed(), ...options })
  for (const chunk of chunks) {
    if (mode === 'lines') w.writeLines(chunk)
    else for (const line of chunk.split('\n').slice(0, -1)) w.write(line)
  }
  await w.close()
  const report = await verify(dir)
  expect(report.ok).toBe(true)
  return logFiles(dir).map((f) => fs.readFileSync(f))
}

/** One digest per file: a mismatch shows which file differs, and comparing stays fast. */
const digests = (files: Buffer[]): string[] => files.map((b) => `${b.length}:${createHash('sha256').update(b).digest('hex')}`)

const pinoLine = (i: number): string => `{"level":30,"time":${1763787300000 + i},"pid":4242,"hostname":"h","req":${i},"msg":"request completed"}`

describe('writeLines', () => {
  it('writes the same bytes as one write() per line, for plain pino output', async () => {
    const chunks = [Array.from({ length: 5000 }, (_, i) => pinoLine(i) + '\n').join(''), pinoLine(5000) + '\n']
    const a = await logBytes(chunks, 'lines')
    expect(digests(a)).toEqual(digests(await logBytes(chunks, 'write')))
    const lines = a[0]!.toString().split('\n')
    // header + 5001 lines + the trailing empty string after the last LF
    expect(lines.length).toBe(5003)
    expect(lines[5001]!.slice(65, -65)).toBe(pinoLine(5000))
  })

  it('escapes lines exactly as write() does: CR, a leading backslash, lone surrogates, empty lines, non-ASCII', async () => {
    const chunks = ['a\rb\n', '\\m{"forged":1}\n', 'x\n\\e\n', 'lone \ud800 surrogate\n', '\n\n', 'héllo wörld ☃ 😀\n', 'plain\n']
    expect(digests(await logBytes(chunks, 'lines'))).toEqual(digests(await logBytes(chunks, 'write')))
  })

  it('cuts a block across batches and rotates between its lines', async () => {
    // 3 MB of lines against 256 KiB batches and 100 KiB files.
    const chunk = Array.from({ length: 20000 }, (_, i) => pinoLine(i) + '\n').join('')
    const a = await logBytes([chunk], 'lines', { size: '100k' })
    expect(a.length).toBeGreaterThan(20)
    for (const bytes of a) expect(bytes.length).toBeLessThanOrEqual(100 * 1024)
    expect(digests(a)).toEqual(digests(await logBytes([chunk], 'write', { size: '100k' })))
  })

  it('keeps a line larger than a batch whole, in a block with small ones', async () => {
    const chunks = ['small\n' + 'x'.repeat(1_000_000) + '\nafter\n']
    const a = await logBytes(chunks, 'lines', { size: '512k' })
    expect(digests(a)).toEqual(digests(await logBytes(chunks, 'write', { size: '512k' })))
    expect(a.some((b) => b.includes('x'.repeat(1_000_000)))).toBe(true)
  })

  it('matches write() for any chunking of any lines (fast-check)', async () => {
    const line = fc.string({ unit: fc.constantFrom('a', 'é', '\\', '\r', '😀', '\ud800', '{', '"', ' '), maxLength: 12 })
    await fc.assert(
      fc.asyncProperty(fc.array(fc.array(line, { minLength: 0, maxLength: 6 }), { minLength: 1, maxLength: 5 }), async (groups) => {
        const chunks = groups.map((g) => g.map((l) => l + '\n').join(''))
        expect(digests(await logBytes(chunks, 'lines', { size: '1k' }))).toEqual(digests(await logBytes(chunks, 'write', { size: '1k' })))
      }),
      { numRuns: 40 },
    )
  })

  it('flush() waits for a whole block; an empty chunk is a no-op', async () => {
    const dir = tmpDir()
    const w = await createChainWriter({ file: path.join(dir, 'app.log') })
    expect(w.writeLines('')).toBe(true)
    w.writeLines('one\ntwo\nthree\n')
    await w.flush()
    expect(w.head().count).toBe(4)
    await w.close()
  })

  it('refuses text that does not end with a newline, and writing after close()', async () => {
    const dir = tmpDir()
    const w = await createChainWriter({ file: path.join(dir, 'app.log') })
    expect(() => w.writeLines('one\ntwo')).toThrow(expect.objectContaining({ code: 'INVALID_LINE' }))
    await w.close()
    expect(() => w.writeLines('three\n')).toThrow(expect.objectContaining({ code: 'WRITER_CLOSED' }))
  })

  it('signals backpressure by the bytes a block holds', async () => {
    const dir = tmpDir()
    const w = await createChainWriter({ file: path.join(dir, 'app.log'), highWaterMark: 64 * 1024 })
    const chunk = Array.from({ length: 2000 }, (_, i) => pinoLine(i) + '\n').join('')
    expect(w.writeLines(chunk)).toBe(false)
    await new Promise<void>((resolve) => w.once('drain', () => resolve()))
    await w.close()
    expect((await verify(dir)).records).toBe(2001)
  })

  it('keeps a block through a full disk, cut mid-block, and appends the rest in order once space returns', async () => {
    const dir = tmpDir()
    const w = await createChainWriter({ file: path.join(dir, 'app.log') })
    const errors: Error[] = []
    w.on('error', (err) => errors.push(err))
    const disk = fakeDisk(dir, 50_000)
    w.writeLines(Array.from({ length: 3000 }, (_, i) => pinoLine(i) + '\n').join(''))
    await expect(w.flush()).rejects.toMatchObject({ code: 'DISK_FULL' })
    expect(disk.failures + disk.shortWrites).toBeGreaterThan(0)
    disk.free = 1e9
    await new Promise((resolve) => w.once('resume', resolve))
    await w.close()
    expect(errors).toHaveLength(1)
    const report = await verify(dir)
    expect(report.ok).toBe(true)
    expect(report.records).toBe(3001)
    const lines = logFiles(dir).flatMap((f) => fs.readFileSync(f, 'utf8').split('\n').slice(1, -1)).map((r) => r.slice(65, -65))
    expect(lines).toEqual(Array.from({ length: 3000 }, (_, i) => pinoLine(i)))
  })
  it('past maxBuffered, refuses a chunk whole: the first refusal is an error event, and resume counts every refused line', async () => {
    const dir = tmpDir()
    const w = await createChainWriter({ file: path.join(dir, 'app.log'), maxBuffered: '8k' })
    const errors: string[] = []
    w.on('error', (err: Error & { code?: string }) => errors.push(err.code ?? err.message))
    const disk = fakeDisk(dir, 0)
    const chunk = (from: number) => Array.from({ length: 50 }, (_, i) => pinoLine(from + i) + '\n').join('')
    w.writeLines(chunk(0))
    await expect(w.flush()).rejects.toMatchObject({ code: 'DISK_FULL' })
    let refused = 0
    let accepted = 50
    for (let k = 1; k <= 4; k++) {
      try {
        w.writeLines(chunk(k * 50))
        accepted += 50
      } catch (err) {
        expect(err).toMatchObject({ code: 'BUFFER_FULL', message: expect.stringMatching(/^BUFFER_FULL: 50 lines were not logged/) })
        refused += 50
      }
    }
    try {
      w.write('one more')
      accepted++
    } catch (err) {
      expect(err).toMatchObject({ code: 'BUFFER_FULL', message: expect.stringMatching(/^BUFFER_FULL: the line was not logged/) })
      refused += 1
    }
    expect(refused).toBeGreaterThan(50)
    expect(errors).toEqual(['DISK_FULL', 'BUFFER_FULL'])
    const resumed = new Promise<{ refused: number }>((resolve) => w.once('resume', resolve))
    disk.free = 1e9
    expect(await resumed).toEqual({ refused })
    await w.close()
    const report = await verify(dir)
    expect(report.ok).toBe(true)
    // The header and every line not refused.
    expect(accepted + refused).toBe(251)
    expect(report.records).toBe(1 + accepted)
  })
})
