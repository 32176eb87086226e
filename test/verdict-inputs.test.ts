/**
 * What a verdict covers (#12 B, C, D): every chain in the input, a segment
 * said to be one, and no tampering behind exit 2 ("could not check") or
 * behind a file the verifier passes over. Each case runs the built CLI on
 * logs written by the real writer or the real pino transport, and asserts
 * the exit status, the reason and the exact file:line.
 */
import { execFileSync } from 'node:child_process'
import * as fs from 'node:fs'
import * as path from 'node:path'
import { gunzipSync, gzipSync } from 'node:zlib'
import { describe, expect, test } from 'vitest'
import type { Break } from '@chainlog/core'
import { chainlog, editLine, forge, hashOf, json, linesOf, oneLineError, pinoLine, tmpDir, verifyLog, writeChain } from '../packages/cli/test/helpers'
import { runChild } from './helpers/chain'

const LINES = Array.from({ length: 60 }, (_, i) => pinoLine(i))
const KEY = 'k'.repeat(64)

interface Report {
  ok: boolean
  status: string
  records: number
  files: string[]
  hash: string | null
  count: number | null
  head: string | null
  chain: string | null
  breaks: Break[]
  scope: string
  segment: { first: number | null; last: number | null; anchored: boolean } | null
  skipped: { file: string; kind: string; message: string }[]
  chains?: Report[]
  firstTime: string | null
  lastTime: string | null
}

/** verify-log as text and as --json (these logs are far below the size where worker threads start). */
async function check(args: string[], input?: string | Buffer): Promise<{ status: number | null; text: string; report: Report }> {
  const seq = await verifyLog(args, input === undefined ? {} : { input })
  const asJson = await verifyLog(['--json', ...args], input === undefined ? {} : { input })
  expect(asJson.status).toBe(seq.status)
  return { status: seq.status, text: seq.stdout, report: json<Report>(asJson) }
}

async function plainLog(lines = LINES, options: Parameters<typeof writeChain>[2] = {}): Promise<{ dir: string; files: string[] }> {
  const dir = tmpDir()
  const files = await writeChain(dir, lines, { size: 3000, ...options })
  expect(files.length).toBeGreaterThanOrEqual(4)
  return { dir, files }
}

const chainOf = (file: string): string => JSON.parse(linesOf(file)[0]!.toString().slice(65, -65).slice(2)).chain

