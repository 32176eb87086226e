/**
 * The RFC 6962 Merkle tree over a chain's records (docs/FORMAT.md §14, #16):
 * leaf i is the 32 raw bytes of record i's hash, a leaf hash is
 * SHA-256(0x00 ‖ data) and a node SHA-256(0x01 ‖ left ‖ right) (RFC 6962
 * §2.1), whatever the chain's own algorithm. Roots, inclusion and consistency
 * proofs, and their verification (RFC 9162 §2.1.3.2, §2.1.4.2). Pure: no I/O.
 */
import * as crypto from 'node:crypto'
import { createTreeExtender } from './hash-path'
import { HASH_HEX } from './record'

/** A tree hash: 32 bytes. */
export type TreeHash = Uint8Array

/** Bytes in a tree hash. */
export const TREE_HASH_BYTES = 32

// crypto.hash() (Node >= 20.12) is the one-shot digest without a Hash object: about
// twice as fast as createHash() for these 33- and 65-byte inputs (measured for #16).
const oneShot = (crypto as { hash?: (alg: string, data: Uint8Array, enc: 'buffer') => Buffer }).hash
const sha256 = (data: Uint8Array): TreeHash => (oneShot ? oneShot('sha256', data, 'buffer') : crypto.createHash('sha256').update(data).digest())

/** SHA-256 of the empty string: the root of the empty tree (RFC 6962 §2.1). */
export const EMPTY_ROOT: TreeHash = sha256(new Uint8Array(0))

/** The leaf hash of `data`: SHA-256(0x00 ‖ data). */
export function leafHash(data: Uint8Array): TreeHash {
  const b = Buffer.allocUnsafe(1 + data.length)
  b[0] = 0x00
  b.set(data, 1)
  return sha256(b)
}

/** An interior node: SHA-256(0x01 ‖ left ‖ right). */
export function nodeHash(left: TreeHash, right: TreeHash): TreeHash {
  const b = Buffer.allocUnsafe(1 + left.length + right.length)
  b[0] = 0x01
  b.set(left, 1)
  b.set(right, 1 + left.length)
  return sha256(b)
}

/**
 * The leaf hash of a record: the leaf data is the 32 bytes its `hash` field
 * (64 hex characters) spells.
 */
export function recordLeaf(hashHex: string): TreeHash {
  const b = Buffer.allocUnsafe(1 + TREE_HASH_BYTES)
  b[0] = 0x00
  if (b.write(hashHex, 1, 'hex') !== TREE_HASH_BYTES) throw new RangeError(`a record hash is 64 hex characters; got ${JSON.stringify(hashHex)}`)
  return sha256(b)
}

/** Largest power of two strictly below n (n ≥ 2). */
function split(n: number): number {
  let k = 1
  while (k * 2 < n) k *= 2
  return k
}

const isOdd = (n: number) => n % 2 === 1
const half = (n: number) => Math.floor(n / 2)

/** The number of 1 bits of a size: how many complete subtrees make up its tree. */
function bitCount(size: number): number {
  let bits = 0
  for (let n = size; n > 0; n = half(n)) if (isOdd(n)) bits++
  return bits
}

/**
 * A tree of known leaves, kept as every level of complete subtrees, so that a
 * root or a proof of any size up to {@link MerkleTree.size} costs O(log n)
 * hashes. Memory: about two hashes per leaf.
 * @example
 * const tree = new MerkleTree()
 * for (const h of recordHashes) tree.append(recordLeaf(h))
 * tree.root()                        // root of the whole tree
 * tree.inclusionProof(3, tree.size)  // audit path of leaf 3
 */
export class MerkleTree {
  /** levels[k][i]: hash of the complete subtree of leaves [i·2^k, (i+1)·2^k). */
  private readonly levels: TreeHash[][] = [[]]

  /** Number of leaves. */
  get size(): number {
    return this.levels[0]!.length
  }

  /** Appends one leaf hash (see {@link recordLeaf}). */
  append(leaf: TreeHash): void {
    let h = leaf
    for (let k = 0; ; k++) {
      const level = (this.levels[k] ??= [])
      level.push(h)
      if (isOdd(level.length)) return
      h = nodeHash(level[level.length - 2]!, h)
    }
  }

  /** The leaf hash at `index`. */
  leaf(index: number): TreeHash {
    this.check(index, this.size - 1, 'leaf index')
    return this.levels[0]![index]!
  }

