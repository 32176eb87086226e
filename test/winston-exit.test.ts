/**
 * What a winston application can rely on at exit (#12 E), with real winston
 * in a child process: entries taken by the transport while its file still
 * opens, and entries logged in a loop, survive a process.exit() right after;
 * the documented pattern (logger.end(), exit on 'finish') too. And 'logged'
 * means taken, not written: flush() is the signal that an entry is on its way
 * to disk.
 */
import { spawnSync } from 'node:child_process'
import * as fs from 'node:fs'
import * as path from 'node:path'
import { once } from 'node:events'
import { describe, expect, test } from 'vitest'
import winston from 'winston'
import { ChainlogTransport } from '@chainlog/winston'
import { chainFiles, coreVerify, testDir, userLines } from './helpers/chain'

const CHILD = path.join(__dirname, 'helpers/winston-exit-child.cjs')

describe('winston and process.exit()', () => {
  test.each([
    ['direct', 'transport.log() while the file still opens, then process.exit()'],
    ['logger', 'logger.info() in a loop, then process.exit()'],
    ['safe', "logger.end(), then process.exit() on 'finish'"],
  ])('%s: %s: all 100,000 entries are in the chain, in order, and it verifies', async (mode) => {
    const dir = testDir('chainlog-wexit-')
    const r = spawnSync(process.execPath, [CHILD, path.join(dir, 'app.log'), '100000', mode], { encoding: 'utf8' })
    expect(r.stderr).toBe('')
    expect(r.status).toBe(0)
    const lines = userLines(chainFiles(dir)).map((l) => (JSON.parse(l) as { i: number }).i)
    expect(lines).toEqual(Array.from({ length: 100_000 }, (_, i) => i))
    expect((await coreVerify(path.join(dir, 'app.log'))).ok).toBe(true)
  }, 120_000)

  test("'logged' fires when the entry is taken, before it is written; transport.flush() resolves once it is handed to the OS", async () => {
    const dir = testDir('chainlog-wlogged-')
    const transport = new ChainlogTransport({ filename: path.join(dir, 'app.log') })
    await transport.ready
    const logger = winston.createLogger({ format: winston.format.json(), transports: [transport] })
    const file = path.join(dir, 'app.1.log')
    let onDiskAtLogged: boolean | null = null
    transport.once('logged', () => (onDiskAtLogged = fs.readFileSync(file, 'utf8').includes('"marker"')))
    logger.info('marker')
    expect(onDiskAtLogged).toBe(false)
    await transport.flush()
    expect(fs.readFileSync(file, 'utf8')).toContain('"marker"')
    logger.end()
    await once(transport, 'finish')
  })
})
