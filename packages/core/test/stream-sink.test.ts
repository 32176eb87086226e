/**
 * A chain on a stream (#15): the writer's queue, seals and exit flush over a
 * writable stream and a file descriptor, batches within PIPE_BUF, EAGAIN
 * waited out and partial writes continued, and every option about files
 * refused with its reason.
 */
import fs from 'node:fs'
import * as path from 'node:path'
import { PassThrough, Readable, Writable } from 'node:stream'
import { syncBuiltinESMExports } from 'node:module'
import { afterEach, describe, expect, test, vi } from 'vitest'
import { createChainWriter, generateSealKeys, loadVerifyKey, verify, writeSealKeys } from '../src/index'
import { PIPE_BUF } from '../src/stream-sink'
import { parseRecord } from '../src/format'
import { tmpDir } from './helpers'

/** A writable stream that keeps every chunk it is given, as given (taking each at once with `sync`, as process.stdout does a pipe on Linux). */
function collector(sync = false): { stream: Writable; chunks: Buffer[]; text: () => string } {
  const chunks: Buffer[] = []
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      chunks.push(chunk)
      if (sync) cb()
      else setImmediate(cb)
    },
  })
  return { stream, chunks, text: () => Buffer.concat(chunks).toString('utf8') }
}

const verifyText = (text: string, options = {}) => verify(Readable.from([Buffer.from(text)]), options)

afterEach(() => {
  vi.restoreAllMocks()
  syncBuiltinESMExports()
})

describe('a chain on a writable stream', () => {
  test('a new chain at each start, whose header names the stream; batches of whole records within PIPE_BUF', async () => {
    const c = collector()
    const w = await createChainWriter({ destination: c.stream })
    expect(w.file).toBe('stream')
    for (let i = 0; i < 2000; i++) w.write(JSON.stringify({ i, msg: 'm'.repeat(i % 300) }))
    await w.close()
    expect(c.chunks.length).toBeGreaterThan(100)
    for (const chunk of c.chunks) {
      // Each chunk ends a record; one larger than PIPE_BUF holds that record alone.
      expect(chunk.at(-1)).toBe(0x0a)
      const n = chunk.toString().split('\n').length - 1
      if (chunk.length > PIPE_BUF) expect(n).toBe(1)
    }
    const header = JSON.parse(parseRecord(c.text().split('\n')[0]!)!.line.slice(2)) as object
    expect(header).toMatchObject({ t: 'header', index: 0, file: 'stream', prevFile: null, seq: 0, chain: w.chain })
    const report = await verifyText(c.text())
    expect(report.verdict).toBe('VALID')
    expect(report.records).toBe(2001)
    // A second start is a second chain: the stream cannot be read back to continue the first.
    const again = await createChainWriter({ destination: c.stream })
    expect(again.chain).not.toBe(w.chain)
    await again.close()
  })

  test('a record larger than PIPE_BUF goes in one write of its own', async () => {
    const c = collector()
    const w = await createChainWriter({ destination: c.stream })
    w.write('a')
    w.write('b'.repeat(10_000))
    w.write('c')
    await w.close()
    const big = c.chunks.filter((chunk) => chunk.includes('bbbb'))
    expect(big).toHaveLength(1)
    expect(big[0]!.toString().split('\n')).toHaveLength(2)
    expect((await verifyText(c.text())).verdict).toBe('VALID')
  })

  test('seals carry over: a stream chain sealed at close verifies against the key', async () => {
    const dir = tmpDir()
    const { sealKey, verifyKey } = writeSealKeys(dir, generateSealKeys({ interval: 1000, epochs: 8 }))
    const c = collector()
    const w = await createChainWriter({ destination: c.stream, sealKey, sealEvery: 100 })
    for (let i = 0; i < 350; i++) w.write(`line ${i}`)
    await w.close()
    // The start seal (every open seals, #12 A2), three by count (sealEvery: 100), and the closing seal.
    const seals = c.text().split('\n').filter((l) => l.includes('"t":"seal"'))
    expect(seals.length).toBe(5)
    const report = await verifyText(c.text(), { verifyKey: loadVerifyKey(verifyKey) })
    expect(report.verdict).toBe('VALID')
  })

  test('flushSync() on the exit path hands every queued line to the stream, a partial last line too', async () => {
    const c = collector(true)
    const w = await createChainWriter({ destination: c.stream })
    w.writeChunk('{"a":1}\n{"b"')
    w.flushSync()
    expect(c.text().split('\n').filter(Boolean)).toHaveLength(3)
    await w.close()
  })

  test("a stream's error is the writer's 'error', and the lines wait for a retry that cannot come", async () => {
    const broken = new PassThrough()
    const w = await createChainWriter({ destination: broken })
    const errors: Error[] = []
    w.on('error', (err) => errors.push(err))
    broken.destroy(Object.assign(new Error('write EPIPE'), { code: 'EPIPE' }))
    await new Promise((resolve) => setImmediate(resolve))
    w.write('after the reader went away')
    await expect(w.flush()).rejects.toMatchObject({ code: 'IO_ERROR' })
    expect(errors.map((e) => (e as { code?: string }).code)).toContain('IO_ERROR')
  })
})

