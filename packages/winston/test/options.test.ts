import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { Writable } from 'node:stream'
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

  test('a missing key file throws from the constructor, with nothing created', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'chainlog-wopt-'))
    expect(() => new ChainlogTransport({ filename: path.join(dir, 'app.log'), algorithm: 'hmac-sha256', keyFile: path.join(dir, 'missing.key') }))
      .toThrow(expect.objectContaining({ code: 'BAD_KEY', message: expect.stringMatching(/^BAD_KEY: /) }))
    expect(fs.readdirSync(dir)).toEqual([])
    fs.rmSync(dir, { recursive: true })
  })

  test("opening is asynchronous: a missing directory, or a file at the log path that is not a chain, reaches the application as 'error' (on the logger too) and as the ready promise's rejection", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'chainlog-wopt-'))
    // A record that is not a header: a chain file whose header was damaged. (Another
    // program's file, such as winston-daily-rotate-file's, is foreign instead: left alone, see test/migration.test.ts.)
    const notAChain = `${'0'.repeat(64)}|not a header|${'1'.repeat(64)}\n`
    fs.writeFileSync(path.join(dir, 'app.1.log'), notAChain)
    for (const [options, code] of [
      [{ filename: path.join(dir, 'missing', 'app.log'), mkdir: false }, 'NO_DIRECTORY'],
      [{ filename: path.join(dir, 'app.log') }, 'NOT_CHAINLOG'],
    ] as const) {
      const t = new ChainlogTransport(options)
      const logger = winston.createLogger({ transports: [t] })
      const seen = new Promise<Error & { code?: string }>((resolve) => logger.on('error', resolve))
      await expect(t.ready).rejects.toMatchObject({ code })
      expect(await seen).toMatchObject({ code, message: expect.stringMatching(new RegExp(`^${code}: `)) })
      logger.info('not written')
    }
    expect(fs.readdirSync(dir)).toEqual(['app.1.log'])
    expect(fs.readFileSync(path.join(dir, 'app.1.log'), 'utf8')).toBe(notAChain)
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