describe('B: tampering is not hidden behind exit 2', () => {
  test('a file of another log copied beside a tampered one: both chains verified, exit 1 at the tampered line', async () => {
    const { dir, files } = await plainLog()
    const other = tmpDir()
    const [foreign] = await writeChain(other, LINES.slice(0, 5))
    fs.copyFileSync(foreign!, path.join(dir, 'app.9.log'))
    editLine(files[1]!, 3, (s) => s.replace('request', 'refund'))
    const r = await check([dir])
    expect(r.status).toBe(1)
    expect(r.text.split('\n')[0]).toBe(`BROKEN: 1 of 2 chains is broken; the first is broken at ${files[1]}:3 (HASH_MISMATCH)`)
    expect(r.report.breaks).toEqual([expect.objectContaining({ file: files[1], line: 3, reason: 'HASH_MISMATCH' })])
    // The broken chain's files up to the break (verification stops at the first), the other's all.
    expect(r.report.chains!.map((c) => [c.chain, c.files, c.status])).toEqual([
      [chainOf(files[0]!), files.slice(0, 2), 'BROKEN'],
      [chainOf(foreign!), [path.join(dir, 'app.9.log')], 'VALID'],
    ])
    // The intact chain keeps its head and time range; the broken one has no head to trust.
    const [broken, intact] = r.report.chains!
    expect(broken).toMatchObject({ hash: null, count: null })
    expect(intact).toMatchObject({ hash: hashOf(linesOf(foreign!).at(-1)!), count: 6, firstTime: '2026-11-22T10:00:00.000Z', lastTime: '2026-11-22T10:00:04.000Z' })
    expect(r.text).toContain(`chain 2 of 2: VALID\n  records    6 verified in 1 file\n  files      ${path.join(dir, 'app.9.log')}\n`)
  })

  test('two services in one folder, through the real pino transport: both verify, each reported with its id, files, time range and head', async () => {
    const dir = tmpDir()
    for (const name of ['api.log', 'worker.log']) {
      const child = await runChild('pino-child.cjs', { file: path.join(dir, name), scenario: 'normal', count: 60, options: { size: '3k' } })
      expect(child.code).toBe(0)
    }
    const r = await check([dir])
    expect(r.status).toBe(0)
    expect(r.text.split('\n')[0]).toBe('VALID: 2 chains, each intact')
    expect(r.report.status).toBe('VALID')
    const [api, worker] = r.report.chains!
    expect(api!.files.every((f) => path.basename(f).startsWith('api.'))).toBe(true)
    expect(worker!.files.every((f) => path.basename(f).startsWith('worker.'))).toBe(true)
    for (const c of [api!, worker!]) {
      expect(c.status).toBe('VALID')
      expect(c.chain).toMatch(/^[0-9a-f]{32}$/)
      expect(c.hash).toBe(hashOf(linesOf(c.files.at(-1)!).at(-1)!))
      expect(c.firstTime).not.toBeNull()
      expect(r.text).toContain(`  chain      ${c.chain}\n`)
      expect(r.text).toContain(`  head       ${c.hash} (record ${c.count} of the chain)\n`)
    }
    expect(api!.chain).not.toBe(worker!.chain)
  })

  test('two chains under one base name (a log started afresh beside the old files): the base path verifies both', async () => {
    const dir = tmpDir()
    const first = await writeChain(dir, LINES.slice(0, 30), { size: 3000 })
    // A second chain's files, numbered on after the first's, as a new chain under the same name leaves them.
    const fresh = tmpDir()
    const second = await writeChain(fresh, LINES.slice(30), { size: 3000 })
    const renamed = second.map((f, i) => {
      const to = path.join(dir, `app.${first.length + 1 + i}.log`)
      fs.copyFileSync(f, to)
      return to
    })
    const r = await check([path.join(dir, 'app.log')])
    expect(r.status).toBe(0)
    expect(r.report.chains!.map((c) => c.files)).toEqual([first, renamed])
    // And a break in the second chain is found there.
    editLine(renamed[1]!, 2, (s) => s.replace('request', 'refund'))
    const b = await check([path.join(dir, 'app.log')])
    expect(b.status).toBe(1)
    expect(b.report.breaks[0]).toMatchObject({ file: renamed[1], line: 2, reason: 'HASH_MISMATCH' })
  })

  test('a changed keyId in an hmac header, with the right --key: BROKEN at that file:1; with a wrong key still exit 2', async () => {
    const dir = tmpDir()
    const keyFile = path.join(dir, 'chain.key')
    fs.writeFileSync(keyFile, KEY)
    const logs = path.join(dir, 'logs')
    fs.mkdirSync(logs)
    const files = await writeChain(logs, LINES, { algorithm: 'hmac-sha256', keyFile, size: 3000 })
    editLine(files[2]!, 1, (s) => s.replace(/"keyId":"[0-9a-f]+"/, '"keyId":"0123456789abcdef"'))
    for (const input of [[path.join(logs, 'app.log')], [files[2]!]]) {
      const r = await check(['--key', keyFile, ...input])
      expect(r.status).toBe(1)
      expect(r.text.split('\n')[0]).toBe(`BROKEN: the chain is broken at ${files[2]}:1 (BAD_HEADER)`)
      expect(r.report.breaks[0]).toMatchObject({ file: files[2], line: 1, reason: 'BAD_HEADER', found: '0123456789abcdef' })
    }
    const piped = await check(['--key', keyFile, '-'], fs.readFileSync(files[2]!))
    expect(piped.status).toBe(1)
    expect(piped.report.breaks[0]).toMatchObject({ file: '-', line: 1, reason: 'BAD_HEADER' })
    const wrong = path.join(dir, 'wrong.key')
    fs.writeFileSync(wrong, 'w'.repeat(64))
    const w = await verifyLog(['--key', wrong, logs])
    expect(w.status).toBe(2)
    expect(oneLineError(w)).toMatch(/^verify-log: the key given is not the key of .*app\.1\.log/)
  })

  test('a deleted header: BROKEN at line 1, given alone, with its log, or as the directory; the records after it still checked', async () => {
    const { dir, files } = await plainLog()
    const lines = linesOf(files[2]!)
    fs.writeFileSync(files[2]!, Buffer.concat(lines.slice(1).map((l) => Buffer.concat([l, Buffer.from('\n')]))))
    for (const input of [[files[2]!], [dir]]) {
      const r = await check(input)
      expect(r.status).toBe(1)
      expect(r.text.split('\n')[0]).toBe(`BROKEN: the chain is broken at ${files[2]}:1 (BAD_HEADER)`)
      expect(r.report.breaks[0]).toMatchObject({ file: files[2], line: 1, offset: 0, reason: 'BAD_HEADER' })
    }
    // The algorithm is taken from the records themselves, so a later edit is found at its line.
    editLine(files[2]!, 4, (s) => s.replace('request', 'refund'))
    const all = await check(['--all', files[2]!])
    expect(all.report.breaks.map((b) => `${b.line}:${b.reason}`)).toEqual(['1:BAD_HEADER', '4:HASH_MISMATCH'])
  })
})

