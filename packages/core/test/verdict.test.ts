/**
 * The verdict is decided once, in core, and carried in the report (#14): the
 * CLI and `inspect` only format it. Each verdict, and each reason a chain
 * falls short of a head kept elsewhere.
 */
import fs from 'node:fs'
import * as path from 'node:path'
import { describe, expect, test } from 'vitest'
import { createChainWriter, verify } from '../src/index'
import { logFiles, tmpDir, writeLog } from './helpers'

const lines = (n: number) => Array.from({ length: n }, (_, i) => JSON.stringify({ level: 30, i, msg: 'line' }))

describe('report.verdict', () => {
  test('VALID for an intact chain, BROKEN once a line is edited', async () => {
    const dir = tmpDir()
    const [file] = await writeLog(dir, lines(10))
    const intact = await verify(dir)
    expect([intact.ok, intact.verdict]).toEqual([true, 'VALID'])
    fs.writeFileSync(file!, fs.readFileSync(file!, 'utf8').replace('"i":4,', '"i":5,'))
    const broken = await verify(dir)
    expect([broken.ok, broken.verdict]).toEqual([false, 'BROKEN'])
  })

  test('VALID_RECOVERED when a torn tail is accounted for by a recovery record', async () => {
    const dir = tmpDir()
    const [file] = await writeLog(dir, lines(5))
    fs.appendFileSync(file!, 'a record cut short by a crash')
    const w = await createChainWriter({ file: path.join(dir, 'app.log') })
    w.write('after the restart')
    await w.close()
    const report = await verify(logFiles(dir))
    expect(report.recovered).toHaveLength(1)
    expect([report.ok, report.verdict]).toEqual([true, 'VALID_RECOVERED'])
  })

  test('TRUNCATED when the chain no longer reaches the expected head; the same verdict on worker threads', async () => {
    const dir = tmpDir()
    await writeLog(dir, lines(10))
    const { head } = await verify(dir)
    expect(head).not.toBeNull()
    const [file] = logFiles(dir)
    const kept = fs.readFileSync(file!, 'utf8').split('\n').slice(0, -4).join('\n') + '\n'
    fs.writeFileSync(file!, kept)
    for (const jobs of [undefined, 2]) {
      const report = await verify(dir, { checkpoint: head!, ...(jobs && { jobs, minParallelBytes: 0 }) })
      expect(report.ok).toBe(true)
      expect(report.verdict).toBe('TRUNCATED')
      expect(report.expected).toEqual({ hash: head!.hash, count: head!.count, reached: false, foundAt: null, shortfall: 'ENDS_BEFORE_HEAD' })
    }
  })
})

describe('report.expected: why a chain falls short of a head', () => {
  test.each([
    ['the head itself', (h: { hash: string; count: number }) => h, true, null],
    ['a count alone, reached', (h: { hash: string; count: number }) => ({ count: h.count }), true, null],
    ['a count alone, beyond the end', (h: { hash: string; count: number }) => ({ count: h.count + 1 }), false, 'TOO_FEW_RECORDS'],
    ['the hash at another count', (h: { hash: string; count: number }) => ({ hash: h.hash, count: h.count - 1 }), false, 'HEAD_ELSEWHERE'],
    ['a hash no record has', (_h: { hash: string; count: number }) => ({ hash: 'e'.repeat(64) }), false, 'HEAD_NOT_FOUND'],
  ] as const)('%s', async (_name, expect_, reached, shortfall) => {
    const dir = tmpDir()
    await writeLog(dir, lines(6))
    const { head } = await verify(dir)
    const checkpoint = expect_(head!)
    const report = await verify(dir, { checkpoint })
    expect(report.expected).toMatchObject({ reached, shortfall })
    expect(report.verdict).toBe(reached ? 'VALID' : 'TRUNCATED')
    // report.checkpoint keeps its shape: present only when a hash was given.
    expect(report.checkpoint === undefined).toBe(!('hash' in checkpoint))
  })

  test('without a checkpoint the report has no head check', async () => {
    const dir = tmpDir()
    await writeLog(dir, lines(3))
    const report = await verify(dir)
    expect(report.expected).toBeUndefined()
    expect(report.verdict).toBe('VALID')
  })
})
