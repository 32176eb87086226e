/**
 * The verify path's reading layer (read.ts) and the one errno table
 * (errors.ts) every message about a system error comes from (#14).
 */
import fs from 'node:fs'
import * as path from 'node:path'
import { gzipSync } from 'node:zlib'
import { describe, expect, test } from 'vitest'
import { ChainlogError, ErrorCodes, systemErrorMeaning } from '../src/index'
import { fromSystemError } from '../src/errors'
import { isZlibError, openChainFile, readError } from '../src/read'
import { tmpDir } from './helpers'

const sysErr = (code: string, message = `${code}: something`) => Object.assign(new Error(message), { code })

async function readAll(file: string, gz: boolean): Promise<Buffer> {
  const opened = openChainFile(file, gz)
  const parts: Buffer[] = []
  try {
    for await (const chunk of opened) parts.push(chunk)
  } finally {
    opened.close()
  }
  return Buffer.concat(parts)
}

describe('openChainFile', () => {
  test('reads a plain file, and a gzipped one to the end of its last member', async () => {
    const dir = tmpDir()
    const plain = path.join(dir, 'app.1.log')
    fs.writeFileSync(plain, 'one\ntwo\n')
    const gz = path.join(dir, 'app.2.log.gz')
    fs.writeFileSync(gz, Buffer.concat([gzipSync('three\n'), gzipSync('four\n')]))
    expect((await readAll(plain, false)).toString()).toBe('one\ntwo\n')
    expect((await readAll(gz, true)).toString()).toBe('three\nfour\n')
  })

  test('a read error of the file under a gunzip reaches the consumer', async () => {
    const dir = tmpDir()
    const err = await readAll(dir, true).then(() => null, (e: unknown) => e)
    expect((err as NodeJS.ErrnoException)?.code).toBe('EISDIR')
  })

  test('damaged gzip data is a zlib error, not an I/O error', async () => {
    const dir = tmpDir()
    const gz = path.join(dir, 'app.1.log.gz')
    fs.writeFileSync(gz, gzipSync('x'.repeat(1000)).subarray(0, 20))
    const err = await readAll(gz, true).then(() => null, (e: unknown) => e)
    expect(isZlibError(err)).toBe(true)
    expect(isZlibError(sysErr('EIO'))).toBe(false)
  })
})

describe('the errno table', () => {
  test.each([
    ['EACCES', ErrorCodes.ACCESS_DENIED, 'logs/app.1.log: permission denied'],
    ['EPERM', ErrorCodes.ACCESS_DENIED, 'logs/app.1.log: permission denied'],
    ['EISDIR', ErrorCodes.IS_DIRECTORY, 'logs/app.1.log: it is a directory'],
    ['ENOENT', ErrorCodes.IO_ERROR, 'logs/app.1.log: the file disappeared while it was being read'],
    ['EIO', ErrorCodes.IO_ERROR, 'logs/app.1.log: EIO: something'],
  ])('reading, %s → %s', (errno, code, message) => {
    const err = readError('logs/app.1.log', sysErr(errno))
    expect(err).toBeInstanceOf(ChainlogError)
    expect([err.code, err.message, err.path]).toEqual([code, `${code}: ${message}`, 'logs/app.1.log'])
  })

  test('the writer reads the same table; ENOENT means its directory is missing there', () => {
    expect(fromSystemError(sysErr('ENOSPC'), 'write to', 'logs/app.1.log').message).toBe('DISK_FULL: cannot write to logs/app.1.log: no space left on device')
    expect(fromSystemError(sysErr('ENOENT'), 'open', 'logs/app.log').code).toBe('NO_DIRECTORY')
  })

  test('a ChainlogError passes through unchanged', () => {
    const original = new ChainlogError(ErrorCodes.KEY_REQUIRED, 'x')
    expect(readError('f', original)).toBe(original)
  })

  test('systemErrorMeaning: the caller says what an errno means where it met it; null for what nobody names', () => {
    expect(systemErrorMeaning(sysErr('EDQUOT'))).toEqual({ code: ErrorCodes.DISK_FULL, words: 'no space left on device' })
    expect(systemErrorMeaning(sysErr('ENOENT'))).toBeNull()
    expect(systemErrorMeaning(sysErr('ENOENT'), { ENOENT: { code: ErrorCodes.BAD_KEY, words: 'it does not exist' } })).toEqual({ code: ErrorCodes.BAD_KEY, words: 'it does not exist' })
    expect(systemErrorMeaning(sysErr('EWHATEVER'))).toBeNull()
    expect(systemErrorMeaning(new Error('no code'))).toBeNull()
  })
})
