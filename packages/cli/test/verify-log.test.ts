/**
 * verify-log on real chains written by the core writer: the report of an
 * intact chain, and every kind of tampering found at its exact file:line,
 * through the built executable.
 */
import * as fs from 'node:fs'
import * as path from 'node:path'
import { gzipSync } from 'node:zlib'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { createChainWriter } from '@chainlog/core'
import {
  deleteLine, editAndRehash, editLine, hashOf, insertForged, json, keepLines, lineCount, linesOf, logFiles, offsetOf, oneLineError, pinoLine, suiteDir, swapLines, tmpDir, truncateAt, verifyLog, writeChain,
} from './helpers'

const N = 60
const LINES = Array.from({ length: N }, (_, i) => pinoLine(i))
let template: string

beforeAll(async () => {
  template = suiteDir('chainlog-cli-template-')
  await writeChain(template, LINES, { size: 3000 })
})
afterAll(() => fs.rmSync(template, { recursive: true, force: true }))

/** A fresh copy of the template chain: its dir and files in chain order. */
function chain(): { dir: string; files: string[] } {
  const dir = tmpDir()
  for (const f of fs.readdirSync(template)) fs.copyFileSync(path.join(template, f), path.join(dir, f))
  return { dir, files: logFiles(dir) }
}

interface JsonReport {
  ok: boolean
  status: string
  records: number
  files: string[]
  head: string | null
  count: number
  algorithm: string
  chain: string
  firstTime: string | null
  lastTime: string | null
  breaks: { file: string; line: number; offset: number; reason: string; message: string; expected?: string; found?: string; text?: string }[]
  partial: { file: string; line: number; offset: number; length: number } | null
  recovered: unknown[]
  retention: unknown[]
}

