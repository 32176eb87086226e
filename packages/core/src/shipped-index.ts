/**
 * The index that puts shipped records back in chain order (issue #15) with
 * bounded memory: about 50 bytes per record, in typed arrays, never
 * the records themselves.
 *
 * Each record keeps the first 128 bits of its `prev` and of its `hash`, the
 * input line it came from, and a few flags. Its own hash was checked in full
 * before it got here; links are matched on the 128-bit prefixes, for which a
 * collision takes about 2^64 hash computations. One open-addressing table
 * over the hash prefixes finds duplicates (the same record twice, as
 * at-least-once delivery makes them) and each record's predecessor.
 */

/** Records per storage chunk: storage grows by chunks, never by copying what is stored. */
const CHUNK_BITS = 16
const CHUNK = 1 << CHUNK_BITS
const MASK = CHUNK - 1
/** 32-bit words kept per record: 4 of `prev`, 4 of `hash`. */
const WORDS = 8

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
  /** Seen by the walk over the chains. */
  SEEN: 32,
  /** A BAD copy of a record that also came whole: kept out of the links. */
  SHADOWED: 64,
} as const

const hexValue = new Int8Array(128).fill(-1)
for (let i = 0; i < 10; i++) hexValue[0x30 + i] = i
for (let i = 0; i < 6; i++) hexValue[0x61 + i] = 10 + i

