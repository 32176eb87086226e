import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { describe, expect, test } from 'vitest'
import pino from 'pino'
import { chainlog, Events, exitOnSignals, resolveOptions } from '../src/index'

describe('resolveOptions', () => {
  test('pino-roll and sonic-boom names pass to core; size is megabytes when bare, as in pino-roll', () => {
    expect(resolveOptions({ file: 'logs/app.log', size: 10, frequency: 'daily', limit: { count: 3 }, mkdir: true, symlink: true, extension: '.log', dateFormat: 'yyyy-MM-dd', fsync: true, mode: 0o640, append: false, algorithm: 'blake3' })).toEqual({
      writer: { file: 'logs/app.log', size: 10 * 1024 * 1024, frequency: 'daily', limit: { count: 3 }, mkdir: true, symlink: true, extension: '.log', dateFormat: 'yyyy-MM-dd', fsync: true, mode: 0o640, append: false, algorithm: 'blake3' },
    })
    expect(resolveOptions({ file: 'a.log', size: '10' }).writer.size).toBe('10m')
    expect(resolveOptions({ file: 'a.log', size: '512k' }).writer.size).toBe('512k')
  })

  test('limit.count follows one rule, core\'s: 0 keeps the current file only (pino-roll refuses 0, so no pino-roll configuration holds it)', () => {
    expect(resolveOptions({ file: 'a.log', limit: { count: 0 } }).writer.limit).toEqual({ count: 0 })
  })

  test('what pino and thread-stream add to the options is ignored', () => {
    expect(resolveOptions({ file: 'a.log', pinoWillSendConfig: true, $context: { threadStreamVersion: '4' } }).writer).toEqual({ file: 'a.log' })
  })

  test.each([
    [{}, /file is required/],
    [{ file: 'a.log', sync: true }, /sync is not supported/],
    [{ file: 'a.log', limit: { count: -1 } }, /limit.count must be a whole number >= 0/],
    [{ file: 'a.log', limit: { count: 2, removeOtherLogFiles: true } }, /removeOtherLogFiles is not supported/],
    [{ file: 'a.log', size: -1 }, /size must be/],
    [{ file: 'a.log', headInterval: 1 }, /headInterval/],
    [{ file: 'a.log', frequncy: 'daily' }, /unknown option "frequncy"/],
  ])('%j is refused with INVALID_OPTION', (bad, why) => {
    expect(() => resolveOptions(bad)).toThrow(expect.objectContaining({ code: 'INVALID_OPTION', message: expect.stringMatching(why) }))
  })

  test('core checks the values it takes: a bad frequency fails chainlog() before any file is made', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'chainlog-popt-'))
    await expect(chainlog({ file: path.join(dir, 'app.log'), frequency: 'weekly' as 'daily' })).rejects.toMatchObject({ code: 'INVALID_OPTION' })
    expect(fs.readdirSync(dir)).toEqual([])
    fs.rmSync(dir, { recursive: true })
  })
})

describe('configuration errors fail closed (#13)', () => {
  test.each([
    ['mode', { mode: 'rw-r-----' }, /^INVALID_OPTION: mode must be a file mode/],
    ['maxBuffered', { maxBuffered: 0 }, /^INVALID_OPTION: maxBuffered must be a positive number/],
    ['algorithm', { algorithm: 'md5' }, /^INVALID_OPTION: algorithm must be one of/],
    ['frequency', { frequency: 'weekly' }, /^INVALID_OPTION: frequency must be/],
    ['sealEvery', { sealEvery: 0 }, /^INVALID_OPTION: sealEvery must be at least 1/],
    ['a key for sha256', { keyFile: 'chain.key' }, /^INVALID_OPTION: a key was given but algorithm is sha256/],
  ])('resolveOptions checks the value of %s at once, as core would when opening', (_name, bad, message) => {
    expect(() => resolveOptions({ file: 'logs/app.log', ...bad })).toThrow(message)
  })

  test('in the main thread, the promise chainlog() returns rejects: for a bad option before anything is made, for a missing directory when opening', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'chainlog-popt-'))
    await expect(chainlog({ file: path.join(dir, 'app.log'), mode: 'rw' })).rejects.toMatchObject({ code: 'INVALID_OPTION' })
    expect(fs.readdirSync(dir)).toEqual([])
    await expect(chainlog({ file: path.join(dir, 'missing', 'app.log') })).rejects.toMatchObject({ code: 'NO_DIRECTORY', message: expect.stringMatching(/^NO_DIRECTORY: .*set mkdir: true/) })
    await expect(chainlog({ file: path.join(dir, 'app.log'), algorithm: 'hmac-sha256', keyFile: path.join(dir, 'missing.key') })).rejects.toMatchObject({ code: 'BAD_KEY' })
    expect(fs.readdirSync(dir)).toEqual([])
    fs.rmSync(dir, { recursive: true })
  })
})

