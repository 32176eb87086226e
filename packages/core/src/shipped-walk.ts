/**
 * Walking the runs of shipped records (issue #15): from each run's first
 * record along its links (`succ`, from {@link RecordIndex.link}), in chain
 * order, telling the caller of every record it needs to see.
 *
 * Records come in any order, so each step of a walk is a load from anywhere
 * in a 4-byte-per-record array: one cache miss that the next step waits for.
 * Millions of records in one chain make that one long chain of misses. So the
 * links are first followed in pieces (spans): one starts at every record
 * whose number is a multiple of {@link SPAN} and ends before the next such
 * record. The spans of {@link WALKERS} records are followed side by side, so
 * that their misses overlap (in C on the native path, hash-path.ts, where a
 * tighter loop keeps more of them in flight; the same spans either way). Each run is then walked by jumping from span to
 * span, and only the records before its first span are stepped one by one.
 */
import { createSpanFollower } from './hash-path'
import type { RecordIndex } from './shipped-index'

/** What a walk tells its caller. */
export interface RunVisitor<R> {
  /** A run starts at record `start`. */
  open(start: number): R
  /** Record `j` is at distance `k` from the run's first: a record that is not plain, or one the caller asked for. */
  visit(run: R, j: number, k: number): void
  /** The run ends at record `last`, `length` records long. */
  close(run: R, last: number, length: number): void
}

/** What walking needs of the index and the links. */
export interface WalkInput {
  index: Pick<RecordIndex, 'size'>
  succ: Int32Array
  /** Bit i: record i needs no visit for what it is (no metadata, fault or copies). */
  plain: Int32Array
  /** Records to visit whatever they are (their place is wanted). */
  needed: Map<number, unknown>
  /** Whether record i is left out of the links (a duplicate, an altered copy). */
  gone: (i: number) => boolean
}

const SPAN_BITS = 6
/** Records, by number, between two span starts. */
const SPAN = 1 << SPAN_BITS
const SPAN_MASK = SPAN - 1
/** Spans followed side by side: enough misses in flight to fill the memory system, few enough to stay in registers. */
const WALKERS = 16
/** The bit of a link that says its record needs a visit, while spans are followed (record numbers stay below it). */
const VISIT = 1 << 30

/** Whether record j is to be visited: not plain, or asked for. */
function visitTest({ plain, needed }: WalkInput): (j: number) => boolean {
  const wanted = needed.size > 0
  return (j) => (plain[j >>> 5]! & (1 << (j & 31))) === 0 || (wanted && needed.has(j))
}

/** The spans: per span (record number >> SPAN_BITS), its length (0: not followed), last record, the record after it, and its visits as a list. */
interface Spans {
  length: Int32Array
  last: Int32Array
  to: Int32Array
  first: Int32Array
  record: number[]
  distance: number[]
  next: number[]
}

/**
 * Walks the run from each of `heads`, in order. `live` is the number of
 * records not gone: when the runs hold fewer, some form a ring of links (a
 * hash collision closes one, nothing else can), and everything is walked
 * again record by record, the rings from their lowest record, so that nothing
 * goes unreported. `spans: false` steps every record (tests compare the two).
 */
export function walkRuns<R>(input: WalkInput, heads: number[], live: number, visitor: RunVisitor<R>, options: { spans?: boolean } = {}): R[] {
  const n = input.index.size
  if (options.spans === false || n <= SPAN || n > VISIT) return stepped(input, heads, visitor)
  const spans = follow(input)
  const { succ } = input
  const toVisit = visitTest(input)
  const runs: R[] = []
  let walked = 0
  for (const start of heads) {
    const run = visitor.open(start)
    for (let j = start, k = 0; ; ) {
      const s = j >>> SPAN_BITS
      if ((j & SPAN_MASK) === 0 && spans.length[s]! > 0) {
        for (let e = spans.first[s]!; e !== -1; e = spans.next[e]!) visitor.visit(run, spans.record[e]!, k + spans.distance[e]!)
        k += spans.length[s]!
        const next = spans.to[s]!
        if (next === -1 || next === start || k > n) {
          visitor.close(run, spans.last[s]!, k)
          walked += k
          break
        }
        j = next
        continue
      }
      if (toVisit(j)) visitor.visit(run, j, k)
      const next = succ[j]!
      if (next === -1 || next === start || k >= n) {
        visitor.close(run, j, k + 1)
        walked += k + 1
        break
      }
      j = next
      k++
    }
    runs.push(run)
  }
  return walked === live ? runs : stepped(input, heads, visitor)
}

