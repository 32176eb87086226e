/**
 * The link of shipped records (#15): RecordIndex.link() on the native path
 * (@chainlog/native's linkRecords()) and on the JS path give the same
 * successors, the same forks in the same order, the same flags and the same
 * copy counts, on random indexes of every shape the index meets: chains in
 * any order, duplicates (once more than the 65,535 a record's word counts),
 * BAD records and BAD copies of good ones, forks, rings, records that name
 * themselves, keys that share their first words, and sizes from none to many
 * partitions. And CHAINLOG_HASH_PATH=js takes the JS path.
 */
import { spawnSync } from 'node:child_process'
import * as path from 'node:path'
import { describe, expect, test } from 'vitest'
import { createIndexLinker, hashPath } from '../src/hash-path'
import { Flag, RecordIndex, type Links } from '../src/shipped-index'
import { prng, ROOT } from './helpers'

/** A record as the reading pass adds it: its prev and hash keys (4 words each), flags and algorithm. */
interface Rec {
  prev: number[]
  hash: number[]
  flags: number
  alg: number
}

/** A seeded generator of 32-bit words (helpers' mulberry32), so that a failing case can be run again. */
function generator(seed: number): () => number {
  const rnd = prng(seed)
  return () => Math.floor(rnd() * 2 ** 32) >>> 0
}

const hex = (words: number[]) => words.map((w) => w.toString(16).padStart(8, '0')).join('')
const GENESIS = [0, 0, 0, 0]

/** The records' prev and hash fields as text, 128 bytes each (the other 32 hex characters of each are not kept). */
function fields(recs: Rec[]): Buffer {
  const tail = '0123456789abcdef'.repeat(2)
  return Buffer.from(recs.map((r) => hex(r.prev) + tail + hex(r.hash) + tail).join(''), 'latin1')
}

/** Builds an index of `recs`, in their order, through parse() and add() as the reading pass does. */
function build(recs: Rec[], b = fields(recs)): RecordIndex {
  const index = new RecordIndex()
  let parsed = 0
  recs.forEach((r, n) => {
    if (index.parse(b, n * 128, n * 128 + 64)) parsed++
    index.add(n, r.flags, r.alg)
  })
  expect(parsed).toBe(recs.length)
  return index
}

/** link() on the path asked for, CHAINLOG_HASH_PATH set around the call. */
function linkOn(wanted: 'js' | 'native', index: RecordIndex): Links {
  const before = process.env.CHAINLOG_HASH_PATH
  process.env.CHAINLOG_HASH_PATH = wanted
  try {
    return index.link()
  } finally {
    if (before === undefined) delete process.env.CHAINLOG_HASH_PATH
    else process.env.CHAINLOG_HASH_PATH = before
  }
}

/** The first record where two results differ, as a message, or '' when they are the same. */
function difference(a: RecordIndex, la: Links, b: RecordIndex, lb: Links): string {
  for (let i = 0; i < a.size; i++) {
    if (la.succ[i] !== lb.succ[i]) return `succ[${i}]: js ${la.succ[i]}, native ${lb.succ[i]}`
    if (a.state(i) !== b.state(i)) return `word of ${i}: js ${a.state(i).toString(16)}, native ${b.state(i).toString(16)}`
    if (a.duplicates(i) !== b.duplicates(i)) return `duplicates(${i}): js ${a.duplicates(i)}, native ${b.duplicates(i)}`
  }
  if (la.succ.length !== lb.succ.length) return `succ lengths ${la.succ.length} and ${lb.succ.length}`
  if (JSON.stringify(la.forks) !== JSON.stringify(lb.forks)) return `forks: js ${JSON.stringify(la.forks.slice(0, 20))}, native ${JSON.stringify(lb.forks.slice(0, 20))}`
  return ''
}

/** What a case holds, so that the cases are seen to reach every rule of link(). */
interface Seen {
  dup: number
  shadowed: number
  linked: number
  forks: number
  saturated: number
}

/** Links the same records on both paths; returns the difference ('' if none) and what the JS path found. */
function compare(recs: Rec[]): { diff: string; seen: Seen } {
  const b = fields(recs)
  const js = build(recs, b)
  const native = build(recs, b)
  const lj = linkOn('js', js)
  const ln = linkOn('native', native)
  const seen: Seen = { dup: 0, shadowed: 0, linked: 0, forks: lj.forks.length, saturated: 0 }
  for (let i = 0; i < js.size; i++) {
    const f = js.flags(i)
    if (f & Flag.DUP) seen.dup++
    if (f & Flag.SHADOWED) seen.shadowed++
    if (f & Flag.LINKED) seen.linked++
    if (js.duplicates(i) > 0xffff) seen.saturated++
  }
  return { diff: difference(js, lj, native, ln), seen }
}