describe('main-thread destination', () => {
  test('records are pino lines; flush(cb) reports the head; rotation events come from the destination', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'chainlog-pmain-'))
    const dest = await chainlog({ file: path.join(dir, 'app.log'), size: '4k' })
    const seen: string[] = []
    const lines: string[] = []
    dest.on(Events.ROTATE, (e: { from: string; to: string }) => seen.push(`${path.basename(e.from)}>${path.basename(e.to)}`))
    const logger = pino({ hooks: { streamWrite: (s) => (lines.push(s.slice(0, -1)), s) } }, dest)
    for (let i = 0; i < 100; i++) logger.info({ i }, 'hello')
    const head = await new Promise<{ hash: string; count: number }>((resolve, reject) => {
      dest.once(Events.HEAD, resolve)
      logger.flush((err) => err && reject(err))
    })
    expect(seen[0]).toBe('app.1.log>app.2.log')
    const files = fs.readdirSync(dir).filter((n) => /^app\.\d+\.log$/.test(n)).sort((a, b) => parseInt(a.slice(4)) - parseInt(b.slice(4)))
    const records = files.flatMap((f) => fs.readFileSync(path.join(dir, f), 'utf8').split('\n').slice(0, -1))
    const user = records.map((r) => r.slice(65, -65)).filter((l) => !l.startsWith('\\m'))
    expect(user).toEqual(lines)
    expect(head.hash).toBe(records.at(-1)!.slice(-64))
    expect(head.count).toBe(records.length)
    await new Promise<void>((resolve) => (dest.once('close', () => resolve()), dest.end()))
    fs.rmSync(dir, { recursive: true })
  })
})

describe('exitOnSignals', () => {
  test('refuses something that is not a logger, or unknown signals', () => {
    expect(() => exitOnSignals({} as never)).toThrow(TypeError)
    expect(() => exitOnSignals({ flush() {} }, { signals: ['SIGNOPE' as NodeJS.Signals] })).toThrow(/signal names/)
  })

  test('installs and removes its handlers', () => {
    const before = process.listenerCount('SIGTERM')
    const off = exitOnSignals({ flush() {} })
    expect(process.listenerCount('SIGTERM')).toBe(before + 1)
    off()
    expect(process.listenerCount('SIGTERM')).toBe(before)
  })
})