  /** The root of the tree of the first `size` leaves (default: all of them). */
  root(size = this.size): TreeHash {
    this.check(size, this.size, 'tree size')
    return size === 0 ? EMPTY_ROOT : this.hash(0, size)
  }

  /** The inclusion proof (audit path, RFC 6962 §2.1.1) of leaf `index` in the tree of `size` leaves. */
  inclusionProof(index: number, size = this.size): TreeHash[] {
    this.check(size, this.size, 'tree size')
    if (!Number.isSafeInteger(index) || index < 0 || index >= size) throw new RangeError(`leaf index must be below the tree size ${size}; got ${index}`)
    const proof: TreeHash[] = []
    this.path(index, 0, size, proof)
    return proof
  }

  /** The consistency proof (RFC 6962 §2.1.2) between the trees of `from` and `to` leaves. */
  consistencyProof(from: number, to = this.size): TreeHash[] {
    this.check(to, this.size, 'tree size')
    this.check(from, to, 'old tree size')
    const proof: TreeHash[] = []
    if (from > 0 && from < to) this.subproof(from, 0, to, true, proof)
    return proof
  }

  private check(n: number, max: number, what: string): void {
    if (!Number.isSafeInteger(n) || n < 0 || n > max) throw new RangeError(`${what} must be a whole number from 0 to ${max}; got ${n}`)
  }

  /** MTH(D[lo:hi]): the left part of every split is a complete subtree, read from its level. */
  private hash(lo: number, hi: number): TreeHash {
    const n = hi - lo
    if ((n & (n - 1)) === 0 && n <= 2 ** 30) {
      const k = Math.log2(n)
      if (lo % n === 0) return this.levels[k]![lo / n]!
    }
    const k = split(n)
    return nodeHash(this.hash(lo, lo + k), this.hash(lo + k, hi))
  }

  /** PATH(m, D[lo:hi]), RFC 6962 §2.1.1, appended bottom-up. */
  private path(m: number, lo: number, hi: number, out: TreeHash[]): void {
    if (hi - lo === 1) return
    const k = split(hi - lo)
    if (m < lo + k) {
      this.path(m, lo, lo + k, out)
      out.push(this.hash(lo + k, hi))
    } else {
      this.path(m, lo + k, hi, out)
      out.push(this.hash(lo, lo + k))
    }
  }

  /** SUBPROOF(m, D[lo:hi], b), RFC 6962 §2.1.2, appended bottom-up. */
  private subproof(m: number, lo: number, hi: number, whole: boolean, out: TreeHash[]): void {
    const n = hi - lo
    if (m === n) {
      if (!whole) out.push(this.hash(lo, hi))
      return
    }
    const k = split(n)
    if (m <= k) {
      this.subproof(m, lo, lo + k, whole, out)
      out.push(this.hash(lo + k, hi))
    } else {
      this.subproof(m - k, lo + k, hi, false, out)
      out.push(this.hash(lo, lo + k))
    }
  }
}

/** The most subtree roots a compact range holds: one per 1 bit of a size below 2^53, with room to spare. */
const RANGE_HASHES = 64

/**
 * The root of a tree held only as its right edge (a compact range): a writer
 * extends it with one leaf at a time in O(1) amortized hashes and O(log n)
 * memory, without keeping the leaves, or with a whole buffer of records at
 * once ({@link CompactTree.appendRecords}).
 */
export class CompactTree {
  /** Roots of the complete subtrees that make up the tree, largest first. */
  private readonly stack: TreeHash[] = []
  private count = 0

  /** Starts from a compact range saved earlier ({@link CompactTree.state}). */
  constructor(state?: { size: number; hashes: TreeHash[] }) {
    if (state) {
      const bits = bitCount(state.size)
      if (bits !== state.hashes.length) throw new RangeError(`a compact range of ${state.size} leaves holds ${bits} hashes; got ${state.hashes.length}`)
      this.count = state.size
      this.stack.push(...state.hashes)
    }
  }

  get size(): number {
    return this.count
  }

  append(leaf: TreeHash): void {
    let h = leaf
    // Merge while the new leaf completes a subtree: one merge per trailing 1 bit of the old size.
    for (let n = this.count; isOdd(n); n = half(n)) h = nodeHash(this.stack.pop()!, h)
    this.stack.push(h)
    this.count++
  }

