import fs from 'node:fs'
import * as path from 'node:path'
import { describe, expect, test } from 'vitest'
import { ChainlogError, checkOptionNames, checkWriterOptions, createChainWriter, nextBoundary, parseFrequency, parseSize, periodStart, type ChainWriterOptions, type OptionNames } from '../src/index'
import { parseMode } from '../src/settings'
import { tmpDir } from './helpers'

describe('parseSize', () => {
  test.each([
    [1024, 1024],
    [1500.7, 1500],
    ['2048', 2048],
    ['10b', 10],
    ['512k', 512 * 1024],
    ['512kb', 512 * 1024],
    ['10m', 10 * 1024 ** 2],
    ['10MB', 10 * 1024 ** 2],
    ['1g', 1024 ** 3],
    [' 1.5m ', 1.5 * 1024 ** 2],
  ])('%j is %d bytes (binary units)', (input, bytes) => {
    expect(parseSize(input)).toBe(bytes)
  })
  test.each([0, -1, NaN, Infinity, '', '0', '0k', '-5m', '10x', 'm', '1e6', null, undefined, {}, true])('rejects %j with INVALID_OPTION naming the option', (input) => {
    expect(() => parseSize(input, 'maxBuffered')).toThrow(expect.objectContaining({ code: 'INVALID_OPTION', message: expect.stringMatching(/^INVALID_OPTION: maxBuffered must be a positive number of bytes/) }))
  })
})

describe('parseFrequency', () => {
  test('accepts daily, hourly, and whole milliseconds', () => {
    expect(parseFrequency('daily')).toBe('daily')
    expect(parseFrequency('hourly')).toBe('hourly')
    expect(parseFrequency(1)).toBe(1)
    expect(parseFrequency(60_000)).toBe(60_000)
    expect(parseFrequency('250')).toBe(250)
  })
  test.each(['weekly', 'Daily', 0, -5, 1.5, '0', '1.5', '', null, NaN])('rejects %j', (input) => {
    expect(() => parseFrequency(input)).toThrow(expect.objectContaining({ code: 'INVALID_OPTION', message: expect.stringMatching(/^INVALID_OPTION: frequency must be/) }))
  })
})

describe('nextBoundary / periodStart', () => {
  const t = new Date(2026, 10, 22, 10, 30, 15, 500).getTime()
  test('daily and hourly periods follow local time', () => {
    expect(periodStart('daily', t)).toBe(new Date(2026, 10, 22).getTime())
    expect(nextBoundary('daily', t)).toBe(new Date(2026, 10, 23).getTime())
    expect(periodStart('hourly', t)).toBe(new Date(2026, 10, 22, 10).getTime())
    expect(nextBoundary('hourly', t)).toBe(new Date(2026, 10, 22, 11).getTime())
  })
  test('the last day of a month and of a year roll over', () => {
    expect(nextBoundary('daily', new Date(2026, 11, 31, 23, 59).getTime())).toBe(new Date(2027, 0, 1).getTime())
    expect(nextBoundary('hourly', new Date(2026, 1, 28, 23, 5).getTime())).toBe(new Date(2026, 2, 1, 0).getTime())
  })
  test('a numeric period counts from the epoch; a time on a boundary starts a new period', () => {
    expect(periodStart(1000, 12_345)).toBe(12_000)
    expect(nextBoundary(1000, 12_345)).toBe(13_000)
    expect(periodStart(1000, 13_000)).toBe(13_000)
    expect(nextBoundary(1000, 13_000)).toBe(14_000)
  })
})

describe('parseMode', () => {
  test('numbers and octal strings', () => {
    expect(parseMode(undefined)).toBeUndefined()
    expect(parseMode(0o640)).toBe(0o640)
    expect(parseMode('640')).toBe(0o640)
    expect(parseMode('0640')).toBe(0o640)
    expect(parseMode('1777')).toBe(0o1777)
  })
  test.each(['999', 'rw-r-----', '64', -1, 0o10000, 1.5, true])('rejects %j', (input) => {
    expect(() => parseMode(input)).toThrow(expect.objectContaining({ code: 'INVALID_OPTION', message: expect.stringMatching(/^INVALID_OPTION: mode must be a file mode/) }))
  })
})