/**
 * Random records of `n` or so: chains (from GENESIS, from a key no record has, from a record already
 * there: a fork), rings, records naming themselves, copies good and BAD, BAD records, all shuffled.
 * Keys are drawn now fully random, now sharing their first word (one partition and one probe start)
 * or their first three words, so that every word of a key decides.
 */
function randomRecords(rnd: () => number, n: number): Rec[] {
  const firsts = Array.from({ length: 4 }, () => rnd())
  const shared = Array.from({ length: 3 }, () => rnd())
  const mode = rnd() % 3
  const newKey = (): number[] => {
    const r = rnd() % 8
    if (mode === 1 && r < 4) return [firsts[r]!, rnd(), rnd(), rnd()]
    if (mode === 2 && r < 3) return [...shared, rnd() % 16]
    return [rnd(), rnd(), rnd(), rnd()]
  }
  const recs: Rec[] = []
  const alg = () => rnd() % 3
  while (recs.length < n) {
    const kind = rnd() % 10
    const len = 1 + (rnd() % 40)
    let prev: number[]
    if (kind < 3) prev = GENESIS
    else if (kind < 5 || recs.length === 0) prev = newKey()
    else prev = recs[rnd() % recs.length]!.hash
    const start = recs.length
    for (let c = 0; c < len; c++) {
      const hash = newKey()
      recs.push({ prev, hash, flags: prev === GENESIS ? Flag.GENESIS : 0, alg: alg() })
      prev = hash
    }
    // A ring: the chain's first record follows its last.
    if (kind === 9) recs[start] = { ...recs[start]!, prev, flags: 0 }
    // A record that names itself.
    if (rnd() % 50 === 0) {
      const k = newKey()
      recs.push({ prev: k, hash: k, flags: 0, alg: alg() })
    }
  }
  const copies: Rec[] = []
  for (const r of recs) {
    const d = rnd() % 100
    if (d < 8) copies.push({ ...r })
    else if (d < 10) for (let c = 2 + (rnd() % 5); c > 0; c--) copies.push({ ...r, flags: r.flags | (rnd() % 2 ? Flag.BAD : 0) })
    else if (d < 13) copies.push({ ...r, flags: r.flags | Flag.BAD })
    // A BAD copy whose prev field was altered: it links elsewhere, or nowhere.
    else if (d < 15) copies.push({ ...r, prev: rnd() % 2 ? newKey() : recs[rnd() % recs.length]!.hash, flags: Flag.BAD })
    if (rnd() % 100 < 4) r.flags |= Flag.BAD
  }
  const all = recs.concat(copies)
  for (let i = all.length - 1; i > 0; i--) {
    const j = rnd() % (i + 1)
    const t = all[i]!
    all[i] = all[j]!
    all[j] = t
  }
  return all.slice(0, Math.max(n, 0))
}

const native = createIndexLinker() !== null

