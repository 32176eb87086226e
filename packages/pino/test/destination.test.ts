// The stream chainlog() returns, in this thread: what reaches the chain when
// core holds it back, the head on a timer, and the format-1 vectors through
// pino writing to it directly (main-thread mode).
import { once } from 'node:events'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { afterAll, describe, expect, test } from 'vitest'
import pino from 'pino'
import { createChainWriter, ErrorCodes, verify } from '@chainlog/core'
import { escapeLine } from '@chainlog/core/format'
import { chainlog, Events } from '../src/index'
import { createDestination } from '../src/destination'

const dirs: string[] = []
const dir = () => {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'chainlog-pdest-'))
  dirs.push(d)
  return d
}
afterAll(() => {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true })
})

/** Stored forms of the user records of the chain in `d` (the line between prev| and |hash). */
function stored(d: string): string[] {
  const files = fs.readdirSync(d).filter((n) => /^app\.\d+\.log$/.test(n)).sort((a, b) => parseInt(a.slice(4)) - parseInt(b.slice(4)))
  return files.flatMap((f) => fs.readFileSync(path.join(d, f), 'utf8').split('\n').slice(0, -1)).map((r) => r.slice(65, -65)).filter((l) => !l.startsWith('\\m'))
}

describe('backpressure', () => {
  test('while core asks to wait the lines stay in the stream, and flush(cb) calls back only once every line written before it is in the file', async () => {
    const d = dir()
    // A tiny high-water mark: core asks to wait after the first chunk. The
    // chunks after it wait in the stream, unwritten.
    const writer = await createChainWriter({ file: path.join(d, 'app.log'), highWaterMark: 256 })
    const dest = createDestination(writer)
    const lines = Array.from({ length: 400 }, (_, i) => JSON.stringify({ i, pad: 'x'.repeat(i % 50) }))
    dest.write(lines.slice(0, 50).join('\n') + '\n')
    await new Promise(process.nextTick) // the first chunk goes to core, which asks to wait
    for (let i = 50; i < lines.length; i += 50) dest.write(lines.slice(i, i + 50).join('\n') + '\n')
    await new Promise(process.nextTick)
    expect(dest.writableLength).toBeGreaterThan(0)
    expect(stored(d).length).toBeLessThan(lines.length)
    await new Promise<void>((resolve, reject) => dest.flush((err) => (err ? reject(err) : resolve())))
    expect(stored(d)).toEqual(lines)
    dest.end()
    await once(dest, 'close')
    expect((await verify(path.join(d, 'app.log'))).ok).toBe(true)
  })
})

describe('a writer closed under the stream', () => {
  test.each([
    ['one line', 1],
    ['more lines in one turn than the feed batches (1,500)', 1500],
  ])('%s written after it fails the stream with WRITER_CLOSED, and nothing is thrown; what was written before stays', async (_, count) => {
    const d = dir()
    const dest = await chainlog({ file: path.join(d, 'app.log') })
    dest.write('{"before":true}\n')
    await new Promise<void>((resolve, reject) => dest.flush((err) => (err ? reject(err) : resolve())))
    await dest.writer.close()
    const failed = once(dest, 'error')
    for (let i = 0; i < count; i++) dest.write(`{"after":${i}}\n`)
    const [err] = (await failed) as [NodeJS.ErrnoException]
    expect(err.code).toBe(ErrorCodes.WRITER_CLOSED)
    expect(dest.destroyed).toBe(true)
    expect(stored(d)).toEqual(['{"before":true}'])
    expect((await verify(path.join(d, 'app.log'))).ok).toBe(true)
  })
})

describe('headInterval', () => {
  test('the head is reported on the timer while lines arrive, and not while the log is idle', async () => {
    const d = dir()
    const dest = await chainlog({ file: path.join(d, 'app.log'), headInterval: 50 })
    const heads: { count: number }[] = []
    dest.on(Events.HEAD, (h: { count: number }) => heads.push(h))
    const logger = pino(dest)
    for (let i = 0; i < 10; i++) logger.info({ i }, 'tick')
    for (let waited = 0; heads.length === 0 && waited < 1500; waited += 10) await new Promise((r) => setTimeout(r, 10))
    // The header and the ten lines, on disk: no flush() was called.
    expect(heads[0]!.count).toBe(11)
    const seen = heads.length
    await new Promise((r) => setTimeout(r, 150))
    expect(heads.length).toBe(seen)
    dest.end()
    await once(dest, 'close')
  })
})

describe('main-thread mode', () => {
  test('the format-1 vectors and a last line without LF reach the chain byte for byte', async () => {
    const vectors = JSON.parse(fs.readFileSync(path.join(__dirname, '../../../test/fixtures/format-1/vectors.json'), 'utf8')) as { algorithms: { sha256: { line: string }[] } }
    const d = dir()
    const dest = await chainlog({ file: path.join(d, 'app.log') })
    const written = [...vectors.algorithms.sha256.map((v) => v.line + '\n'), 'the last line, without LF']
    let n = 0
    const logger = pino({ hooks: { streamWrite: () => written[n++]! } }, dest)
    for (let i = 0; i < written.length; i++) logger.info('replaced by streamWrite')
    dest.end()
    await once(dest, 'finish')
    // Lines end at LF only, and reach core as pino wrote them: a lone surrogate too (core escapes it, FORMAT.md §3).
    expect(stored(d)).toEqual(written.join('').split('\n').map((l) => escapeLine(l)))
    const loneSurrogates = vectors.algorithms.sha256.filter((v) => !v.line.isWellFormed() && !v.line.includes('\n'))
    expect(loneSurrogates.length).toBeGreaterThan(0)
    for (const v of loneSurrogates) expect(stored(d)).toContain(escapeLine(v.line))
    expect((await verify(path.join(d, 'app.log'))).ok).toBe(true)
  })

  test("pino sets no per-line metadata on the stream (it would, for a stream marked with pino's metadata symbol)", async () => {
    const d = dir()
    const dest = (await chainlog({ file: path.join(d, 'app.log') })) as unknown as Record<string | symbol, unknown>
    expect(dest[Symbol.for('pino.metadata')]).toBeUndefined()
    const logger = pino(dest as never)
    logger.warn({ a: 1 }, 'one line')
    expect(dest.lastLevel).toBeUndefined()
    expect(dest.lastObj).toBeUndefined()
    ;(dest as never as { end(): void }).end()
    await once(dest as never, 'finish')
    expect(stored(d)).toHaveLength(1)
  })
})
