// Core additions made for the transports (issues #3, #4): limit.days retention
// (winston-daily-rotate-file's maxFiles: '14d') and createChainWriter's setup
// hook, which lets a transport hear the events start-up emits.
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { afterEach, describe, expect, test } from 'vitest'
import { createChainWriter, verify, type ChainWriter } from '../src/index'

const dirs: string[] = []
const tmp = () => {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'chainlog-hooks-'))
  dirs.push(d)
  return d
}
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true })
})

describe('createChainWriter setup hook', () => {
  test("listeners added in setup hear the first 'new'", async () => {
    const dir = tmp()
    const seen: string[] = []
    const w = await createChainWriter({ file: path.join(dir, 'app.log') }, (writer) => writer.on('new', (p: string) => seen.push(p)))
    expect(seen).toEqual([path.join(dir, 'app.1.log')])
    await w.close()
  })
})

describe('limit.days', () => {
  test('deletes the oldest rotated files older than the limit, records them, and the rest verifies', async () => {
    const dir = tmp()
    const file = path.join(dir, 'app.log')
    const day = 86_400_000
    let now = Date.now()
    const w: ChainWriter = await createChainWriter({ file, limit: { days: 2 }, now: () => now })
    const removed: string[] = []
    w.on('remove', (p: string) => removed.push(p))
    for (let i = 1; i <= 3; i++) {
      w.write(`line ${i}`)
      await w.rotate()
    }
    // Files 1 and 2 were last written 5 and 3 days ago, file 3 today.
    fs.utimesSync(path.join(dir, 'app.1.log'), (now - 5 * day) / 1000, (now - 5 * day) / 1000)
    fs.utimesSync(path.join(dir, 'app.2.log'), (now - 3 * day) / 1000, (now - 3 * day) / 1000)
    now += 1000
    w.write('line 4')
    await w.rotate()
    await w.close()
    expect(removed.sort()).toEqual([path.join(dir, 'app.1.log'), path.join(dir, 'app.2.log')])
    expect(fs.readdirSync(dir).filter((n) => n.endsWith('.log')).sort()).toEqual(['app.3.log', 'app.4.log', 'app.5.log'])
    const retention = fs.readFileSync(path.join(dir, 'app.5.log'), 'utf8').split('\n').find((l) => l.includes('"t":"retention"'))
    expect(retention).toContain('"file":"app.1.log"')
    expect(retention).toContain('"file":"app.2.log"')
    const report = await verify(file)
    expect(report.ok).toBe(true)
  })

  test('keeps a recent file even when an older-looking one follows it, so no file is deleted from the middle', async () => {
    const dir = tmp()
    const file = path.join(dir, 'app.log')
    const w = await createChainWriter({ file, limit: { days: 1 } })
    w.write('a')
    await w.rotate()
    w.write('b')
    await w.rotate()
    const old = (Date.now() - 10 * 86_400_000) / 1000
    fs.utimesSync(path.join(dir, 'app.2.log'), old, old)
    await w.rotate()
    await w.close()
    expect(fs.existsSync(path.join(dir, 'app.1.log'))).toBe(true)
    expect(fs.existsSync(path.join(dir, 'app.2.log'))).toBe(true)
  })

  test.each([0, -1, 1.5, '14d'])('rejects limit.days %j with INVALID_OPTION', async (days) => {
    await expect(createChainWriter({ file: path.join(tmp(), 'app.log'), limit: { days: days as number } })).rejects.toMatchObject({ code: 'INVALID_OPTION' })
  })
})