// One test per row of the README's "Options from pino-roll".
describe('options from pino-roll (and sonic-boom)', () => {
  const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'chainlog-ppeer-'))
  const closed = (dest: Awaited<ReturnType<typeof chainlog>>) => new Promise<void>((resolve) => (dest.once('close', () => resolve()), dest.end()))

  test.each([
    ['file as a string', { file: 'logs/app.log' }, { file: 'logs/app.log' }],
    ['size: a bare number is megabytes', { size: 10 }, { size: 10 * 1024 * 1024 }],
    ['size with a unit', { size: '512k' }, { size: '512k' }],
    ['frequency', { frequency: 'hourly' }, { frequency: 'hourly' }],
    ['frequency in milliseconds', { frequency: 60_000 }, { frequency: 60_000 }],
    ['extension', { extension: 'txt' }, { extension: 'txt' }],
    ['symlink', { symlink: true }, { symlink: true }],
    ['limit.count', { limit: { count: 14 } }, { limit: { count: 14 } }],
    ['limit.removeOtherLogFiles: false, what chainlog does', { limit: { count: 3, removeOtherLogFiles: false } }, { limit: { count: 3 } }],
    ['dateFormat (date-fns, as in pino-roll)', { dateFormat: 'yyyy-MM-dd-hh' }, { dateFormat: 'yyyy-MM-dd-hh' }],
    ['sonic-boom: mkdir, fsync, mode, append', { mkdir: true, fsync: true, mode: 0o640, append: false }, { mkdir: true, fsync: true, mode: 0o640, append: false }],
  ])('taken: %s', (_row, given, expected) => {
    expect(resolveOptions({ file: 'logs/app.log', ...given }).writer).toEqual({ file: 'logs/app.log', ...expected })
  })

  test.each([
    ['limit.removeOtherLogFiles: true', { limit: { count: 3, removeOtherLogFiles: true } }, /^INVALID_OPTION: option limit.removeOtherLogFiles is not supported by @chainlog\/pino as true \(only false\): chainlog deletes only files of its own chain/],
    ['file() returning something other than a path', { file: () => 42 }, /^INVALID_OPTION: file\(\) must return a non-empty path/],
    ['sonic-boom: dest', { dest: 'a.log' }, /^INVALID_OPTION: option dest is not supported by @chainlog\/pino: use file/],
    ['sonic-boom: fd', { fd: 1 }, /^INVALID_OPTION: option fd is not supported by @chainlog\/pino: use file/],
    ['sonic-boom: sync', { sync: true }, /^INVALID_OPTION: option sync is not supported by @chainlog\/pino: .*fsync: true/],
    ['sonic-boom: minLength', { minLength: 4096 }, /^INVALID_OPTION: option minLength is not supported by @chainlog\/pino: chainlog batches records itself/],
    ['sonic-boom: maxLength', { maxLength: 1 << 20 }, /^INVALID_OPTION: option maxLength is not supported by @chainlog\/pino: chainlog bounds memory with maxBuffered/],
    ['sonic-boom: periodicFlush', { periodicFlush: 1000 }, /^INVALID_OPTION: option periodicFlush is not supported/],
    ['sonic-boom: contentMode', { contentMode: 'buffer' }, /^INVALID_OPTION: option contentMode is not supported/],
    ['sonic-boom: retryEAGAIN', { retryEAGAIN: () => true }, /^INVALID_OPTION: option retryEAGAIN is not supported/],
  ])('refused with its reason: %s', (_row, bad, message) => {
    expect(() => resolveOptions({ file: 'logs/app.log', ...bad })).toThrow(message)
  })

  test('file as a function is called once, at start-up, as in pino-roll (main thread)', async () => {
    const dir = tmp()
    let calls = 0
    const dest = await chainlog({ file: () => (calls++, path.join(dir, 'fn.log')) })
    pino(dest).info('from a function')
    await closed(dest)
    expect(calls).toBe(1)
    expect(fs.readFileSync(path.join(dir, 'fn.1.log'), 'utf8')).toContain('"msg":"from a function"')
    fs.rmSync(dir, { recursive: true })
  })

  test('symlink: true keeps current.log pointing at the file being written, as pino-roll does', async () => {
    const dir = tmp()
    const dest = await chainlog({ file: path.join(dir, 'app.log'), symlink: true })
    pino(dest).info('linked')
    await closed(dest)
    expect(fs.readlinkSync(path.join(dir, 'current.log'))).toBe('app.1.log')
    fs.rmSync(dir, { recursive: true })
  })

  test('limit.removeOtherLogFiles: false: files that are not of the chain stay', async () => {
    const dir = tmp()
    fs.writeFileSync(path.join(dir, 'app.7.log'), 'not a chain file of ours\n')
    fs.writeFileSync(path.join(dir, 'other.1.log'), 'another log\n')
    const dest = await chainlog({ file: path.join(dir, 'chain.log'), size: '1k', limit: { count: 1, removeOtherLogFiles: false } })
    const removed: string[] = []
    let cleanups = 0
    dest.on(Events.REMOVE, (file: string) => removed.push(path.basename(file)))
    // @ts-expect-error pino-roll's event is not in chainlog's event map: it is never emitted
    dest.on('cleanup-complete', () => cleanups++)
    const logger = pino(dest)
    for (let i = 0; i < 60; i++) logger.info({ i, pad: 'x'.repeat(80) }, 'rotating')
    await closed(dest)
    const names = fs.readdirSync(dir).filter((n) => !n.endsWith('.lock')).sort()
    expect(names.filter((n) => n.startsWith('chain.'))).toHaveLength(2)
    expect(names).toContain('app.7.log')
    expect(names).toContain('other.1.log')
    // pino-roll's 'cleanup-complete' has no counterpart: chainlog:remove names each deleted file.
    expect(removed.length).toBeGreaterThan(0)
    expect(removed.every((n) => n.startsWith('chain.') && !names.includes(n))).toBe(true)
    expect(cleanups).toBe(0)
    fs.rmSync(dir, { recursive: true })
  })

  test('frequency in milliseconds: start-up continues the last file (pino-roll starts a new one); append: false starts a new one', async () => {
    const dir = tmp()
    const file = path.join(dir, 'app.log')
    for (const options of [{}, {}, { append: false }]) {
      const dest = await chainlog({ file, frequency: 3_600_000, ...options })
      pino(dest).info('started')
      await closed(dest)
    }
    expect(fs.readdirSync(dir).filter((n) => /^app\.\d+\.log$/.test(n)).sort()).toEqual(['app.1.log', 'app.2.log'])
    expect(fs.readFileSync(path.join(dir, 'app.1.log'), 'utf8').split('"msg":"started"')).toHaveLength(3)
    fs.rmSync(dir, { recursive: true })
  })
})

