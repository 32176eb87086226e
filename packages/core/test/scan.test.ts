import fs from 'node:fs'
import * as path from 'node:path'
import { gzipSync } from 'node:zlib'
import { describe, expect, test } from 'vitest'
import { countLines, readTail, scanFile } from '../src/scan'
import { hashOf, physicalLines, prevOf, tmpDir, writeLog } from './helpers'

describe('readTail / scanFile / countLines', () => {
  test('a clean file: header, last record, line count, no fragment', async () => {
    const dir = tmpDir()
    const [file] = await writeLog(dir, ['a', 'b', 'c'])
    const lines = physicalLines(file!)
    const size = fs.statSync(file!).size
    const tail = scanFile(file!)
    expect(tail).toMatchObject({ path: file, size, lines: 4, end: size, headerEnd: lines[0]!.length + 1, fragment: null })
    expect(tail.header).toMatchObject({ t: 'header', index: 0, file: 'app.1.log' })
    expect(tail.last).toEqual({ prev: prevOf(lines[3]!), hash: hashOf(lines[3]!) })
    expect(tail.lastBytes!.equals(lines[3]!)).toBe(true)
    expect(readTail(file!)).toEqual({ ...tail, lines: -1 })
    expect(countLines(file!)).toBe(4)
    expect(countLines(file!, tail.headerEnd)).toBe(3)
    expect(countLines(file!, 0, tail.headerEnd)).toBe(1)
  })

  test('a torn fragment after the last LF is returned as it is', async () => {
    const dir = tmpDir()
    const [file] = await writeLog(dir, ['a', 'b'])
    fs.appendFileSync(file!, 'torn bytes')
    const tail = readTail(file!)
    expect(tail.fragment!.toString()).toBe('torn bytes')
    expect(tail.end).toBe(fs.statSync(file!).size - 10)
    expect(tail.last!.hash).toBe(hashOf(physicalLines(file!).at(-1)!))
  })

  test('a last line longer than the read chunk, and a .gz file', async () => {
    const dir = tmpDir()
    const [file] = await writeLog(dir, ['x', 'y'.repeat(300_000)])
    const tail = scanFile(file!)
    expect(tail.lastBytes!.length).toBe(300_000 + 130)
    expect(tail.last!.hash).toBe(hashOf(physicalLines(file!).at(-1)!))
    const gz = file + '.gz'
    fs.writeFileSync(gz, gzipSync(fs.readFileSync(file!)))
    const fromGz = scanFile(gz)
    expect(fromGz.lastBytes!.equals(tail.lastBytes!)).toBe(true)
    expect({ ...fromGz, path: file, lastBytes: null }).toEqual({ ...tail, lastBytes: null })
  })

  test('files that are not chain files: no header, no last record', () => {
    const dir = tmpDir()
    const empty = path.join(dir, 'empty')
    fs.writeFileSync(empty, '')
    expect(scanFile(empty)).toMatchObject({ size: 0, header: null, last: null, lastBytes: null, lines: 0, fragment: null, end: 0 })
    const noLf = path.join(dir, 'nolf')
    fs.writeFileSync(noLf, 'just text')
    expect(scanFile(noLf)).toMatchObject({ header: null, last: null, lines: 0, end: 0 })
    expect(scanFile(noLf).fragment!.toString()).toBe('just text')
    const text = path.join(dir, 'text')
    fs.writeFileSync(text, 'one\ntwo\n')
    expect(scanFile(text)).toMatchObject({ header: null, last: null, lines: 2, headerEnd: 4 })
  })
})
