/**
 * The verifier library: its report, its inputs (files, lists, directories,
 * base paths, streams, .gz), keyed and blake3 chains, and garbage of every kind
 * answered with a ChainlogError code, never another exception.
 */
import fs from 'node:fs'
import * as path from 'node:path'
import { Readable } from 'node:stream'
import { gzipSync } from 'node:zlib'
import { describe, expect, test } from 'vitest'
import { ChainlogError, createChainWriter, verify } from '../src/index'
import { createHashFn, GENESIS } from '../src/format'
import { forge, hashOf, logFiles, physicalLines, prevOf, prng, tmpDir, writeLines, writeLog } from './helpers'

const KEY = Buffer.from('k'.repeat(32) + ' a secret key for tests')

async function codeOf(p: Promise<unknown>): Promise<string> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  )
  expect(err).toBeInstanceOf(ChainlogError)
  expect((err as Error).message).toMatch(/^[A-Z_]+: /)
  return (err as ChainlogError).code
}

describe('the report', () => {
  test('a good chain: ok, counts, files in order, algorithm, chain, head, first and last lines', async () => {
    const dir = tmpDir()
    const lines = Array.from({ length: 40 }, (_, i) => (i === 39 ? 'last\nline' : `line ${i}`))
    const files = await writeLog(dir, lines, { size: 1024, chainId: 'ef'.repeat(16) })
    const total = files.reduce((n, f) => n + physicalLines(f).length, 0)
    const where: string[] = []
    const report = await verify(path.join(dir, 'app.log'), { onLine: (l, at) => where.push(`${path.basename(at.file)}:${at.line}:${l}`) })
    expect(report).toMatchObject({
      ok: true,
      records: total,
      files,
      algorithm: 'sha256',
      chain: 'ef'.repeat(16),
      head: { hash: hashOf(physicalLines(files.at(-1)!).at(-1)!), count: total },
      breaks: [],
      recovered: [],
      partial: null,
      retention: [],
      firstLine: 'line 0',
      lastLine: 'last\nline',
    })
    expect(where[0]).toBe('app.1.log:2:line 0')
    expect(where.map((w) => w.split(':').slice(2).join(':'))).toEqual(lines)
  })

  test('a break names the file, 1-based line, byte offset, reason, expected and found values', async () => {
    const dir = tmpDir()
    const [file] = await writeLog(dir, ['a', 'b', 'c'])
    const lines = physicalLines(file!)
    const edited = lines[2]!.toString().replace('|b|', '|B|')
    writeLines(file!, [lines[0]!, lines[1]!, edited, lines[3]!])
    const report = await verify(file!)
    expect(report.ok).toBe(false)
    expect(report.breaks).toHaveLength(1)
    const offset = lines[0]!.length + 1 + lines[1]!.length + 1
    expect(report.breaks[0]).toMatchObject({ file, line: 3, offset, reason: 'HASH_MISMATCH', found: hashOf(edited), expected: forge(prevOf(edited), 'B').hash })
    expect(report.breaks[0]!.message).toEqual(expect.any(String))
    expect(report.breaks[0]!.text).toContain('|B|')
    // The report stops at the first break by default: the head is where trust ends.
    expect(report.head).toEqual({ hash: hashOf(edited), count: 3 })
  })

  test('all: true lists every break; the default stops at the first', async () => {
    const dir = tmpDir()
    const files = await writeLog(dir, Array.from({ length: 30 }, (_, i) => `line ${i}`), { size: 1024 })
    const tamper = (f: string, n: number) => {
      const lines = physicalLines(f)
      lines[n - 1] = Buffer.from(lines[n - 1]!.toString().replace('|line', '|LINE'))
      writeLines(f, lines)
    }
    tamper(files[0]!, 3)
    tamper(files[2]!, 2)
    tamper(files[2]!, 4)
    const first = await verify(dir)
    expect(first.breaks.map((b) => [b.file, b.line, b.reason])).toEqual([[files[0], 3, 'HASH_MISMATCH']])
    const all = await verify(dir, { all: true })
    expect(all.breaks.map((b) => [b.file, b.line, b.reason])).toEqual([
      [files[0], 3, 'HASH_MISMATCH'],
      [files[2], 2, 'HASH_MISMATCH'],
      [files[2], 4, 'HASH_MISMATCH'],
    ])
    expect(all.files).toEqual(files)
  })
})

