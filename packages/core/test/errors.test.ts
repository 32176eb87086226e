/**
 * Failures surface as ChainlogErrors with stable codes, and never as a silent
 * drop or a corrupt chain (issue #2 §4). The tests run as root on CI, where
 * permissions do not apply, so EACCES and ENOSPC come from an `fs` patched to
 * fail exactly like the kernel (and EACCES also from a real child process run
 * as an unprivileged user, where that is possible).
 */
import { spawnSync } from 'node:child_process'
import fs from 'node:fs'
import * as path from 'node:path'
import { describe, expect, test } from 'vitest'
import { ChainlogError, createChainWriter, ErrorCodes, verify } from '../src/index'
import { fromSystemError } from '../src/errors'
import { fakeDisk, metaOf, openWriter, patchFs, physicalLines, ROOT, sysError, tmpDir, until } from './helpers'

async function rejection(p: Promise<unknown>): Promise<ChainlogError> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  )
  expect(err).toBeInstanceOf(ChainlogError)
  return err as ChainlogError
}

async function linesOf(input: string) {
  const lines: string[] = []
  const report = await verify(input, { onLine: (l) => lines.push(l) })
  return { lines, report }
}

describe('ChainlogError', () => {
  test('carries a stable code, a message that starts with it, the path, and the cause', () => {
    const cause = sysError('EACCES', 'open', '/x/app.1.log')
    const err = new ChainlogError(ErrorCodes.ACCESS_DENIED, 'cannot open', { cause, path: '/x/app.1.log' })
    expect(err).toBeInstanceOf(Error)
    expect(err.name).toBe('ChainlogError')
    expect(err.code).toBe('ACCESS_DENIED')
    expect(err.message).toBe('ACCESS_DENIED: cannot open')
    expect(err.path).toBe('/x/app.1.log')
    expect(err.cause).toBe(cause)
    expect(Object.values(ErrorCodes).every((c) => typeof c === 'string')).toBe(true)
  })

  test.each([
    ['ENOENT', 'NO_DIRECTORY'],
    ['EACCES', 'ACCESS_DENIED'],
    ['EPERM', 'ACCESS_DENIED'],
    ['ENOSPC', 'DISK_FULL'],
    ['EDQUOT', 'DISK_FULL'],
    ['EISDIR', 'IS_DIRECTORY'],
    ['EIO', 'IO_ERROR'],
  ])('fromSystemError maps %s to %s, naming the path and keeping the cause', (sys, code) => {
    const cause = Object.assign(new Error(`${sys}: failed`), { code: sys, errno: -1, syscall: 'open' })
    const err = fromSystemError(cause, 'open log file', '/x/app.1.log')
    expect(err.code).toBe(code)
    expect(err.message).toMatch(new RegExp(`^${code}: cannot open log file /x/app.1.log`))
    expect(err.cause).toBe(cause)
    expect(err.path).toBe('/x/app.1.log')
  })

  test('fromSystemError passes a ChainlogError through and wraps non-errors as IO_ERROR', () => {
    const mine = new ChainlogError(ErrorCodes.DISK_FULL, 'x')
    expect(fromSystemError(mine, 'a', 'b')).toBe(mine)
    expect(fromSystemError('weird', 'write to', '/p').code).toBe('IO_ERROR')
  })
})

describe('the log directory', () => {
  test('a missing directory without mkdir is NO_DIRECTORY, with a hint', async () => {
    const dir = path.join(tmpDir(), 'missing', 'deeper')
    const err = await rejection(createChainWriter({ file: path.join(dir, 'app.log') }))
    expect(err.code).toBe('NO_DIRECTORY')
    expect(err.message).toContain(dir)
    expect(err.message).toContain('mkdir: true')
    expect(fs.existsSync(dir)).toBe(false)
  })

  test('mkdir: true creates it, however deep', async () => {
    const dir = path.join(tmpDir(), 'a', 'b', 'c')
    const w = await createChainWriter({ file: path.join(dir, 'app.log'), mkdir: true })
    w.write('x')
    await w.close()
    expect((await verify(dir)).ok).toBe(true)
  })

  test('a regular file where the directory should be is NO_DIRECTORY', async () => {
    const file = path.join(tmpDir(), 'not-a-dir')
    fs.writeFileSync(file, 'x')
    const err = await rejection(createChainWriter({ file: path.join(file, 'app.log') }))
    expect(err.code).toBe('NO_DIRECTORY')
  })

  test('a directory where the log file should be is IS_DIRECTORY (EISDIR)', async () => {
    const dir = tmpDir()
    fs.mkdirSync(path.join(dir, 'app.1.log'))
    const err = await rejection(createChainWriter({ file: path.join(dir, 'app.log') }))
    expect(err.code).toBe('IS_DIRECTORY')
    expect(err.path).toBe(path.join(dir, 'app.1.log'))
  })
})

