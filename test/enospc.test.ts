import { execFileSync } from 'node:child_process'
import * as fs from 'node:fs'
import { createRequire } from 'node:module'
import * as path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createChainWriter, verify, type ChainlogError } from '@chainlog/core'
import { tempDir } from './helpers/chain'

/**
 * A full disk, for real where the machine allows it: a 1 MiB tmpfs mounted for
 * this test (needs root, as on CI here). Elsewhere the same scenario runs with
 * an injected fs.writeSync that fails like the kernel: a partial write, then
 * ENOSPC until space is freed.
 */
let mountPoint = ''
let realDisk = false
let freeSpace: () => void = () => {}
let fillDisk: () => void = () => {}
const cjsFs = createRequire(__filename)('node:fs') as typeof fs

beforeAll(() => {
  mountPoint = tempDir('chainlog-enospc-')
  try {
    if (process.env.CHAINLOG_INJECT_ENOSPC) throw new Error('injected fs requested')
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', mountPoint], { stdio: 'ignore' })
    realDisk = true
    const filler = path.join(mountPoint, 'filler')
    fillDisk = () => fs.writeFileSync(filler, Buffer.alloc(700 * 1024))
    freeSpace = () => fs.rmSync(filler)
  } catch {
    realDisk = false
    const original = cjsFs.writeSync
    let full = false
    let budget = 0
    cjsFs.writeSync = function (this: unknown, fd: number, data: unknown, ...rest: unknown[]) {
      if (!full) return (original as (...a: unknown[]) => number).call(this, fd, data, ...rest)
      const len = typeof data === 'string' ? Buffer.byteLength(data) : (data as Buffer).length
      if (budget > 0) {
        // The kernel writes what fits, then refuses the rest.
        const n = Math.min(budget, len)
        budget -= n
        const buf = typeof data === 'string' ? Buffer.from(data) : (data as Buffer)
        return original(fd, buf.subarray(0, n))
      }
      throw Object.assign(new Error('ENOSPC: no space left on device, write'), { errno: -28, code: 'ENOSPC', syscall: 'write' })
    } as typeof fs.writeSync
    fillDisk = () => {
      full = true
      budget = 300 * 1024
    }
    freeSpace = () => {
      full = false
    }
  }
})

afterAll(() => {
  if (realDisk) execFileSync('umount', [mountPoint])
  fs.rmSync(mountPoint, { recursive: true, force: true })
})

describe('a full disk loses nothing already written', () => {
  it('reports DISK_FULL once, keeps the file a valid chain, and resumes when space returns', async () => {
    console.info(`ENOSPC test on ${realDisk ? 'a real 1 MiB tmpfs' : 'an injected fs.writeSync (mount not permitted)'}`)
    fillDisk()
    const base = path.join(mountPoint, 'app.log')
    const writer = await createChainWriter({ file: base })
    const errors: ChainlogError[] = []
    writer.on('error', (err: ChainlogError) => errors.push(err))
    let resumed = 0
    writer.on('resume', () => resumed++)
    const n = 2500
    for (let i = 0; i < n; i++) writer.write(JSON.stringify({ i, msg: 'y'.repeat(150) }))
    await expect(writer.flush()).rejects.toMatchObject({ code: 'DISK_FULL' })
    expect(errors.map((e) => e.code)).toEqual(['DISK_FULL'])
    expect(errors[0]!.message).toMatch(/no space left on device/)

    // While the disk is full, the file is a valid chain up to its last whole record.
    const during = await verify(base)
    expect(during.ok).toBe(true)
    expect(during.partial).toBeNull()
    expect(during.records).toBeGreaterThan(1)
    expect(during.records).toBeLessThan(n)

    freeSpace()
    await new Promise<void>((resolve) => writer.once('resume', () => resolve()))
    await writer.close()
    expect(resumed).toBe(1)
    expect(errors).toHaveLength(1)

    const seen: number[] = []
    const after = await verify(base, { onLine: (line) => seen.push(JSON.parse(line).i) })
    expect(after.ok).toBe(true)
    expect(seen).toEqual(Array.from({ length: n }, (_, i) => i))
  }, 60_000)

})