  /**
   * Appends the leaf of every record in `buf[start, end)`: each complete line
   * is a record whose hash field is its last 64 hex characters before the LF
   * (a partial last line is left out). On the native path (hash-path.ts) the
   * leaf hashes and merges of the whole run cost one call into
   * @chainlog/native; on the JS path, two `crypto.hash()` per record on
   * average. Both give the same tree bit for bit. Returns the offset after the
   * last record taken in.
   * @throws RangeError as {@link recordLeaf} does, at the first line whose hash field is not 64 hex characters, with every record before it appended
   * @example
   * const tree = new CompactTree()
   * tree.appendRecords(fs.readFileSync('app.log'))  // the tree of file 0 of a chain
   */
  appendRecords(buf: Uint8Array, start = 0, end = buf.length): number {
    const run = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength).subarray(start, end)
    const extend = createTreeExtender()
    // A resumed range holds what a checkpoint record said: anything but 32-byte hashes stays on the JS path, which takes any.
    if (!extend || this.stack.some((h) => h.length !== TREE_HASH_BYTES)) return start + this.appendEach(run, 0)
    const range = new Uint8Array(RANGE_HASHES * TREE_HASH_BYTES)
    this.stack.forEach((h, i) => range.set(h, i * TREE_HASH_BYTES))
    const state = new Float64Array([this.count, 0, -1])
    extend(run, 0, run.length, range, state)
    this.count = state[0]!
    this.stack.length = 0
    for (let i = 0, n = bitCount(this.count); i < n; i++) this.stack.push(Buffer.from(range.subarray(i * TREE_HASH_BYTES, (i + 1) * TREE_HASH_BYTES)))
    // The native loop stopped at a malformed line: the JS loop throws there the error it throws on its own path.
    if (state[2]! >= 0) this.appendEach(run, state[2]!)
    return start + state[1]!
  }

  /** The JS path of {@link CompactTree.appendRecords}, over run[from, ...): returns the offset after the last record. */
  private appendEach(run: Buffer, from: number): number {
    let at = from
    for (let pos = from; pos < run.length; ) {
      const nl = run.indexOf(0x0a, pos)
      if (nl === -1) break
      this.append(recordLeaf(run.toString('latin1', nl - HASH_HEX, nl)))
      pos = at = nl + 1
    }
    return at
  }

  /** The root: the subtree roots folded from the right (RFC 6962's unbalanced right edge). */
  root(): TreeHash {
    if (this.stack.length === 0) return EMPTY_ROOT
    let h = this.stack[this.stack.length - 1]!
    for (let i = this.stack.length - 2; i >= 0; i--) h = nodeHash(this.stack[i]!, h)
    return h
  }

  /** What to save to continue later: the size and the subtree roots, largest first. */
  state(): { size: number; hashes: TreeHash[] } {
    return { size: this.count, hashes: [...this.stack] }
  }
}

/** Why a proof does not verify, for a precise message. */
export type ProofFailure = 'INDEX_OUT_OF_RANGE' | 'WRONG_LENGTH' | 'ROOT_MISMATCH' | 'OLD_ROOT_MISMATCH' | 'SIZE_ORDER'

/** The outcome of a proof check: ok, or why not, in words. */
export type ProofCheck = { ok: true } | { ok: false; failure: ProofFailure; message: string }

const equal = (a: Uint8Array, b: Uint8Array) => a.length === b.length && crypto.timingSafeEqual(a, b)
const b64 = (h: Uint8Array) => Buffer.from(h).toString('base64')

/** The length of PATH(index, D[0:size]) (RFC 6962 §2.1.1), for messages. */
function inclusionLength(index: number, size: number): number {
  let n = 0
  for (let m = index, s = size; s > 1; n++) {
    const k = split(s)
    if (m < k) s = k
    else {
      m -= k
      s -= k
    }
  }
  return n
}

/**
 * The root an inclusion proof leads to from a leaf (RFC 9162 §2.1.3.2), or
 * null when the proof has the wrong length for that index and size.
 */
