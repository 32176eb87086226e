/**
 * archiveFiles (#12 C), the core of `chainlog archive`: recorded under the
 * log's lock while writers run, and the frozen fixture of an archived log
 * (test/fixtures/format-1/archive, FORMAT.md §6.1). The CLI's own tests run
 * the built command.
 */
import fs from 'node:fs'
import * as path from 'node:path'
import { describe, expect, test } from 'vitest'
import { archiveFiles, verify, type ChainlogError } from '../src/index'
import { FIXTURES, logFiles, openWriter, tmpDir } from './helpers'

describe('archiveFiles', () => {
  test('while a writer appends and rotates: the record goes in under the lock, the writer goes on after it, no cut is seen, VALID', async () => {
    const dir = tmpDir()
    const logs = path.join(dir, 'logs')
    const w = await openWriter({ file: path.join(logs, 'app.log'), size: 600, mkdir: true })
    const errors: ChainlogError[] = []
    w.on('error', (e) => errors.push(e))
    for (let i = 0; i < 40; i++) w.write(`before ${i}`)
    await w.flush()
    const archived: string[] = []
    for (let round = 0; round < 3; round++) {
      const oldest = path.basename(logFiles(logs)[0]!)
      const r = await archiveFiles(path.join(logs, 'app.log'), { files: [oldest], to: path.join(dir, 'cold') })
      archived.push(...r.record.files.map((f) => f.file))
      for (let i = 0; i < 10; i++) w.write(`round ${round} line ${i}`)
      await w.flush()
    }
    await w.close()
    expect(errors).toEqual([])
    expect(archived).toEqual(['app.1.log', 'app.2.log', 'app.3.log'])
    const left = await verify(logs)
    expect(left.breaks).toEqual([])
    expect(left.archived.map((a) => a.file)).toEqual(archived)
    const whole = await verify([path.join(dir, 'cold'), logs])
    expect(whole.breaks).toEqual([])
    expect(whole.verdict).toBe('VALID')
  })

  test('refuses with CANNOT_ARCHIVE and changes nothing when the files are not the oldest', async () => {
    const dir = tmpDir()
    const w = await openWriter({ file: path.join(dir, 'app.log'), size: 400 })
    for (let i = 0; i < 20; i++) w.write(`line ${i}`)
    await w.close()
    const before = logFiles(dir).map((f) => fs.readFileSync(f))
    await expect(archiveFiles(path.join(dir, 'app.log'), { files: ['app.2.log'], to: path.join(dir, 'cold') })).rejects.toThrow(expect.objectContaining({ code: 'CANNOT_ARCHIVE' }))
    expect(logFiles(dir).map((f) => fs.readFileSync(f))).toEqual(before)
    expect(fs.existsSync(path.join(dir, 'cold'))).toBe(false)
  })
})

describe('the frozen fixture (test/fixtures/format-1/archive, FORMAT.md §6.1)', () => {
  test('what stays verifies VALID with app.1.log and app.2.log archived; with them given back, the whole chain; without the record, MISSING_FILE naming app.2.log', async () => {
    const dir = path.join(FIXTURES, 'archive')
    const left = await verify(path.join(dir, 'logs'))
    expect(left.breaks).toEqual([])
    expect(left.archived).toEqual([
      { file: 'app.1.log', index: 0, lastHash: expect.stringMatching(/^[0-9a-f]{64}$/), records: expect.any(Number), to: '/mnt/cold/app' },
      { file: 'app.2.log', index: 1, lastHash: expect.stringMatching(/^[0-9a-f]{64}$/), records: expect.any(Number), to: '/mnt/cold/app' },
    ])
    const whole = await verify([path.join(dir, 'cold'), path.join(dir, 'logs')])
    expect(whole.verdict).toBe('VALID')
    expect(whole.files.map((f) => path.basename(f))).toEqual(['app.1.log', 'app.2.log', 'app.3.log', 'app.4.log', 'app.5.log', 'app.6.log', 'app.7.log', 'app.8.log'])
    // Given by name, the same files without the last file (which holds the record) are a segment of the chain;
    // as a log (their directory) nothing accounts for the start.
    const files = logFiles(path.join(dir, 'logs')).slice(0, -1)
    const segment = await verify(files)
    expect(segment.breaks).toEqual([])
    expect(segment.verdict).toBe('VALID_SEGMENT')
    const copy = tmpDir()
    for (const f of files) fs.copyFileSync(f, path.join(copy, path.basename(f)))
    const without = await verify(copy)
    expect(without.breaks).toEqual([expect.objectContaining({ file: path.join(copy, path.basename(files[0]!)), line: 1, reason: 'MISSING_FILE', expected: 'a retention or archive record naming app.2.log' })])
  })
})
