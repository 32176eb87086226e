/**
 * Parallel verification gives the sequential verifier's report: same breaks,
 * same lines and offsets, same head, on tampered chains, with and without
 * --all, whatever the segment size (issue #5).
 */
import * as fs from 'node:fs'
import * as path from 'node:path'
import { gzipSync } from 'node:zlib'
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { verify, type VerifyReport } from '@chainlog/core'
import { deleteLine, editAndRehash, editLine, forge, hashOf, insertForged, json, lineCount, linesOf, logFiles, pinoLine, suiteDir, swapLines, tmpDir, verifyLog, writeChain } from './helpers'

let template: string

beforeAll(async () => {
  template = suiteDir('chainlog-cli-par-')
  // Plain lines, escaped multi-line ones, and now and then a long one.
  const lines = Array.from({ length: 1500 }, (_, i) => (i % 97 === 3 ? `Error ${i}\n  at x\\y` : i % 211 === 7 ? 'L'.repeat(5000 + i) : pinoLine(i)))
  await writeChain(template, lines, { size: 40_000 })
})
afterAll(() => fs.rmSync(template, { recursive: true, force: true }))

function copy(): { dir: string; files: string[] } {
  const dir = tmpDir()
  for (const f of fs.readdirSync(template)) fs.copyFileSync(path.join(template, f), path.join(dir, f))
  return { dir, files: logFiles(dir) }
}

async function both(dir: string, options: { all?: boolean; segmentBytes: number; checkpoint?: { hash: string } }): Promise<[VerifyReport | string, VerifyReport | string]> {
  const run = async (f: () => Promise<VerifyReport>) => {
    try {
      return await f()
    } catch (err) {
      return `${(err as { code?: string }).code}: ${(err as Error).message}`
    }
  }
  const seq = await run(() => verify(dir, options))
  const par = await run(() => verify(dir, { ...options, jobs: 2, minParallelBytes: 0 }))
  return [seq, par]
}

type Op =
  | { t: 'edit' | 'rehash' | 'delete' | 'insert' | 'cut' | 'garbage' | 'flip'; file: number; line: number; n: number }
  | { t: 'swap'; file: number; line: number; n: number }
  | { t: 'rmfile' | 'gzip' | 'torn'; file: number; line: number; n: number }

function apply(files: string[], op: Op): void {
  const file = files[op.file % files.length]!
  if (!fs.existsSync(file)) return
  const count = lineCount(file)
  const line = 1 + (op.line % count)
  switch (op.t) {
    case 'edit':
      return editLine(file, line, (s) => s + 'x')
    case 'rehash':
      return line > 1 ? editAndRehash(file, line, (s) => s + 'y') : undefined
    case 'delete':
      return deleteLine(file, line)
    case 'insert':
      return line > 1 ? insertForged(file, line, `{"forged":${op.n}}`) : undefined
    case 'swap':
      return swapLines(file, line, 1 + ((line + 1 + (op.n % 5)) % count))
    case 'cut': {
      const data = fs.readFileSync(file)
      return fs.writeFileSync(file, data.subarray(0, op.n % data.length))
    }
    case 'garbage': {
      const lines = linesOf(file)
      lines.splice(line - 1, 1, Buffer.from('garbage ' + 'g'.repeat(op.n % 300)))
      return fs.writeFileSync(file, Buffer.concat(lines.flatMap((l) => [l, Buffer.from('\n')])))
    }
    case 'flip': {
      const data = fs.readFileSync(file)
      data[op.n % data.length] ^= 1 << (op.n % 7)
      return fs.writeFileSync(file, data)
    }
    case 'rmfile':
      return fs.rmSync(file)
    case 'gzip':
      fs.writeFileSync(file + '.gz', gzipSync(fs.readFileSync(file)))
      return fs.rmSync(file)
    case 'torn':
      return fs.appendFileSync(file, forge(hashOf(linesOf(file).at(-1)!), 'torn').subarray(0, op.n % 200))
  }
}

const opArb: fc.Arbitrary<Op> = fc.record({
  t: fc.constantFrom('edit', 'rehash', 'delete', 'insert', 'cut', 'garbage', 'flip', 'swap', 'rmfile', 'gzip', 'torn'),
  file: fc.nat(),
  line: fc.nat(),
  n: fc.nat(),
}) as fc.Arbitrary<Op>