describe('createChainWriter rejects every bad option with INVALID_OPTION and a message naming it', () => {
  const cases: [string, Partial<ChainWriterOptions> | null, RegExp][] = [
    ['no options', null, /options must be an object/],
    ['file: missing', { file: undefined as unknown as string }, /file must be a non-empty path/],
    ['file: a number', { file: 42 as unknown as string }, /file must be a non-empty path/],
    ['file: a directory', { file: 'logs/' }, /file must name a file, not a directory/],
    ['extension: with a slash', { extension: 'a/b' }, /extension must be a string/],
    ['size: zero', { size: 0 }, /size must be a positive number of bytes/],
    ['size: unknown unit', { size: '10x' }, /size must be a positive number of bytes/],
    ['size: smaller than one record', { size: 100 }, /size must be at least 387 bytes; got 100/],
    ['frequency: weekly', { frequency: 'weekly' }, /frequency must be 'daily', 'hourly' or a period in milliseconds/],
    ['frequency: zero', { frequency: 0 }, /frequency must be/],
    ['dateFormat: makes a directory', { dateFormat: 'yyyy/MM/dd' }, /dateFormat must not produce a path separator/],
    ['dateFormat: invalid', { dateFormat: 'YYYY' }, /dateFormat "YYYY" is not a valid date-fns format/],
    ['limit: a number', { limit: 5 as unknown as { count: number } }, /limit must be an object such as \{ count: 14 \}; got 5/],
    ['limit: null', { limit: null as unknown as { count: number } }, /limit must be an object/],
    ['limit.count: negative', { limit: { count: -1 } }, /limit.count must be a whole number >= 0; got -1/],
    ['limit.count: fractional', { limit: { count: 1.5 } }, /limit.count must be a whole number/],
    ['limit.count: a string', { limit: { count: '3' as unknown as number } }, /limit.count must be a whole number/],
    ['mkdir: a string', { mkdir: 'yes' as unknown as boolean }, /mkdir must be true or false; got "yes"/],
    ['symlink: a path', { symlink: 'a/current.log' }, /symlink must be true, false or a file name/],
    ['symlink: empty', { symlink: '' }, /symlink must be true, false or a file name/],
    ['symlink: a number', { symlink: 1 as unknown as boolean }, /symlink must be true, false or a file name/],
    ['compress: a string', { compress: 'true' as unknown as boolean }, /compress must be true or false/],
    ['fsync: a number', { fsync: 1 as unknown as boolean }, /fsync must be true or false/],
    ['mode: not octal', { mode: '999' }, /mode must be a file mode such as 0o640 or '640'/],
    ['append: a string', { append: 'no' as unknown as boolean }, /append must be true or false/],
    ['algorithm: unknown', { algorithm: 'md5' as 'sha256' }, /algorithm must be one of sha256, blake3, hmac-sha256; got "md5"/],
    ['key: a string', { algorithm: 'hmac-sha256', key: 'secret' as unknown as Uint8Array }, /key must be a Buffer or Uint8Array/],
    ['key: without hmac-sha256', { key: Buffer.alloc(32, 1) }, /a key was given but algorithm is sha256/],
    ['key: shorter than 32 bytes', { algorithm: 'hmac-sha256', key: Buffer.from('short') }, /key must be at least 32 bytes/],
    ['keyFile: a number', { algorithm: 'hmac-sha256', keyFile: 7 as unknown as string }, /keyFile must be a path; got 7/],
    ['maxBuffered: zero', { maxBuffered: 0 }, /maxBuffered must be a positive number of bytes/],
    ['staleLockMs: too short', { staleLockMs: 10 }, /staleLockMs must be at least 2000/],
    ['staleLockMs: a string', { staleLockMs: '5s' as unknown as number }, /staleLockMs must be a whole number/],
    ['now: not a function', { now: 5 as unknown as () => number }, /now must be a function/],
    ['chainId: uppercase', { chainId: '0123456789ABCDEF0123456789ABCDEF' }, /chainId must be 32 lowercase hex characters/],
    ['chainId: too short', { chainId: 'abc' }, /chainId must be 32 lowercase hex characters/],
  ]
  test.each(cases)('%s', async (_name, options, message) => {
    const dir = tmpDir()
    const full = options === null ? null : { file: path.join(dir, 'app.log'), ...options }
    const err = await createChainWriter(full as ChainWriterOptions).then(
      () => null,
      (e: unknown) => e,
    )
    expect(err).toBeInstanceOf(ChainlogError)
    expect(err).toMatchObject({ code: 'INVALID_OPTION' })
    expect((err as Error).message).toMatch(/^INVALID_OPTION: /)
    expect((err as Error).message).toMatch(message)
    // A rejected configuration leaves nothing behind.
    expect(fs.readdirSync(dir)).toEqual([])
  })

  test.each(cases)('checkWriterOptions refuses %s at once, with the same error', (_name, options, message) => {
    const dir = tmpDir()
    const full = options === null ? null : { file: path.join(dir, 'app.log'), ...options }
    let err: unknown
    try {
      checkWriterOptions(full as ChainWriterOptions)
    } catch (e) {
      err = e
    }
    expect(err).toBeInstanceOf(ChainlogError)
    expect(err).toMatchObject({ code: 'INVALID_OPTION' })
    expect((err as Error).message).toMatch(message)
    expect(fs.readdirSync(dir)).toEqual([])
  })

  test('hmac-sha256 without a key is KEY_REQUIRED; a bad key file is BAD_KEY', async () => {
    const dir = tmpDir()
    const file = path.join(dir, 'app.log')
    await expect(createChainWriter({ file, algorithm: 'hmac-sha256' })).rejects.toMatchObject({ code: 'KEY_REQUIRED' })
    await expect(createChainWriter({ file, algorithm: 'hmac-sha256', keyFile: path.join(dir, 'missing.key') })).rejects.toMatchObject({ code: 'BAD_KEY' })
    fs.writeFileSync(path.join(dir, 'short.key'), 'too short\n')
    await expect(createChainWriter({ file, algorithm: 'hmac-sha256', keyFile: path.join(dir, 'short.key') })).rejects.toMatchObject({ code: 'BAD_KEY' })
  })

  test('valid values of every option are accepted', async () => {
    const dir = tmpDir()
    fs.writeFileSync(path.join(dir, 'k.key'), 'k'.repeat(64) + '\n')
    const w = await createChainWriter({
      file: path.join(dir, 'sub', 'app'),
      extension: '.txt',
      size: '1m',
      frequency: 'daily',
      dateFormat: 'yyyy-MM-dd',
      limit: { count: 0 },
      mkdir: true,
      symlink: 'latest.txt',
      compress: true,
      fsync: true,
      mode: '0640',
      append: false,
      algorithm: 'hmac-sha256',
      keyFile: path.join(dir, 'k.key'),
      maxBuffered: '8m',
      staleLockMs: 2000,
      now: () => new Date(2026, 10, 22).getTime(),
      chainId: 'ab'.repeat(16),
    })
    w.write('ok')
    await w.close()
    expect(fs.readdirSync(path.join(dir, 'sub')).filter((n) => !n.endsWith('.lock')).sort()).toEqual(['app.2026-11-22.1.txt', 'latest.txt'])
    expect(fs.statSync(path.join(dir, 'sub', 'app.2026-11-22.1.txt')).mode & 0o777).toBe(0o640)
  })
})