/** Follows every span, WALKERS at a time, and lists the records each must visit. */
function follow(input: WalkInput): Spans {
  const { succ, gone } = input
  const n = input.index.size
  const count = ((n - 1) >>> SPAN_BITS) + 1
  const spans: Spans = { length: new Int32Array(count), last: new Int32Array(count), to: new Int32Array(count), first: new Int32Array(count).fill(-1), record: [], distance: [], next: [] }
  // Whether a record needs a visit goes into its link for the time of the walk (bit 30, and -2 for the end of
  // a run), so that a step waits on one load from anywhere, not two. Set and cleared in record order.
  const toVisit = visitTest(input)
  let visits = 0
  for (let j = 0; j < n; j++) {
    if (toVisit(j)) {
      succ[j] = succ[j] === -1 ? -2 : succ[j]! | VISIT
      visits++
    }
  }
  try {
    const starts: number[] = []
    for (let j = 0; j < n; j += SPAN) if (!gone(j)) starts.push(j)
    const found = new Int32Array(3 * visits)
    const seen = (createSpanFollower() ?? followSpans)(succ, Int32Array.from(starts), spans.length, spans.last, spans.to, found)
    // Each span's visits come in its order, whatever the spans' interleaving: appended to its list.
    const tail = new Int32Array(count).fill(-1)
    for (let v = 0; v < seen; v++) {
      const s = found[3 * v]!
      const e = spans.record.push(found[3 * v + 1]!) - 1
      spans.distance.push(found[3 * v + 2]!)
      spans.next.push(-1)
      if (tail[s] === -1) spans.first[s] = e
      else spans.next[tail[s]!] = e
      tail[s] = e
    }
  } finally {
    for (let j = 0; j < n; j++) if (toVisit(j)) succ[j] = succ[j] === -2 ? -1 : succ[j]! & ~VISIT
  }
  return spans
}

/**
 * The spans from each of `starts`, WALKERS at a time, over links that carry
 * the VISIT bit: each span's length, last record and the link after it, and
 * its visits as (span, record, distance) in `visits`; returns how many. The
 * JS path's followSpans, with the contract of the addon's (hash-path.ts).
 */
function followSpans(succ: Int32Array, starts: Int32Array, length: Int32Array, last: Int32Array, to: Int32Array, visits: Int32Array): number {
  const n = succ.length
  const at = new Int32Array(WALKERS)
  const span = new Int32Array(WALKERS).fill(-1)
  const steps = new Int32Array(WALKERS)
  let next = 0
  let active = 0
  let seen = 0
  const begin = (w: number) => {
    if (next >= starts.length) {
      span[w] = -1
      return
    }
    at[w] = starts[next++]!
    span[w] = at[w]! >>> SPAN_BITS
    steps[w] = 0
    active++
  }
  for (let w = 0; w < WALKERS; w++) begin(w)
  while (active > 0) {
    for (let w = 0; w < WALKERS; w++) {
      const s = span[w]!
      if (s === -1) continue
      const j = at[w]!
      const k = steps[w]!
      const link = succ[j]!
      if (link < 0 ? link === -2 : (link & VISIT) !== 0) {
        visits[3 * seen] = s
        visits[3 * seen + 1] = j
        visits[3 * seen + 2] = k
        seen++
      }
      const after = link < 0 ? -1 : link & ~VISIT
      // A span ends before the next span's start (a ring of starts ends there too), or at the run's end.
      if (after === -1 || (after & SPAN_MASK) === 0 || k >= n) {
        length[s] = k + 1
        last[s] = j
        to[s] = after
        active--
        begin(w)
      } else {
        at[w] = after
        steps[w] = k + 1
      }
    }
  }
  return seen
}

/** Every run record by record, then what no run reached (rings), each from its lowest record. */
function stepped<R>(input: WalkInput, heads: number[], visitor: RunVisitor<R>): R[] {
  const { succ, gone } = input
  const n = input.index.size
  const toVisit = visitTest(input)
  const seen = new Int32Array((n >>> 5) + 1)
  const runs: R[] = []
  const walk = (start: number) => {
    const run = visitor.open(start)
    for (let j = start, k = 0; ; k++) {
      seen[j >>> 5]! |= 1 << (j & 31)
      if (toVisit(j)) visitor.visit(run, j, k)
      const next = succ[j]!
      // Each record follows one record at most, so a walk meets a record it has seen only on a ring
      // of links, and then at its start.
      if (next === -1 || next === start || k >= n) {
        visitor.close(run, j, k + 1)
        break
      }
      j = next
    }
    runs.push(run)
  }
  for (const start of heads) walk(start)
  for (let i = 0; i < n; i++) if (!gone(i) && !(seen[i >>> 5]! & (1 << (i & 31)))) walk(i)
  return runs
}
