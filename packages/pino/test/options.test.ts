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
    await new Promise((resolve) => (dest.once('close', resolve), dest.end()))
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
