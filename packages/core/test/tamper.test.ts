/**
 * Tampering the way an attacker would (issue #2 §5). Each case asserts the exact
 * file, 1-based physical line and reason of the first break: reading from the
 * start, the first line that is malformed, does not match its hash, or whose
 * prev is not the hash of the record before it.
 */
import fs from 'node:fs'
import * as path from 'node:path'
import { gunzipSync, gzipSync } from 'node:zlib'
import { describe, expect, test } from 'vitest'
import { createChainWriter, verify } from '../src/index'
import { forge, hashOf, physicalLines, prevOf, runPython, tmpDir, writeLines, writeLog } from './helpers'

/** A chain of 3 files with 6 lines each: a header and 5 records. */
async function chain(): Promise<{ dir: string; files: string[]; lines: Buffer[][] }> {
  const dir = tmpDir()
  const all = Array.from({ length: 15 }, (_, i) => `{"event":${i},"msg":"tamper target ${i}"}`)
  const w = await createChainWriter({ file: path.join(dir, 'app.log') })
  for (let i = 0; i < all.length; i++) {
    w.write(all[i]!)
    if (i % 5 === 4 && i < all.length - 1) await w.rotate()
  }
  await w.close()
  const files = [1, 2, 3].map((n) => path.join(dir, `app.${n}.log`))
  const lines = files.map(physicalLines)
  expect(lines.map((l) => l.length)).toEqual([6, 6, 6])
  expect((await verify(dir)).ok).toBe(true)
  return { dir, files, lines }
}

/** Rewrites a stored line keeping prev and hash: the naive edit. */
const edit = (line: Buffer, from: string, to: string) => Buffer.from(line.toString().replace(from, to))
/** Rewrites a stored line and recomputes its own hash: the careful edit. */
const editRehash = (line: Buffer, to: string) => Buffer.from(forge(prevOf(line), to).text.slice(0, -1))

async function firstBreak(dir: string) {
  const r = await verify(dir)
  expect(r.ok).toBe(false)
  expect(r.breaks).toHaveLength(1)
  return r.breaks[0]!
}

describe('edits', () => {
  test('a modified line is HASH_MISMATCH at that line', async () => {
    const { dir, files, lines } = await chain()
    const f = lines[1]!
    f[2] = edit(f[2]!, 'tamper target 6', 'tamper target 7')
    writeLines(files[1]!, f)
    const b = await firstBreak(dir)
    expect(b).toMatchObject({ file: files[1], line: 3, reason: 'HASH_MISMATCH', found: hashOf(f[2]!) })
    expect(b.offset).toBe(f[0]!.length + 1 + f[1]!.length + 1)
  })

  test('a modified line with its own hash recomputed is PREV_MISMATCH at the next line', async () => {
    const { dir, files, lines } = await chain()
    const f = lines[1]!
    const old = hashOf(f[2]!)
    f[2] = editRehash(f[2]!, '{"event":6,"msg":"rewritten"}')
    writeLines(files[1]!, f)
    expect(await firstBreak(dir)).toMatchObject({ file: files[1], line: 4, reason: 'PREV_MISMATCH', expected: hashOf(f[2]!), found: old })
  })

  test('the last line of a file modified and rehashed is PREV_MISMATCH at line 1 of the next file', async () => {
    const { dir, files, lines } = await chain()
    const f = lines[0]!
    f[5] = editRehash(f[5]!, 'rewritten')
    writeLines(files[0]!, f)
    expect(await firstBreak(dir)).toMatchObject({ file: files[1], line: 1, reason: 'PREV_MISMATCH' })
  })

  test('the very last line modified and rehashed looks like a valid chain: only the head (hash and count) tells', async () => {
    const { dir, files, lines } = await chain()
    const before = (await verify(dir)).head!
    const f = lines[2]!
    f[5] = editRehash(f[5]!, 'rewritten at the end')
    writeLines(files[2]!, f)
    const after = await verify(dir)
    expect(after.ok).toBe(true)
    expect(after.head!.count).toBe(before.count)
    expect(after.head!.hash).not.toBe(before.hash)
  })

  test('a prev field changed (and the hash recomputed over it) is PREV_MISMATCH at that line', async () => {
    const { dir, files, lines } = await chain()
    const f = lines[1]!
    const stored = f[3]!.toString().slice(65, -65)
    f[3] = Buffer.from(forge('f'.repeat(64), stored).text.slice(0, -1))
    writeLines(files[1]!, f)
    expect(await firstBreak(dir)).toMatchObject({ file: files[1], line: 4, reason: 'PREV_MISMATCH', found: 'f'.repeat(64) })
  })

  test('a header field changed is reported at line 1 of that file', async () => {
    const { dir, files, lines } = await chain()
    const f = lines[2]!
    // The position a header claims is checked against the chain before its hash.
    f[0] = edit(f[0]!, '"seq":12', '"seq":13')
    writeLines(files[2]!, f)
    expect(await firstBreak(dir)).toMatchObject({ file: files[2], line: 1, reason: 'BAD_HEADER', expected: '12', found: '13' })
    f[0] = edit(f[0]!, '"seq":13,"time":"', '"seq":12,"time":"1')
    writeLines(files[2]!, f)
    expect(await firstBreak(dir)).toMatchObject({ file: files[2], line: 1, reason: 'HASH_MISMATCH' })
  })
})