describe('EACCES', () => {
  test('opening the log file is ACCESS_DENIED, with the system error as cause', async () => {
    const dir = tmpDir()
    const realOpenSync = fs.openSync
    patchFs('openSync', ((p: fs.PathLike, ...rest: unknown[]) => {
      if (String(p).startsWith(dir + path.sep + 'app.')) throw sysError('EACCES', 'open', String(p))
      return (realOpenSync as (...a: unknown[]) => number)(p, ...rest)
    }) as typeof fs.openSync)
    const err = await rejection(createChainWriter({ file: path.join(dir, 'app.log') }))
    expect(err.code).toBe('ACCESS_DENIED')
    expect(err.path).toBe(path.join(dir, 'app.1.log'))
    expect(err.message).toMatch(/^ACCESS_DENIED: .*app\.1\.log.*permission denied/)
    expect(err.cause).toMatchObject({ code: 'EACCES', errno: -13, syscall: 'open' })
  })

  test('creating the directory (mkdir: true) is ACCESS_DENIED', async () => {
    const dir = path.join(tmpDir(), 'sub')
    // The directory is made synchronously at open (openChainWriter opens without waiting).
    const restore = patchFs('mkdirSync', () => {
      throw sysError('EACCES', 'mkdir', dir)
    })
    try {
      const err = await rejection(createChainWriter({ file: path.join(dir, 'app.log'), mkdir: true }))
      expect(err.code).toBe('ACCESS_DENIED')
    } finally {
      restore()
    }
  })

  test('a rotation that cannot open the next file is reported, and no line is lost once access returns', async () => {
    const dir = tmpDir()
    const errors: ChainlogError[] = []
    const w = await openWriter({ file: path.join(dir, 'app.log') })
    w.on('error', (e: ChainlogError) => errors.push(e))
    w.write('before')
    await w.flush()
    const realOpenSync = fs.openSync
    const restore = patchFs('openSync', ((p: fs.PathLike, ...rest: unknown[]) => {
      if (String(p).startsWith(path.join(dir, 'app.2.log'))) throw sysError('EACCES', 'open', String(p)) // the new file, under its temporary name too
      return (realOpenSync as (...a: unknown[]) => number)(p, ...rest)
    }) as typeof fs.openSync)
    const err = await rejection(w.rotate())
    expect(err.code).toBe('ACCESS_DENIED')
    w.write('during')
    restore()
    w.write('after')
    await until(() => physicalLines(w.file).length >= 4 || fs.existsSync(path.join(dir, 'app.2.log')), 'the writer to retry')
    await w.close()
    expect(errors.map((e) => e.code)).toContain('ACCESS_DENIED')
    const { lines, report } = await linesOf(dir)
    expect(report.ok).toBe(true)
    expect(lines).toEqual(['before', 'during', 'after'])
  })

  test('as a real unprivileged process, a read-only log directory is ACCESS_DENIED', () => {
    const dir = tmpDir()
    const logs = path.join(dir, 'logs')
    fs.mkdirSync(logs)
    fs.chmodSync(dir, 0o755)
    fs.chmodSync(logs, 0o555)
    const script = `
      const core = require(${JSON.stringify(path.join(ROOT, 'packages/core/dist/index.js'))})
      core.createChainWriter({ file: ${JSON.stringify(path.join(logs, 'app.log'))} })
        .then(() => console.log('OPENED'), (e) => console.log(e.constructor.name, e.code, e.cause && e.cause.code))`
    const asNobody = process.getuid?.() === 0 ? { uid: 65534, gid: 65534 } : {}
    const r = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', cwd: dir, ...asNobody })
    expect(r.stderr).toBe('')
    expect(r.stdout.trim()).toBe('ChainlogError ACCESS_DENIED EACCES')
    expect(fs.readdirSync(logs)).toEqual([])
  })
})

