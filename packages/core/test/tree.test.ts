/**
 * The RFC 6962 tree (docs/FORMAT.md §14): tree.ts against the frozen vectors
 * of test/fixtures/tree-1 (computed from RFC 6962's definitions by their own
 * generator), every proof of small trees round-tripping, and every proof
 * refused once any hash, index or size in it is changed.
 *
 * CompactTree.appendRecords takes a whole buffer of records on the hash path
 * in use (hash-path.ts): this file runs in the `core` project (native where
 * the addon is built) and in `core-js` (CHAINLOG_HASH_PATH=js), and checks
 * both against the vectors and against the tree built leaf by leaf.
 */
import { createHash } from 'node:crypto'
import fs from 'node:fs'
import * as path from 'node:path'
import { pathToFileURL } from 'node:url'
import { describe, expect, test } from 'vitest'
import { CompactTree, EMPTY_ROOT, MerkleTree, recordLeaf, rootFromInclusion, verifyConsistency, verifyInclusion } from '../src/format'
import { createTreeExtender } from '../src/hash-path'
import { hashPath } from '../src/index'
import { ROOT, tmpDir } from './helpers'

const TREE_FIXTURES = path.join(ROOT, 'test/fixtures/tree-1')
interface Inclusion {
  index: number
  leafHash: string
  proof: string[]
}
interface Vectors {
  recordHashes: string[]
  trees: { size: number; root: string; inclusion: Inclusion[] }[]
  consistency: { from: number; to: number; proof: string[] }[]
}
const vectors: Vectors = JSON.parse(fs.readFileSync(path.join(TREE_FIXTURES, 'vectors.json'), 'utf8'))
const unb64 = (s: string) => new Uint8Array(Buffer.from(s, 'base64'))
const b64 = (h: Uint8Array) => Buffer.from(h).toString('base64')
const recordHash = (i: number) => createHash('sha256').update(String(i)).digest('hex')

function treeOf(n: number): MerkleTree {
  const t = new MerkleTree()
  for (let i = 0; i < n; i++) t.append(recordLeaf(recordHash(i)))
  return t
}
const big = treeOf(1000)

describe('the frozen vectors', () => {
  test('the generator reproduces the committed file byte for byte', async () => {
    const dir = tmpDir()
    const gen = await import(pathToFileURL(path.join(ROOT, 'test/fixtures/generate-tree-vectors.mjs')).href)
    fs.mkdirSync(path.join(dir, 'tree-1'))
    fs.writeFileSync(path.join(dir, 'tree-1/vectors.json'), JSON.stringify(gen.vectors(), null, 2) + '\n')
    expect(fs.readFileSync(path.join(dir, 'tree-1/vectors.json'), 'utf8')).toBe(fs.readFileSync(path.join(TREE_FIXTURES, 'vectors.json'), 'utf8'))
  })

  test('the leaves are the record hashes listed', () => {
    expect(vectors.recordHashes).toEqual(Array.from({ length: 8 }, (_, i) => recordHash(i)))
  })

  test.each(vectors.trees.map((t) => [t.size, t] as const))('tree of %i records: root, leaves and inclusion proofs', (size, t) => {
    expect(b64(big.root(size))).toBe(t.root)
    const c = new CompactTree()
    for (let i = 0; i < size; i++) c.append(big.leaf(i))
    expect(b64(c.root())).toBe(t.root)
    for (const inc of t.inclusion) {
      expect(b64(big.leaf(inc.index))).toBe(inc.leafHash)
      expect(big.inclusionProof(inc.index, size).map(b64)).toEqual(inc.proof)
      expect(verifyInclusion(unb64(inc.leafHash), inc.index, size, inc.proof.map(unb64), unb64(t.root))).toEqual({ ok: true })
    }
  })

  test.each(vectors.consistency.map((c) => [c.from, c.to, c] as const))('consistency %i → %i', (from, to, c) => {
    expect(big.consistencyProof(from, to).map(b64)).toEqual(c.proof)
    expect(verifyConsistency(from, to, c.proof.map(unb64), big.root(from), big.root(to))).toEqual({ ok: true })
  })

  test('the empty tree is SHA-256 of nothing (RFC 6962 §2.1)', () => {
    expect(b64(EMPTY_ROOT)).toBe('47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=')
    expect(new MerkleTree().root()).toEqual(EMPTY_ROOT)
  })
})

