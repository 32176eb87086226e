/**
 * A disk that fills exactly when the writer starts its next file (#12 C):
 * the new file's header is refused. Before the fix the writer had already
 * switched to the new file, so once space returned its records went into a
 * file without a header (BAD_HEADER at its line 1 on an untouched log). The
 * write is refused the way the kernel refuses it, through the fs.writeSync
 * that sonic-boom calls, for the header of the next file only.
 */
import * as fs from 'node:fs'
import { createRequire } from 'node:module'
import * as path from 'node:path'
import { afterEach, describe, expect, test } from 'vitest'
import { createChainWriter, verify, type ChainlogError } from '@chainlog/core'
import { tempDir } from './helpers/chain'

const cjsFs = createRequire(__filename)('node:fs') as typeof fs
const original = cjsFs.writeSync
afterEach(() => {
  cjsFs.writeSync = original
})

describe('ENOSPC on the header of the next file', () => {
  test.each([1, 3])('refused %i time(s), then space returns: one DISK_FULL, every line kept in order, and the log verifies', async (refusals) => {
    const dir = tempDir('chainlog-rot-enospc-')
    try {
      const base = path.join(dir, 'app.log')
      const w = await createChainWriter({ file: base, size: 2048 })
      const errors: ChainlogError[] = []
      w.on('error', (err: ChainlogError) => errors.push(err))
      let left = refusals
      cjsFs.writeSync = function (this: unknown, fd: number, data: unknown, ...rest: unknown[]) {
        const text = Buffer.isBuffer(data) ? data.toString('latin1', 0, Math.min(data.length, 400)) : String(data)
        if (left > 0 && text.includes('"t":"header"') && !text.includes('"index":0')) {
          left--
          throw Object.assign(new Error('ENOSPC: no space left on device, write'), { errno: -28, code: 'ENOSPC', syscall: 'write' })
        }
        return (original as (...a: unknown[]) => number).call(this, fd, data, ...rest)
      } as typeof fs.writeSync
      const resumed = new Promise<void>((resolve) => w.once('resume', () => resolve()))
      const n = 200
      for (let i = 0; i < n; i++) {
        w.write(JSON.stringify({ i, msg: 'a line of about a hundred bytes, '.repeat(2) }))
        if (i % 10 === 9) await new Promise((r) => setTimeout(r, 1))
      }
      await resumed
      await w.close()
      expect(left).toBe(0)
      expect(errors.map((e) => e.code)).toEqual(['DISK_FULL'])
      const seen: number[] = []
      const report = await verify(base, { onLine: (line) => seen.push((JSON.parse(line) as { i: number }).i) })
      expect(report.breaks).toEqual([])
      expect(report.ok).toBe(true)
      expect(seen).toEqual(Array.from({ length: n }, (_, i) => i))
      // Every file starts with its header.
      for (const f of report.files) expect(fs.readFileSync(f, 'utf8').split('\n')[0]).toContain('"t":"header"')
    } finally {
      fs.rmSync(dir, { recursive: true, force: true })
    }
  })
})