describe('inputs', () => {
  test('a file, a list, a directory, a base path and a stream give the same verdict; unrelated files in a directory are skipped', async () => {
    const dir = tmpDir()
    const files = await writeLog(dir, Array.from({ length: 20 }, (_, i) => `l${i}`), { size: 1024 })
    fs.writeFileSync(path.join(dir, 'README.txt'), 'not a log')
    fs.writeFileSync(path.join(dir, 'other.1.log'), 'not a chain either\n')
    const whole = await verify(dir)
    expect(whole.ok).toBe(true)
    expect(whole.files).toEqual(files)
    for (const input of [path.join(dir, 'app.log'), [...files].reverse(), files]) {
      const r = await verify(input)
      expect(r.files).toEqual(files)
      expect(r.head).toEqual(whole.head)
    }
    const single = await verify(files[0]!)
    expect(single.ok).toBe(true)
    expect(single.files).toEqual([files[0]])
    const stream = await verify(fs.createReadStream(files[0]!))
    expect(stream.ok).toBe(true)
    expect(stream.head).toEqual(single.head)
  })

  test('a stream fed in chunks of any size gives the same report, breaks included', async () => {
    const dir = tmpDir()
    const [file] = await writeLog(dir, ['plain', 'é✓ multi-byte', 'esc\naped', 'x'.repeat(3000), '|pipes|'])
    const data = fs.readFileSync(file!)
    const bad = Buffer.from(data)
    bad[data.indexOf('multi-byte') + 2] ^= 0x01
    for (const input of [data, bad]) {
      const expected = await verify(Readable.from([input]))
      for (const size of [1, 2, 3, 63, 64, 65, 129, 130, 131, 1000, 4096]) {
        const chunks: Buffer[] = []
        for (let i = 0; i < input.length; i += size) chunks.push(input.subarray(i, i + size))
        const r = await verify(Readable.from(chunks))
        expect({ ...r, size }).toEqual({ ...expected, size })
      }
    }
    expect((await verify(Readable.from([bad]))).breaks[0]).toMatchObject({ file: '-', line: 3, reason: 'HASH_MISMATCH' })
  })

  test('the same file present plain and gzipped (compression in progress) is read once', async () => {
    const dir = tmpDir()
    const files = await writeLog(dir, Array.from({ length: 20 }, (_, i) => `l${i}`), { size: 1024 })
    fs.writeFileSync(files[0]! + '.gz', gzipSync(fs.readFileSync(files[0]!)))
    const r = await verify(dir)
    expect(r.ok).toBe(true)
    expect(r.files).toHaveLength(files.length)
  })

  test('files of two chains together: each chain verified and reported (#12); a checkpoint, one chain\'s head, is MULTIPLE_CHAINS', async () => {
    const dir = tmpDir()
    await writeLog(dir, ['a'])
    const other = tmpDir()
    const [b] = await writeLog(other, ['b'])
    fs.copyFileSync(b!, path.join(dir, 'app.9.log'))
    const r = await verify(dir)
    expect(r.verdict).toBe('VALID')
    expect(r.chains!.map((c) => c.files.map((f) => path.basename(f)))).toEqual([['app.1.log'], ['app.9.log']])
    expect(r.chain).toBeNull()
    expect(await codeOf(verify(dir, { checkpoint: { count: 1 } }))).toBe('MULTIPLE_CHAINS')
  })
})

describe('algorithms', () => {
  test('hmac-sha256 verifies with the key, is KEY_REQUIRED without it and KEY_MISMATCH with another', async () => {
    const dir = tmpDir()
    fs.writeFileSync(path.join(dir, 'chain.key'), KEY.toString() + '\n')
    await writeLog(dir, ['secret', 'lines'], { algorithm: 'hmac-sha256', keyFile: path.join(dir, 'chain.key'), size: 1024 })
    const ok = await verify(path.join(dir, 'app.log'), { key: KEY })
    expect(ok.ok).toBe(true)
    expect(ok.algorithm).toBe('hmac-sha256')
    expect(await codeOf(verify(path.join(dir, 'app.log')))).toBe('KEY_REQUIRED')
    const wrong = Buffer.from(KEY)
    wrong[0]! ^= 1
    expect(await codeOf(verify(path.join(dir, 'app.log'), { key: wrong }))).toBe('KEY_MISMATCH')
  })

  test('hmac-sha256: a line forged without the key is caught', async () => {
    const dir = tmpDir()
    const [file] = await writeLog(dir, ['a', 'b', 'c'], { algorithm: 'hmac-sha256', key: KEY })
    const lines = physicalLines(file!)
    // The attacker rebuilds the record as a plain sha256 chain would be.
    lines[2] = Buffer.from(forge(prevOf(lines[2]!), 'forged').text.slice(0, -1))
    writeLines(file!, lines)
    const r = await verify(file!, { key: KEY })
    expect(r.breaks[0]).toMatchObject({ file, line: 3, reason: 'HASH_MISMATCH' })
  })

  test('blake3 chains verify, and a tampered one does not', async () => {
    const dir = tmpDir()
    const files = await writeLog(dir, Array.from({ length: 12 }, (_, i) => `b3 ${i}`), { algorithm: 'blake3', size: 1024 })
    const r = await verify(dir)
    expect(r.ok).toBe(true)
    expect(r.algorithm).toBe('blake3')
    const lines = physicalLines(files[1]!)
    lines[1] = Buffer.from(lines[1]!.toString().replace('|b3', '|B3'))
    writeLines(files[1]!, lines)
    expect((await verify(dir)).breaks[0]).toMatchObject({ file: files[1], line: 2, reason: 'HASH_MISMATCH' })
  })
})

