// @chainlog/pino with real pino and real worker threads, against the built JS:
// exact bytes (non-JSON too), multi-target configs, rotation under load,
// events in the main thread, faults, and the main-thread destination at exit.
import { execFileSync } from 'node:child_process'
import { once } from 'node:events'
import * as fs from 'node:fs'
import * as path from 'node:path'
import { afterAll, describe, expect, test } from 'vitest'
import pino from 'pino'
import { chainFiles, coreVerify, pythonVerify, runChild, tempDir, userLines } from './helpers/chain'

type Transport = ReturnType<typeof pino.transport>
const dirs: string[] = []
const dir = () => {
  const d = tempDir('chainlog-pino-')
  dirs.push(d)
  return d
}
afterAll(() => {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true })
})

/** Ends a transport and waits until its worker has closed every file. */
async function close(t: Transport): Promise<void> {
  const closed = once(t, 'close')
  t.end()
  await closed
}

/** A logger whose every line (without newline) is also captured in the main thread. */
function capturing(t: Transport, options: pino.LoggerOptions = {}) {
  const lines: string[] = []
  const logger = pino({ ...options, hooks: { streamWrite: (s: string) => (lines.push(s.slice(0, -1)), s) } }, t)
  return { logger, lines }
}

describe('exact bytes', () => {
  test("non-JSON lines from pino's own output are kept, byte for byte", async () => {
    const d = dir()
    const t = pino.transport({ target: '@chainlog/pino', options: { file: path.join(d, 'app.log') } })
    await once(t, 'ready')
    // A timestamp function returns raw text that pino splices into the line:
    // NaN is not JSON, so a transport parsing each line with JSON.parse
    // (pino-abstract-transport's default) would drop these lines.
    const { logger, lines } = capturing(t, { timestamp: () => ',"time":NaN' })
    for (let i = 0; i < 300; i++) logger.info({ i, s: 'pipe | and \\ backslash, ünïcödé ✓' }, 'hello')
    await close(t)
    expect(() => JSON.parse(lines[0]!)).toThrow()
    expect(userLines(chainFiles(d))).toEqual(lines)
    expect((await coreVerify(path.join(d, 'app.log'))).ok).toBe(true)
  })

  test('in targets next to pino/file and pino-pretty, with per-target levels, the chain holds exactly the file\'s lines at its level', async () => {
    const d = dir()
    const plain = path.join(d, 'plain.log')
    const t = pino.transport({
      targets: [
        { target: '@chainlog/pino', level: 'warn', options: { file: path.join(d, 'app.log') } },
        { target: 'pino/file', level: 'info', options: { destination: plain } },
        { target: 'pino-pretty', level: 'error', options: { destination: path.join(d, 'pretty.log'), colorize: false } },
      ],
    })
    await once(t, 'ready')
    const logger = pino({ level: 'info' }, t)
    for (let i = 0; i < 600; i++) logger[(['info', 'warn', 'error'] as const)[i % 3]]({ i }, `message ${i}`)
    await close(t)
    const all = fs.readFileSync(plain, 'utf8').split('\n').slice(0, -1)
    expect(all).toHaveLength(600)
    const atWarn = all.filter((l) => (JSON.parse(l) as { level: number }).level >= 40)
    expect(userLines(chainFiles(d))).toEqual(atWarn)
    expect(fs.readFileSync(path.join(d, 'pretty.log'), 'utf8')).toContain('message 2')
    expect(pythonVerify(chainFiles(d)).ok).toBe(true)
  })
})

describe('lines that need escaping, and lines cut across writes', () => {
  test('a CR inside a line and a line starting with a backslash, mixed with plain lines in one chunk, are each one record', async () => {
    const d = dir()
    const t = pino.transport({ target: '@chainlog/pino', options: { file: path.join(d, 'app.log') } })
    await once(t, 'ready')
    const lines: string[] = []
    // streamWrite sees pino's bytes on their way to the worker: give every
    // third line a raw CR and every fifth a leading backslash.
    let n = 0
    const logger = pino({
      hooks: {
        streamWrite: (s: string) => {
          n++
          let out = n % 3 === 0 ? s.replace('"msg"', '"cr\r":1,"msg"') : s
          if (n % 5 === 0) out = '\\' + out
          lines.push(out.slice(0, -1))
          return out
        },
      },
    }, t)
    for (let i = 0; i < 3000; i++) logger.info({ i }, 'line')
    await close(t)
    expect(lines.filter((l) => l.includes('\r')).length).toBe(1000)
    expect(userLines(chainFiles(d))).toEqual(lines)
    expect((await coreVerify(path.join(d, 'app.log'))).ok).toBe(true)
    expect(pythonVerify(chainFiles(d)).ok).toBe(true)
  })

  // Short pieces are joined into one writeChunk() per turn; long ones go to core one by one (ChunkFeed).
  test.each([
    ['short pieces', 500, 1, 173],
    ['long pieces', 20_000, 4097, 60_000],
  ])('in the main thread, %s of lines written separately become whole records, and a last line without LF is kept at close', async (_, count, least, spread) => {
    const { default: chainlog } = await import('@chainlog/pino')
    const d = dir()
    const dest = await chainlog({ file: path.join(d, 'app.log') })
    const text = Array.from({ length: count }, (_, i) => JSON.stringify({ i, s: 'ünïcödé ✓ 😀' })).join('\n') + '\n{"last":true}'
    const bytes = Buffer.from(text)
    // Cut anywhere, including inside multi-byte characters: the transport decodes Buffers with a StringDecoder.
    for (let at = 0; at < bytes.length; ) {
      const size = least + ((at * 7919) % spread)
      dest.write(bytes.subarray(at, at + size))
      at += size
    }
    dest.end()
    await once(dest, 'finish')
    expect(userLines(chainFiles(d))).toEqual(text.split('\n'))
    expect((await coreVerify(path.join(d, 'app.log'))).ok).toBe(true)
  })
})