describe('every proof of every tree up to 33 leaves', () => {
  const sizes = Array.from({ length: 34 }, (_, i) => i)
  test('inclusion proofs verify, and fail with any hash, index or size changed', () => {
    for (const n of sizes) {
      const root = big.root(n)
      for (let i = 0; i < n; i++) {
        const proof = big.inclusionProof(i, n)
        expect(verifyInclusion(big.leaf(i), i, n, proof, root).ok).toBe(true)
        for (let j = 0; j < proof.length; j++) {
          const bad = proof.map((h) => new Uint8Array(h))
          bad[j]![j % 32] ^= 0x01
          expect(verifyInclusion(big.leaf(i), i, n, bad, root)).toMatchObject({ ok: false, failure: 'ROOT_MISMATCH' })
        }
        if (n > 1) expect(verifyInclusion(big.leaf(i), (i + 1) % n, n, proof, root).ok).toBe(false)
        expect(verifyInclusion(big.leaf(i), i, n + 1, proof, big.root(n + 1)).ok).toBe(false)
        expect(verifyInclusion(big.leaf(i), n, n, proof, root)).toMatchObject({ ok: false, failure: 'INDEX_OUT_OF_RANGE' })
        expect(verifyInclusion(big.leaf(i), i, n, [...proof, root], root)).toMatchObject({ ok: false, failure: 'WRONG_LENGTH' })
      }
    }
  })

  test('consistency proofs verify, and fail with any hash or size changed', () => {
    for (const to of sizes) {
      for (let from = 0; from <= to; from++) {
        const proof = big.consistencyProof(from, to)
        expect(verifyConsistency(from, to, proof, big.root(from), big.root(to))).toEqual({ ok: true })
        for (let j = 0; j < proof.length; j++) {
          const bad = proof.map((h) => new Uint8Array(h))
          bad[j]![0] ^= 0x80
          expect(verifyConsistency(from, to, bad, big.root(from), big.root(to)).ok).toBe(false)
        }
        if (from > 0 && from < to) {
          expect(verifyConsistency(from, to, proof, big.root(from - 1), big.root(to))).toMatchObject({ ok: false })
          expect(verifyConsistency(from, to + 1, proof, big.root(from), big.root(to + 1)).ok).toBe(false)
        }
      }
    }
  })
})

describe('CompactTree', () => {
  test('saved and resumed at every size, it gives the same roots as the full tree', () => {
    for (let cut = 0; cut <= 40; cut++) {
      const a = new CompactTree()
      for (let i = 0; i < cut; i++) a.append(big.leaf(i))
      const b = new CompactTree(a.state())
      for (let i = cut; i < 40; i++) b.append(big.leaf(i))
      expect(b.root()).toEqual(big.root(40))
    }
  })

  test('a state with the wrong number of hashes is refused', () => {
    expect(() => new CompactTree({ size: 3, hashes: [big.leaf(0)] })).toThrow(/a compact range of 3 leaves holds 2 hashes; got 1/)
  })
})

test('rootFromInclusion is null for an index outside the tree', () => {
  expect(rootFromInclusion(big.leaf(0), 5, 5, [])).toBeNull()
})

/** A buffer of records `prev|line|hash\n` whose hash fields are `hashes` (the tree reads only those). */
function recordsOf(hashes: string[], line = (i: number) => `{"i":${i},"pad":"${'x'.repeat(i % 90)}"}`): Buffer {
  return Buffer.from(hashes.map((h, i) => `${recordHash(i + 1e6)}|${line(i)}|${h}\n`).join(''), 'latin1')
}
const hashes1000 = Array.from({ length: 1000 }, (_, i) => recordHash(i))

/** The tree of `hashes` built leaf by leaf with recordLeaf (always JS). */
function leafByLeaf(hashes: string[], from?: CompactTree): CompactTree {
  const t = from ?? new CompactTree()
  for (const h of hashes) t.append(recordLeaf(h))
  return t
}