describe('records the writer never makes (an attacker who knows the algorithm can)', () => {
  async function withForged(stored: string) {
    const dir = tmpDir()
    const [file] = await writeLog(dir, ['a'])
    const lines = physicalLines(file!)
    const prev = hashOf(lines.at(-1)!)
    const body = `${prev}|${stored}`
    const rec = `${body}|${createHashFn('sha256')(body)}`
    lines.push(Buffer.from(rec))
    writeLines(file!, lines)
    return { file: file!, report: await verify(file!) }
  }

  test('a metadata type this version does not know is ignored (FORMAT.md §4)', async () => {
    const { report } = await withForged('\\m{"t":"seal-from-the-future","x":1}')
    expect(report.ok).toBe(true)
  })

  test.each([
    ['metadata that is not JSON', '\\m{not json'],
    ['metadata without a type', '\\m{"x":1}'],
    ['a backslash that is neither \\e nor \\m', '\\x plain'],
    ['an escaped line with an unknown escape', '\\ebad\\tescape'],
  ])('%s is MALFORMED', async (_name, stored) => {
    const { file, report } = await withForged(stored)
    expect(report.breaks).toEqual([expect.objectContaining({ file, line: 3, reason: 'MALFORMED' })])
  })

  test('uppercase hex is MALFORMED even when it spells the right value (a flipped bit turns a into A)', async () => {
    const dir = tmpDir()
    const [file] = await writeLog(dir, ['a', 'b'])
    const lines = physicalLines(file!)
    const upper = (l: Buffer) => l.toString().slice(0, -64) + l.toString().slice(-64).toUpperCase()
    writeLines(file!, [lines[0]!, upper(lines[1]!), lines[2]!])
    expect((await verify(file!)).breaks).toEqual([expect.objectContaining({ line: 2, reason: 'MALFORMED' })])
    // An uppercase prev, with the hash honestly computed over it.
    const stored = lines[2]!.toString().slice(65, -65)
    const body = `${prevOf(lines[2]!).toUpperCase()}|${stored}`
    writeLines(file!, [lines[0]!, lines[1]!, `${body}|${createHashFn('sha256')(body)}`])
    expect((await verify(file!)).breaks).toEqual([expect.objectContaining({ line: 3, reason: 'MALFORMED' })])
  })

  test('a header anywhere but line 1 is a break (FORMAT.md §4: "line 1 of every file, and only there")', async () => {
    const dir = tmpDir()
    const files = await writeLog(dir, Array.from({ length: 12 }, (_, i) => `l${i}`), { size: 1024 })
    // Concatenating two files hides a header in the middle, with every link intact.
    const merged = path.join(dir, 'merged.log')
    fs.writeFileSync(merged, Buffer.concat([fs.readFileSync(files[0]!), fs.readFileSync(files[1]!)]))
    const n = physicalLines(files[0]!).length
    const r = await verify(merged)
    expect(r.breaks).toEqual([expect.objectContaining({ file: merged, line: n + 1, reason: 'BAD_HEADER' })])
  })
})