describe('an intact chain', () => {
  test('VALID, with records, files, algorithm, time range and the head hash with its count', async () => {
    const { dir, files } = chain()
    expect(files.length).toBeGreaterThan(3)
    const last = linesOf(files.at(-1)!).at(-1)!
    const count = files.reduce((n, f) => n + lineCount(f), 0)
    const r = await verifyLog([dir])
    expect(r.status).toBe(0)
    expect(r.stderr).toBe('')
    const out = r.stdout.split('\n')
    expect(out[0]).toBe('VALID: the chain is intact')
    expect(r.stdout).toContain(`  records    ${count} verified in ${files.length} files\n`)
    expect(r.stdout).toContain(`  files      ${files[0]} … ${files.at(-1)}\n`)
    expect(r.stdout).toContain('  algorithm  sha256\n')
    expect(r.stdout).toContain(`  time       2026-11-22T10:00:00.000Z → 2026-11-22T10:00:${N - 1}.000Z\n`)
    expect(r.stdout).toContain(`  head       ${hashOf(last)} (record ${count} of the chain)\n`)
  })

  test('--json: ok, records, files in chain order, head, count and no breaks', async () => {
    const { dir, files } = chain()
    // Names carry no authority: a file renamed out of order is still put in its place by its header.
    fs.renameSync(files[1]!, path.join(dir, 'app.99.log'))
    const ordered = [files[0], path.join(dir, 'app.99.log'), ...files.slice(2)]
    const r = await verifyLog(['--json', dir])
    expect(r.status).toBe(0)
    const j = json<JsonReport>(r)
    const count = files.reduce((n, f) => n + lineCount(path.basename(f) === path.basename(files[1]!) ? path.join(dir, 'app.99.log') : f), 0)
    expect(j).toMatchObject({ ok: true, status: 'VALID', records: count, files: ordered, head: hashOf(linesOf(files.at(-1)!).at(-1)!), count, algorithm: 'sha256', breaks: [], partial: null })
    expect(j.firstTime).toBe('2026-11-22T10:00:00.000Z')
  })

  test('a rotation base path, a single file, and stdin (plain and gzipped) are inputs too', async () => {
    const { dir, files } = chain()
    const base = await verifyLog(['--json', path.join(dir, 'app.log')])
    expect(json<JsonReport>(base).files).toEqual(files)
    const one = await verifyLog(['--json', files[0]!])
    expect(json<JsonReport>(one)).toMatchObject({ ok: true, files: [files[0]], records: lineCount(files[0]!) })
    const stdin = await verifyLog(['--json', '-'], { input: fs.readFileSync(files[0]!) })
    expect(json<JsonReport>(stdin)).toMatchObject({ ok: true, files: ['-'], records: lineCount(files[0]!) })
    const gz = await verifyLog(['-'], { input: gzipSync(fs.readFileSync(files[0]!)) })
    expect(gz.status).toBe(0)
    expect(gz.stdout).toMatch(/^VALID/)
  })

  test('winston timestamps give the time range too', async () => {
    const dir = tmpDir()
    await writeChain(dir, ['{"level":"info","message":"up","timestamp":"2026-11-22T08:00:00.000Z"}', '{"level":"warn","message":"down","timestamp":"2026-11-22T09:30:00.000Z"}'])
    const r = await verifyLog([dir])
    expect(r.stdout).toContain('  time       2026-11-22T08:00:00.000Z → 2026-11-22T09:30:00.000Z\n')
  })

  test('gzipped rotated files and retention: VALID, with the deleted files named', async () => {
    const dir = tmpDir()
    const files = await writeChain(dir, LINES, { size: 3000, compress: true, limit: { count: 2 } })
    expect(files.length).toBe(3)
    expect(files.slice(0, 2).every((f) => f.endsWith('.gz'))).toBe(true)
    const r = await verifyLog([dir])
    expect(r.status).toBe(0)
    expect(r.stdout).toMatch(/^VALID: the chain is intact\n/)
    expect(r.stdout).toMatch(/  retention  \d+ files deleted by the writer's retention policy, as recorded in the chain: app\.1\.log \(index 0, /)
  })
})

describe('tampering is found at its exact file:line', () => {
  type Case = [name: string, tamper: (files: string[], dir: string) => void, where: (files: string[]) => [file: string, line: number], reason: string]
  const cases: Case[] = [
    ['a record edited in place', (f) => editLine(f[1]!, 4, (s) => s.replace('served', 'refused')), (f) => [f[1]!, 4], 'HASH_MISMATCH'],
    ['a record edited and re-hashed', (f) => editAndRehash(f[1]!, 4, (s) => s.replace('served', 'refused')), (f) => [f[1]!, 5], 'PREV_MISMATCH'],
    ['a record deleted', (f) => deleteLine(f[2]!, 6), (f) => [f[2]!, 6], 'PREV_MISMATCH'],
    ['a forged record inserted', (f) => insertForged(f[1]!, 3, '{"level":30,"msg":"admin logged out"}'), (f) => [f[1]!, 4], 'PREV_MISMATCH'],
    ['two records swapped', (f) => swapLines(f[2]!, 3, 7), (f) => [f[2]!, 3], 'PREV_MISMATCH'],
    ['a record replaced by plain text', (f) => editLine(f[1]!, 2, () => ''), (f) => [f[1]!, 2], 'HASH_MISMATCH'],
    ['a header changed', (f) => editLine(f[2]!, 1, (s) => s.replace('"time":"', '"time":"1')), (f) => [f[2]!, 1], 'HASH_MISMATCH'],
    ['a file in the middle deleted', (f) => fs.rmSync(f[2]!), (f) => [f[3]!, 1], 'MISSING_FILE'],
    ['a file in the middle cut at a record boundary', (f) => keepLines(f[1]!, lineCount(f[1]!) - 2), (f) => [f[2]!, 1], 'PREV_MISMATCH'],
    ['a file in the middle cut inside a record', (f) => truncateAt(f[1]!, offsetOf(f[1]!, 5) + 100), (f) => [f[1]!, 5], 'TORN_TAIL'],
  ]
  test.each(cases)('%s', async (_name, tamper, where, reason) => {
    const { dir, files } = chain()
    tamper(files, dir)
    const [file, line] = where(files)
    const human = await verifyLog([dir])
    expect(human.status).toBe(1)
    expect(human.stderr).toBe('')
    expect(human.stdout.split('\n')[0]).toBe(`BROKEN: the chain is broken at ${file}:${line} (${reason})`)
    expect(human.stdout).toContain(`\n${file}:${line} (byte ${offsetOf(file, line).toLocaleString('en-US')})\n  reason     ${reason}: `)
    expect(human.stdout).toContain('Verification stopped at the first break; --all lists every break.')
    const r = await verifyLog(['--json', dir])
    expect(r.status).toBe(1)
    const j = json<JsonReport>(r)
    expect(j.ok).toBe(false)
    expect(j.status).toBe('BROKEN')
    expect(j.breaks).toHaveLength(1)
    expect(j.breaks[0]).toMatchObject({ file, line, offset: offsetOf(file, line), reason })
  })

  test('a hash mismatch shows the shortened line and the expected and found hashes', async () => {
    const { dir, files } = chain()
    editLine(files[1]!, 4, (s) => s.replace('served', 'refused'))
    const bad = linesOf(files[1]!)[3]!.toString()
    const r = await verifyLog([dir])
    const j = json<JsonReport>(await verifyLog(['--json', dir]))
    expect(j.breaks[0]!.found).toBe(hashOf(bad))
    expect(j.breaks[0]!.expected).toMatch(/^[0-9a-f]{64}$/)
    expect(r.stdout).toContain(`  line       ${bad.slice(0, 8)}…|${bad.slice(65, 65 + 30)}`)
    expect(r.stdout).toContain(`  expected   ${j.breaks[0]!.expected}\n  found      ${hashOf(bad)}\n`)
    expect(r.stdout).toContain('refused')
    expect(r.stdout).toContain('  head       none to trust: the chain is broken\n')
  })

  test('a record edited inside a gzipped file: the line and the offset in the decompressed data', async () => {
    const dir = tmpDir()
    const files = await writeChain(dir, LINES, { size: 3000, compress: true })
    const gz = files[1]!
    expect(gz.endsWith('.gz')).toBe(true)
    editLine(gz, 3, (s) => s.replace('served', 'dropped'))
    const r = await verifyLog([dir])
    expect(r.status).toBe(1)
    expect(r.stdout).toContain(`\n${gz}:3 (byte ${offsetOf(gz, 3).toLocaleString('en-US')} of the decompressed data)\n  reason     HASH_MISMATCH`)
  })

  test('a damaged gzip file is a CORRUPT_FILE break where the readable data ends', async () => {
    const dir = tmpDir()
    const files = await writeChain(dir, LINES, { size: 3000, compress: true })
    const gz = files[1]!
    const data = fs.readFileSync(gz)
    fs.writeFileSync(gz, data.subarray(0, Math.floor(data.length / 2)))
    const r = await verifyLog(['--json', dir])
    expect(r.status).toBe(1)
    const j = json<JsonReport>(r)
    expect(j.breaks[0]).toMatchObject({ file: gz, reason: 'CORRUPT_FILE' })
    expect(j.breaks[0]!.message).toMatch(/damaged or cut short/)
    // The same from stdin.
    const first = fs.readFileSync(files[0]!)
    const s = await verifyLog(['--json', '-'], { input: first.subarray(0, first.length - 20) })
    expect(s.status).toBe(1)
    expect(json<JsonReport>(s).breaks[0]).toMatchObject({ file: '-', reason: 'CORRUPT_FILE' })
  })

  test('--all lists every break, first first', async () => {
    const { dir, files } = chain()
    editLine(files[3]!, 2, (s) => s.replace('served', 'x'))
    editLine(files[1]!, 4, (s) => s.replace('served', 'x'))
    deleteLine(files[2]!, 3)
    const r = await verifyLog(['--all', '--json', dir])
    expect(r.status).toBe(1)
    const got = json<JsonReport>(r).breaks.map((b) => [b.file, b.line, b.reason])
    expect(got).toEqual([
      [files[1], 4, 'HASH_MISMATCH'],
      [files[2], 3, 'PREV_MISMATCH'],
      // The next header counts the lines before it: one is missing.
      [files[3], 1, 'BAD_HEADER'],
      [files[3], 2, 'HASH_MISMATCH'],
    ])
    const human = await verifyLog(['--all', dir])
    expect(human.stdout).toContain('break 1 of 4\n')
    expect(human.stdout).toContain(`break 4 of 4\n${files[3]}:2 (byte`)
    expect(human.stdout).not.toContain('--all lists every break')
  })
})

describe('recovery, live files, keys', () => {
  test('a torn tail recovered by the writer: VALID with torn tail recovered', async () => {
    const dir = tmpDir()
    const files = await writeChain(dir, LINES.slice(0, 10))
    // A crash mid-write leaves a fragment; the next writer terminates it and names it in a recovery record.
    fs.appendFileSync(files[0]!, linesOf(files[0]!).at(-1)!.subarray(0, 57))
    const w = await createChainWriter({ file: path.join(dir, 'app.log') })
    w.write(pinoLine(10))
    await w.close()
    const r = await verifyLog([dir])
    expect(r.status).toBe(0)
    expect(r.stdout.split('\n')[0]).toBe('VALID with torn tail recovered: the chain is intact; 1 line torn by a crash was accounted for by the writer')
    expect(r.stdout).toContain(`  recovered  ${files[0]}:12 (byte ${offsetOf(files[0]!, 12).toLocaleString('en-US')}): a 57 bytes line torn by a crash`)
    expect(json<JsonReport>(await verifyLog(['--json', dir]))).toMatchObject({ ok: true, status: 'VALID_RECOVERED', recovered: [{ file: files[0], line: 12, length: 57 }] })
  })

  test('a partial last line (a write in progress) is reported, not counted, and not tampering', async () => {
    const dir = tmpDir()
    const files = await writeChain(dir, LINES.slice(0, 10))
    const file = files[0]!
    const n = lineCount(file)
    const size = fs.statSync(file).size
    fs.appendFileSync(file, '0'.repeat(64) + '|{"level":30,"msg":"half a rec')
    const r = await verifyLog([dir])
    expect(r.status).toBe(0)
    expect(r.stdout).toMatch(/^VALID: the chain is intact\n/)
    expect(r.stdout).toContain(`  in progress ${file}:${n + 1} (byte ${size.toLocaleString('en-US')}): a partial last line of 94 bytes, still being written`)
    const j = json<JsonReport>(await verifyLog(['--json', dir]))
    expect(j).toMatchObject({ ok: true, records: n, partial: { file, line: n + 1, offset: size, length: 94 } })
  })

  test('hmac-sha256: verifies with --key; a missing or wrong key is exit 2 with one line', async () => {
    const dir = tmpDir()
    const key = path.join(dir, 'chain.key')
    fs.writeFileSync(key, 'k'.repeat(64) + '\n')
    const logs = path.join(dir, 'logs')
    fs.mkdirSync(logs)
    await writeChain(logs, LINES.slice(0, 20), { algorithm: 'hmac-sha256', keyFile: key })
    const ok = await verifyLog(['--key', key, logs])
    expect(ok.status).toBe(0)
    expect(ok.stdout).toContain('  algorithm  hmac-sha256\n')
    const none = await verifyLog([logs])
    expect(none.status).toBe(2)
    expect(oneLineError(none)).toMatch(/^verify-log: .*app\.1\.log is an hmac-sha256 chain; give its key \(--key <file>\)$/)
    const other = path.join(dir, 'other.key')
    fs.writeFileSync(other, 'o'.repeat(64))
    const wrong = await verifyLog(['-k', other, logs])
    expect(wrong.status).toBe(2)
    expect(oneLineError(wrong)).toMatch(/^verify-log: the key given is not the key of .*app\.1\.log/)
    const short = path.join(dir, 'short.key')
    fs.writeFileSync(short, 'abc')
    const bad = await verifyLog(['--key', short, logs])
    expect(bad.status).toBe(2)
    expect(oneLineError(bad)).toContain(short)
  })
})

describe('options and usage', () => {
  test('--quiet prints nothing; the exit status tells', async () => {
    const { dir, files } = chain()
    const ok = await verifyLog(['-q', dir])
    expect([ok.status, ok.stdout, ok.stderr]).toEqual([0, '', ''])
    editLine(files[1]!, 2, (s) => s + ' ')
    const broken = await verifyLog(['--quiet', dir])
    expect([broken.status, broken.stdout, broken.stderr]).toEqual([1, '', ''])
  })

  test('--version and --help', async () => {
    const v = await verifyLog(['--version'])
    expect(v.status).toBe(0)
    expect(v.stdout).toMatch(/^verify-log \d+\.\d+\.\d+ \(chainlog format 1\)\nhash path: (native \(@chainlog\/native, OpenSSL .+\)|js \(crypto\.hash; .+\))\n$/)
    const h = await verifyLog(['--help'])
    expect(h.status).toBe(0)
    expect(h.stdout).toMatch(/^Usage: verify-log \[options\] <path\.\.\.>/)
    for (const opt of ['--all', '--json', '--quiet', '--key', '--jobs', '--expect-head', '--expect-count', '--checkpoint', '--version', '--help']) expect(h.stdout).toContain(opt)
    expect(h.stdout).toMatch(/Exit status:\n  0 .*\n  1 .*\n  2 /)
  })

  test('--jobs gives the same report with one worker and with several', async () => {
    const { dir, files } = chain()
    editLine(files[2]!, 5, (s) => s + 'x')
    const a = await verifyLog(['--json', '--all', '--jobs', '1', dir])
    const b = await verifyLog(['--json', '--all', '-j', '3', dir])
    expect(a.stdout).toBe(b.stdout)
    expect(a.status).toBe(1)
  })

  test.each([
    [['--bogus', 'x'], /^verify-log: Unknown option '--bogus'; see verify-log --help$/],
    [[], /^verify-log: no input given; /],
    [['--jobs', '0', 'x'], /^verify-log: --jobs must be a whole number from 1 to 256; got "0"$/],
    [['--jobs'], /^verify-log: Option '-j, --jobs <value>' argument missing/],
    [['--json', '--quiet', 'x'], /^verify-log: --json and --quiet exclude each other$/],
    [['-', 'x'], /^verify-log: - \(stdin\) cannot be combined with other paths$/],
    [['--expect-head', 'abc', 'x'], /^verify-log: --expect-head must be a head hash: 64 lowercase hex characters; got "abc"$/],
    [['--expect-count', '1e3', 'x'], /^verify-log: --expect-count must be a whole number; got "1e3"$/],
    [['--checkpoint', '/nonexistent/cp.json', 'x'], /^verify-log: cannot read checkpoint \/nonexistent\/cp\.json: no such file$/],
  ])('usage error %j: exit 2 and one line', async (args, message) => {
    const r = await verifyLog(args)
    expect(r.status).toBe(2)
    expect(r.stdout).toBe('')
    expect(oneLineError(r)).toMatch(message)
  })

  test('with --json, an error is a JSON object on stdout as well', async () => {
    const r = await verifyLog(['--json', '/nonexistent/logs'])
    expect(r.status).toBe(2)
    expect(json(r)).toEqual({ ok: false, status: 'ERROR', error: { code: 'NO_INPUT', message: '/nonexistent/logs: no such file, directory or log base path', path: '/nonexistent/logs' } })
  })
})
