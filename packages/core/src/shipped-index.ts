/**
 * The index that puts shipped records back in chain order (issue #15) with
 * bounded memory: about 55 bytes per record, in typed arrays, never
 * the records themselves.
 *
 * Each record keeps the first 128 bits of its `prev` and of its `hash`, the
 * input line it came from, and a few flags. Its own hash was checked in full
 * before it got here; links are matched on the 128-bit prefixes, for which a
 * collision takes about 2^64 hash computations. One open-addressing table
 * over the hash prefixes finds duplicates (the same record twice, as
 * at-least-once delivery makes them) and each record's predecessor.
 */

import { debuglog } from 'node:util'
import { createIndexLinker } from './hash-path'

const debug = debuglog('chainlog')

/** Records per storage chunk: storage grows by chunks, never by copying what is stored. */
const CHUNK_BITS = 16
const CHUNK = 1 << CHUNK_BITS
const MASK = CHUNK - 1
/** 32-bit words kept per record: 4 of `prev`, 4 of `hash`. */
const WORDS = 8
/** Records per partition of {@link RecordIndex.link}: its table (16,384 slots of 20 bytes at most) stays in the L2 cache (1<<17 records, a 5 MB table, took 1.5x the time). */
const PARTITION = 1 << 13
/** Passes over the index that copy out the keys of {@link RecordIndex.link}'s partitions: each holds an eighth of the records. */
const GROUPS = 8

/** Flag bits of a record. */
export const Flag = {
  /** Its `prev` is the chain's GENESIS value. */
  GENESIS: 1,
  /** Its hash field is not H(prev|line) under any algorithm the input declares, or its line is not a format-1 form. */
  BAD: 2,
  /** Another copy of it came first. */
  DUP: 4,
  /** Its predecessor is in the input. */
  LINKED: 8,
  /** Its stored line is metadata (`\m…`): see the side table of {@link RecordIndex.meta}. */
  META: 16,
  /** A BAD copy of a record that also came whole: kept out of the links. */
  SHADOWED: 64,
} as const

/** Per byte, its value as a lowercase hex digit, or -1: one load per character, no branch. */
const hexValue = new Int8Array(256).fill(-1)
for (let i = 0; i < 10; i++) hexValue[0x30 + i] = i
for (let i = 0; i < 6; i++) hexValue[0x61 + i] = 10 + i

/** The 32-bit word of 8 lowercase hex characters at `at` of `b`, or -1 if one is not. */
function word(b: Uint8Array, at: number): number {
  let w = 0
  let bad = 0
  for (let i = at; i < at + 8; i++) {
    const v = hexValue[b[i]!]!
    bad |= v
    w = (w << 4) | (v & 15)
  }
  return bad < 0 ? -1 : w >>> 0
}

/** Whether the `n` bytes at `at` of `b` are all lowercase hex digits. */
function isHex(b: Uint8Array, at: number, n: number): boolean {
  let bad = 0
  for (let i = at; i < at + n; i++) bad |= hexValue[b[i]!]!
  return bad >= 0
}

/** The first 128 bits of a hash as hex text, as 4 words. */
export function keyOf(hex: string): Uint32Array {
  const out = new Uint32Array(4)
  for (let k = 0; k < 4; k++) out[k] = parseInt(hex.slice(k * 8, k * 8 + 8), 16) >>> 0
  return out
}

/** The result of {@link RecordIndex.link}. */
export interface Links {
  /** Per record, the record that follows it (its first child), or -1. */
  succ: Int32Array
  /** Records whose predecessor already had a child: [parent, child] pairs (forks). */
  forks: Array<[number, number]>
}

/**
 * Distinct records and their links. Records are added in any order; then
 * {@link RecordIndex.link} collapses duplicates and links each record to the
 * one its `prev` names.
 */
export class RecordIndex {
  /** Records added (duplicates included, until {@link link}). */
  size = 0
  private readonly keys: Uint32Array[] = []
  private readonly ords: Uint32Array[] = []
  /**
   * Per record, one word: flags (bits 0-7), algorithm number (8-15) and copies
   * beyond the first (16-31, saturating), so that a walk in chain order
   * touches one word per record, not three arrays.
   */
  private readonly words: Uint32Array[] = []
  /** Copies beyond 65,535 of one record (rare: the per-record counter saturates). */
  private readonly manyDups = new Map<number, number>()

