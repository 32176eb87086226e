// #13: taking over the path of pino-roll and winston-daily-rotate-file. The
// peers write first, for real; then chainlog logs to the same path. Their
// files stay byte for byte, are named once in the 'foreign' event, are never
// deleted by retention, and the chain verifies with the built CLI, under the
// user's own filename too (`app-%DATE%.log`).
import { once } from 'node:events'
import * as fs from 'node:fs'
import * as path from 'node:path'
import { describe, expect, test } from 'vitest'
import pino from 'pino'
import roll from 'pino-roll'
import winston from 'winston'
import DailyRotateFile from 'winston-daily-rotate-file'
import { ChainlogTransport } from '@chainlog/winston'
import { testDir, userLines } from './helpers/chain'
import { cli, VERIFY_LOG } from './helpers/seal-writers'

/** Every file in `dir` with its bytes. */
function snapshot(dir: string): Map<string, Buffer> {
  return new Map(fs.readdirSync(dir).map((name) => [path.join(dir, name), fs.readFileSync(path.join(dir, name))]))
}

/** The files chainlog wrote: every file of `dir` not in `before`, in the order of the chain's file numbers. */
function newFiles(dir: string, before: Map<string, Buffer>): string[] {
  const num = (f: string) => Number(/\.(\d+)\.log$/.exec(f)?.[1] ?? NaN)
  return fs.readdirSync(dir).map((n) => path.join(dir, n)).filter((f) => !before.has(f)).sort((a, b) => num(a) - num(b))
}

function expectUntouched(before: Map<string, Buffer>): void {
  for (const [file, bytes] of before) {
    expect(fs.existsSync(file), `${file} is still there`).toBe(true)
    expect(fs.readFileSync(file).equals(bytes), `${file} keeps its bytes`).toBe(true)
  }
}

/**
 * pino-roll as a pino stream, rotating `app.N.log` by size, stopped right
 * after a rotation: its newest file is then empty (the file chainlog once deleted).
 */
async function runPinoRoll(dir: string): Promise<void> {
  const stream = await roll({ file: path.join(dir, 'app'), extension: '.log', size: '1k', mkdir: true })
  const logger = pino(stream)
  const newestEmpty = () => {
    const files = fs.readdirSync(dir).sort((a, b) => Number(/(\d+)\.log$/.exec(a)![1]) - Number(/(\d+)\.log$/.exec(b)![1]))
    return files.length >= 3 && fs.statSync(path.join(dir, files.at(-1)!)).size === 0
  }
  for (let i = 0; i < 500 && !newestEmpty(); i++) {
    logger.info({ i }, 'written by pino-roll')
    // pino-roll checks the size once per write it sees: let each be seen.
    await new Promise((r) => setTimeout(r, 2))
  }
  await new Promise((r) => stream.flush(r))
  stream.end()
  await once(stream, 'close')
}

const flushed = (logger: pino.Logger) => new Promise<void>((resolve, reject) => logger.flush((err) => (err ? reject(err) : resolve())))

