/**
 * Every single-bit flip over a sample of records must be reported at the line
 * it hit, the way systemd's test-journal-verify flips each bit of a journal in
 * turn. The sample is a few records so that this runs in a few seconds.
 */
import fs from 'node:fs'
import * as path from 'node:path'
import { describe, expect, test } from 'vitest'
import { ChainlogError, createChainWriter, verify, type VerifyReport } from '../src/index'
import { resolveInputs, type ChainFile } from '../src/inputs'
import { ChainVerifier } from '../src/verifier'
import { tmpDir } from './helpers'

interface Outcome {
  /** `file:line:REASON` of the first break, `partial file:line`, `OK`, or `THROW CODE`. */
  key: string
}

/**
 * What verify() reports for these files, in the form the tests compare: the
 * files are resolved and ordered by resolveInputs() as verify() does, then
 * read from disk and fed to the ChainVerifier in one piece each (verify() streams
 * them; the verdict is the same, and thousands of runs stay fast).
 */
async function verdict(files: string[] | ChainFile[]): Promise<string> {
  try {
    const resolved = typeof files[0] === 'string' ? await resolveFiles(files as string[]) : (files as ChainFile[])
    // Files given by name are a segment of the chain, as verify() takes them.
    const v = new ChainVerifier({ scope: 'segment' })
    resolved.forEach((f, i) => {
      v.beginFile(f.path)
      v.feed(fs.readFileSync(f.path))
      v.endFile(i === resolved.length - 1)
    })
    return summary(v.finish())
  } catch (e) {
    return e instanceof ChainlogError ? `THROW ${e.code}` : `THROW ${String(e)}`
  }
}

/** The files of the chain, as resolveInputs() orders them (a flipped bit may make a file a chain of its own: it is verified after the others). */
async function resolveFiles(files: string[]): Promise<ChainFile[]> {
  return (await resolveInputs(files)).chains.flatMap((c) => c.files)
}

function summary(r: VerifyReport): string {
  const b = r.breaks[0]
  return b ? `${path.basename(b.file)}:${b.line}:${b.reason}` : r.partial ? `partial ${path.basename(r.partial.file)}:${r.partial.line}` : 'OK'
}

/**
 * Flips each bit of bytes [from, to) of `file` in turn, on disk, and reports the
 * verdict on `files`. Every 16th flip is also checked through verify() itself.
 * A flip outside line 1 cannot change how the files resolve, so they are resolved once.
 */
async function flipEach(file: string, from: number, to: number, files: string[], each: (offset: number, bit: number, outcome: Outcome) => void): Promise<number> {
  const orig = fs.readFileSync(file)
  const input = from > orig.indexOf(0x0a) ? await resolveFiles(files) : files
  const fd = fs.openSync(file, 'r+')
  let n = 0
  try {
    for (let i = from; i < to; i++) {
      for (let bit = 0; bit < 8; bit++) {
        fs.writeSync(fd, Buffer.from([orig[i]! ^ (1 << bit)]), 0, 1, i)
        const key = await verdict(input)
        if (n % 16 === 0) {
          const full = await verify(files).then(summary, (e: unknown) => (e instanceof ChainlogError ? `THROW ${e.code}` : `THROW ${String(e)}`))
          expect(full, `verify() and the in-memory verdict agree on byte ${i} bit ${bit}`).toBe(key)
        }
        each(i, bit, { key })
        n++
      }
      fs.writeSync(fd, orig, i, 1, i)
    }
  } finally {
    fs.closeSync(fd)
  }
  expect(fs.readFileSync(file).equals(orig)).toBe(true)
  return n
}

/** The 1-based line a byte belongs to (an LF belongs to the line it ends). */
function lineAt(data: Buffer, offset: number): number {
  let line = 1
  for (let i = data.indexOf(0x0a); i !== -1 && i < offset; i = data.indexOf(0x0a, i + 1)) line++
  return line
}

/** Start of 1-based line `n`. */
function lineStart(data: Buffer, n: number): number {
  let at = 0
  for (let i = 1; i < n; i++) at = data.indexOf(0x0a, at) + 1
  return at
}

async function smallChain(lines: string[][]): Promise<{ dir: string; files: string[] }> {
  const dir = tmpDir()
  const w = await createChainWriter({ file: path.join(dir, 'app.log'), chainId: '0123456789abcdef0123456789abcdef', now: () => Date.UTC(2026, 10, 22) })
  for (let f = 0; f < lines.length; f++) {
    if (f > 0) await w.rotate()
    for (const l of lines[f]!) w.write(l)
  }
  await w.close()
  const files = lines.map((_, i) => path.join(dir, `app.${i + 1}.log`))
  expect((await verify(dir)).ok).toBe(true)
  return { dir, files }
}

describe('single-bit flips', () => {
  test('in the records of a rotated file: each flip is reported at the line it hit, the last LF as a torn tail there', async () => {
    const { dir, files } = await smallChain([['{"n":1}', 'é\nscaped', '{"n":3}'], ['{"n":4}']])
    const data = fs.readFileSync(files[0]!)
    const misses: string[] = []
    const reasons = new Set<string>()
    const n = await flipEach(files[0]!, lineStart(data, 2), data.length, files, (i, bit, { key }) => {
      const line = lineAt(data, i)
      const [where, reason] = [key.split(':').slice(0, 2).join(':'), key.split(':')[2]]
      if (where !== `app.1.log:${line}`) misses.push(`byte ${i} bit ${bit} (line ${line}): ${key}`)
      else reasons.add(reason!)
    })
    expect(n).toBeGreaterThan(3000)
    expect(misses).toEqual([])
    expect([...reasons].sort()).toEqual(['HASH_MISMATCH', 'MALFORMED', 'TORN_TAIL'])
  })

  test('in the last record of the chain: each flip is reported at that line; a flipped final LF leaves a partial line there', async () => {
    const { dir, files } = await smallChain([['{"n":1}'], ['{"n":2}', '{"n":3}']])
    const data = fs.readFileSync(files[1]!)
    const misses: string[] = []
    await flipEach(files[1]!, lineStart(data, 3), data.length, files, (i, bit, { key }) => {
      const want = i === data.length - 1 ? 'partial app.2.log:3' : 'app.2.log:3'
      if (!key.startsWith(want)) misses.push(`byte ${i} bit ${bit}: ${key}`)
    })
    expect(misses).toEqual([])
  })

  test('in the header of a middle file: each flip is reported at its line 1 (a flipped index digit: at the file it now sorts behind)', async () => {
    const { files } = await smallChain([['a'], ['b'], ['c']])
    const data = fs.readFileSync(files[1]!)
    const header = data.subarray(0, data.indexOf(0x0a)).toString('latin1')
    // Files are ordered by the index in their headers (FORMAT.md §5.1). A flip that turns this
    // file's index 1 into a larger one (3, 5, 9) puts it after app.3.log, so the first link
    // that fails is app.3.log's: the tampering is found, one file later than the flip.
    const indexDigit = header.indexOf('"index":1,') + '"index":'.length
    const misses: string[] = []
    const late: number[] = []
    await flipEach(files[1]!, 0, data.indexOf(0x0a) + 1, files, (i, bit, { key }) => {
      if (key.startsWith('app.2.log:1:')) return
      if (i === indexDigit && key === 'app.3.log:1:MISSING_FILE') late.push(bit)
      else misses.push(`byte ${i} (${JSON.stringify(String.fromCharCode(data[i]!))}) bit ${bit}: ${key}`)
    })
    expect(misses).toEqual([])
    expect(late).toEqual([1, 2, 3])
  })
})