describe('C: files given by name, or stdin, are a segment', () => {
  test('middle files given by name: VALID segment, exit 0, where it sits; the same files as the directory: MISSING_FILE naming the file', async () => {
    const { dir, files } = await plainLog()
    const seg = [files[2]!, files[3]!]
    const r = await check(seg)
    const first = JSON.parse(linesOf(files[2]!)[0]!.toString().slice(65, -65).slice(2)).seq + 1
    const last = first + linesOf(files[2]!).length + linesOf(files[3]!).length - 1
    expect(r.status).toBe(0)
    expect(r.report).toMatchObject({ ok: true, status: 'VALID_SEGMENT', scope: 'segment', segment: { first, last, anchored: true }, count: last })
    const chain = chainOf(files[0]!)
    expect(r.text.split('\n')[0]).toBe(`VALID segment: intact inside and at its joins; records ${first}–${last} of chain ${chain}; earlier records not given`)
    expect(r.text).toContain(`  segment    records ${first}–${last} of chain ${chain}; earlier records not given\n`)
    // A join that does not hold is still a break: a file between them left out.
    const gap = await check([files[1]!, files[3]!])
    expect(gap.status).toBe(1)
    expect(gap.report.breaks[0]).toMatchObject({ file: files[3], line: 1, reason: 'MISSING_FILE' })
    expect(gap.report.breaks[0]!.message).toContain(`after ${files[1]}: this header names "app.3.log" as the file before it`)
    // The directory stands for the whole log: its missing start is a break, naming files.
    fs.rmSync(files[0]!)
    fs.rmSync(files[1]!)
    const whole = await check([dir])
    expect(whole.status).toBe(1)
    expect(whole.report.breaks[0]).toMatchObject({ file: files[2], line: 1, reason: 'MISSING_FILE', expected: 'a retention or archive record naming app.2.log' })
    expect(whole.report.breaks[0]!.message).not.toMatch(/index/)
  })

  test('a segment is made of whole files: one whose line 1 is not a header is broken there', async () => {
    const { files } = await plainLog()
    const lines = linesOf(files[3]!)
    fs.writeFileSync(files[3]!, Buffer.concat(lines.slice(4).map((l) => Buffer.concat([l, Buffer.from('\n')]))))
    const r = await check([files[2]!, files[3]!])
    expect(r.status).toBe(1)
    expect(r.report.breaks[0]).toMatchObject({ file: files[3], line: 1, reason: 'BAD_HEADER' })
  })

  test('stdin that begins with a header is read like the file; stdin that begins mid-file is checked inside, its start anchored to nothing', async () => {
    const { files } = await plainLog()
    const whole = await check(['-'], fs.readFileSync(files[2]!))
    expect(whole.status).toBe(0)
    expect(whole.report.segment).toMatchObject({ anchored: true })
    expect(whole.report.status).toBe('VALID_SEGMENT')
    const lines = linesOf(files[2]!)
    const tail = Buffer.concat(lines.slice(5).map((l) => Buffer.concat([l, Buffer.from('\n')])))
    const mid = await check(['-'], tail)
    expect(mid.status).toBe(0)
    expect(mid.report).toMatchObject({ status: 'VALID_SEGMENT', segment: { first: null, last: lines.length - 5, anchored: false }, records: lines.length - 5 })
    expect(mid.text.split('\n')[0]).toBe('VALID segment: intact inside and at its joins; its start is anchored to nothing (the input begins mid-file, with no header): its lines are checked against each other only, not against the chain before them')
    // Checked inside: an edited line, a deleted one.
    const victim = /request \d+ served/.exec(tail.toString().split('\n')[3]!)![0]
    const edited = Buffer.from(tail.toString().replace(victim, 'request 0 served'))
    const e = await check(['-'], edited)
    expect(e.status).toBe(1)
    const at = 4
    expect(e.report.breaks[0]).toMatchObject({ file: '-', line: at, reason: 'HASH_MISMATCH' })
    const cut = tail.toString().split('\n')
    cut.splice(2, 1)
    const d = await check(['-'], cut.join('\n'))
    expect(d.status).toBe(1)
    expect(d.report.breaks[0]).toMatchObject({ file: '-', line: 3, reason: 'PREV_MISMATCH' })
  })

  test('chainlog extract - of a file that starts after the chain\'s start: every line, exit 0, and no claim that output stopped', async () => {
    const { files } = await plainLog()
    const r = await chainlog(['extract', '-'], { input: fs.readFileSync(files[2]!) })
    expect(r.status).toBe(0)
    const users = linesOf(files[2]!).slice(1).map((l) => l.toString().slice(65, -65)).filter((s) => !s.startsWith('\\m'))
    expect(r.stdout).toBe(users.map((u) => u + '\n').join(''))
    const first = JSON.parse(linesOf(files[2]!)[0]!.toString().slice(65, -65).slice(2)).seq + 1
    expect(r.stderr).toBe(`chainlog extract: note: a segment of the chain, from its record ${first}: earlier records not given\n`)
  })
})