  /**
   * Reads the keys of a record whose `prev` is bytes [at, at+64) of `b` and
   * whose hash field is [hashAt, hashAt+64), for the next {@link add}: into
   * the slot that record will take, so that adding copies nothing.
   * @returns false when either is not 64 lowercase hex characters.
   */
  parse(b: Uint8Array, at: number, hashAt: number): boolean {
    const { keys, slot } = this.block()
    const o = slot * WORDS
    for (let w = 0; w < 4; w++) {
      const p = word(b, at + w * 8)
      const h = word(b, hashAt + w * 8)
      if (p === -1 || h === -1) return false
      keys[o + w] = p
      keys[o + 4 + w] = h
    }
    // The rest of each field: checked, not kept.
    return isHex(b, at + 32, 32) && isHex(b, hashAt + 32, 32)
  }

  /**
   * Where the next records go, for a native reading pass that writes them in
   * place (hash-path.ts `admitRecords`): the current storage chunk's arrays,
   * the slot of record {@link size} in them, and how many more fit there.
   * {@link grow} then counts what was written.
   */
  block(): { keys: Uint32Array; ords: Uint32Array; words: Uint32Array; slot: number; room: number } {
    const i = this.size
    if (i >>> CHUNK_BITS === this.keys.length) {
      this.keys.push(new Uint32Array(CHUNK * WORDS))
      this.ords.push(new Uint32Array(CHUNK))
      this.words.push(new Uint32Array(CHUNK))
    }
    const c = i >>> CHUNK_BITS
    return { keys: this.keys[c]!, ords: this.ords[c]!, words: this.words[c]!, slot: i & MASK, room: CHUNK - (i & MASK) }
  }

  /** Counts `k` records written in place after {@link block}. */
  grow(k: number): void {
    this.size += k
  }

  /**
   * Adds `count` records laid out as a native run writes them from slot 0:
   * 8 key words and one word each; their ordinals run on from `ordinal`.
   */
  append(keys: Uint32Array, words: Uint32Array, count: number, ordinal: number): void {
    for (let k = 0; k < count; ) {
      const block = this.block()
      const n = Math.min(block.room, count - k)
      block.keys.set(keys.subarray(k * WORDS, (k + n) * WORDS), block.slot * WORDS)
      block.words.set(words.subarray(k, k + n), block.slot)
      for (let i = 0; i < n; i++) block.ords[block.slot + i] = ordinal + k + i
      this.size += n
      k += n
    }
  }

  /**
   * Adds the record whose keys {@link parse} read last.
   * @returns its number in the index.
   */
  add(ordinal: number, flags: number, alg: number): number {
    const i = this.size++
    this.ords[i >>> CHUNK_BITS]![i & MASK] = ordinal
    this.words[i >>> CHUNK_BITS]![i & MASK] = (flags & 0xff) | ((alg & 0xff) << 8)
    return i
  }

  /** The input position (global line ordinal) of record `i`. */
  ordinal(i: number): number {
    return this.ords[i >>> CHUNK_BITS]![i & MASK]!
  }

  /** Record `i`'s word: flags (bits 0-7), algorithm number (8-15), copies (16-31; see {@link duplicates}). */
  state(i: number): number {
    return this.words[i >>> CHUNK_BITS]![i & MASK]!
  }

  flags(i: number): number {
    return this.words[i >>> CHUNK_BITS]![i & MASK]! & 0xff
  }

  /** The number (in the caller's list of algorithms) of the algorithm record `i` verified under. */
  alg(i: number): number {
    return (this.words[i >>> CHUNK_BITS]![i & MASK]! >>> 8) & 0xff
  }

  /** How many more copies of record `i` came. */
  duplicates(i: number): number {
    const d = this.words[i >>> CHUNK_BITS]![i & MASK]! >>> 16
    return d === 0xffff ? 0xffff + (this.manyDups.get(i) ?? 0) : d
  }

  /** The first 128 bits of record `i`'s `prev` (part 0) or hash (part 1), as 4 words. */
  key(i: number, part: 0 | 1): Uint32Array {
    const o = (i & MASK) * WORDS + part * 4
    return this.keys[i >>> CHUNK_BITS]!.subarray(o, o + 4)
  }