describe('destination: a chain on a stream (#15)', () => {
  test("pino's convention destination: 1 is passed on, and file is not required with it", () => {
    expect(resolveOptions({ destination: 1 }).writer).toEqual({ destination: 1 })
    expect(resolveOptions({ destination: 2, sealEvery: 10, sealKey: 'k/seal.key' }).writer).toEqual({ destination: 2, sealEvery: 10, sealKey: 'k/seal.key' })
  })

  test.each([
    ['size', { size: 10 }, /^INVALID_OPTION: size cannot be used with destination \(stdout\): a stream does not rotate/],
    ['limit', { limit: { count: 3 } }, /^INVALID_OPTION: limit cannot be used with destination \(stdout\)/],
    ['file', { file: 'logs/app.log' }, /^INVALID_OPTION: file cannot be used with destination \(stdout\): give either file/],
    ['symlink', { symlink: true }, /^INVALID_OPTION: symlink cannot be used with destination \(stdout\)/],
  ])('%s beside destination is refused with the reason', (_row, given, message) => {
    expect(() => resolveOptions({ destination: 1, ...given })).toThrow(message)
  })

  test('in the main thread, any writable stream: every line pino writes is a record of the chain on it', async () => {
    const chunks: Buffer[] = []
    const { Writable } = await import('node:stream')
    const sink = new Writable({ write: (c: Buffer, _e, cb) => (chunks.push(c), cb()) })
    const dest = await chainlog({ destination: sink })
    const logger = pino(dest)
    for (let i = 0; i < 100; i++) logger.info({ i }, 'to the stream')
    await new Promise<void>((resolve) => (dest.once('close', () => resolve()), dest.end()))
    const lines = Buffer.concat(chunks).toString().split('\n').filter(Boolean)
    expect(lines).toHaveLength(101)
    expect(lines[0]).toMatch(/"file":"stream"/)
  })
})