describe('rotation under load, seen from the main thread', () => {
  test('by size: many files, every line in order, rotate and head events', async () => {
    const d = dir()
    const t = pino.transport({ target: '@chainlog/pino', options: { file: path.join(d, 'app.log'), size: '64k', limit: { count: 100 } } })
    const rotations: { from: string; to: string }[] = []
    const heads: { hash: string; count: number }[] = []
    t.on('chainlog:rotate', (e: { from: string; to: string }) => rotations.push(e))
    t.on('chainlog:head', (h: { hash: string; count: number }) => heads.push(h))
    await once(t, 'ready')
    const { logger, lines } = capturing(t)
    for (let i = 0; i < 20000; i++) logger.info({ i }, 'under load')
    await new Promise<void>((resolve, reject) => logger.flush((err) => (err ? reject(err) : resolve())))
    await close(t)
    const files = chainFiles(d)
    expect(files.length).toBeGreaterThan(20)
    expect(rotations).toHaveLength(files.length - 1)
    expect(rotations[0]).toEqual({ from: files[0], to: files[1] })
    expect(userLines(files)).toEqual(lines)
    const report = await coreVerify(path.join(d, 'app.log'))
    expect(report.ok).toBe(true)
    // The last head (after close) is the verifier's head.
    expect(heads.at(-1)!.hash).toBe(report.head?.hash ?? (report.head as unknown as string))
    expect(pythonVerify(files).ok).toBe(true)
  })

  test('by a short frequency while logging', async () => {
    const d = dir()
    const t = pino.transport({ target: '@chainlog/pino', options: { file: path.join(d, 'app.log'), frequency: 100 } })
    const rotations: unknown[] = []
    t.on('chainlog:rotate', (e) => rotations.push(e))
    await once(t, 'ready')
    const { logger, lines } = capturing(t)
    // Log until the worker has reported three rotations.
    for (let i = 0; rotations.length < 3; i++) {
      for (let k = 0; k < 200; k++) logger.info({ i, k }, 'ticking')
      await new Promise((resolve) => setTimeout(resolve, 20))
    }
    await close(t)
    const files = chainFiles(d)
    expect(files.length).toBeGreaterThanOrEqual(4)
    expect(userLines(files)).toEqual(lines)
    expect(pythonVerify(files).ok).toBe(true)
  })
})

