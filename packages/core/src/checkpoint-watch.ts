/**
 * The verifier's reading of checkpoint records (FORMAT.md §14.6): each
 * states the size and root of the tree of the records before it. From the
 * first one on, the tree is rebuilt leaf by leaf and every later record's
 * root must be its root. The first is checked against itself (its compact
 * range must fold to its root, its size must be its position in the chain)
 * and, when it covers only the chain's header, against that header; the
 * whole tree from the chain's first record is `verify-log --checkpoint`'s.
 */
import type { CheckpointMeta } from './meta'
import type { Problem } from './report'
import { CompactTree, recordLeaf, type TreeHash } from './tree'

const b64 = (h: TreeHash) => Buffer.from(h).toString('base64')

/** Rebuilds the tree from the first checkpoint record on and judges each one. */
export class CheckpointWatch {
  private tree: CompactTree | null = null

  /** True once a checkpoint record was seen: every record from then on is a leaf to add. */
  get active(): boolean {
    return this.tree !== null
  }

  /** A record the verifier accepted (after {@link record} for a checkpoint record). */
  leaf(hash: string): void {
    this.tree?.append(recordLeaf(hash))
  }

  /**
   * A checkpoint record, hash-checked and linked; `position` is the number of
   * chain records before it, `prev` the hash of the one just before it.
   * @returns the break it is, or null
   */
  record(meta: CheckpointMeta, position: number, prev: string): Problem | null {
    const size = meta.size
    if (!Number.isSafeInteger(size) || typeof meta.root !== 'string') return mismatch(`the checkpoint record has no valid size and root (${JSON.stringify({ size: meta.size, root: meta.root })})`)
    if (size !== position) return mismatch(`the checkpoint record says the tree has ${size} records, but ${position} records of the chain come before it`)
    if (this.tree) {
      const root = b64(this.tree.root())
      if (root !== meta.root) return mismatch(`the checkpoint record's root for ${size} records is ${meta.root}, but the tree of the chain's records has root ${root}: a record before it was changed, or the checkpoint was`, root, meta.root)
      return null
    }
    let tree: CompactTree
    try {
      tree = new CompactTree({ size, hashes: (Array.isArray(meta.range) ? meta.range : []).map((h) => new Uint8Array(Buffer.from(String(h), 'base64'))) })
    } catch (err) {
      return mismatch(`the checkpoint record's compact range does not fit ${size} records: ${(err as Error).message}`)
    }
    const folded = b64(tree.root())
    if (folded !== meta.root) return mismatch(`the checkpoint record's root ${meta.root} is not the root of its compact range (${folded})`, folded, meta.root)
    if (size === 1 && b64(recordLeaf(prev)) !== meta.root) return mismatch(`the checkpoint record's root for 1 record is ${meta.root}, but the tree of the chain's header has root ${b64(recordLeaf(prev))}`, b64(recordLeaf(prev)), meta.root)
    this.tree = tree
    return null
  }
}

function mismatch(message: string, expected?: string, found?: string): Problem {
  const p: Problem = { reason: 'CHECKPOINT_MISMATCH', message }
  if (expected !== undefined) p.expected = expected
  if (found !== undefined) p.found = found
  return p
}