describe('from pino-roll', () => {
  test('chainlog starts after its files, leaves them byte for byte (the empty newest too), loses no line, and the CLI verifies', async () => {
    const dir = testDir('chainlog-migrate-')
    await runPinoRoll(dir)
    const before = snapshot(dir)
    const names = [...before.keys()].map((f) => path.basename(f)).sort()
    // pino-roll left numbered files of its own, the newest one empty (the file chainlog once deleted).
    expect(names.length).toBeGreaterThanOrEqual(3)
    for (const n of names) expect(n).toMatch(/^app\.\d+\.log$/)
    const newest = [...before.keys()].sort((a, b) => Number(/(\d+)\.log$/.exec(b)![1]) - Number(/(\d+)\.log$/.exec(a)![1]))[0]!
    expect(before.get(newest)!.length).toBe(0)

    const t = pino.transport({ target: '@chainlog/pino', options: { file: path.join(dir, 'app.log'), size: '2k' } })
    const foreign: { files: string[]; current: string }[] = []
    t.on('chainlog:foreign', (e: { files: string[]; current: string }) => foreign.push(e))
    const logger = pino(t)
    const sent = Array.from({ length: 60 }, (_, i) => `after the move ${i}`)
    for (const [i, msg] of sent.entries()) logger.info({ i }, msg)
    await flushed(logger)
    t.end()
    await once(t, 'close')

    expectUntouched(before)
    const highest = Math.max(...names.map((n) => Number(/(\d+)/.exec(n)![1])))
    expect(foreign).toEqual([{ files: [...before.keys()].sort(), current: path.join(dir, `app.${highest + 1}.log`) }])
    const chain = newFiles(dir, before)
    expect(chain.length).toBeGreaterThan(1) // rotated past pino-roll's numbers without touching them
    expect(userLines(chain).map((l) => (JSON.parse(l) as { msg: string }).msg)).toEqual(sent)

    const r = await cli(VERIFY_LOG, [path.join(dir, 'app.log')])
    expect(r.stderr).toBe('')
    expect(r.status).toBe(0)
    expect(r.stdout).toContain(`${chain.length} files`)
  })

  test('retention with limit, and compression, touch only chain files, never one of pino-roll’s', async () => {
    const dir = testDir('chainlog-migrate-')
    await runPinoRoll(dir)
    const before = snapshot(dir)
    const t = pino.transport({ target: '@chainlog/pino', options: { file: path.join(dir, 'app.log'), size: '1k', limit: { count: 1 }, compress: true } })
    const removed: string[] = []
    t.on('chainlog:remove', (file: string) => removed.push(file))
    const logger = pino(t)
    for (let i = 0; i < 80; i++) logger.info({ i }, 'retained or not')
    await flushed(logger)
    t.end()
    await once(t, 'close')

    expect(removed.length).toBeGreaterThan(0)
    for (const f of removed) expect(before.has(f), `${f} was chainlog's`).toBe(false)
    expectUntouched(before)
    expect(newFiles(dir, before)).toHaveLength(2) // the current file and one rotated file: limit.count 1
    const r = await cli(VERIFY_LOG, [path.join(dir, 'app.log')])
    expect(r.stderr).toBe('')
    expect(r.status).toBe(0)
  })
})

describe('from winston-daily-rotate-file', () => {
  const end = (logger: winston.Logger) => new Promise((resolve) => (logger.on('finish', resolve), logger.end()))

  test("the same filename ('app-%DATE%.log'): its files and audit file stay, the chain starts beside them, verify-log finds it by that filename", async () => {
    const dir = testDir('chainlog-migrate-')
    const filename = path.join(dir, 'app-%DATE%.log')
    const old = new DailyRotateFile({ filename, maxSize: '1k', maxFiles: 5 })
    const oldLogger = winston.createLogger({ transports: [old] })
    for (let i = 0; i < 40; i++) oldLogger.info(`written by winston-daily-rotate-file ${i}`)
    await end(oldLogger)
    await new Promise((r) => setTimeout(r, 200)) // its audit file is written after 'finish'
    const before = snapshot(dir)
    const logs = [...before.keys()].filter((f) => !path.basename(f).startsWith('.')).sort()
    expect(logs.length).toBeGreaterThanOrEqual(2)
    expect([...before.keys()].some((f) => /-audit\.json$/.test(f))).toBe(true)

    const transport = new ChainlogTransport({ filename, maxSize: '2k', maxFiles: 3 })
    const foreign: { files: string[]; current: string }[] = []
    transport.on('foreign', (e: { files: string[]; current: string }) => foreign.push(e))
    const logger = winston.createLogger({ format: winston.format.simple(), transports: [transport] })
    const sent = Array.from({ length: 30 }, (_, i) => `after the move ${i}`)
    for (const msg of sent) logger.info(msg)
    await end(logger)
    await transport.ready

    expectUntouched(before)
    expect(foreign).toHaveLength(1)
    expect(foreign[0]!.files).toEqual(logs)
    expect(path.basename(foreign[0]!.current)).toMatch(/^app\.\d{4}-\d\d-\d\d\.1\.log$/)
    const chain = newFiles(dir, before)
    expect(userLines(chain)).toEqual(sent.map((m) => `info: ${m}`))

    const r = await cli(VERIFY_LOG, [filename])
    expect(r.stderr).toBe('')
    expect(r.status).toBe(0)
    expect(r.stdout).toContain(`${chain.length} file`)
  })
})