describe('deletions, insertions, moves', () => {
  test('a deleted line is PREV_MISMATCH at the line that took its place', async () => {
    const { dir, files, lines } = await chain()
    const f = lines[1]!
    f.splice(2, 1)
    writeLines(files[1]!, f)
    expect(await firstBreak(dir)).toMatchObject({ file: files[1], line: 3, reason: 'PREV_MISMATCH' })
  })

  test('a deleted last line of a file is PREV_MISMATCH at line 1 of the next file', async () => {
    const { dir, files, lines } = await chain()
    const f = lines[0]!
    f.pop()
    writeLines(files[0]!, f)
    expect(await firstBreak(dir)).toMatchObject({ file: files[1], line: 1, reason: 'PREV_MISMATCH' })
  })

  test('a deleted header is BAD_HEADER at line 1 of that file', async () => {
    const { dir, files, lines } = await chain()
    const f = lines[1]!
    f.shift()
    writeLines(files[1]!, f)
    // The file no longer looks like a chain file: named explicitly, it is still checked.
    const r = await verify(files)
    expect(r.breaks[0]).toMatchObject({ file: files[1], line: 1, reason: 'BAD_HEADER' })
  })

  test('an inserted forged record (correct hash, linked to the line before) is PREV_MISMATCH at the line after it', async () => {
    const { dir, files, lines } = await chain()
    const f = lines[1]!
    f.splice(3, 0, Buffer.from(forge(hashOf(f[2]!), '{"event":"forged"}').text.slice(0, -1)))
    writeLines(files[1]!, f)
    expect(await firstBreak(dir)).toMatchObject({ file: files[1], line: 5, reason: 'PREV_MISMATCH', expected: hashOf(f[3]!), found: hashOf(f[2]!) })
  })

  test('an inserted line of plain text is MALFORMED at that line', async () => {
    const { dir, files, lines } = await chain()
    const f = lines[1]!
    f.splice(3, 0, Buffer.from('2026-11-22 INFO an innocent-looking line'))
    writeLines(files[1]!, f)
    expect(await firstBreak(dir)).toMatchObject({ file: files[1], line: 4, reason: 'MALFORMED' })
  })

  test('an inserted copy of a record from elsewhere is PREV_MISMATCH at that line', async () => {
    const { dir, files, lines } = await chain()
    const f = lines[1]!
    f.splice(3, 0, lines[0]![3]!)
    writeLines(files[1]!, f)
    expect(await firstBreak(dir)).toMatchObject({ file: files[1], line: 4, reason: 'PREV_MISMATCH' })
  })

  test('two lines swapped is PREV_MISMATCH at the first of them', async () => {
    const { dir, files, lines } = await chain()
    const f = lines[1]!
    ;[f[2], f[3]] = [f[3]!, f[2]!]
    writeLines(files[1]!, f)
    expect(await firstBreak(dir)).toMatchObject({ file: files[1], line: 3, reason: 'PREV_MISMATCH' })
  })

  test('a duplicated line is PREV_MISMATCH at the copy', async () => {
    const { dir, files, lines } = await chain()
    const f = lines[1]!
    f.splice(3, 0, f[2]!)
    writeLines(files[1]!, f)
    expect(await firstBreak(dir)).toMatchObject({ file: files[1], line: 4, reason: 'PREV_MISMATCH' })
  })
})