describe('C: the symlink a transport keeps stands for the log', () => {
  test.each([
    ['app.log', "symlink: 'app.log' (the pino README's example)"],
    ['current.log', 'symlink: true'],
  ])('verify-log logs/%s (%s): the whole log, and a file deleted from it is MISSING_FILE', async (link) => {
    const dir = tmpDir()
    const base = path.join(dir, 'logs', 'app.log')
    const child = await runChild('pino-child.cjs', { file: base, scenario: 'normal', count: 80, options: { size: '3k', symlink: link === 'current.log' ? true : link } })
    expect(child.code).toBe(0)
    const linkPath = path.join(dir, 'logs', link)
    expect(fs.lstatSync(linkPath).isSymbolicLink()).toBe(true)
    const all = (await check([path.join(dir, 'logs')])).report.files
    expect(all.length).toBeGreaterThanOrEqual(4)
    const r = await check([linkPath])
    expect(r.status).toBe(0)
    expect(r.report).toMatchObject({ status: 'VALID', scope: 'log', files: all })
    fs.rmSync(all[1]!)
    const m = await check([linkPath])
    expect(m.status).toBe(1)
    expect(m.report.breaks[0]).toMatchObject({ file: all[2], line: 1, reason: 'MISSING_FILE' })
  })
})