describe('RecordIndex.link(): native and JS paths', () => {
  test('the native path is there wherever the addon is built', () => {
    // hash-path.test.ts checks that a machine that can build the addon has built it.
    expect(native).toBe(hashPath() === 'native')
  })

  describe.skipIf(!native)('the same results', () => {
    test('on random indexes from none to a few thousand records', () => {
      const total: Seen = { dup: 0, shadowed: 0, linked: 0, forks: 0, saturated: 0 }
      for (let seed = 1; seed <= 300; seed++) {
        const rnd = generator(seed)
        const n = seed <= 20 ? seed - 1 : rnd() % (seed % 10 === 0 ? 6000 : 400)
        const { diff, seen } = compare(randomRecords(rnd, n))
        expect(diff, `seed ${seed}, ${n} records`).toBe('')
        for (const k of Object.keys(total) as Array<keyof Seen>) total[k] += seen[k]
      }
      // The cases reach every rule: copies, altered copies, links and forks.
      expect(total.dup).toBeGreaterThan(100)
      expect(total.shadowed).toBeGreaterThan(100)
      expect(total.linked).toBeGreaterThan(10_000)
      expect(total.forks).toBeGreaterThan(100)
    })

    test('on indexes of many partitions (more than 8,192 records, up to 2^17)', () => {
      for (const [seed, n] of [
        [1001, 8193],
        [1002, 20_000],
        [1003, 70_000],
        [1004, 140_000],
      ] as const) {
        const { diff, seen } = compare(randomRecords(generator(seed), n))
        expect(diff, `seed ${seed}, ${n} records`).toBe('')
        expect(seen.forks).toBeGreaterThan(0)
      }
    })

    test('with more than 65,535 copies of one record, BAD copies among them, beside a chain', () => {
      const rnd = generator(7)
      const key = () => [rnd(), rnd(), rnd(), rnd()]
      const a: Rec = { prev: key(), hash: key(), flags: 0, alg: 1 }
      const b: Rec = { prev: a.hash, hash: key(), flags: 0, alg: 1 }
      // The first copy of a is BAD: the first good one takes its place and counts the rest.
      const recs: Rec[] = [{ ...a, flags: Flag.BAD }]
      for (let i = 0; i < 70_000; i++) recs.push(i % 1000 === 7 ? { ...a, flags: Flag.BAD } : { ...a })
      for (let i = 0; i < 65_600; i++) recs.push({ ...b })
      let prev = b.hash
      for (let i = 0; i < 3000; i++) {
        const hash = key()
        recs.push({ prev, hash, flags: 0, alg: 1 })
        prev = hash
      }
      for (let i = recs.length - 1; i > 0; i--) {
        const j = rnd() % (i + 1)
        const t = recs[i]!
        recs[i] = recs[j]!
        recs[j] = t
      }
      const { diff, seen } = compare(recs)
      expect(diff).toBe('')
      expect(seen.saturated).toBe(2)
      // And the counts themselves: every copy beyond the one that stays.
      const index = build(recs)
      linkOn('native', index)
      const counts: number[] = []
      for (let i = 0; i < index.size; i++) if (index.duplicates(i) > 0) counts.push(index.duplicates(i))
      expect(counts.sort((x, y) => x - y)).toEqual([65_599, 70_000 - 70 - 1])
    })

    test('a chain, shuffled, with a copy and a fork: the links themselves', () => {
      const k = (n: number) => [n, n, n, n]
      // 1 <- 2 <- 3 <- 4, 5 forks from 2, and 3 comes twice.
      const recs: Rec[] = [
        { prev: k(3), hash: k(4), flags: 0, alg: 1 },
        { prev: k(2), hash: k(3), flags: 0, alg: 1 },
        { prev: k(2), hash: k(5), flags: 0, alg: 1 },
        { prev: GENESIS, hash: k(1), flags: Flag.GENESIS, alg: 1 },
        { prev: k(2), hash: k(3), flags: 0, alg: 1 },
        { prev: k(1), hash: k(2), flags: 0, alg: 1 },
      ]
      for (const wanted of ['js', 'native'] as const) {
        const index = build(recs)
        const { succ, forks } = linkOn(wanted, index)
        expect([...succ]).toEqual([-1, 0, -1, 5, -1, 1])
        expect(forks).toEqual([[5, 2]])
        expect(index.duplicates(1)).toBe(1)
        expect(index.flags(4) & Flag.DUP).toBe(Flag.DUP)
        expect([0, 1, 2, 3, 4, 5].map((i) => (index.flags(i) & Flag.LINKED) !== 0)).toEqual([true, true, true, false, true, true])
      }
    })
  })
})

describe('the path link() takes (a real child, NODE_DEBUG=chainlog)', () => {
  const script = `
    const { RecordIndex } = require(${JSON.stringify(path.join(ROOT, 'packages/core/dist/shipped-index.js'))})
    const index = new RecordIndex()
    const b = Buffer.from('0'.repeat(64) + '1'.repeat(64), 'latin1')
    index.parse(b, 0, 64)
    index.add(0, 1, 0)
    index.link()`
  const run = (wanted: string) => spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', env: { ...process.env, CHAINLOG_HASH_PATH: wanted, NODE_DEBUG: 'chainlog' } })

  test('CHAINLOG_HASH_PATH=js: the JS path', () => {
    const r = run('js')
    expect(r.status).toBe(0)
    expect(r.stderr).toMatch(/CHAINLOG \d+: 1 records linked on the js path/)
  })

  test('unset: the native path wherever the addon is built', () => {
    const r = run('')
    expect(r.status).toBe(0)
    expect(r.stderr).toMatch(new RegExp(`CHAINLOG \\d+: 1 records linked on the ${native ? 'native' : 'js'} path`))
  })
})