describe('verify with jobs equals verify in this thread', () => {
  test('on an intact chain, for many segment sizes', async () => {
    const { dir } = copy()
    for (const segmentBytes of [97, 4096, 65_536, 1 << 24]) {
      const [seq, par] = await both(dir, { segmentBytes })
      expect((seq as VerifyReport).ok).toBe(true)
      expect(par).toEqual(seq)
    }
  })

  test('on randomly tampered chains, with and without --all (fast-check)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(opArb, { minLength: 1, maxLength: 4 }), fc.integer({ min: 64, max: 30_000 }), fc.boolean(), async (ops, segmentBytes, all) => {
        const { dir, files } = copy()
        for (const op of ops) apply(files, op)
        const [seq, par] = await both(dir, { all, segmentBytes })
        expect(par).toEqual(seq)
      }),
      { numRuns: 30, seed: 20261122 },
    )
  })

  test('breaks exactly at segment joins', async () => {
    const { dir, files } = copy()
    const file = files[2]!
    // Segments of 4096 bytes: tamper with the lines that start right at and right after a join.
    const data = fs.readFileSync(file)
    const at = data.indexOf(0x0a, 4096 - 1) + 1
    const line = data.subarray(0, at).toString('latin1').split('\n').length
    editLine(file, line, (s) => s + 'z')
    deleteLine(file, line + 3)
    for (const all of [false, true]) {
      const [seq, par] = await both(dir, { all, segmentBytes: 4096 })
      expect((seq as VerifyReport).breaks[0]).toMatchObject({ file, line, reason: 'HASH_MISMATCH' })
      expect(par).toEqual(seq)
    }
  })

  test('segments of several read blocks, and the line across a segment end read in one more block', async () => {
    const dir = tmpDir()
    const files = await writeChain(dir, Array.from({ length: 30_000 }, (_, i) => pinoLine(i)), { size: 100_000_000 })
    expect(files).toHaveLength(1)
    // The worker reads 1 MiB at a time: a 1 MiB segment ends with its block, so the line across its end needs another read.
    const across = (at: number) => fs.readFileSync(files[0]!).subarray(0, at).toString('latin1').split('\n').length
    for (const segmentBytes of [1 << 20, 3 << 20]) {
      const [seq, par] = await both(dir, { segmentBytes })
      expect((seq as VerifyReport).ok).toBe(true)
      expect(par).toEqual(seq)
    }
    editLine(files[0]!, across(1 << 20), (s) => s.replace('served', 'SERVED'))
    editLine(files[0]!, across(5 << 20), (s) => s.replace('served', 'SERVED'))
    for (const segmentBytes of [1 << 20, 3 << 20]) {
      for (const all of [false, true]) {
        const [seq, par] = await both(dir, { all, segmentBytes })
        expect((seq as VerifyReport).breaks[0]).toMatchObject({ line: across(1 << 20), reason: 'HASH_MISMATCH' })
        if (all) expect((seq as VerifyReport).breaks.map((b) => b.line)).toContain(across(5 << 20))
        expect(par).toEqual(seq)
      }
    }
  })

  test('lines longer than a worker reads at once, and segments of nothing but garbage', async () => {
    const dir = tmpDir()
    const files = await writeChain(dir, [pinoLine(0), 'B'.repeat(1_500_000), pinoLine(1), 'C'.repeat(3_000_000), pinoLine(2)], { size: 2_000_000 })
    editLine(files[0]!, 3, (s) => s.slice(1))
    const garbage = Array.from({ length: 60_000 }, (_, i) => `junk ${i}`).join('\n') + '\n'
    fs.appendFileSync(files.at(-1)!, garbage)
    for (const all of [false, true]) {
      const [seq, par] = await both(dir, { all, segmentBytes: 700_000 })
      expect((seq as VerifyReport).breaks[0]).toMatchObject({ file: files[0], line: 3, reason: 'HASH_MISMATCH' })
      if (all) expect((seq as VerifyReport).breaks.length).toBeGreaterThan(60_000)
      expect(par).toEqual(seq)
    }
  })

  test('a checkpoint hash is found at the same place', async () => {
    const { dir, files } = copy()
    const mid = files[3]!
    const target = linesOf(mid)[10]!
    const [seq, par] = await both(dir, { segmentBytes: 5000, checkpoint: { hash: hashOf(target) } })
    const before = files.slice(0, 3).reduce((n, f) => n + lineCount(f), 0)
    expect((seq as VerifyReport).checkpoint).toEqual({ hash: hashOf(target), count: before + 11 })
    expect(par).toEqual(seq)
  })
})

describe('verify-log --jobs on a chain of several segments', () => {
  test('one worker, two workers and stdin give the same breaks', async () => {
    const dir = tmpDir()
    // About 20 MB: three default (8 MiB) segments in one file.
    const files = await writeChain(dir, Array.from({ length: 90_000 }, (_, i) => pinoLine(i)))
    expect(fs.statSync(files[0]!).size).toBeGreaterThan(18 * 1024 * 1024)
    const n = lineCount(files[0]!)
    editLine(files[0]!, Math.floor(n / 2), (s) => s.replace('served', 'SERVED'))
    deleteLine(files[0]!, n - 100)
    const one = await verifyLog(['--json', '--all', '--jobs', '1', dir])
    const two = await verifyLog(['--json', '--all', '--jobs', '2', dir])
    const stdin = await verifyLog(['--json', '--all', '-'], { input: fs.readFileSync(files[0]!) })
    expect(one.status).toBe(1)
    expect(two.stdout).toBe(one.stdout)
    const j = json<{ breaks: { line: number; reason: string }[]; records: number }>(one)
    expect(j.breaks.map((b) => [b.line, b.reason])).toEqual([
      [Math.floor(n / 2), 'HASH_MISMATCH'],
      [n - 100, 'PREV_MISMATCH'],
    ])
    const s = json<{ breaks: { line: number; reason: string; offset: number }[]; records: number }>(stdin)
    expect(s.breaks.map((b) => [b.line, b.offset, b.reason])).toEqual(json<{ breaks: { line: number; reason: string; offset: number }[] }>(one).breaks.map((b) => [b.line, b.offset, b.reason]))
    expect(s.records).toBe(j.records)
  })
})
