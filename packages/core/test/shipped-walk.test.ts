/**
 * Walking shipped runs (#15): following the links span by span, many spans
 * side by side, must tell the caller exactly what stepping record by record
 * tells it: the same runs, in the same order, each with the same visits at
 * the same distances, its last record and length; rings of links (which only
 * a hash collision makes) included.
 */
import { describe, expect, test } from 'vitest'
import { walkRuns, type RunVisitor } from '../src/shipped-walk'
import { prng } from './helpers'

interface Shape {
  n: number
  /** Paths of record numbers, each linked first to last. */
  paths: number[][]
  rings: number[][]
  gone: Set<number>
  special: Set<number>
  needed: number[]
}

/** Records 0..n-1 shuffled into paths and rings of random lengths; some gone, some special, some needed. */
function shape(seed: number, n: number, rings = 0): Shape {
  const rnd = prng(seed)
  const order = Array.from({ length: n }, (_, i) => i)
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1))
    ;[order[i], order[j]] = [order[j]!, order[i]!]
  }
  const gone = new Set<number>()
  const live: number[] = []
  for (const i of order) (rnd() < 0.02 ? gone.add(i) : live.push(i))
  const paths: number[][] = []
  const ringList: number[][] = []
  for (let at = 0; at < live.length; ) {
    // Mostly long runs (one chain with a few gaps), some short ones.
    const len = Math.min(live.length - at, rnd() < 0.7 ? 1 + Math.floor(rnd() * n) : 1 + Math.floor(rnd() * 5))
    ;(ringList.length < rings && len > 1 ? ringList : paths).push(live.slice(at, at + len))
    at += len
  }
  const special = new Set(live.filter(() => rnd() < 0.03))
  const needed = live.filter(() => rnd() < 0.005)
  return { n, paths, rings: ringList, gone, special, needed }
}

function walk(s: Shape, spans: boolean) {
  const succ = new Int32Array(s.n).fill(-1)
  for (const p of s.paths) for (let k = 0; k + 1 < p.length; k++) succ[p[k]!] = p[k + 1]!
  for (const r of s.rings) for (let k = 0; k < r.length; k++) succ[r[k]!] = r[(k + 1) % r.length]!
  const plain = new Int32Array((s.n >>> 5) + 1)
  for (let i = 0; i < s.n; i++) if (!s.special.has(i)) plain[i >>> 5]! |= 1 << (i & 31)
  const needed = new Map<number, unknown>(s.needed.map((i) => [i, null]))
  // Heads in record order, as the rebuild lists them.
  const heads = s.paths.map((p) => p[0]!).sort((a, b) => a - b)
  const live = s.n - s.gone.size
  type R = { start: number; visits: Array<[number, number]>; last?: number; length?: number }
  const visitor: RunVisitor<R> = {
    open: (start) => ({ start, visits: [] }),
    visit: (run, j, k) => void run.visits.push([j, k]),
    close: (run, last, length) => Object.assign(run, { last, length }),
  }
  return walkRuns({ index: { size: s.n }, succ, plain, needed, gone: (i) => s.gone.has(i) }, heads, live, visitor, { spans })
}

describe('walking runs span by span', () => {
  test.each([
    [1, 10],
    [2, 65],
    [3, 1000],
    [4, 20_000],
    [5, 200_000],
  ])('seed %i, %i records: the same runs and visits as record by record', (seed, n) => {
    const s = shape(seed, n)
    const stepped = walk(s, false)
    expect(walk(s, true)).toEqual(stepped)
    // And they are the walks asked for: every path whole, its visits the special and needed records on it.
    expect(stepped.reduce((a, r) => a + r.length!, 0)).toBe(n - s.gone.size)
    const byStart = new Map(s.paths.map((p) => [p[0]!, p]))
    const needed = new Set(s.needed)
    for (const r of stepped) {
      const p = byStart.get(r.start)!
      expect([r.last, r.length]).toEqual([p.at(-1), p.length])
      expect(r.visits).toEqual(p.flatMap((j, k) => (s.special.has(j) || needed.has(j) ? [[j, k]] : [])))
    }
  })

  test('rings of links are walked too, from their lowest record, on both', () => {
    const s = shape(6, 5000, 3)
    expect(s.rings.length).toBe(3)
    const stepped = walk(s, false)
    expect(walk(s, true)).toEqual(stepped)
    expect(stepped.slice(-3).map((r) => r.start)).toEqual(s.rings.map((r) => Math.min(...r)).sort((a, b) => a - b))
    expect(stepped.reduce((a, r) => a + r.length!, 0)).toBe(5000 - s.gone.size)
  })
})
