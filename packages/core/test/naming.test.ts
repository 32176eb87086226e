import fs from 'node:fs'
import * as path from 'node:path'
import { gzipSync } from 'node:zlib'
import { describe, expect, test } from 'vitest'
import { FileNaming, withoutDatePlaceholder } from '../src/naming'
import { GENESIS } from '../src/format'
import { forge, tmpDir } from './helpers'

/** What a chain file starts with: list() keeps only files chainlog wrote. */
const RECORD = forge(GENESIS, 'x').text

const T = new Date(2026, 10, 22, 10, 30).getTime()

describe('FileNaming (pino-roll style names)', () => {
  test('app.log gives app.1.log, app.2.log, … in the same directory', () => {
    const n = new FileNaming('/var/log/x/app.log')
    expect(n.dir).toBe('/var/log/x')
    expect(n.stem).toBe('app')
    expect(n.extension).toBe('.log')
    expect(n.pathFor(1, T)).toBe('/var/log/x/app.1.log')
    expect(n.pathFor(12, T)).toBe('/var/log/x/app.12.log')
  })

  test('a relative base path resolves against the cwd', () => {
    const n = new FileNaming('logs/app.log')
    expect(n.pathFor(1, T)).toBe(path.resolve('logs/app.1.log'))
  })

  test('an explicit extension, with or without its dot, or none', () => {
    expect(new FileNaming('/d/app', { extension: 'txt' }).pathFor(3, T)).toBe('/d/app.3.txt')
    expect(new FileNaming('/d/app', { extension: '.txt' }).pathFor(3, T)).toBe('/d/app.3.txt')
    expect(new FileNaming('/d/app', { extension: '' }).pathFor(3, T)).toBe('/d/app.3')
    expect(new FileNaming('/d/app').pathFor(3, T)).toBe('/d/app.3')
    expect(new FileNaming('/d/app.tar.log').pathFor(3, T)).toBe('/d/app.tar.3.log')
  })

  test('a dateFormat puts the date (local time) before the number', () => {
    const n = new FileNaming('/d/app.log', { dateFormat: 'yyyy-MM-dd' })
    expect(n.pathFor(3, T)).toBe('/d/app.2026-11-22.3.log')
    expect(new FileNaming('/d/app.log', { dateFormat: 'yyyy-MM-dd-HH' }).pathFor(1, T)).toBe('/d/app.2026-11-22-10.1.log')
  })

  test('parse() accepts only names of this base, with the date part only when a dateFormat is set', () => {
    const plain = new FileNaming('/d/app.log')
    expect(plain.parse('app.7.log')).toEqual({ name: 'app.7.log', number: 7, gz: false })
    expect(plain.parse('app.7.log.gz')).toEqual({ name: 'app.7.log.gz', number: 7, gz: true })
    for (const other of ['app.log', 'app.x.log', 'app.7.txt', 'app.7.log.bak', 'xapp.7.log', 'app.7.log.gz.tmp', 'app.2026-11-22.7.log', 'current.log', 'app.-1.log']) {
      expect(plain.parse(other), other).toBeNull()
    }
    const dated = new FileNaming('/d/app.log', { dateFormat: 'yyyy-MM-dd' })
    expect(dated.parse('app.2026-11-22.7.log')).toEqual({ name: 'app.2026-11-22.7.log', number: 7, date: '2026-11-22', gz: false })
    expect(dated.parse('app.7.log')).toBeNull()
  })

  test('a stem with regex characters is matched literally', () => {
    const n = new FileNaming('/d/a+b(1).log')
    expect(n.parse('a+b(1).2.log')?.number).toBe(2)
    expect(n.parse('aab(1).2.log')).toBeNull()
  })

  test('list() returns the base\'s regular files by number (not by name), skipping symlinks, directories and other files', () => {
    const dir = tmpDir()
    for (const name of ['app.10.log', 'app.9.log', 'app.1.log', 'other.3.log', 'app.log', 'notes.txt']) fs.writeFileSync(path.join(dir, name), RECORD)
    fs.writeFileSync(path.join(dir, 'app.2.log.gz'), gzipSync(RECORD))
    fs.mkdirSync(path.join(dir, 'app.11.log'))
    fs.symlinkSync('app.10.log', path.join(dir, 'app.12.log'))
    const n = new FileNaming(path.join(dir, 'app.log'))
    expect(n.list().map((e) => e.name)).toEqual(['app.1.log', 'app.2.log.gz', 'app.9.log', 'app.10.log'])
    expect(n.list()[1]).toEqual({ name: 'app.2.log.gz', number: 2, gz: true, path: path.join(dir, 'app.2.log.gz') })
  })

  test('list() puts a plain file before its .gz (compression in progress)', () => {
    const dir = tmpDir()
    for (const name of ['app.1.log', 'app.2.log']) fs.writeFileSync(path.join(dir, name), RECORD)
    fs.writeFileSync(path.join(dir, 'app.1.log.gz'), gzipSync(RECORD))
    expect(new FileNaming(path.join(dir, 'app.log')).list().map((e) => e.name)).toEqual(['app.1.log', 'app.1.log.gz', 'app.2.log'])
  })

  test('list() of a missing directory is empty', () => {
    expect(new FileNaming(path.join(tmpDir(), 'nope', 'app.log')).list()).toEqual([])
  })

  test.each([
    ['an empty file', '', {}, /^INVALID_OPTION: file must be a non-empty path/],
    ['a blank file', '   ', {}, /^INVALID_OPTION: file must be a non-empty path/],
    ['a non-string file', 42, {}, /^INVALID_OPTION: file must be a non-empty path/],
    ['a directory path', 'logs/', {}, /^INVALID_OPTION: file must name a file, not a directory/],
    ['an extension with a slash', '/d/app', { extension: 'a/b' }, /^INVALID_OPTION: extension must be a string/],
    ['a non-string extension', '/d/app', { extension: 3 }, /^INVALID_OPTION: extension must be a string/],
    ['an empty dateFormat', '/d/app.log', { dateFormat: '' }, /^INVALID_OPTION: dateFormat must be a date-fns format/],
    ['a non-string dateFormat', '/d/app.log', { dateFormat: 5 }, /^INVALID_OPTION: dateFormat must be a date-fns format/],
    ['a dateFormat that makes a path separator', '/d/app.log', { dateFormat: 'yyyy/MM' }, /^INVALID_OPTION: dateFormat must not produce a path separator/],
    ['a dateFormat date-fns rejects', '/d/app.log', { dateFormat: 'YYYY-jj' }, /^INVALID_OPTION: dateFormat "YYYY-jj" is not a valid date-fns format/],
  ])('rejects %s with INVALID_OPTION', (_name, file, options, message) => {
    expect(() => new FileNaming(file as string, options as { extension?: string; dateFormat?: string })).toThrow(expect.objectContaining({ code: 'INVALID_OPTION', message: expect.stringMatching(message) }))
  })
})

