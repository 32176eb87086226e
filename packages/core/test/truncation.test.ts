/**
 * Truncation at every byte offset of the last records (FORMAT.md §9).
 *
 * What the files alone can and cannot show:
 * - cut inside a record: the last line is partial; the verifier reports where
 *   (`partial`), and the head is the last whole record before it;
 * - cut at a record boundary: what is left is a shorter, valid chain. Only the
 *   head (hash and count) tells, compared with a value kept elsewhere.
 * A cut in a file that is not the last one is always a break.
 */
import fs from 'node:fs'
import * as path from 'node:path'
import { describe, expect, test } from 'vitest'
import { createChainWriter, verify } from '../src/index'
import { hashOf, physicalLines, runPython, tmpDir } from './helpers'

async function twoFiles(): Promise<{ files: string[]; data: Buffer; before: number }> {
  const dir = tmpDir()
  const w = await createChainWriter({ file: path.join(dir, 'app.log') })
  w.write('first file')
  await w.rotate()
  for (const l of ['{"n":1}', 'two\nlines', '{"n":3,"msg":"héllo"}', '{"n":4}']) w.write(l)
  await w.close()
  const files = [path.join(dir, 'app.1.log'), path.join(dir, 'app.2.log')]
  return { files, data: fs.readFileSync(files[1]!), before: physicalLines(files[0]!).length }
}

describe('truncation of the last file at every byte offset of its last three records', () => {
  test('mid-record: partial at that line, head = the record before; at a boundary: a shorter valid chain whose head and count say where it ends', async () => {
    const { files, data, before } = await twoFiles()
    const starts = [0]
    for (let i = data.indexOf(0x0a); i !== -1; i = data.indexOf(0x0a, i + 1)) starts.push(i + 1)
    // starts: the offset of each line, and the end of the file. Lines 3, 4, 5 are the last three records.
    const from = starts[2]!
    let boundaries = 0
    let partials = 0
    for (let cut = from; cut < data.length; cut++) {
      fs.writeFileSync(files[1]!, data.subarray(0, cut))
      const r = await verify(files)
      const whole = starts.filter((s) => s <= cut).length - 1 // complete lines left in the file
      const head = { hash: hashOf(data.subarray(starts[whole - 1]!, starts[whole]! - 1).toString('latin1')), count: before + whole }
      expect(r.breaks, `cut at ${cut}`).toEqual([])
      expect(r.ok).toBe(true)
      expect(r.head, `cut at ${cut}`).toEqual(head)
      if (starts.includes(cut)) {
        boundaries++
        expect(r.partial, `cut at ${cut}`).toBeNull()
      } else {
        partials++
        expect(r.partial, `cut at ${cut}`).toEqual({ file: files[1], line: whole + 1, offset: starts[whole], length: cut - starts[whole]! })
      }
    }
    expect(boundaries).toBe(3)
    expect(partials).toBe(data.length - from - 3)
  })

  test('the Python verifier sees a cut at a boundary as valid (with a shorter head) and a cut inside a record as a partial line', async () => {
    const { files, data } = await twoFiles()
    const lastStart = data.lastIndexOf(0x0a, data.length - 2) + 1
    fs.writeFileSync(files[1]!, data.subarray(0, lastStart))
    const atBoundary = runPython(files)
    expect(atBoundary.status).toBe(0)
    expect(atBoundary.stdout.trim().slice(-64)).toBe(hashOf(data.subarray(0, lastStart - 1).toString('latin1')))
    fs.writeFileSync(files[1]!, data.subarray(0, lastStart + 10))
    const inside = runPython(files)
    expect(inside.status).not.toBe(0)
    expect(inside.stderr.trim()).toBe(`${files[1]}:${physicalLines(files[1]!).length + 1}: partial line`)
  })
})

describe('truncation of a file that is not the last one', () => {
  test('inside a record is TORN_TAIL at that line', async () => {
    const { files } = await twoFiles()
    const first = fs.readFileSync(files[0]!)
    const lastStart = first.lastIndexOf(0x0a, first.length - 2) + 1
    fs.writeFileSync(files[0]!, first.subarray(0, lastStart + 20))
    const r = await verify(files)
    expect(r.breaks).toEqual([expect.objectContaining({ file: files[0], line: 2, reason: 'TORN_TAIL' })])
    expect(r.partial).toBeNull()
  })

  test('at a record boundary is PREV_MISMATCH at line 1 of the next file', async () => {
    const { files } = await twoFiles()
    const first = fs.readFileSync(files[0]!)
    fs.writeFileSync(files[0]!, first.subarray(0, first.lastIndexOf(0x0a, first.length - 2) + 1))
    const r = await verify(files)
    expect(r.breaks).toEqual([expect.objectContaining({ file: files[1], line: 1, reason: 'PREV_MISMATCH' })])
  })

  test('to nothing (an empty file) is a break at its line 1', async () => {
    const { files } = await twoFiles()
    fs.writeFileSync(files[0]!, '')
    const r = await verify(files).then(
      (rep) => rep.breaks[0] && `${path.basename(rep.breaks[0].file)}:${rep.breaks[0].line}:${rep.breaks[0].reason}`,
      (e: { code?: string; path?: string }) => `THROW ${e.code} ${path.basename(e.path ?? '')}`,
    )
    // Given by name, an emptied file is either refused by name or reported at its line 1.
    expect(['app.1.log:1:BAD_HEADER', 'THROW NOT_CHAINLOG app.1.log']).toContain(r)
  })
})