export function rootFromInclusion(leaf: TreeHash, index: number, size: number, proof: readonly TreeHash[]): TreeHash | null {
  if (!Number.isSafeInteger(index) || !Number.isSafeInteger(size) || index < 0 || index >= size) return null
  let fn = index
  let sn = size - 1
  let r = leaf
  for (const p of proof) {
    if (sn === 0) return null
    if (isOdd(fn) || fn === sn) {
      r = nodeHash(p, r)
      if (!isOdd(fn)) {
        while (!isOdd(fn) && fn !== 0) {
          fn = half(fn)
          sn = half(sn)
        }
      }
    } else {
      r = nodeHash(r, p)
    }
    fn = half(fn)
    sn = half(sn)
  }
  return sn === 0 ? r : null
}

/** Checks that `leaf` is leaf `index` of the tree of `size` leaves whose root is `root`. */
export function verifyInclusion(leaf: TreeHash, index: number, size: number, proof: readonly TreeHash[], root: TreeHash): ProofCheck {
  if (!Number.isSafeInteger(index) || !Number.isSafeInteger(size) || index < 0 || index >= size) {
    return { ok: false, failure: 'INDEX_OUT_OF_RANGE', message: `leaf index ${index} is not below the tree size ${size}` }
  }
  const r = rootFromInclusion(leaf, index, size, proof)
  if (r === null) {
    return { ok: false, failure: 'WRONG_LENGTH', message: `an inclusion proof of leaf ${index} in a tree of ${size} has ${inclusionLength(index, size)} hashes; this one has ${proof.length}` }
  }
  if (!equal(r, root)) return { ok: false, failure: 'ROOT_MISMATCH', message: `the inclusion proof of leaf ${index} leads to root ${b64(r)}, not to the tree's root ${b64(root)}` }
  return { ok: true }
}

/**
 * Checks that the tree of `from` leaves with root `oldRoot` is a prefix of the
 * tree of `to` leaves with root `newRoot` (RFC 9162 §2.1.4.2).
 */
export function verifyConsistency(from: number, to: number, proof: readonly TreeHash[], oldRoot: TreeHash, newRoot: TreeHash): ProofCheck {
  if (!Number.isSafeInteger(from) || !Number.isSafeInteger(to) || from < 0 || from > to) {
    return { ok: false, failure: 'SIZE_ORDER', message: `the old tree size ${from} is larger than the new one ${to}` }
  }
  const wrongLength = (): ProofCheck => ({ ok: false, failure: 'WRONG_LENGTH', message: `the consistency proof from ${from} to ${to} has the wrong number of hashes (${proof.length})` })
  if (from === to) {
    if (proof.length !== 0) return wrongLength()
    return equal(oldRoot, newRoot) ? { ok: true } : { ok: false, failure: 'ROOT_MISMATCH', message: `two trees of ${to} leaves with different roots (${b64(oldRoot)} and ${b64(newRoot)})` }
  }
  // Every tree extends the empty one; RFC 9162 defines no proof for it.
  if (from === 0) return proof.length === 0 ? { ok: true } : wrongLength()
  const path = [...proof]
  if ((from & (from - 1)) === 0 && from <= 2 ** 30) path.unshift(oldRoot)
  if (path.length === 0) return wrongLength()
  let fn = from - 1
  let sn = to - 1
  while (isOdd(fn)) {
    fn = half(fn)
    sn = half(sn)
  }
  let fr = path[0]!
  let sr = path[0]!
  for (let i = 1; i < path.length; i++) {
    const c = path[i]!
    if (sn === 0) return wrongLength()
    if (isOdd(fn) || fn === sn) {
      fr = nodeHash(c, fr)
      sr = nodeHash(c, sr)
      if (!isOdd(fn)) {
        while (!isOdd(fn) && fn !== 0) {
          fn = half(fn)
          sn = half(sn)
        }
      }
    } else {
      sr = nodeHash(sr, c)
    }
    fn = half(fn)
    sn = half(sn)
  }
  if (sn !== 0) return wrongLength()
  if (!equal(fr, oldRoot)) return { ok: false, failure: 'OLD_ROOT_MISMATCH', message: `the consistency proof does not lead to the old root ${b64(oldRoot)} of size ${from} (it leads to ${b64(fr)}): the first ${from} records are not the ones that were checkpointed` }
  if (!equal(sr, newRoot)) return { ok: false, failure: 'ROOT_MISMATCH', message: `the consistency proof does not lead to the new root ${b64(newRoot)} of size ${to} (it leads to ${b64(sr)})` }
  return { ok: true }
}