  /**
   * The records whose hashes start with each of `keys` (4 words each), -1
   * for a key no record has: one pass over the index, for the few records a
   * report needs to place (what a cut follows, what an altered copy copies).
   */
  findMany(keys: Uint32Array[]): number[] {
    const out = keys.map(() => -1)
    if (keys.length === 0) return out
    const byFirst = new Map<number, number[]>()
    keys.forEach((k, n) => {
      if (!byFirst.has(k[0]!)) byFirst.set(k[0]!, [])
      byFirst.get(k[0]!)!.push(n)
    })
    for (let i = 0; i < this.size; i++) {
      const k = this.keys[i >>> CHUNK_BITS]!
      const o = (i & MASK) * WORDS + 4
      const wanted = byFirst.get(k[o]!)
      if (!wanted) continue
      const f = this.words[i >>> CHUNK_BITS]![i & MASK]!
      if (f & (Flag.DUP | Flag.SHADOWED)) continue
      for (const n of wanted) {
        const key = keys[n]!
        if (k[o + 1] === key[1] && k[o + 2] === key[2] && k[o + 3] === key[3]) out[n] = i
      }
    }
    return out
  }

  /**
   * Collapses duplicates and links every record to its predecessor. A copy
   * of a record that verified is a duplicate. A record that failed its hash
   * still links by its fields (so an edited line is named, not seen as a
   * gap), unless a copy that verifies came too.
   *
   * Records are taken a partition at a time (by the top bits of the hash),
   * with a table that holds copies of the hash keys: millions of records in
   * shuffled order would otherwise cost a cache miss in a 100 MB index for
   * every probe. The keys of a few partitions at a time are first copied out
   * in partition order, so that each partition reads its keys in sequence
   * instead of from all over the index (a cache and TLB miss per record).
   *
   * Where the addon is built (and CHAINLOG_HASH_PATH is not js), its
   * linkRecords() does the same in C over this storage, to the same
   * successors, forks (in the same order), flags and copy counts.
   */
  link(): Links {
    const native = createIndexLinker()
    debug('%d records linked on the %s path', this.size, native ? 'native' : 'js')
    if (!native) return this.linkJs()
    const succ = new Int32Array(this.size)
    const { forks, many } = native(this.keys, this.words, this.size, succ)
    for (let q = 0; q < many.length; q += 2) this.manyDups.set(many[q]!, (this.manyDups.get(many[q]!) ?? 0) + many[q + 1]!)
    const real: Array<[number, number]> = []
    for (let q = 0; q < forks.length; q += 2) real.push([forks[q]!, forks[q + 1]!])
    return { succ, forks: real }
  }

