/**
 * The reading pass of shipped verification (#15) on both hash paths: where
 * the addon is built, runs of verbatim records are checked and written into
 * the index many to a native call (admitRecords); the JS path takes them line
 * by line. Every line an attacker or a shipper can make, among many good
 * records, must give the same index, the same marks for re-reading, and the
 * same counts and faults on both paths. A native call stops at the first line
 * that is not a plain record it can vouch for, so each odd line is put in the
 * middle of good ones, and at chunk and index-storage boundaries.
 */
import fs from 'node:fs'
import * as path from 'node:path'
import { describe, expect, test, vi } from 'vitest'
import { GENESIS, metaLine } from '../src/format'
import { hashPath } from '../src/index'
import { OffThread } from '../src/shipped-off-thread'
import { MARK, readShipped, tempDir } from '../src/shipped-read'
import { forge, prng, tmpDir } from './helpers'

const KEY = Buffer.from('k'.repeat(32))

/** Everything the pass gives, as plain data. */
async function dump(file: string, key?: Uint8Array, hashPathWanted = process.env.CHAINLOG_HASH_PATH, jobs?: number) {
  const saved = process.env.CHAINLOG_HASH_PATH
  if (hashPathWanted === undefined) delete process.env.CHAINLOG_HASH_PATH
  else process.env.CHAINLOG_HASH_PATH = hashPathWanted
  const tmp = tempDir()
  try {
    const pass = await readShipped([file], { ...(key && { key }), ...(jobs !== undefined && { jobs }) }, tmp.get)
    const { index } = pass
    const records = []
    for (let i = 0; i < index.size; i++) records.push([index.ordinal(i), index.state(i), ...index.key(i, 0), ...index.key(i, 1)].join(' '))
    return {
      records,
      marks: pass.sources.map((s) => s.marks),
      lines: pass.lines,
      skipped: pass.skipped,
      envelopes: pass.envelopes,
      algorithms: pass.algorithms,
      bad: pass.bad,
      fragments: pass.fragments.map((f) => ({ ...f, key: [...f.key] })),
      meta: [...pass.meta],
      headerPrevMismatch: [...pass.headerPrevMismatch],
    }
  } finally {
    tmp.remove()
    if (saved === undefined) delete process.env.CHAINLOG_HASH_PATH
    else process.env.CHAINLOG_HASH_PATH = saved
  }
}

/** A chain of `n` records of random-length lines, as physical lines with their LF. */
function chain(n: number, seed: number, key?: Uint8Array): string[] {
  const rnd = prng(seed)
  const out: string[] = []
  let prev = GENESIS
  for (let i = 0; i < n; i++) {
    const line = `{"i":${i},"msg":"${'x'.repeat(Math.floor(rnd() * 300))}"}`
    const r = key ? forge(prev, line, 'hmac-sha256', key) : forge(prev, line)
    out.push(r.text)
    prev = r.hash
  }
  return out
}

const upper = (s: string, at: number) => s.slice(0, at) + s[at]!.toUpperCase().replace(/[0-9]/, 'A') + s.slice(at + 1)

/** Lines that a native run must not take as plain records, each with why. */
function oddLines(good: string[]): Array<[string, string]> {
  const r = good[5]!
  const prev = r.slice(0, 64)
  const line = r.slice(65, -66)
  const hash = r.slice(-65, -1)
  const withPrev = (p: string) => forge(p, line).text
  return [
    ['uppercase in prev (first 128 bits), rehashed', withPrev(upper(prev.replace(/^[0-9]/, 'a'), 0))],
    ['uppercase in prev (last 128 bits), rehashed', withPrev(prev.slice(0, 60) + 'ABCD')],
    ['a non-hex character in prev, rehashed', withPrev(prev.slice(0, 40) + 'g' + prev.slice(41))],
    ['uppercase in the hash field', `${prev}|${line}|${hash.toUpperCase()}\n`],
    ['a wrong hash', `${prev}|${line}|${'0'.repeat(64)}\n`],
    ['an edited line', `${prev}|${line.replace('x', 'y')}|${hash}\n`],
    ['a metadata record', forge(prev, metaLine({ t: 'note', text: 'hello' } as never)).text],
    ['an escaped line', forge(prev, 'tab\there').text],
    ['a backslash that is neither \\e nor \\m', `${prev}|\\zz|${hash}\n`],
    ['a line one short of a record', r.slice(1)],
    ['an empty line', '\n'],
    ['a CRLF record', `${r.slice(0, -1)}\r\n`],
    ['a JSON envelope', `${JSON.stringify({ log: r.slice(0, -1), stream: 'stdout' })}\n`],
    ['a record cut by a shipper', r.slice(0, 120) + '\n'],
    ['the end of a cut record', r.slice(120)],
    ['pipes in place, nothing else', `${'|'.repeat(140)}\n`],
    ['a genesis record of another chain', forge(GENESIS, 'another chain').text],
  ]
}