describe('files', () => {
  test('a middle rotated file deleted is MISSING_FILE at line 1 of the file after it', async () => {
    const { dir, files } = await chain()
    fs.rmSync(files[1]!)
    const b = await firstBreak(dir)
    expect(b).toMatchObject({ file: files[2], line: 1, offset: 0, reason: 'MISSING_FILE' })
  })

  test('two files swapped by name still verify: files are ordered by their links, and reported in chain order', async () => {
    const { dir, files } = await chain()
    const tmp = path.join(dir, 'swap.tmp')
    fs.renameSync(files[0]!, tmp)
    fs.renameSync(files[1]!, files[0]!)
    fs.renameSync(tmp, files[1]!)
    for (const input of [dir, path.join(dir, 'app.log'), files]) {
      const r = await verify(input)
      expect(r.ok).toBe(true)
      // app.2.log now holds index 0, app.1.log index 1.
      expect(r.files).toEqual([files[1], files[0], files[2]])
    }
  })

  test("two files' bodies swapped (headers left in place) is PREV_MISMATCH at line 2 of the first", async () => {
    const { dir, files, lines } = await chain()
    const [a, b] = [lines[1]!, lines[2]!]
    writeLines(files[1]!, [a[0]!, ...b.slice(1)])
    writeLines(files[2]!, [b[0]!, ...a.slice(1)])
    expect(await firstBreak(dir)).toMatchObject({ file: files[1], line: 2, reason: 'PREV_MISMATCH' })
  })

  test('a file replaced by a shorter one with the same header is caught at the next file', async () => {
    const { dir, files, lines } = await chain()
    writeLines(files[1]!, lines[1]!.slice(0, 3))
    expect(await firstBreak(dir)).toMatchObject({ file: files[2], line: 1, reason: 'PREV_MISMATCH' })
  })

  test('tampering inside a .gz file is reported in the .gz file, at the decompressed line', async () => {
    const { dir, files, lines } = await chain()
    const f = lines[0]!
    f[4] = edit(f[4]!, 'target 3', 'target 9')
    writeLines(files[0]!, f)
    const gz = files[0] + '.gz'
    fs.writeFileSync(gz, gzipSync(fs.readFileSync(files[0]!)))
    fs.rmSync(files[0]!)
    expect(gunzipSync(fs.readFileSync(gz)).toString()).toContain('target 9')
    expect(await firstBreak(dir)).toMatchObject({ file: gz, line: 5, reason: 'HASH_MISMATCH' })
  })
})

describe('the Python verifier catches the same tampering', () => {
  test('a modified line and a deleted line are found at the same place', async () => {
    const { files, lines } = await chain()
    const f = lines[1]!
    f[2] = edit(f[2]!, 'target 6', 'target 8')
    writeLines(files[1]!, f)
    const r = runPython(files)
    expect(r.status).not.toBe(0)
    expect(r.stderr.trim()).toBe(`${files[1]}:3: broken`)
  })
})