/** The 32-bit word of 8 lowercase hex characters at `at` of `b`, or -1 if one is not. */
function word(b: Uint8Array, at: number): number {
  let w = 0
  let bad = 0
  for (let i = at; i < at + 8; i++) {
    const v = hexValue[b[i]! & 0x7f]! | (b[i]! & 0x80 ? -1 : 0)
    bad |= v
    w = (w << 4) | (v & 15)
  }
  return bad < 0 ? -1 : w >>> 0
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
  private readonly flagChunks: Uint8Array[] = []
  private readonly dupChunks: Uint8Array[] = []
  private readonly algChunks: Uint8Array[] = []
  private table: Int32Array | null = null
  private mask = 0
  /** Copies beyond 255 of one record (rare: the per-record counter saturates). */
  private readonly manyDups = new Map<number, number>()

  /** The keys {@link parse} read, for the next {@link add}. */
  private readonly next = new Uint32Array(WORDS)

  /**
   * Reads the keys of a record whose `prev` is bytes [at, at+64) of `b` and
   * whose hash field is [hashAt, hashAt+64), for the next {@link add}.
   * @returns false when either is not 64 lowercase hex characters.
   */
  parse(b: Uint8Array, at: number, hashAt: number): boolean {
    const next = this.next
    for (let w = 0; w < 8; w++) {
      const v = word(b, (w < 4 ? at : hashAt) + (w & 3) * 8)
      if (v === -1) return false
      next[w] = v
    }
    // The rest of each field: checked, not kept.
    for (let w = 4; w < 8; w++) if (word(b, at + w * 8) === -1 || word(b, hashAt + w * 8) === -1) return false
    return true
  }

  /**
   * Adds the record whose keys {@link parse} read last.
   * @returns its number in the index.
   */
  add(ordinal: number, flags: number, alg: number): number {
    const i = this.size++
    const c = i >>> CHUNK_BITS
    if (c === this.keys.length) {
      this.keys.push(new Uint32Array(CHUNK * WORDS))
      this.ords.push(new Uint32Array(CHUNK))
      this.flagChunks.push(new Uint8Array(CHUNK))
      this.dupChunks.push(new Uint8Array(CHUNK))
      this.algChunks.push(new Uint8Array(CHUNK))
    }
    this.keys[c]!.set(this.next, (i & MASK) * WORDS)
    this.ords[c]![i & MASK] = ordinal
    this.flagChunks[c]![i & MASK] = flags
    this.algChunks[c]![i & MASK] = alg
    return i
  }

  /** The input position (global line ordinal) of record `i`. */
  ordinal(i: number): number {
    return this.ords[i >>> CHUNK_BITS]![i & MASK]!
  }

  flags(i: number): number {
    return this.flagChunks[i >>> CHUNK_BITS]![i & MASK]!
  }

  /** The number (in the caller's list of algorithms) of the algorithm record `i` verified under. */
  alg(i: number): number {
    return this.algChunks[i >>> CHUNK_BITS]![i & MASK]!
  }

  setFlag(i: number, flag: number): void {
    this.flagChunks[i >>> CHUNK_BITS]![i & MASK]! |= flag
  }

  /** How many more copies of record `i` came. */
  duplicates(i: number): number {
    const d = this.dupChunks[i >>> CHUNK_BITS]![i & MASK]!
    return d === 255 ? 255 + (this.manyDups.get(i) ?? 0) : d
  }

  /** The first 128 bits of record `i`'s `prev` (part 0) or hash (part 1), as 4 words. */
  key(i: number, part: 0 | 1): Uint32Array {
    const o = (i & MASK) * WORDS + part * 4
    return this.keys[i >>> CHUNK_BITS]!.subarray(o, o + 4)
  }

  /** The record whose hash starts with `key` (4 words), or -1; only after {@link link}. */
  find(key: Uint32Array): number {
    const table = this.table!
    for (let s = key[0]! & this.mask; ; s = (s + 1) & this.mask) {
      const j = table[s]!
      if (j === -1) return -1
      if (this.hashIs(j, key, 0)) return j
    }
  }

  private hashIs(j: number, key: Uint32Array, at: number): boolean {
    const k = this.keys[j >>> CHUNK_BITS]!
    const o = (j & MASK) * WORDS + 4
    return k[o] === key[at] && k[o + 1] === key[at + 1] && k[o + 2] === key[at + 2] && k[o + 3] === key[at + 3]
  }

  /**
   * Collapses duplicates and links every record to its predecessor. A copy
   * of a record that verified is a duplicate. A record that failed its hash
   * still links by its fields (so an edited line is named, not seen as a
   * gap), unless a copy that verifies came too.
   */
  link(): Links {
    const n = this.size
    let slots = 1024
    while (slots < n + (n >>> 1)) slots *= 2
    const table = new Int32Array(slots).fill(-1)
    this.table = table
    this.mask = slots - 1
    for (let i = 0; i < n; i++) {
      const k = this.keys[i >>> CHUNK_BITS]!
      const o = (i & MASK) * WORDS + 4
      const bad = (this.flagChunks[i >>> CHUNK_BITS]![i & MASK]! & Flag.BAD) !== 0
      for (let s = k[o]! & this.mask; ; s = (s + 1) & this.mask) {
        const j = table[s]!
        if (j === -1) {
          table[s] = i
          break
        }
        if (!this.hashIs(j, k, o)) continue
        // A copy that fails its hash beside one that verifies is an altered copy: it stays out of the
        // links (its BAD flag still reports it), and the one that verifies takes its place.
        if (bad) {
          this.setFlag(i, Flag.SHADOWED)
          break
        }
        if ((this.flags(j) & Flag.BAD) !== 0) {
          this.setFlag(j, Flag.SHADOWED)
          table[s] = i
          break
        }
        this.setFlag(i, Flag.DUP)
        const d = this.dupChunks[j >>> CHUNK_BITS]!
        if (d[j & MASK]! < 255) d[j & MASK]!++
        else this.manyDups.set(j, (this.manyDups.get(j) ?? 0) + 1)
        break
      }
    }
    const succ = new Int32Array(n).fill(-1)
    const forks: Array<[number, number]> = []
    for (let i = 0; i < n; i++) {
      const flags = this.flagChunks[i >>> CHUNK_BITS]!
      if (flags[i & MASK]! & (Flag.DUP | Flag.SHADOWED)) continue
      // find(), inlined over the record's own prev words: this loop runs once per record.
      const k = this.keys[i >>> CHUNK_BITS]!
      const o = (i & MASK) * WORDS
      let p = -1
      for (let s = k[o]! & this.mask; ; s = (s + 1) & this.mask) {
        const j = table[s]!
        if (j === -1) break
        if (this.hashIs(j, k, o)) {
          p = j
          break
        }
      }
      if (p === -1 || p === i) continue
      flags[i & MASK]! |= Flag.LINKED
      if (succ[p] === -1) succ[p] = i
      else forks.push([p, i])
    }
    return { succ, forks }
  }
}