  /** {@link link} in JavaScript: the path where the addon is not built, or CHAINLOG_HASH_PATH=js. */
  private linkJs(): Links {
    const n = this.size
    let bits = 0
    while (n >>> bits > PARTITION) bits++
    const parts = 1 << bits
    const keys = this.keys
    const words = this.words
    const partOf = (w: number) => (bits === 0 ? 0 : w >>> (32 - bits))
    // Records per partition of their hash (at 4) and of their prev (at 0).
    const hashStarts = new Uint32Array(parts + 1)
    const prevStarts = new Uint32Array(parts + 1)
    for (let i = 0; i < n; i++) {
      const k = keys[i >>> CHUNK_BITS]!
      const o = (i & MASK) * WORDS
      hashStarts[partOf(k[o + 4]!) + 1]!++
      prevStarts[partOf(k[o]!) + 1]!++
    }
    let most = 0
    for (let p = 0; p < parts; p++) {
      most = Math.max(most, hashStarts[p + 1]!, prevStarts[p + 1]!)
      hashStarts[p + 1]! += hashStarts[p]!
      prevStarts[p + 1]! += prevStarts[p]!
    }
    // Partitions are copied out GROUPS at a time (an eighth of the records each, about 5 MB per million records).
    const cap = Math.max(most, Math.ceil(n / GROUPS))
    const hashCopy = new Uint32Array(cap * 5)
    const prevCopy = new Uint32Array(cap * 5)
    let slots = 1024
    while (slots < most + (most >>> 1)) slots *= 2
    const mask = slots - 1
    const index = new Int32Array(slots)
    const tkeys = new Uint32Array(slots * 4)
    const succ = new Int32Array(n).fill(-1)
    const forks: Array<[number, number]> = []
    const linkedBits = new Int32Array((n >>> 5) + 1)
    for (let from = 0; from < parts; ) {
      let to = from + 1
      while (to < parts && hashStarts[to + 1]! - hashStarts[from]! <= cap && prevStarts[to + 1]! - prevStarts[from]! <= cap) to++
      // One pass in index order: each record's hash key and prev key (with its number) to its partition's place.
      const hashFill = hashStarts.slice(from, to)
      const prevFill = prevStarts.slice(from, to)
      const hashBase = hashStarts[from]!
      const prevBase = prevStarts[from]!
      for (let i = 0; i < n; i++) {
        const k = keys[i >>> CHUNK_BITS]!
        const o = (i & MASK) * WORDS
        const hp = partOf(k[o + 4]!) - from
        if (hp >= 0 && hp < to - from) {
          const t = (hashFill[hp]!++ - hashBase) * 5
          hashCopy[t] = k[o + 4]!
          hashCopy[t + 1] = k[o + 5]!
          hashCopy[t + 2] = k[o + 6]!
          hashCopy[t + 3] = k[o + 7]!
          hashCopy[t + 4] = i
        }
        const pp = partOf(k[o]!) - from
        if (pp >= 0 && pp < to - from) {
          const t = (prevFill[pp]!++ - prevBase) * 5
          prevCopy[t] = k[o]!
          prevCopy[t + 1] = k[o + 1]!
          prevCopy[t + 2] = k[o + 2]!
          prevCopy[t + 3] = k[o + 3]!
          prevCopy[t + 4] = i
        }
      }
      for (let p = from; p < to; p++) {
        index.fill(-1)
        for (let q = (hashStarts[p]! - hashBase) * 5, end = (hashStarts[p + 1]! - hashBase) * 5; q < end; q += 5) {
          const h0 = hashCopy[q]!
          const h1 = hashCopy[q + 1]!
          const h2 = hashCopy[q + 2]!
          const h3 = hashCopy[q + 3]!
          const i = hashCopy[q + 4]!
          for (let s = h0 & mask; ; s = (s + 1) & mask) {
            const j = index[s]!
            const t = s * 4
            if (j === -1) {
              index[s] = i
              tkeys[t] = h0
              tkeys[t + 1] = h1
              tkeys[t + 2] = h2
              tkeys[t + 3] = h3
              break
            }
            if (tkeys[t] !== h0 || tkeys[t + 1] !== h1 || tkeys[t + 2] !== h2 || tkeys[t + 3] !== h3) continue
            // A copy that fails its hash beside one that verifies is an altered copy: it stays out of the
            // links (its BAD flag still reports it), and the one that verifies takes its place.
            const w = words[i >>> CHUNK_BITS]!
            if ((w[i & MASK]! & Flag.BAD) !== 0) {
              w[i & MASK]! |= Flag.SHADOWED
              break
            }
            const d = words[j >>> CHUNK_BITS]!
            if ((d[j & MASK]! & Flag.BAD) !== 0) {
              d[j & MASK]! |= Flag.SHADOWED
              index[s] = i
              break
            }
            w[i & MASK]! |= Flag.DUP
            if (d[j & MASK]! >>> 16 < 0xffff) d[j & MASK]! += 0x10000
            else this.manyDups.set(j, (this.manyDups.get(j) ?? 0) + 1)
            break
          }
        }
        for (let q = (prevStarts[p]! - prevBase) * 5, end = (prevStarts[p + 1]! - prevBase) * 5; q < end; q += 5) {
          // Duplicates are not skipped here (a later group may be the one to find them a duplicate):
          // the children that turn out copies are dropped below. Nor is their word read: the prev
          // pass touches no per-record array but succ and a bit set that stays in cache.
          const i = prevCopy[q + 4]!
          const p0 = prevCopy[q]!
          const p1 = prevCopy[q + 1]!
          const p2 = prevCopy[q + 2]!
          const p3 = prevCopy[q + 3]!
          let found = -1
          for (let s = p0 & mask; ; s = (s + 1) & mask) {
            const j = index[s]!
            if (j === -1) break
            const t = s * 4
            if (tkeys[t] === p0 && tkeys[t + 1] === p1 && tkeys[t + 2] === p2 && tkeys[t + 3] === p3) {
              found = j
              break
            }
          }
          if (found === -1 || found === i) continue
          linkedBits[i >>> 5]! |= 1 << (i & 31)
          if (succ[found] === -1) succ[found] = i
          else forks.push([found, i])
        }
      }
      from = to
    }
    for (let i = 0; i < n; i++) if (linkedBits[i >>> 5]! & (1 << (i & 31))) words[i >>> CHUNK_BITS]![i & MASK]! |= Flag.LINKED
    // A record linked before its hash's partition showed it a duplicate (or an altered copy) is no
    // child: the copy that stays takes its place, and only two distinct children make a fork.
    const gone = (i: number) => (this.flags(i) & (Flag.DUP | Flag.SHADOWED)) !== 0
    const real: Array<[number, number]> = []
    for (const [parent, child] of forks) {
      if (gone(child)) continue
      if (gone(succ[parent]!)) succ[parent] = child
      else real.push([parent, child])
    }
    return { succ, forks: real }
  }
}