describe(`CompactTree.appendRecords on the ${hashPath()} path`, () => {
  test('the path is the one in use: the native extender where the addon is loaded, none on the JS path', () => {
    expect(createTreeExtender() !== null).toBe(hashPath() === 'native')
  })

  test.each(vectors.trees.map((t) => [t.size, t] as const))('a buffer of %i records gives the frozen root', (size, t) => {
    const tree = new CompactTree()
    const buf = recordsOf(hashes1000.slice(0, size))
    expect(tree.appendRecords(buf)).toBe(buf.length)
    expect(tree.size).toBe(size)
    expect(b64(tree.root())).toBe(t.root)
  })

  test('split at every record boundary, and resumed from a saved range, it gives the roots of the tree built leaf by leaf', () => {
    const hashes = hashes1000.slice(0, 70)
    const buf = recordsOf(hashes)
    const ends = [0]
    for (let at = buf.indexOf(0x0a); at !== -1; at = buf.indexOf(0x0a, at + 1)) ends.push(at + 1)
    for (let k = 0; k < ends.length; k++) {
      const a = new CompactTree()
      expect(a.appendRecords(buf, 0, ends[k])).toBe(ends[k])
      expect(a.state()).toEqual(leafByLeaf(hashes.slice(0, k)).state())
      const b = new CompactTree(a.state())
      expect(b.appendRecords(buf, ends[k])).toBe(buf.length)
      expect(b.root()).toEqual(leafByLeaf(hashes).root())
    }
  })

  test('random runs over a large tree agree with the leaf-by-leaf tree, at every step', () => {
    let seed = 12345
    const next = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32
    const hashes = Array.from({ length: 5000 }, (_, i) => recordHash(i * 7))
    const buf = recordsOf(hashes, (i) => 'é|\\'.repeat(Math.floor(next() * 40)) + String(i))
    const a = new CompactTree()
    const b = new CompactTree()
    let at = 0
    let taken = 0
    while (taken < hashes.length) {
      const n = Math.min(hashes.length - taken, 1 + Math.floor(next() * 700))
      let end = at
      for (let i = 0; i < n; i++) end = buf.indexOf(0x0a, end) + 1
      expect(a.appendRecords(buf, at, end)).toBe(end)
      leafByLeaf(hashes.slice(taken, taken + n), b)
      taken += n
      at = end
      expect(a.state()).toEqual(b.state())
      expect(a.root()).toEqual(b.root())
    }
    expect(a.size).toBe(5000)
  })

  test('a partial last line is left for later: the offset returned is after the last complete record', () => {
    const full = recordsOf(hashes1000.slice(0, 5))
    const cut = full.subarray(0, full.length - 10)
    const tree = new CompactTree()
    const end = tree.appendRecords(cut)
    expect(end).toBe(full.lastIndexOf(0x0a, full.length - 2) + 1)
    expect(tree.size).toBe(4)
    expect(tree.appendRecords(full, end)).toBe(full.length)
    expect(tree.root()).toEqual(leafByLeaf(hashes1000.slice(0, 5)).root())
    expect(new CompactTree().appendRecords(Buffer.alloc(0))).toBe(0)
  })

  test('hex digits of either case are the same bytes, as recordLeaf reads them', () => {
    const hashes = hashes1000.slice(0, 9).map((h, i) => (i % 2 ? h.toUpperCase() : h))
    const tree = new CompactTree()
    tree.appendRecords(recordsOf(hashes))
    expect(tree.root()).toEqual(leafByLeaf(hashes1000.slice(0, 9)).root())
  })

  test.each([
    ['a hash field with a character that is not hex', (h: string) => h.slice(0, 40) + 'g' + h.slice(41)],
    ['a hash field of 63 characters', (h: string) => h.slice(1)],
  ])('%s: the error recordLeaf gives, with every record before it taken in', (_, spoil) => {
    for (const bad of [0, 1, 6]) {
      const lines = hashes1000.slice(0, 8).map((h, i) => `${recordHash(i)}|{"i":${i}}|${i === bad ? spoil(h) : h}\n`)
      const buf = Buffer.from(lines.join(''), 'latin1')
      const tree = new CompactTree()
      const plain = new CompactTree()
      const expected = (() => {
        try {
          for (const l of lines) plain.append(recordLeaf(l.slice(Math.max(0, l.length - 65), -1)))
        } catch (err) {
          return err as Error
        }
        throw new Error('the record should have been refused')
      })()
      expect(() => tree.appendRecords(buf)).toThrow(expected)
      expect(expected).toBeInstanceOf(RangeError)
      expect(tree.size).toBe(bad)
      expect(tree.state()).toEqual(leafByLeaf(hashes1000.slice(0, bad)).state())
    }
  })

  test('every byte value in a hash field is taken or refused as recordLeaf takes or refuses it', () => {
    const h = hashes1000[0]!
    for (let b = 0; b < 256; b++) {
      if (b === 0x0a) continue
      // Each value at a place of its own in the field, the first and last among them.
      const at = b % 64
      const line = Buffer.concat([Buffer.from(`${recordHash(0)}|{"i":0}|${h.slice(0, at)}`, 'latin1'), Buffer.from([b]), Buffer.from(`${h.slice(at + 1)}\n`, 'latin1')])
      const field = line.toString('latin1', line.length - 65, line.length - 1)
      let leaf: Uint8Array | null = null
      try {
        leaf = recordLeaf(field)
      } catch {
        // refused: below
      }
      const tree = new CompactTree()
      if (leaf === null) {
        expect(() => tree.appendRecords(line), `byte 0x${b.toString(16)}`).toThrow(RangeError)
        expect(tree.size).toBe(0)
      } else {
        tree.appendRecords(line)
        expect(tree.root(), `byte 0x${b.toString(16)}`).toEqual(Buffer.from(leaf))
      }
    }
  })

  test('a line shorter than a hash field is refused with the same error on both paths, at the start of the buffer and after a record', () => {
    for (const buf of [Buffer.from('short|line\n'), Buffer.concat([recordsOf(hashes1000.slice(0, 1)), Buffer.from('short\n')])]) {
      const tree = new CompactTree()
      const nl = buf.lastIndexOf(0x0a, buf.length - 2)
      expect(() => tree.appendRecords(buf)).toThrow(new RangeError(`a record hash is 64 hex characters; got ${JSON.stringify(buf.toString('latin1', Math.max(0, buf.length - 1 - 64), buf.length - 1))}`))
      expect(tree.size).toBe(nl === -1 ? 0 : 1)
    }
  })

  test('the native extender refuses a size that is not whole, a range too small for its size, and arguments of the wrong type', () => {
    const extend = createTreeExtender()
    if (hashPath() === 'js') {
      // The JS path has no extender to misuse; CompactTree's own checks hold (see above).
      expect(extend).toBeNull()
      return
    }
    const buf = recordsOf(hashes1000.slice(0, 3))
    expect(() => extend!(buf, 0, buf.length, new Uint8Array(64 * 32), new Float64Array([1.5, 0, -1]))).toThrow(RangeError)
    expect(() => extend!(buf, 0, buf.length, new Uint8Array(64 * 32), new Float64Array([-1, 0, -1]))).toThrow(RangeError)
    // Size 7 has three complete subtrees: two hashes' room is not enough.
    expect(() => extend!(buf, 0, buf.length, new Uint8Array(2 * 32), new Float64Array([7, 0, -1]))).toThrow(/fewer hashes than the size has 1 bits/)
    // Size 3 holds two; the next record makes four leaves (one hash), the one after two, then three: a two-hash range fills.
    expect(() => extend!(recordsOf(hashes1000.slice(0, 4)), 0, Infinity, new Uint8Array(2 * 32), new Float64Array([3, 0, -1]))).toThrow(/the range is full/)
    expect(() => extend!(buf, 0, buf.length, new Uint8Array(64 * 32), new Float64Array(2))).toThrow(TypeError)
    expect(() => extend!('x' as unknown as Uint8Array, 0, 1, new Uint8Array(64 * 32), new Float64Array(3))).toThrow(TypeError)
    // An end past the buffer is the buffer's end.
    const state = new Float64Array([0, 0, -1])
    extend!(buf, 0, buf.length + 100, new Uint8Array(64 * 32), state)
    expect([...state]).toEqual([3, buf.length, -1])
  })
})