describe('checkWriterOptions: every value check, without I/O', () => {
  test('the key file is not read (BAD_KEY comes when the writer opens), but a missing key is KEY_REQUIRED at once', async () => {
    const dir = tmpDir()
    const file = path.join(dir, 'app.log')
    const keyFile = path.join(dir, 'missing.key')
    expect(() => checkWriterOptions({ file, algorithm: 'hmac-sha256', keyFile })).not.toThrow()
    await expect(createChainWriter({ file, algorithm: 'hmac-sha256', keyFile })).rejects.toMatchObject({ code: 'BAD_KEY' })
    expect(() => checkWriterOptions({ file, algorithm: 'hmac-sha256' })).toThrow(expect.objectContaining({ code: 'KEY_REQUIRED' }))
    expect(() => checkWriterOptions({ file, keyFile })).toThrow(/a key was given but algorithm is sha256/)
  })

  test('the directory is not looked at', () => {
    expect(() => checkWriterOptions({ file: '/nonexistent/chainlog/app.log' })).not.toThrow()
  })
})

describe('checkOptionNames: one message for unknown and refused names, for every transport', () => {
  const names: OptionNames = {
    package: '@chainlog/test',
    example: "{ file: 'logs/app.log' }",
    takes: ['file', 'maxSize', 'frequency'],
    refused: { auditFile: 'there is no audit file', utc: { why: 'dates are local time', accepts: [false] } },
    injected: ['$context'],
  }
  const refusal = (given: unknown, n: OptionNames = names): string => {
    try {
      checkOptionNames(given, n)
    } catch (err) {
      expect(err).toBeInstanceOf(ChainlogError)
      expect(err).toMatchObject({ code: 'INVALID_OPTION' })
      return (err as Error).message
    }
    throw new Error('not refused')
  }

  test('returns the options given, without undefined values, injected names or accepted peer values', () => {
    expect(checkOptionNames({ file: 'a.log', maxSize: undefined, $context: {}, utc: false }, names)).toEqual({ file: 'a.log' })
  })

  test.each([null, 'a.log', ['a.log'], 5])('%j is not an object: the message shows an example', (given) => {
    expect(refusal(given)).toBe(`INVALID_OPTION: options must be an object such as { file: 'logs/app.log' }; got ${JSON.stringify(given)}`)
  })

  test('an unknown name lists what the package takes, and points to the name a typo meant', () => {
    expect(refusal({ frequncy: 'daily' })).toBe('INVALID_OPTION: unknown option "frequncy" (did you mean frequency?); @chainlog/test takes file, maxSize, frequency')
    expect(refusal({ maxsize: 10 })).toMatch(/^INVALID_OPTION: unknown option "maxsize" \(did you mean maxSize\?\)/)
    expect(refusal({ colour: true })).toBe('INVALID_OPTION: unknown option "colour"; @chainlog/test takes file, maxSize, frequency')
  })

  test('a refused name says why; a refused value says which values are accepted', () => {
    expect(refusal({ auditFile: 'a.json' })).toBe('INVALID_OPTION: option auditFile is not supported by @chainlog/test: there is no audit file')
    expect(refusal({ utc: true })).toBe('INVALID_OPTION: option utc is not supported by @chainlog/test as true (only false): dates are local time')
  })

  test('a nested object names its options with their prefix', () => {
    const limit: OptionNames = { package: '@chainlog/test', example: '{ count: 14 }', prefix: 'limit.', takes: ['count'] }
    expect(checkOptionNames({ count: 3 }, limit)).toEqual({ count: 3 })
    expect(refusal(5, limit)).toBe('INVALID_OPTION: limit must be an object such as { count: 14 }; got 5')
    expect(refusal({ cuont: 3 }, limit)).toBe('INVALID_OPTION: unknown option "limit.cuont" (did you mean limit.count?); @chainlog/test takes limit.count')
  })
})