describe('shipped reading pass: the same on both hash paths', () => {
  test(`each odd line among good records, across chunk, mark (${MARK} lines) and index-storage (65,536) boundaries`, async () => {
    const dir = tmpDir()
    const good = chain(70_000, 1)
    const odd = oddLines(good)
    const rnd = prng(2)
    const lines = [...good]
    // At random places, and right at the first index-storage boundary and at a mark.
    for (const [, l] of odd) lines.splice(Math.floor(rnd() * lines.length), 0, l)
    lines.splice(65_536, 0, odd[0]![1])
    lines.splice(MARK * 3, 0, odd[4]![1])
    const file = path.join(dir, 'shipped.log')
    fs.writeFileSync(file, lines.join(''))
    const js = await dump(file, undefined, 'js')
    // Where the addon is built, half of each chunk is checked on another thread; with jobs: 1, all in this one.
    const handed = vi.spyOn(OffThread.prototype, 'finish')
    const auto = await dump(file)
    const records = await Promise.all(handed.mock.results.map((r) => r.value as Promise<{ records: number }>))
    handed.mockRestore()
    if (hashPath() === 'native') expect(records.reduce((n, r) => n + r.records, 0)).toBeGreaterThan(good.length / 3)
    expect(auto).toEqual(js)
    expect(await dump(file, undefined, undefined, 1)).toEqual(js)
    // The pass did read what it was given: every good record is indexed, the marks are where the lines start.
    expect(js.records.length).toBeGreaterThanOrEqual(good.length)
    const text = fs.readFileSync(file, 'latin1')
    const starts = [0]
    for (let i = text.indexOf('\n'); i !== -1 && i + 1 < text.length; i = text.indexOf('\n', i + 1)) starts.push(i + 1)
    expect(js.marks[0]).toEqual(starts.filter((_, k) => k % MARK === 0))
    expect(js.bad.map((b) => b.reason).sort()).toEqual(['HASH_MISMATCH', 'HASH_MISMATCH', 'HASH_MISMATCH', 'MALFORMED'])
  })

  test.each(oddLines(chain(10, 3)).map(([why], k) => [why, k] as const))('%s, alone between two good records', async (_why, k) => {
    const dir = tmpDir()
    const good = chain(10, 3)
    const file = path.join(dir, 'shipped.log')
    fs.writeFileSync(file, [...good.slice(0, 5), oddLines(good)[k]![1], ...good.slice(5)].join(''))
    expect(await dump(file)).toEqual(await dump(file, undefined, 'js'))
  })

  test('an hmac-sha256 chain with its key, sha256 records beside it, and a record of another key', async () => {
    const dir = tmpDir()
    const keyed = chain(3000, 4, KEY)
    const plain = chain(3000, 5)
    const lines: string[] = []
    for (let i = 0; i < 3000; i++) lines.push(keyed[i]!, plain[i]!)
    lines.splice(777, 0, forge(GENESIS, 'signed with another key', 'hmac-sha256', Buffer.from('z'.repeat(32))).text)
    const file = path.join(dir, 'shipped.log')
    fs.writeFileSync(file, lines.join(''))
    const js = await dump(file, KEY, 'js')
    expect(await dump(file, KEY)).toEqual(js)
    expect(await dump(file, KEY, undefined, 1)).toEqual(js)
    // No header declares sha256, so with a key only hmac-sha256 is tried: the sha256 records and the one of
    // another key fail their hash, on both paths.
    expect(js.algorithms).toEqual(['hmac-sha256'])
    expect(js.bad).toHaveLength(3001)
    expect(js.records).toHaveLength(6001)
  })

  test('the native path is the one taken wherever the addon is built', () => {
    // hash-path.test.ts holds a machine that can build it to having built it; here, that this file compared two paths.
    expect(hashPath()).toBe(process.env.CHAINLOG_HASH_PATH === 'js' ? 'js' : fs.existsSync(path.join(__dirname, '../../native/build/Release/chainlog_native.node')) ? 'native' : 'js')
  })
})