// One test per row of the README's "Options from winston-daily-rotate-file".
describe('options from winston-daily-rotate-file', () => {
  const refusal = (bad: object): string => {
    try {
      resolveOptions({ filename: 'logs/app.log', ...bad })
    } catch (err) {
      expect(err).toMatchObject({ code: 'INVALID_OPTION' })
      return (err as Error).message
    }
    throw new Error('not refused')
  }
  const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'chainlog-wpeer-'))
  const ended = (logger: winston.Logger) => new Promise((resolve) => (logger.on('finish', resolve), logger.end()))
  const until = async (ok: () => boolean) => {
    for (let waited = 0; !ok() && waited < 10_000; waited += 20) await new Promise((resolve) => setTimeout(resolve, 20))
  }

  test.each([
    ['filename with %DATE%: the date goes before the number', { filename: 'logs/app-%DATE%.log' }, { file: path.join('logs', 'app.log'), dateFormat: 'yyyy-MM-dd', frequency: 'daily' }],
    ['dirname', { filename: 'app.log', dirname: '/var/log/x' }, { file: path.join('/var/log/x', 'app.log') }],
    ['datePattern by day', { datePattern: 'YYYY-MM-DD' }, { dateFormat: 'yyyy-MM-dd', frequency: 'daily' }],
    ['datePattern by hour', { datePattern: 'YYYY-MM-DD-HH' }, { dateFormat: 'yyyy-MM-dd-HH', frequency: 'hourly' }],
    ['datePattern by minute', { datePattern: 'YYYYMMDD[T]HHmm' }, { dateFormat: "yyyyMMdd'T'HHmm", frequency: 60_000 }],
    ['datePattern by month, with frequency', { datePattern: 'YYYY-MM', frequency: '24h' }, { dateFormat: 'yyyy-MM', frequency: 86_400_000 }],
    ['frequency', { frequency: '5m' }, { frequency: 300_000 }],
    ['maxSize', { maxSize: '20m' }, { size: '20m' }],
    ['maxFiles as files, the current one included', { maxFiles: 1 }, { limit: { count: 0 } }],
    ['maxFiles as days', { maxFiles: '14d' }, { limit: { days: 14 } }],
    ['zippedArchive', { zippedArchive: true }, { compress: true }],
    ['createSymlink and symlinkName', { createSymlink: true, symlinkName: 'app.log' }, { symlink: 'app.log' }],
    ['extension', { extension: '.txt' }, { extension: '.txt' }],
    ['utc: false, the local time chainlog uses', { utc: false }, {}],
    ["eol: '\\n', the end of every record", { eol: '\n' }, {}],
    ['watchLog: true, what chainlog always does', { watchLog: true }, {}],
  ])('taken: %s', (_row, given, expected) => {
    const o = resolveOptions({ filename: 'logs/app.log', ...given }) as unknown as { [name: string]: unknown }
    expect(o).toMatchObject(expected)
    for (const peer of ['utc', 'eol', 'watchLog']) expect(o).not.toHaveProperty(peer)
  })

  test.each([
    ['datePattern by month, without frequency', { datePattern: 'YYYY-MM' }, /^INVALID_OPTION: datePattern "YYYY-MM" rotates by month, which chainlog cannot do; .*or set frequency \(such as '24h'\)/],
    ['datePattern by year', { datePattern: 'YYYY' }, /rotates by year/],
    ['datePattern by week', { datePattern: 'YYYY-[W]WW' }, /rotates by week/],
    ['auditFile', { auditFile: 'audit.json' }, /^INVALID_OPTION: option auditFile is not supported by @chainlog\/winston: there is no audit file: .*records each deleted file in the chain/],
    ['auditHashType', { auditHashType: 'sha256' }, /^INVALID_OPTION: option auditHashType is not supported by @chainlog\/winston: there is no audit file/],
    ['utc: true', { utc: true }, /^INVALID_OPTION: option utc is not supported by @chainlog\/winston as true \(only false\): .*local time; for UTC, run the process with TZ=UTC/],
    ["eol other than '\\n'", { eol: '\r\n' }, /^INVALID_OPTION: option eol is not supported by @chainlog\/winston as "\\r\\n" \(only "\\n"\): each record ends with LF/],
    ['watchLog: false', { watchLog: false }, /^INVALID_OPTION: option watchLog is not supported by @chainlog\/winston as false \(only true\): chainlog always notices a removed or replaced file/],
    ['options', { options: { flags: 'a' } }, /^INVALID_OPTION: option options is not supported by @chainlog\/winston: the file is always opened for appending/],
    ['stream', { stream: process.stdout }, /^INVALID_OPTION: option stream is not supported by @chainlog\/winston: .*winston.transports.Stream/],
  ])('refused with its reason: %s', (_row, bad, message) => {
    expect(refusal(bad)).toMatch(message)
  })

  test('filename with %DATE% and datePattern: real winston writes app.<date>.1.log', async () => {
    const dir = tmp()
    const logger = winston.createLogger({ transports: [new ChainlogTransport({ filename: path.join(dir, 'app-%DATE%.log'), datePattern: 'YYYY-MM-DD' })] })
    logger.info('dated')
    await ended(logger)
    const d = new Date()
    const date = `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`
    expect(fs.readdirSync(dir).filter((n) => !n.endsWith('.lock'))).toEqual([`app.${date}.1.log`])
    fs.rmSync(dir, { recursive: true })
  })

  test('watchLog: true: a removed file is noticed before the next write (FILE_REMOVED) and logging goes on in a new file', async () => {
    const dir = tmp()
    const t = new ChainlogTransport({ filename: path.join(dir, 'app.log'), watchLog: true })
    const logger = winston.createLogger({ format: winston.format.printf((i) => String(i.message)), transports: [t] })
    const errors: string[] = []
    logger.on('error', (err: Error) => errors.push(err.message))
    logger.info('before')
    await t.flush()
    fs.unlinkSync(path.join(dir, 'app.1.log'))
    logger.info('after')
    await t.flush()
    await ended(logger)
    expect(errors).toHaveLength(1)
    expect(errors[0]).toMatch(/^FILE_REMOVED: .*app\.1\.log was removed or replaced while being written; continuing in a new file/)
    expect(fs.readFileSync(path.join(dir, 'app.2.log'), 'utf8')).toContain('|after|')
    fs.rmSync(dir, { recursive: true })
  })

  // #13: 'archive' means what it means in winston-daily-rotate-file: the .gz of a rotated file, once the plain file is gone.
  test("the 'archive' event: chainlog emits 'rotate' (oldPath, newPath), then 'archive' (oldPath + '.gz') once oldPath is gzipped", async () => {
    const dir = tmp()
    const t = new ChainlogTransport({ filename: path.join(dir, 'app.log'), maxSize: '1k', zippedArchive: true })
    const archived: string[] = []
    const rotated: string[] = []
    t.on('archive', (file: string) => archived.push(file))
    t.on('rotate', (from: string) => rotated.push(from))
    const logger = winston.createLogger({ transports: [t] })
    for (let i = 0; i < 40; i++) logger.info('x'.repeat(100), { i })
    await ended(logger)
    expect(rotated.length).toBeGreaterThan(0)
    await until(() => rotated.every((from) => fs.existsSync(from + '.gz')) && archived.length === rotated.length)
    for (const from of rotated) {
      expect(fs.existsSync(from + '.gz')).toBe(true)
      expect(fs.existsSync(from)).toBe(false)
    }
    expect(archived).toEqual(rotated.map((from) => from + '.gz'))
    fs.rmSync(dir, { recursive: true })
  })
})

describe('destination: a chain on a stream (#15)', () => {
  test('real winston writes the chain to the writable stream given, one chain per transport', async () => {
    const chunks: Buffer[] = []
    const sink = new Writable({ write: (c: Buffer, _e, cb) => (chunks.push(c), cb()) })
    const logger = winston.createLogger({ transports: [new ChainlogTransport({ destination: sink })] })
    logger.info('on a stream')
    await new Promise((resolve) => (logger.on('finish', () => setTimeout(resolve, 50)), logger.end()))
    const text = Buffer.concat(chunks).toString()
    expect(text.split('\n').filter(Boolean)).toHaveLength(2)
    expect(text).toMatch(/"file":"stream"/)
    expect(text).toContain('on a stream')
  })

  test.each(['filename', 'maxSize', 'maxFiles', 'zippedArchive', 'datePattern', 'createSymlink', 'dirname', 'mkdir'])('%s is refused beside destination, by its winston name', (name) => {
    const value = { filename: 'a.log', maxSize: '10m', maxFiles: 3, zippedArchive: true, datePattern: 'YYYY-MM-DD', createSymlink: true, dirname: 'logs', mkdir: true }[name]
    expect(() => resolveOptions({ destination: 1, [name]: value })).toThrow(new RegExp(`^INVALID_OPTION: ${name} cannot be used with destination: a chain on a stream has no files`))
  })

  test('destination 1 is passed on as it is', () => {
    expect(resolveOptions({ destination: 1, algorithm: 'blake3' })).toEqual({ destination: 1, algorithm: 'blake3' })
  })
})
