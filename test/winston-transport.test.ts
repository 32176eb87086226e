// @chainlog/winston with real winston: ESM and CJS entry points, the
// winston-daily-rotate-file events, multi-line entries as one record, and
// faults as 'error' events.
import { execFileSync, spawnSync } from 'node:child_process'
import * as fs from 'node:fs'
import { createRequire } from 'node:module'
import * as path from 'node:path'
import { afterAll, describe, expect, test } from 'vitest'
import winston from 'winston'
import { ChainlogTransport } from '@chainlog/winston'
import { chainFiles, coreVerify, pythonVerify, ROOT, runChild, tempDir, userLines, userRecords } from './helpers/chain'

const dirs: string[] = []
const dir = () => {
  const d = tempDir('chainlog-winston-')
  dirs.push(d)
  return d
}
afterAll(() => {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true })
})

const end = (logger: winston.Logger) => new Promise((resolve) => (logger.on('finish', resolve), logger.end()))

describe('entry points', () => {
  test.each([
    ['ESM default and named import', 'mjs', "import ChainlogTransport, { ChainlogTransport as Named } from '@chainlog/winston'\nconsole.log(typeof ChainlogTransport, ChainlogTransport === Named, ChainlogTransport.name)"],
    ['CommonJS require', 'cjs', "const m = require('@chainlog/winston')\nconsole.log(typeof m.ChainlogTransport, m.default === m.ChainlogTransport, m.ChainlogTransport.name)"],
  ])('%s', (_name, ext, code) => {
    const file = path.join(ROOT, 'test/helpers', `entry-check.${ext}`)
    fs.writeFileSync(file, code)
    try {
      const r = spawnSync(process.execPath, [file], { encoding: 'utf8' })
      expect(r.stderr).toBe('')
      expect(r.stdout.trim()).toBe('function true ChainlogTransport')
    } finally {
      fs.rmSync(file)
    }
  })
})

describe('events and records', () => {
  test("'new', 'rotate' (old, new), 'logRemoved' and 'logged', as winston-daily-rotate-file emits them", async () => {
    const d = dir()
    const t = new ChainlogTransport({ filename: path.join(d, 'app.log'), maxSize: 4096, maxFiles: 3 })
    const seen = { new: [] as string[], rotate: [] as [string, string][], removed: [] as string[], logged: 0 }
    t.on('new', (f: string) => seen.new.push(path.basename(f)))
    t.on('rotate', (from: string, to: string) => seen.rotate.push([path.basename(from), path.basename(to)]))
    t.on('logRemoved', (f: string) => seen.removed.push(path.basename(f)))
    t.on('logged', () => seen.logged++)
    const logger = winston.createLogger({ format: winston.format.json(), transports: [t] })
    for (let i = 0; i < 200; i++) logger.info('entry', { i })
    await end(logger)
    expect(seen.logged).toBe(200)
    expect(seen.new[0]).toBe('app.1.log')
    expect(seen.rotate[0]).toEqual(['app.1.log', 'app.2.log'])
    expect(seen.new).toHaveLength(seen.rotate.length + 1)
    // maxFiles: 3 keeps the current file and two before it.
    expect(seen.removed[0]).toBe('app.1.log')
    expect(chainFiles(d)).toHaveLength(3)
    const report = await coreVerify(path.join(d, 'app.log'))
    expect(report.ok).toBe(true)
    expect(report.retention.length).toBeGreaterThan(0)
  })

  test('a stack trace from format.errors + printf is one record, escaped, and reads back whole', async () => {
    const d = dir()
    const t = new ChainlogTransport({ filename: path.join(d, 'app.log') })
    const logger = winston.createLogger({
      format: winston.format.combine(winston.format.errors({ stack: true }), winston.format.printf((i) => `${i.level}: ${String(i.stack ?? i.message)}`)),
      transports: [t],
    })
    const err = new Error('boom')
    logger.error(err)
    logger.info('after')
    await end(logger)
    const recs = userRecords(chainFiles(d))
    expect(recs).toHaveLength(2)
    expect(recs[0]!.stored.startsWith('\\eerror: Error: boom\\n    at ')).toBe(true)
    expect(userLines(chainFiles(d))).toEqual([`error: ${err.stack}`, 'info: after'])
    expect(pythonVerify(chainFiles(d)).ok).toBe(true)
  })

  test("datePattern and %DATE%: the date goes into chainlog's name; zippedArchive gzips rotated files", async () => {
    const d = dir()
    const t = new ChainlogTransport({ filename: path.join(d, 'app-%DATE%.log'), datePattern: 'YYYY-MM-DD', maxSize: 4096, zippedArchive: true })
    const logger = winston.createLogger({ format: winston.format.json(), transports: [t] })
    for (let i = 0; i < 100; i++) logger.info('entry', { i })
    await end(logger)
    const names = fs.readdirSync(d)
    const today = new Date()
    const stamp = `${today.getFullYear()}-${String(today.getMonth() + 1).padStart(2, '0')}-${String(today.getDate()).padStart(2, '0')}`
    expect(names).toContain(`app.${stamp}.1.log.gz`)
    expect((await coreVerify(path.join(d, 'app.log'))).ok).toBe(true)
  })
})

describe('faults are emitted as error', () => {
  test('ENOSPC on a full disk: DISK_FULL reaches the logger, and the chain on disk stays valid', async () => {
    const d = dir()
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=256k', 'tmpfs', d])
    try {
      fs.writeFileSync(path.join(d, 'filler'), Buffer.alloc(200 * 1024))
      const t = new ChainlogTransport({ filename: path.join(d, 'app.log') })
      const errors: string[] = []
      const logger = winston.createLogger({ format: winston.format.json(), transports: [t] })
      logger.on('error', (err: Error) => errors.push(err.message))
      // ~160 KB of records: more than the 56 KB left, less than the whole disk.
      for (let i = 0; i < 500; i++) logger.info('entry', { i, pad: 'x'.repeat(100) })
      await t.ready
      await expect(t.flush()).rejects.toMatchObject({ code: 'DISK_FULL' })
      expect(errors[0]).toMatch(/^DISK_FULL: .*no space left on device/)
      expect((await coreVerify(path.join(d, 'app.log'))).ok).toBe(true)
      expect(errors.every((m) => m.startsWith('DISK_FULL: '))).toBe(true)
      logger.close()
    } finally {
      execFileSync('umount', ['-l', d])
    }
  })

  test('EACCES: a directory the process may not write', async () => {
    const d = dir()
    fs.chmodSync(d, 0o755)
    const r = await runChild('winston-child.cjs', { file: path.join(d, 'logs', 'app.log'), scenario: 'flush', count: 10 }, { uid: 65534 })
    expect(r.stdout).toMatch(/transport-error ACCESS_DENIED: cannot create directory .*permission denied/)
    expect(r.code).toBe(0)
  })
})

// The package is CommonJS; make sure the ESM wrapper is what `import` resolves to.
test('the import condition points at the ESM wrapper, types first', () => {
  const pkg = createRequire(__filename)('@chainlog/winston/package.json') as { exports: { '.': Record<string, string> } }
  expect(Object.keys(pkg.exports['.'])).toEqual(['types', 'import', 'require', 'default'])
})
