/**
 * `chainlog archive` (#12 C), through the built CLI: old files moved away
 * recorded in the chain, then what stays verifies VALID, and so does the log
 * with the archived files given back; moving files by hand is still a break
 * that names the file; refusals change nothing.
 */
import fs from 'node:fs'
import * as path from 'node:path'
import { describe, expect, test } from 'vitest'
import { createChainWriter } from '@chainlog/core'
import { chainlog, json, linesOf, logFiles, oneLineError, pinoLine, tmpDir, verifyLog, writeChain } from './helpers'

/** A log of 6 files on dir/logs/app.log (size rotation), and a cold directory beside it. */
async function sixFiles(options: { algorithm?: 'hmac-sha256'; keyFile?: string } = {}): Promise<{ dir: string; logs: string; cold: string; files: string[] }> {
  const dir = tmpDir()
  const logs = path.join(dir, 'logs')
  fs.mkdirSync(logs)
  const files = await writeChain(logs, Array.from({ length: 60 }, (_, i) => pinoLine(i)), { size: 2700, ...options })
  // hmac records are no longer than sha256 ones, but the header carries a key id: one more file.
  expect(files.length).toBe(options.algorithm ? 7 : 6)
  return { dir, logs, cold: path.join(dir, 'cold'), files }
}

interface VerifyJson {
  ok: boolean
  status: string
  breaks: { file: string; line: number; reason: string; message: string; expected?: string }[]
  archived: { file: string; index: number; lastHash: string; records: number; to: string }[]
}