describe('foreign files (#13): files beside the log that chainlog did not write', () => {
  test("list() leaves them out; foreign() names them, and the numbers they hold are not free", () => {
    const dir = tmpDir()
    fs.writeFileSync(path.join(dir, 'app.1.log'), '{"msg":"pino-roll"}\n')
    fs.writeFileSync(path.join(dir, 'app.2.log'), '')
    fs.writeFileSync(path.join(dir, 'app.3.log'), RECORD)
    for (const other of ['app.log', 'app-2026-11-22.log', 'app-2026-11-22.log.1', 'app_old.log.gz', 'application.log', 'other.log', '.abc-audit.json', 'app.3.log.gz.123.tmp']) fs.writeFileSync(path.join(dir, other), 'x\n')
    const n = new FileNaming(path.join(dir, 'app.log'))
    expect(n.list().map((e) => e.name)).toEqual(['app.3.log'])
    expect(n.foreign().map((f) => path.basename(f))).toEqual(['app-2026-11-22.log', 'app-2026-11-22.log.1', 'app.1.log', 'app.2.log', 'app.log', 'app_old.log.gz'])
    expect([n.isFree(1), n.isFree(2), n.isFree(3), n.isFree(4)]).toEqual([false, false, false, true])
    expect(n.highest()).toBe(3)
  })

  test('a gzipped chain file is one; a gzipped foreign file, or a .gz that is not gzip, is not', () => {
    const dir = tmpDir()
    fs.writeFileSync(path.join(dir, 'app.1.log.gz'), gzipSync(RECORD))
    fs.writeFileSync(path.join(dir, 'app.2.log.gz'), gzipSync('{"msg":"pino"}\n'))
    fs.writeFileSync(path.join(dir, 'app.3.log.gz'), RECORD)
    expect(new FileNaming(path.join(dir, 'app.log')).list().map((e) => e.name)).toEqual(['app.1.log.gz'])
  })

  test.each([
    ['logs/app-%DATE%.log', 'logs/app.log'],
    ['logs/app.%DATE%.log', 'logs/app.log'],
    ['app-%DATE%.log', 'app.log'],
    ['/var/log/app_%DATE%', '/var/log/app'],
    ['logs/app.log', 'logs/app.log'],
  ])('withoutDatePlaceholder(%s) is %s, the base verify-log and the winston transport use', (given, base) => {
    expect(withoutDatePlaceholder(given)).toBe(base)
  })
})
