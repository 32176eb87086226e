/**
 * The RFC 6962 tree (docs/FORMAT.md §14): tree.ts against the frozen vectors
 * of test/fixtures/tree-1 (computed from RFC 6962's definitions by their own
 * generator), every proof of small trees round-tripping, and every proof
 * refused once any hash, index or size in it is changed.
 */
import { createHash } from 'node:crypto'
import fs from 'node:fs'
import * as path from 'node:path'
import { pathToFileURL } from 'node:url'
import { describe, expect, test } from 'vitest'
import { CompactTree, EMPTY_ROOT, MerkleTree, recordLeaf, rootFromInclusion, verifyConsistency, verifyInclusion } from '../src/format'
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
