/**
 * `verify-log <log> --checkpoint <signed checkpoint> --checkpoint-key <vkey>`:
 * the log today must extend a checkpoint signed earlier (#16). The tree is
 * built as the chain is verified, in the same pass, as a compact range: the
 * root at the checkpoint's size is all that is kept.
 */
import { ChainlogError, ErrorCodes, readCheckpointFile, type VerifierOptions } from '@chainlog/core'
import { CompactTree, isHeader, openCheckpoint, recordLeaf, type NoteVerifier, type OpenedCheckpoint } from '@chainlog/core/format'
import { formatCount } from './format'

/** What verify-log found about a signed checkpoint. */
export interface SignedCheckpointResult {
  source: string
  checkpoint: OpenedCheckpoint
  /** Records in the log. */
  records: number
  ok: boolean
  /** TRUNCATED: fewer records than the checkpoint; REWRITTEN: another root at its size. */
  failure: 'TRUNCATED' | 'REWRITTEN' | null
  reason: string | null
}

const b64 = (h: Uint8Array) => Buffer.from(h).toString('base64')

/**
 * Opens the checkpoint (its signature, and a cosignature by each witness),
 * and returns the verifier's `onRecord` hook with the result it leads to.
 * @throws ChainlogError BAD_CHECKPOINT, CHECKPOINT_UNVERIFIED.
 */
export function watchCheckpoint(file: string, logKey: NoteVerifier, witnesses: readonly NoteVerifier[]): { onRecord: (hash: string) => void; onMeta: NonNullable<VerifierOptions['onMeta']>; result: () => SignedCheckpointResult } {
  const checkpoint = openCheckpoint(readCheckpointFile(file), logKey, witnesses)
  const tree = new CompactTree()
  let rootAtSize = checkpoint.size === 0 ? tree.root() : null
  let first: { index: number; file: string } | null = null
  return {
    // The tree starts at the chain's first record: a log whose first files retention deleted has none (as chainTree).
    onMeta: (meta, where) => {
      if (first === null && isHeader(meta)) first = { index: meta.index, file: where.file }
    },
    onRecord: (hash) => {
      tree.append(recordLeaf(hash))
      if (tree.size === checkpoint.size) rootAtSize = tree.root()
    },
    result: () => {
      const f = first as { index: number; file: string } | null
      if (f && f.index !== 0) throw new ChainlogError(ErrorCodes.CHAIN_INCOMPLETE, `${f.file} is file ${f.index} of its chain and the files before it are not in the input (deleted by retention?); the tree starts at the chain's first record, so checking a checkpoint needs every file of the chain`, { path: f.file })
      const base = { source: file, checkpoint, records: tree.size }
      if (rootAtSize === null) {
        return { ...base, ok: false, failure: 'TRUNCATED', reason: `the log holds ${formatCount(tree.size)} records, fewer than the ${formatCount(checkpoint.size)} of the checkpoint: records were cut from the end` }
      }
      if (Buffer.compare(rootAtSize, checkpoint.root) !== 0) {
        return { ...base, ok: false, failure: 'REWRITTEN', reason: `the tree of the log's first ${formatCount(checkpoint.size)} records has root ${b64(rootAtSize)}, not the checkpoint's ${b64(checkpoint.root)}: records before record ${formatCount(checkpoint.size)} were changed, removed or inserted, and the chain rewritten from there` }
      }
      return { ...base, ok: true, failure: null, reason: null }
    },
  }
}

/** The result as --json prints it. */
export function signedCheckpointJson(r: SignedCheckpointResult): object {
  return {
    source: r.source,
    origin: r.checkpoint.origin,
    size: r.checkpoint.size,
    root: b64(r.checkpoint.root),
    extended: r.ok,
    failure: r.failure,
    reason: r.reason,
    cosignatures: r.checkpoint.cosignatures.map((c) => ({ name: c.verifier.name, time: c.time === undefined ? null : Number(c.time) })),
  }
}

/** The rows verify-log prints about it. */
export function signedCheckpointRows(r: SignedCheckpointResult, row: (label: string, value: string) => string): string[] {
  const cp = r.checkpoint
  const out = [row('checkpoint', `${r.ok ? 'extended' : r.failure}: ${cp.origin}, ${formatCount(cp.size)} records, root ${b64(cp.root)} (from ${r.source}, signature valid)`)]
  for (const c of cp.cosignatures) out.push(row('cosigned', `by ${c.verifier.name}${c.time === undefined ? '' : ` at ${new Date(Number(c.time) * 1000).toISOString()}`}`))
  if (r.reason) out.push(row('found', r.reason))
  return out
}