describe('ENOSPC', () => {
  test('DISK_FULL reaches the caller once, the file stays a valid chain, the writer resumes, and nothing acknowledged is lost', async () => {
    const dir = tmpDir()
    const w = await openWriter({ file: path.join(dir, 'app.log') })
    const errors: ChainlogError[] = []
    let resumed = 0
    w.on('error', (e: ChainlogError) => errors.push(e))
    w.on('resume', () => resumed++)
    const disk = fakeDisk(dir, Infinity)
    const want: string[] = []
    const log = (l: string) => {
      want.push(l)
      return w.write(l)
    }
    for (let i = 0; i < 5; i++) log(`{"ok":${i}}`)
    await w.flush()

    // Room for part of the next batch only: the kernel writes what fits, then refuses.
    disk.free = 300
    for (let i = 0; i < 20; i++) log(`{"full":${i},"pad":"${'p'.repeat(100)}"}`)
    const flushErr = await rejection(w.flush())
    expect(flushErr.code).toBe('DISK_FULL')
    expect(disk.shortWrites).toBe(1) // the batch was cut by the disk, not refused whole
    expect(disk.failures).toBeGreaterThan(0)
    expect(errors).toHaveLength(1)
    expect(errors[0]).toMatchObject({ code: 'DISK_FULL', path: w.file })
    expect(errors[0]!.cause).toMatchObject({ code: 'ENOSPC', syscall: 'write' })

    // Meanwhile the file is a valid chain up to its last whole record, holding a prefix of what was written.
    const during = await linesOf(w.file)
    expect(during.report.breaks).toEqual([])
    expect(during.report.ok).toBe(true)
    expect(want.slice(0, during.lines.length)).toEqual(during.lines)
    expect(during.lines.length).toBeGreaterThanOrEqual(5)

    // Lines written while the disk is full are accepted (and held), with backpressure.
    expect(log('while full')).toBe(false)
    expect(errors).toHaveLength(1)

    disk.free = Infinity
    await until(() => resumed > 0, "'resume'")
    await w.flush()
    log('after space returned')
    await w.close()
    expect(errors).toHaveLength(1)
    const after = await linesOf(w.file)
    expect(after.report.ok).toBe(true)
    expect(after.report.partial).toBeNull()
    expect(after.lines).toEqual(want)
  })

  test('past maxBuffered, write() throws BUFFER_FULL and that line (only that line) is not logged', async () => {
    const dir = tmpDir()
    const w = await openWriter({ file: path.join(dir, 'app.log'), maxBuffered: '4k' })
    w.on('error', () => {})
    const disk = fakeDisk(dir, 0)
    const accepted: string[] = []
    let refused: ChainlogError | null = null
    for (let i = 0; i < 1000 && !refused; i++) {
      const line = `{"n":${i},"pad":"${'b'.repeat(200)}"}`
      try {
        w.write(line)
        accepted.push(line)
      } catch (e) {
        refused = e as ChainlogError
      }
      if (i === 0) await w.flush().catch(() => {})
    }
    expect(refused).toBeInstanceOf(ChainlogError)
    expect(refused!.code).toBe('BUFFER_FULL')
    expect(accepted.length).toBeGreaterThan(5)
    disk.free = Infinity
    await until(() => {
      try {
        return physicalLines(w.file).length === accepted.length + 1
      } catch {
        return false
      }
    }, 'the held lines to be written')
    await w.close()
    const { lines, report } = await linesOf(w.file)
    expect(report.ok).toBe(true)
    expect(lines).toEqual(accepted)
  })
})

describe('the log file removed under the writer', () => {
  test("is FILE_REMOVED; the writer continues in a new file (reason 'file-removed') and the verifier shows the gap", async () => {
    const dir = tmpDir()
    const w = await openWriter({ file: path.join(dir, 'app.log') })
    const errors: ChainlogError[] = []
    w.on('error', (e: ChainlogError) => errors.push(e))
    w.write('before')
    await w.flush()
    fs.rmSync(path.join(dir, 'app.1.log'))
    await until(() => {
      w.write('probe')
      return errors.some((e) => e.code === 'FILE_REMOVED')
    }, 'FILE_REMOVED')
    await w.flush()
    w.write('after')
    await w.close()
    const err = errors.find((e) => e.code === 'FILE_REMOVED')!
    expect(err.path).toBe(path.join(dir, 'app.1.log'))
    const next = physicalLines(path.join(dir, 'app.2.log'))
    expect(metaOf(next[0]!)).toMatchObject({ index: 1, prevFile: 'app.1.log', reason: 'file-removed' })
    const { lines, report } = await linesOf(dir)
    expect(lines.at(-1)).toBe('after')
    expect(report.breaks).toEqual([expect.objectContaining({ file: path.join(dir, 'app.2.log'), line: 1, reason: 'MISSING_FILE' })])
  })

  test('the whole log directory removed under the writer is reported, not thrown from a timer', async () => {
    const dir = tmpDir()
    const logs = path.join(dir, 'logs')
    const w = await openWriter({ file: path.join(logs, 'app.log'), mkdir: true })
    const errors: ChainlogError[] = []
    w.on('error', (e: ChainlogError) => errors.push(e))
    w.write('before')
    await w.flush()
    fs.rmSync(logs, { recursive: true })
    w.write('into the void')
    await until(() => errors.length > 0, 'an error event')
    expect(errors[0]).toBeInstanceOf(ChainlogError)
    await w.close().catch(() => {})
  })
})
