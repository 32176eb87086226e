/**
 * What the input holds (#12): the same report whether the chains are read in
 * this thread or cut into byte ranges for worker threads, for each new rule
 * of the inputs: several chains, a segment, a deleted header, a changed
 * keyId, a file added to the end of a middle file, a foreign newest file.
 */
import fs from 'node:fs'
import * as path from 'node:path'
import { Readable } from 'node:stream'
import { describe, expect, test } from 'vitest'
import { verify, type VerifyReport } from '../src/index'
import { forge, hashOf, physicalLines, tmpDir, writeLines, writeLog } from './helpers'

const LINES = Array.from({ length: 80 }, (_, i) => `{"level":30,"msg":"request ${i} served"}`)
const KEY = Buffer.from('k'.repeat(64))

/** verify() in this thread and on two workers with tiny ranges: the same report. */
async function both(input: string | string[], options: { key?: Uint8Array; all?: boolean } = {}): Promise<VerifyReport> {
  const seq = await verify(input, options)
  const par = await verify(input, { ...options, jobs: 2, minParallelBytes: 0, segmentBytes: 512 })
  expect(par).toEqual(seq)
  return seq
}

async function log(options: Parameters<typeof writeLog>[2] = {}): Promise<{ dir: string; files: string[] }> {
  const dir = tmpDir()
  const files = await writeLog(dir, LINES, { size: 2048, ...options })
  expect(files.length).toBeGreaterThanOrEqual(4)
  return { dir, files }
}

describe('the same verdict on threads', () => {
  test('two chains in one folder, one broken', async () => {
    const { dir, files } = await log()
    const other = tmpDir()
    const [foreign] = await writeLog(other, LINES.slice(0, 3))
    fs.copyFileSync(foreign!, path.join(dir, 'other.1.log'))
    const lines = physicalLines(files[2]!)
    lines[3] = Buffer.from(lines[3]!.toString().replace('served', 'denied'))
    writeLines(files[2]!, lines)
    const r = await both(dir, { all: true })
    expect(r.verdict).toBe('BROKEN')
    expect(r.chains!.map((c) => c.verdict)).toEqual(['BROKEN', 'VALID'])
    expect(r.breaks).toEqual([expect.objectContaining({ file: files[2], line: 4, reason: 'HASH_MISMATCH' })])
  })

  test('a segment of middle files, and the same chain with its first files gone as a directory', async () => {
    const { dir, files } = await log()
    const seg = await both(files.slice(2))
    expect(seg.verdict).toBe('VALID_SEGMENT')
    expect(seg.segment).toEqual({ first: JSON.parse(physicalLines(files[2]!)[0]!.toString().slice(67, -65)).seq + 1, last: seg.head!.count, anchored: true })
    fs.rmSync(files[0]!)
    fs.rmSync(files[1]!)
    const whole = await both(dir)
    expect(whole.breaks).toEqual([expect.objectContaining({ file: files[2], line: 1, reason: 'MISSING_FILE', expected: `a retention or archive record naming ${path.basename(files[1]!)}` })])
  })

  test('a deleted header, and a changed keyId under the right key', async () => {
    const { dir, files } = await log({ algorithm: 'hmac-sha256', key: KEY })
    const lines = physicalLines(files[1]!)
    lines[0] = Buffer.from(lines[0]!.toString().replace(/"keyId":"[0-9a-f]+"/, '"keyId":"0123456789abcdef"'))
    writeLines(files[1]!, lines)
    writeLines(files[3]!, physicalLines(files[3]!).slice(1))
    const r = await both(dir, { key: KEY, all: true })
    expect(r.breaks.map((b) => `${path.basename(b.file)}:${b.line}:${b.reason}`)).toEqual([`${path.basename(files[1]!)}:1:BAD_HEADER`, `${path.basename(files[3]!)}:1:BAD_HEADER`])
  })

  test('lines appended to a middle file, and a foreign newest file', async () => {
    const { dir, files } = await log()
    const lines = physicalLines(files[1]!)
    writeLines(files[1]!, [...lines, forge(hashOf(lines.at(-1)!), 'forged').text.slice(0, -1)])
    fs.writeFileSync(path.join(dir, `app.${files.length + 1}.log`), 'garbage\n')
    const r = await both(dir, { all: true })
    expect(r.breaks).toEqual([
      expect.objectContaining({ file: files[1], line: lines.length + 1, offset: lines.reduce((n, l) => n + l.length + 1, 0), reason: 'PREV_MISMATCH' }),
      expect.objectContaining({ file: path.join(dir, `app.${files.length + 1}.log`), line: 1, reason: 'BAD_HEADER' }),
    ])
    // The appended line is not counted as a record of the chain.
    const clean = await log()
    expect(r.records).toBe((await verify(clean.dir)).records)
  })

  test('stdin that begins mid-file, hmac without the key: nothing can be checked (KEY_REQUIRED); with it, checked', async () => {
    const { files } = await log({ algorithm: 'hmac-sha256', key: KEY })
    const tail = Buffer.concat(physicalLines(files[1]!).slice(3).map((l) => Buffer.concat([l, Buffer.from('\n')])))
    await expect(verify(Readable.from([tail]))).rejects.toMatchObject({ code: 'KEY_REQUIRED' })
    const r = await verify(Readable.from([tail]), { key: KEY })
    expect(r).toMatchObject({ verdict: 'VALID_SEGMENT', algorithm: 'hmac-sha256', segment: { first: null, anchored: false } })
  })
})