describe('garbage in: a ChainlogError with the right code, never another exception', () => {
  test.each([
    ['an empty file', Buffer.alloc(0), 'NOT_CHAINLOG'],
    ['binary garbage', Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7919) & 0xff)), 'NOT_CHAINLOG'],
    ['a plain text log', Buffer.from('2026-11-22T10:00:00Z INFO started\n2026-11-22T10:00:01Z WARN slow\n'), 'NOT_CHAINLOG'],
    ['a JSON log', Buffer.from('{"level":30,"msg":"hi"}\n'), 'NOT_CHAINLOG'],
    ['one huge line without LF', Buffer.alloc(200_000, 0x61), 'NOT_CHAINLOG'],
    ['gzip of plain text', gzipSync('hello\n'), 'NOT_CHAINLOG'],
  ])('%s', async (_name, content, code) => {
    const dir = tmpDir()
    const file = path.join(dir, _name.includes('gzip') ? 'x.log.gz' : 'x.log')
    fs.writeFileSync(file, content)
    expect(await codeOf(verify(file))).toBe(code)
    expect(await codeOf(verify(Readable.from(content.length ? [content] : [])))).toBe(code)
  })

  test('a record that is not a header: a file is broken at line 1; stdin beginning mid-file is checked, its start anchored to nothing (#12)', async () => {
    const dir = tmpDir()
    const file = path.join(dir, 'x.log')
    const content = Buffer.from(forge(GENESIS, 'x').text)
    fs.writeFileSync(file, content)
    const r = await verify(file)
    expect(r.verdict).toBe('BROKEN')
    expect(r.breaks).toEqual([expect.objectContaining({ file, line: 1, reason: 'BAD_HEADER' })])
    const s = await verify(Readable.from([content]))
    expect(s.verdict).toBe('VALID_SEGMENT')
    expect(s.segment).toEqual({ first: null, last: 1, anchored: false })
  })

  test('a corrupt .gz is NOT_CHAINLOG', async () => {
    const dir = tmpDir()
    const file = path.join(dir, 'x.log.gz')
    fs.writeFileSync(file, Buffer.concat([Buffer.from([0x1f, 0x8b, 0x08, 0x00]), Buffer.alloc(100, 0x42)]))
    expect(await codeOf(verify(file))).toBe('NOT_CHAINLOG')
  })

  test('a directory of unrelated files, an empty directory and a missing path are NO_INPUT', async () => {
    const dir = tmpDir()
    expect(await codeOf(verify(dir))).toBe('NO_INPUT')
    fs.writeFileSync(path.join(dir, 'a.txt'), 'text\n')
    fs.writeFileSync(path.join(dir, 'b.log'), Buffer.from([0, 1, 2]))
    fs.mkdirSync(path.join(dir, 'sub'))
    expect(await codeOf(verify(dir))).toBe('NO_INPUT')
    expect(await codeOf(verify(path.join(dir, 'missing.log')))).toBe('NO_INPUT')
    expect(await codeOf(verify(path.join(dir, 'missing', 'app.log')))).toBe('NO_INPUT')
    expect(await codeOf(verify([]))).toBe('NO_INPUT')
  })

  test('random bytes after a valid header, and random files, give a report or a ChainlogError', async () => {
    const dir = tmpDir()
    const [file] = await writeLog(dir, ['a'])
    const header = physicalLines(file!)[0]!
    const rnd = prng(99)
    const alphabet = Buffer.from('0123456789abcdef|\\\n{}"m e:AZ\u0000')
    for (let i = 0; i < 80; i++) {
      const len = Math.floor(rnd() * 600)
      const body = Buffer.from(Array.from({ length: len }, () => (rnd() < 0.5 ? alphabet[Math.floor(rnd() * alphabet.length)]! : Math.floor(rnd() * 256))))
      for (const content of [Buffer.concat([header, Buffer.from('\n'), body]), body]) {
        fs.writeFileSync(file!, content)
        try {
          const r = await verify(file!, { all: i % 2 === 0 })
          expect(typeof r.ok).toBe('boolean')
        } catch (e) {
          expect(e).toBeInstanceOf(ChainlogError)
        }
      }
    }
  })

  test('a chain file given by name next to a non-chain file given by name: the stranger is named, never passed over', async () => {
    const dir = tmpDir()
    const [file] = await writeLog(dir, ['a'])
    const stranger = path.join(dir, 'stranger.log')
    fs.writeFileSync(stranger, 'hello\n')
    const outcome = await verify([file!, stranger], { all: true }).then(
      (r) => ({ ok: r.ok, named: r.breaks.some((b) => b.file === stranger) }),
      (e: unknown) => {
        expect(e).toBeInstanceOf(ChainlogError)
        return { ok: false, named: (e as ChainlogError).code === 'NOT_CHAINLOG' && (e as ChainlogError).path === stranger }
      },
    )
    expect(outcome).toEqual({ ok: false, named: true })
  })

  test('a writer-made log is never confused with its own lock directory or symlink', async () => {
    const dir = tmpDir()
    const w = await createChainWriter({ file: path.join(dir, 'app.log'), symlink: true })
    w.write('x')
    await w.flush()
    const r = await verify(dir)
    await w.close()
    expect(r.ok).toBe(true)
    expect(r.files).toEqual(logFiles(dir))
  })
})