describe('D: precision', () => {
  test.each([false, true])('a forged record appended to a middle file (compressed: %s, as a second gzip member): reported at the forged line', async (compress) => {
    const { dir, files } = await plainLog(LINES, { compress })
    const target = files[1]!
    expect(target.endsWith('.gz')).toBe(compress)
    const lines = linesOf(target)
    const forged = Buffer.concat([forge(hashOf(lines.at(-1)!), pinoLine(999)), Buffer.from('\n')])
    const second = Buffer.concat([forge(hashOf(forged.subarray(0, -1)), pinoLine(1000)), Buffer.from('\n')])
    const plainBytes = compress ? gunzipSync(fs.readFileSync(target)) : fs.readFileSync(target)
    fs.appendFileSync(target, compress ? gzipSync(Buffer.concat([forged, second])) : Buffer.concat([forged, second]))
    const r = await check([dir])
    expect(r.status).toBe(1)
    expect(r.text.split('\n')[0]).toBe(`BROKEN: the chain is broken at ${target}:${lines.length + 1} (PREV_MISMATCH)`)
    expect(r.report.breaks[0]).toMatchObject({ file: target, line: lines.length + 1, offset: plainBytes.length, reason: 'PREV_MISMATCH' })
    expect(r.report.breaks[0]!.message).toMatch(/^this line and the 1 after it were added after the file was closed/)
    expect(r.text).toContain(`${target}:${lines.length + 1} (byte ${plainBytes.length.toLocaleString('en-US')}${compress ? ' of the decompressed data' : ''})\n`)
  })

  test('a FIFO named like a rotated file: skipped and said so, never read (no hang)', async () => {
    const { dir, files } = await plainLog()
    const fifo = path.join(dir, 'app.99.log')
    execFileSync('mkfifo', [fifo])
    for (const input of [dir, path.join(dir, 'app.log')]) {
      const r = await check([input])
      expect(r.status).toBe(0)
      expect(r.report.files).toEqual(files)
      expect(r.report.skipped).toEqual([{ file: fifo, kind: 'special', message: 'a FIFO, not a regular file: skipped without reading it' }])
      expect(r.text).toContain(`  skipped    ${fifo}: a FIFO, not a regular file: skipped without reading it\n`)
    }
    const given = await verifyLog([fifo])
    expect(given.status).toBe(2)
    expect(oneLineError(given)).toBe(`verify-log: ${fifo}: a FIFO, not a regular file; to verify what it carries, give it on stdin: verify-log - < ${fifo}`)
  })

  test('a file named as the log\'s that is not chainlog: in the report; as the newest file, the end is unaccounted for', async () => {
    const { dir, files } = await plainLog()
    const newest = path.join(dir, `app.${files.length + 1}.log`)
    fs.writeFileSync(newest, 'hello\n')
    for (const input of [dir, path.join(dir, 'app.log')]) {
      const r = await check([input])
      expect(r.status).toBe(1)
      expect(r.report.breaks).toEqual([expect.objectContaining({ file: newest, line: 1, reason: 'BAD_HEADER' })])
      expect(r.report.breaks[0]!.message).toBe(`named as the log's newest file (after ${files.at(-1)}), but line 1 is not a chainlog header: the chain's end is unaccounted for`)
      expect(r.report.skipped).toEqual([expect.objectContaining({ file: newest, kind: 'not-chainlog' })])
    }
    // Emptied: a file created and never written is reported, and is no break (a writer stopped at rotation leaves one).
    fs.writeFileSync(newest, '')
    const empty = await check([dir])
    expect(empty.status).toBe(0)
    expect(empty.report.skipped).toEqual([expect.objectContaining({ file: newest, kind: 'empty' })])
    expect(empty.text).toContain(`  skipped    ${newest}: named as a file of the log, but empty`)
    // A middle file overwritten (`echo hello > logs/app.3.log`): named in the report, and the chain breaks after it.
    fs.rmSync(newest)
    fs.writeFileSync(files[2]!, 'hello\n')
    const mid = await check([dir])
    expect(mid.status).toBe(1)
    expect(mid.report.skipped).toEqual([expect.objectContaining({ file: files[2], kind: 'not-chainlog' })])
    expect(mid.report.breaks[0]).toMatchObject({ file: files[3], line: 1, reason: 'MISSING_FILE' })
  })

  test('--json on a broken chain gives no head, as the text says "none to trust"', async () => {
    const { dir, files } = await plainLog()
    editLine(files[1]!, 2, (s) => s.replace('request', 'refund'))
    const r = await check([dir])
    expect(r.status).toBe(1)
    expect(r.text).toContain('  head       none to trust: the chain is broken\n')
    expect(r.report).toMatchObject({ ok: false, hash: null, count: null, head: null })
  })

  test('after a torn tail the writer terminated: the record count and the head\'s place agree', async () => {
    const dir = tmpDir()
    const files = await writeChain(dir, LINES.slice(0, 10))
    fs.appendFileSync(files.at(-1)!, '{"torn":')
    await writeChain(dir, LINES.slice(10, 20))
    const r = await check([dir])
    expect(r.status).toBe(0)
    expect(r.report.status).toBe('VALID_RECOVERED')
    const records = r.report.records
    expect(r.report.count).toBe(records + 1)
    expect(r.text).toContain(`  records    ${records} verified in 1 file, and 1 torn line the writer terminated\n`)
    expect(r.text).toContain(`(record ${records + 1} of the chain, the torn line included)\n`)
  })
})