describe('faults reach the application as transport errors', () => {
  test('an invalid option', async () => {
    const t = pino.transport({ target: '@chainlog/pino', options: { file: path.join(dir(), 'app.log'), size: 'huge' } })
    const [err] = (await once(t, 'error')) as [Error]
    expect(err.message).toMatch(/^INVALID_OPTION: size must be/)
  })

  /**
   * A real full disk: a small tmpfs (the tests run as root, as CI does), all
   * but 56 KiB of it taken by a file that is removed later. A service goes on
   * logging, a request at a time, until the transport refuses lines (at least
   * 4000 lines, ~680 KB); with `flushes`, it also calls logger.flush(cb) every
   * 50 lines, which must change nothing: thread-stream takes a flush error as
   * fatal and ends the worker (#12 E), so a flush calls back without one.
   */
  test.each([
    ['ENOSPC: DISK_FULL once, BUFFER_FULL once at maxBuffered, lines refused rather than held without bound, and logging resumes when space returns', false],
    ['ENOSPC while the application calls logger.flush(cb): the same one DISK_FULL and one BUFFER_FULL, the worker stays up, every flush calls back, and the count adds up', true],
  ])('%s', async (_name, flushes) => {
    const d = dir()
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', d])
    try {
      const filler = path.join(d, 'filler')
      fs.writeFileSync(filler, Buffer.alloc(968 * 1024))
      const t = pino.transport({ target: '@chainlog/pino', options: { file: path.join(d, 'app.log'), maxBuffered: '256k' } })
      const errors: string[] = []
      t.on('error', (err: Error) => errors.push(err.message))
      // (events.once would reject on the 'error' events this test expects.)
      const resumed = new Promise<{ refused: number }>((resolve) => t.once('chainlog:resume', resolve))
      await once(t, 'ready')
      const logger = pino(t)
      let asked = 0
      let answered = 0
      const flushErrors: unknown[] = []
      const refusing = () => errors.some((m) => m.startsWith('BUFFER_FULL'))
      let n = 0
      while (n < 4000 || (!refusing() && n < 40_000)) {
        logger.info({ i: n++, pad: 'x'.repeat(100) }, 'disk is full')
        if (n % 50 === 0) {
          if (flushes) {
            asked++
            logger.flush((err) => (err ? flushErrors.push(err) : answered++))
          }
          await new Promise((r) => setTimeout(r, n >= 4000 ? 5 : 0))
        }
      }
      for (let waited = 0; !refusing() && waited < 10_000; waited += 20) await new Promise((r) => setTimeout(r, 20))
      expect(errors).toHaveLength(2)
      expect(errors[0]).toMatch(/^DISK_FULL: .*no space left on device/)
      expect(errors[1]).toMatch(/^BUFFER_FULL: (the line was|\d+ lines were) not logged/)
      // Space returns: what was kept is written, and the transport goes on.
      fs.rmSync(filler)
      const { refused } = await resumed
      expect(refused).toBeGreaterThan(0)
      logger.info({ i: n }, 'after the disk recovered')
      if (flushes) {
        await new Promise<void>((resolve, reject) => logger.flush((err) => (err ? reject(err) : resolve())))
        expect(flushErrors).toEqual([])
        expect(answered).toBe(asked)
      }
      await close(t)
      expect(errors).toHaveLength(2)
      const kept = userLines(chainFiles(d)).map((l) => (JSON.parse(l) as { i: number }).i)
      // Every line not refused is in the chain, in order, and the count adds up.
      expect(kept.length + refused).toBe(n + 1)
      expect(kept.every((v, k) => k === 0 || v > kept[k - 1]!)).toBe(true)
      expect(kept.at(-1)).toBe(n)
      expect((await coreVerify(path.join(d, 'app.log'))).ok).toBe(true)
    } finally {
      execFileSync('umount', ['-l', d])
    }
  })

  test('EACCES: a directory the process may not write', async () => {
    const d = dir()
    fs.chmodSync(d, 0o755) // readable by the unprivileged child, writable only by root
    const r = await runChild('pino-child.cjs', { file: path.join(d, 'logs', 'app.log'), scenario: 'flush', count: 10 }, { uid: 65534 })
    expect(r.stdout).toMatch(/transport-error ACCESS_DENIED: cannot create directory .*permission denied/)
    expect(fs.existsSync(path.join(d, 'logs'))).toBe(false)
  })

  test('the directory removed under the writer', async () => {
    const d = dir()
    const logs = path.join(d, 'logs')
    const t = pino.transport({ target: '@chainlog/pino', options: { file: path.join(logs, 'app.log'), mkdir: true } })
    const errors: string[] = []
    t.on('error', (err: Error) => errors.push(err.message))
    const closed = new Promise((resolve) => t.once('close', resolve))
    await once(t, 'ready')
    const logger = pino(t)
    logger.info('before')
    await new Promise((resolve) => logger.flush(resolve))
    fs.rmSync(logs, { recursive: true })
    logger.info('after')
    await new Promise((resolve) => logger.flush(resolve))
    t.end()
    await closed
    expect(errors[0]).toMatch(new RegExp(`^(NO_DIRECTORY|FILE_REMOVED): .*${logs}`))
  })
})

describe('main-thread destination: nothing lost at exit', () => {
  test.each([
    ['process.exit() right after a burst', 'exit', undefined, 0],
    ['uncaught exception', 'uncaught', undefined, 1],
    ['SIGTERM with exitOnSignals', 'signal', 'SIGTERM', 143],
  ] as const)('%s', async (_name, scenario, signal, code) => {
    const d = dir()
    const r = await runChild('pino-child.cjs', { file: path.join(d, 'app.log'), mode: 'main', scenario, count: 20000 }, signal ? { signal } : {})
    expect(r.code).toBe(code)
    const i = userLines(chainFiles(d)).map((l) => (JSON.parse(l) as { i: number }).i)
    expect(i).toEqual(Array.from({ length: 20000 }, (_, k) => k))
    expect((await coreVerify(path.join(d, 'app.log'))).ok).toBe(true)
  })
})