describe('a chain on a file descriptor', () => {
  test('EAGAIN is waited out and a partial write goes on with the rest: the bytes arrive whole and in order', async () => {
    const dir = tmpDir()
    const file = path.join(dir, 'fd.log')
    const fd = fs.openSync(file, 'w')
    const real = fs.writeSync
    let calls = 0
    vi.spyOn(fs, 'writeSync').mockImplementation(((target: number, buf: Buffer, off?: number, len?: number) => {
      if (target !== fd) return (real as (...a: unknown[]) => number)(target, buf, off, len)
      calls++
      if (calls % 3 === 1) throw Object.assign(new Error('EAGAIN: resource temporarily unavailable, write'), { code: 'EAGAIN' })
      // The kernel takes part of it: at most 1000 bytes.
      return real(target, buf, off ?? 0, Math.min(len ?? buf.length, 1000))
    }) as typeof fs.writeSync)
    syncBuiltinESMExports()
    const w = await createChainWriter({ destination: fd })
    expect(w.file).toBe(`fd ${fd}`)
    for (let i = 0; i < 500; i++) w.write(`record ${i} ${'z'.repeat(i % 90)}`)
    await w.close()
    vi.restoreAllMocks()
    syncBuiltinESMExports()
    fs.closeSync(fd)
    expect(calls).toBeGreaterThan(30)
    const report = await verify(file)
    expect(report.verdict).toBe('VALID')
    expect(report.records).toBe(501)
  })
})

describe('options about files are refused beside destination, with the reason', () => {
  test.each([
    ['file', { file: 'logs/app.log' }, /^INVALID_OPTION: file cannot be used with destination \(stdout\): give either file .* or destination/],
    ['size', { size: '10m' }, /^INVALID_OPTION: size cannot be used with destination \(stdout\): a stream does not rotate/],
    ['frequency', { frequency: 'daily' }, /^INVALID_OPTION: frequency cannot be used with destination \(stdout\): a stream does not rotate/],
    ['limit', { limit: { count: 3 } }, /^INVALID_OPTION: limit cannot be used with destination \(stdout\): a stream keeps no files to delete/],
    ['symlink', { symlink: true }, /^INVALID_OPTION: symlink cannot be used with destination \(stdout\): a stream has no current file/],
    ['compress', { compress: true }, /^INVALID_OPTION: compress cannot be used with destination \(stdout\): a stream has no rotated files/],
    ['fsync', { fsync: true }, /^INVALID_OPTION: fsync cannot be used with destination \(stdout\): a stream has no disk/],
    ['append', { append: false }, /^INVALID_OPTION: append cannot be used with destination \(stdout\): a stream cannot be read back/],
    ['mode', { mode: 0o640 }, /^INVALID_OPTION: mode cannot be used with destination \(stdout\)/],
    ['mkdir', { mkdir: true }, /^INVALID_OPTION: mkdir cannot be used with destination \(stdout\)/],
    ['dateFormat', { dateFormat: 'yyyy-MM-dd' }, /^INVALID_OPTION: dateFormat cannot be used with destination \(stdout\): a stream has no file names/],
  ])('%s', async (_name, given, message) => {
    await expect(createChainWriter({ destination: 1, ...given })).rejects.toThrow(message)
  })

  test.each([
    [0, /^INVALID_OPTION: destination must be 1 \(stdout\), 2 \(stderr\), another open file descriptor, or a writable stream; got 0/],
    ['stdout', /got "stdout"/],
    [{ write: 1 }, /got an object that is not a writable stream/],
  ])('destination %j is refused', async (destination, message) => {
    await expect(createChainWriter({ destination: destination as never })).rejects.toThrow(message)
  })

  test('neither file nor destination', async () => {
    await expect(createChainWriter({} as never)).rejects.toThrow(/^INVALID_OPTION: file must be a non-empty path .* or give destination for a stream \(1 for stdout\)/)
  })

  test('stderr is named as such', async () => {
    await expect(createChainWriter({ destination: 2, size: 1 << 20 })).rejects.toThrow(/destination \(stderr\)/)
  })
})
