/**
 * What a writer killed while compressing leaves (#12 E): temporary archives
 * `app.N.log.gz.<pid>.tmp` and rotated files still plain. The next writer to
 * open the log removes the first (when their process is gone) and finishes
 * the second, under the lock; the chain verifies throughout.
 */
import { spawn, spawnSync } from 'node:child_process'
import * as fs from 'node:fs'
import * as path from 'node:path'
import { gunzipSync } from 'node:zlib'
import { describe, expect, test } from 'vitest'
import { createChainWriter, verify } from '@chainlog/core'
import { testDir } from './helpers/chain'

const temp = () => testDir('chainlog-leftovers-')
const tmpFiles = (dir: string) => fs.readdirSync(dir).filter((n) => n.endsWith('.tmp'))
const plainRotated = (dir: string, current: string) => fs.readdirSync(dir).filter((n) => /^app\.\d+\.log$/.test(n) && n !== path.basename(current))

/** The pid of a process that has exited. */
const deadPid = () => spawnSync(process.execPath, ['-e', '0']).pid!

describe('leftovers of a dead compressing writer', () => {
  test('a temporary archive of a dead process is removed, and the rotated file it belonged to is compressed', async () => {
    const dir = temp()
    const file = path.join(dir, 'app.log')
    const w = await createChainWriter({ file, size: 4096, compress: true })
    for (let i = 0; i < 200; i++) w.write(JSON.stringify({ i, msg: 'a line that fills the files quickly '.repeat(2) }))
    await w.close()
    // As a writer killed mid-compression leaves it: app.2.log plain again, a partial archive beside it.
    const gz = path.join(dir, 'app.2.log.gz')
    fs.writeFileSync(path.join(dir, 'app.2.log'), gunzipSync(fs.readFileSync(gz)))
    fs.rmSync(gz)
    const partial = path.join(dir, `app.2.log.gz.${deadPid()}.tmp`)
    fs.writeFileSync(partial, fs.readFileSync(path.join(dir, 'app.3.log.gz')).subarray(0, 20))
    // A live process's archive (this one's: another writer thread may be compressing) stays.
    const live = path.join(dir, `app.3.log.gz.${process.pid}.tmp`)
    fs.writeFileSync(live, 'in progress')
    expect((await verify(file)).ok).toBe(true)

    const next = await createChainWriter({ file, size: 4096, compress: true })
    next.write('after the restart')
    await next.close()
    expect(fs.existsSync(partial)).toBe(false)
    expect(fs.existsSync(live)).toBe(true)
    expect(fs.existsSync(gz)).toBe(true)
    expect(plainRotated(dir, next.file)).toEqual([])
    const report = await verify(file)
    expect(report.ok).toBe(true)
    expect(report.files).toContain(gz)
  })

  test('without compress, a dead writer\'s temporary archives are removed and plain files stay plain', async () => {
    const dir = temp()
    const file = path.join(dir, 'app.log')
    const w = await createChainWriter({ file, size: 4096 })
    for (let i = 0; i < 200; i++) w.write(JSON.stringify({ i, msg: 'a line that fills the files quickly '.repeat(2) }))
    await w.close()
    const partial = path.join(dir, `app.2.log.gz.${deadPid()}.tmp`)
    fs.writeFileSync(partial, 'partial')
    const next = await createChainWriter({ file, size: 4096 })
    await next.close()
    expect(tmpFiles(dir)).toEqual([])
    expect(fs.existsSync(path.join(dir, 'app.2.log'))).toBe(true)
    expect(fs.existsSync(path.join(dir, 'app.2.log.gz'))).toBe(false)
  })

  test('kill -9 while rotating and compressing, 5 times: then one writer opens, and no temporary archive or plain rotated file is left', async () => {
    const dir = temp()
    const file = path.join(dir, 'app.log')
    for (let k = 0; k < 5; k++) {
      const child = spawn(process.execPath, [path.join(__dirname, 'helpers/compress-child.cjs'), file], { stdio: ['ignore', 'pipe', 'pipe'] })
      await new Promise<void>((resolve) => child.stdout.on('data', (d: Buffer) => d.toString().includes('ready') && resolve()))
      await new Promise((resolve) => setTimeout(resolve, 150 + k * 40))
      child.kill('SIGKILL')
      await new Promise((resolve) => child.on('close', resolve))
    }
    const w = await createChainWriter({ file, size: 64 * 1024, compress: true })
    await w.close()
    expect(tmpFiles(dir)).toEqual([])
    expect(plainRotated(dir, w.file)).toEqual([])
    const report = await verify(file)
    expect(report.breaks).toEqual([])
    expect(report.files.filter((f) => f.endsWith('.gz')).length).toBeGreaterThan(2)
  })
})
