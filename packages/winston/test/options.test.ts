import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { describe, expect, test } from 'vitest'
import winston from 'winston'
import { ChainlogTransport, resolveOptions, translateDatePattern } from '../src/index'

describe('translateDatePattern (moment → date-fns)', () => {
  test.each([
    ['YYYY-MM-DD', 'yyyy-MM-dd', 'day'],
    ['YYYY-MM-DD-HH', 'yyyy-MM-dd-HH', 'hour'],
    ['YYYYMMDD[T]HHmm', "yyyyMMdd'T'HHmm", 'minute'],
    ['DD.MM.YY', 'dd.MM.yy', 'day'],
    ['YYYY-[week]-WW', "yyyy-'week'-II", 'week'],
  ])('%s → %s (rotates by %s)', (moment, dateFns, unit) => {
    expect(translateDatePattern(moment)).toEqual({ dateFormat: dateFns, unit })
  })

  test.each(['YYYY-MM-DD-x', 'YYYY-[open', '---'])('%j is refused with INVALID_OPTION', (p) => {
    expect(() => translateDatePattern(p)).toThrow(expect.objectContaining({ code: 'INVALID_OPTION' }))
  })
})

describe('resolveOptions', () => {
  test('mirrors winston-daily-rotate-file', () => {
    expect(resolveOptions({ filename: 'app-%DATE%.log', dirname: '/var/log/x', datePattern: 'YYYY-MM-DD-HH', maxSize: '20m', maxFiles: 14, zippedArchive: true, createSymlink: true, symlinkName: 'app.log', algorithm: 'blake3' })).toEqual({
      file: path.join('/var/log/x', 'app.log'), dateFormat: 'yyyy-MM-dd-HH', frequency: 'hourly', size: '20m', limit: { count: 13 }, compress: true, symlink: 'app.log', algorithm: 'blake3', mkdir: true,
    })
  })

  test("maxFiles '14d' keeps 14 days; frequency '5m' / '3h' is a period", () => {
    expect(resolveOptions({ filename: 'l/a.log', maxFiles: '14d', frequency: '5m' })).toMatchObject({ limit: { days: 14 }, frequency: 300_000 })
    expect(resolveOptions({ filename: 'l/a.log', frequency: '3h' })).toMatchObject({ frequency: 3 * 3_600_000 })
  })

  test('no %DATE% and no datePattern: no date in the name, daily rotation as the default pattern implies', () => {
    const o = resolveOptions({ filename: 'logs/app.log' })
    expect(o).toMatchObject({ file: path.join('logs', 'app.log'), frequency: 'daily' })
    expect(o).not.toHaveProperty('dateFormat')
  })

  test.each([
    [{ maxFiles: 0 }, /maxFiles/],
    [{ maxFiles: '2w' }, /maxFiles/],
    [{ frequency: 'daily' }, /frequency/],
    [{ datePattern: 'YYYY-MM' }, /rotates by month/],
    [{ filename: '%DATE%.log' }, /name besides %DATE%/],
    [{ auditFile: 'x.json' }, /no audit file/],
    [{ maxsize: 10 }, /unknown option "maxsize"/],
    [{ zippedArchive: 'yes' }, /zippedArchive must be true or false/],
    [{ symlinkName: 'x.log' }, /needs createSymlink/],
    [{ format: 'json' }, /winston format/],
  ])('%j is refused with INVALID_OPTION and says why', (bad, why) => {
    let err: (Error & { code?: string }) | undefined
    try {
      resolveOptions({ filename: 'logs/app.log', ...bad })
    } catch (e) {
      err = e as Error
    }
    expect(err?.code).toBe('INVALID_OPTION')
    expect(err?.message).toMatch(why)
  })

  test('a bad option throws from the constructor, and the transport makes nothing (#13)', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'chainlog-wopt-'))
    let err: (Error & { code?: string }) | undefined
    try {
      new ChainlogTransport({ filename: path.join(dir, 'app.log'), maxSize: 'lots' })
    } catch (e) {
      err = e as Error
    }
    expect(err?.code).toBe('INVALID_OPTION')
    expect(err?.message).toMatch(/^INVALID_OPTION: size must be/)
    expect(fs.readdirSync(dir)).toEqual([])
    fs.rmSync(dir, { recursive: true })
  })

  test.each([
    ['an unknown name', { maxsize: '10m' }, /^INVALID_OPTION: unknown option "maxsize" \(did you mean maxSize\?\)/],
    ['a refused peer option', { auditFile: 'audit.json' }, /^INVALID_OPTION: option auditFile is not supported by @chainlog\/winston/],
    ['a value core checks at open: mode', { mode: 'rw-r-----' }, /^INVALID_OPTION: mode must be a file mode/],
    ['a value core checks at open: maxBuffered', { maxBuffered: 0 }, /^INVALID_OPTION: maxBuffered must be a positive number/],
    ['a value core checks at open: algorithm', { algorithm: 'md5' }, /^INVALID_OPTION: algorithm must be one of/],
    ['a value core checks at open: sealInterval', { sealInterval: 10 }, /^INVALID_OPTION: sealInterval must be at least 100 ms/],
    ['hmac-sha256 without a key', { algorithm: 'hmac-sha256' }, /^KEY_REQUIRED: /],
  ])('%s throws from the constructor, before winston has the transport', (_name, bad, message) => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'chainlog-wopt-'))
    expect(() => winston.createLogger({ transports: [new ChainlogTransport({ filename: path.join(dir, 'app.log'), ...(bad as object) })] })).toThrow(message)
    expect(fs.readdirSync(dir)).toEqual([])
    fs.rmSync(dir, { recursive: true })
  })

  test("opening is asynchronous: a missing directory or key file reaches the application as 'error' (on the logger too) and as the ready promise's rejection", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'chainlog-wopt-'))
    for (const [options, code] of [
      [{ filename: path.join(dir, 'missing', 'app.log'), mkdir: false }, 'NO_DIRECTORY'],
      [{ filename: path.join(dir, 'app.log'), algorithm: 'hmac-sha256', keyFile: path.join(dir, 'missing.key') }, 'BAD_KEY'],
    ] as const) {
      const t = new ChainlogTransport(options)
      const logger = winston.createLogger({ transports: [t] })
      const seen = new Promise<Error & { code?: string }>((resolve) => logger.on('error', resolve))
      await expect(t.ready).rejects.toMatchObject({ code })
      expect(await seen).toMatchObject({ code, message: expect.stringMatching(new RegExp(`^${code}: `)) })
      logger.info('not written')
    }
    expect(fs.readdirSync(dir)).toEqual([])
    fs.rmSync(dir, { recursive: true })
  })

  test('level, silent and format are winston-transport options and are honoured', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'chainlog-wopt-'))
    const quiet = new ChainlogTransport({ filename: path.join(dir, 'quiet.log'), silent: true })
    const t = new ChainlogTransport({ filename: path.join(dir, 'app.log'), level: 'warn', format: winston.format.printf((i) => `${i.level}|${i.message}`) })
    const logger = winston.createLogger({ transports: [t, quiet] })
    logger.info('dropped by level')
    logger.warn('kept')
    await new Promise((resolve) => (logger.on('finish', resolve), logger.end()))
    const text = fs.readFileSync(path.join(dir, 'app.1.log'), 'utf8')
    expect(text).toContain('|warn|kept|')
    expect(text).not.toContain('dropped by level')
    expect(fs.readFileSync(path.join(dir, 'quiet.1.log'), 'utf8').split('\n')).toHaveLength(2) // the header only
    fs.rmSync(dir, { recursive: true })
  })
})