describe('chainlog archive', () => {
  test('moves the oldest files, recorded first: what stays is VALID with the files accounted for, and so is the whole log given back', async () => {
    const { logs, cold, files } = await sixFiles()
    const lastHashes = files.slice(0, 3).map((f) => linesOf(f).at(-1)!.toString('latin1').slice(-64))
    const linesBefore = linesOf(files[5]!).length
    const r = await chainlog(['archive', path.join(logs, 'app.log'), 'app.1.log', path.join(logs, 'app.2.log'), 'app.3.log', '--to', cold])
    expect(r.stderr).toBe('')
    expect(r.status).toBe(0)
    expect(r.stdout).toContain(`archived 3 files to ${cold} (3 moved), recorded at ${files[5]}:${linesBefore + 1}`)
    expect(fs.readdirSync(cold).sort()).toEqual(['app.1.log', 'app.2.log', 'app.3.log'])
    expect(logFiles(logs).map((f) => path.basename(f))).toEqual(['app.4.log', 'app.5.log', 'app.6.log'])
    const record = JSON.parse(linesOf(files[5]!).at(-1)!.toString('utf8').slice(65, -65).slice(2)) as { t: string; to: string; files: { file: string; lastHash: string }[] }
    expect(record).toMatchObject({ t: 'archive', to: cold, files: [{ file: 'app.1.log', lastHash: lastHashes[0] }, { file: 'app.2.log', lastHash: lastHashes[1] }, { file: 'app.3.log', lastHash: lastHashes[2] }] })

    for (const what of [path.join(logs, 'app.log'), logs]) {
      const v = await verifyLog(['--json', what])
      expect(v.status, v.stdout).toBe(0)
      const report = json<VerifyJson>(v)
      expect(report.status).toBe('VALID')
      expect(report.archived.map((a) => [a.file, a.to])).toEqual([['app.1.log', cold], ['app.2.log', cold], ['app.3.log', cold]])
    }
    const text = await verifyLog([path.join(logs, 'app.log')])
    expect(text.stdout).toMatch(/archived +3 files moved away by chainlog archive, as recorded in the chain: app\.1\.log \(\d+ lines, to .*cold\)/)
    // The whole log, with the archived files given back.
    const whole = await verifyLog(['--json', cold, logs])
    expect(whole.status, whole.stdout).toBe(0)
    expect(json<VerifyJson>(whole).status).toBe('VALID')
    // The writer goes on after the archive record.
    const w = await createChainWriter({ file: path.join(logs, 'app.log') })
    w.write('after the archive')
    await w.close()
    expect((await verifyLog([path.join(logs, 'app.log')])).status).toBe(0)
  })

  test('--before <file> archives every rotated file older than it; with the hmac key the record is keyed like the chain', async () => {
    const dir = tmpDir()
    const keyFile = path.join(dir, 'log.key')
    fs.writeFileSync(keyFile, 'k'.repeat(48))
    const { logs, cold } = await sixFiles({ algorithm: 'hmac-sha256', keyFile })
    const noKey = await chainlog(['archive', path.join(logs, 'app.log'), '--before', 'app.3.log', '--to', cold])
    expect(noKey.status).toBe(2)
    expect(oneLineError(noKey)).toMatch(/^chainlog archive: .*app\.7\.log is an hmac-sha256 chain; give its key/)
    expect(fs.existsSync(cold)).toBe(false)
    const r = await chainlog(['archive', path.join(logs, 'app.log'), '--before', 'app.3.log', '--to', cold, '--key', keyFile, '--json'])
    expect(r.status, r.stderr).toBe(0)
    expect(json<{ record: { files: { file: string }[] } }>(r).record.files.map((f) => f.file)).toEqual(['app.1.log', 'app.2.log'])
    const v = await verifyLog(['--json', '--key', keyFile, path.join(logs, 'app.log')])
    expect(v.status, v.stdout).toBe(0)
    expect(json<VerifyJson>(v).archived.map((a) => a.file)).toEqual(['app.1.log', 'app.2.log'])
  })

  test('--before <time> archives the run of oldest files last written before it', async () => {
    const { logs, cold, files } = await sixFiles()
    const old = new Date('2020-01-01T00:00:00Z')
    for (const f of [files[0]!, files[1]!, files[3]!]) fs.utimesSync(f, old, old) // app.4.log is old too, but app.3.log is not: the run stops there
    const r = await chainlog(['archive', path.join(logs, 'app.log'), '--before', '2021-01-01', '--to', cold])
    expect(r.status, r.stderr).toBe(0)
    expect(fs.readdirSync(cold).sort()).toEqual(['app.1.log', 'app.2.log'])
    expect((await verifyLog([logs])).status).toBe(0)
  })

  test('files moved by hand, without the record: exit 1, MISSING_FILE at app.3.log:1 naming app.2.log, never an index', async () => {
    const { logs, cold, files } = await sixFiles()
    fs.mkdirSync(cold)
    for (const f of files.slice(0, 2)) fs.renameSync(f, path.join(cold, path.basename(f)))
    const v = await verifyLog(['--json', path.join(logs, 'app.log')])
    expect(v.status).toBe(1)
    const report = json<VerifyJson>(v)
    expect(report.breaks).toEqual([expect.objectContaining({ file: files[2], line: 1, reason: 'MISSING_FILE', expected: 'a retention or archive record naming app.2.log' })])
    expect(report.breaks[0]!.message).toBe('the chain starts after app.2.log, which is missing with any file before it, and no retention or archive record in the chain accounts for them')
    expect(report.breaks[0]!.message).not.toMatch(/index/)
  })

  test.each([
    ['a file from the middle', ['app.2.log'], /^chainlog archive: only the oldest files can be archived \(what stays must be one chain from its start\): app\.1\.log is older than app\.2\.log and stays/],
    ['the file being written', ['app.6.log'], /^chainlog archive: .*app\.6\.log is the file being written; only rotated files can be archived/],
    ['a file not of the log', ['other.1.log'], /^chainlog archive: other\.1\.log is not a file of the log .*app\.log/],
  ])('refuses %s: exit 2, one line, nothing recorded or moved', async (_what, names, error) => {
    const { logs, cold, files } = await sixFiles()
    const before = fs.readFileSync(files[5]!)
    const r = await chainlog(['archive', path.join(logs, 'app.log'), ...names, '--to', cold, '--json'])
    expect(r.status).toBe(2)
    expect(oneLineError(r)).toMatch(error)
    expect(json<{ error: { code: string } }>(r).error.code).toBe('CANNOT_ARCHIVE')
    expect(fs.readFileSync(files[5]!).equals(before)).toBe(true)
    expect(logFiles(logs)).toEqual(files)
  })

  test('refuses when a file of the same name is already at the destination, and when the last file ends in a torn record', async () => {
    const { logs, cold, files } = await sixFiles()
    fs.mkdirSync(cold)
    fs.writeFileSync(path.join(cold, 'app.1.log'), 'older copy')
    const taken = await chainlog(['archive', path.join(logs, 'app.log'), 'app.1.log', '--to', cold])
    expect(taken.status).toBe(2)
    expect(oneLineError(taken)).toMatch(/^chainlog archive: .*cold\/app\.1\.log already exists; nothing was archived/)
    fs.appendFileSync(files[5]!, 'a torn rec')
    const torn = await chainlog(['archive', path.join(logs, 'app.log'), 'app.1.log', '--to', path.join(logs, '..', 'cold2')])
    expect(torn.status).toBe(2)
    expect(oneLineError(torn)).toMatch(/^chainlog archive: .*app\.6\.log does not end in a whole, sound record/)
    expect(logFiles(logs)).toEqual(files)
  })

  test('usage: the log and --to are required, files and --before exclude each other', async () => {
    for (const [args, error] of [
      [['archive'], /name the log/],
      [['archive', 'logs/app.log', 'app.1.log'], /--to <dir> is required/],
      [['archive', 'logs/app.log', 'app.1.log', '--before', 'app.3.log', '--to', 'x'], /not both/],
      [['archive', 'logs/app.log', '--to', 'x'], /name the files to archive, or give --before/],
    ] as const) {
      const r = await chainlog([...args])
      expect(r.status).toBe(2)
      expect(oneLineError(r)).toMatch(error)
    }
  })
})
