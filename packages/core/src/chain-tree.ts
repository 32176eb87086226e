/**
 * The tree of a chain as it is on disk (#16, docs/FORMAT.md §14): the chain
 * is verified, and every record it holds, in chain order, from the first
 * record of the chain across every rotated file, becomes a leaf. A torn
 * fragment that a recovery record accounts for is not a record, and so not
 * a leaf; the recovery record itself is.
 */
import * as path from 'node:path'
import { ChainlogError, ErrorCodes } from './errors'
import { isHeader } from './meta'
import { openChainFile, readError } from './read'
import type { VerifierOptions, VerifyReport } from './report'
import { MerkleTree, recordLeaf } from './tree'
import { verify } from './verify'

/** A record to find while the tree is built: a file (as a path) and a 1-based line. */
export interface RecordPlace {
  file: string
  line: number
}

/** The chain's tree, the report of the verification that built it, and the record asked for. */
export interface ChainTree {
  tree: MerkleTree
  report: VerifyReport
  /** The record at {@link ChainTreeOptions.find}: its leaf index and its physical line; null when no record is there. */
  found: { index: number; file: string; line: number; record: string } | null
}

export interface ChainTreeOptions extends Pick<VerifierOptions, 'key' | 'onMeta'> {
  /** A record whose leaf index and physical line to return. */
  find?: RecordPlace
}

const samePath = (a: string, b: string) => a === b || path.resolve(a) === path.resolve(b)

/**
 * Verifies the chain in `input` (as {@link verify}) and builds the tree of
 * its records. The tree of a broken chain is returned too; callers decide
 * (the CLI refuses it).
 * @throws ChainlogError CHAIN_INCOMPLETE when the input lacks the chain's first file; and what {@link verify} throws.
 */
export async function chainTree(input: string | string[] | NodeJS.ReadableStream, options: ChainTreeOptions = {}): Promise<ChainTree> {
  const tree = new MerkleTree()
  let firstHeader: { index: number; file: string } | null = null
  let at: { index: number; file: string; line: number } | null = null
  const find = options.find
  const report = await verify(input, {
    ...(options.key && { key: options.key }),
    onRecord: (hash, where) => {
      if (find && at === null && where.line === find.line && samePath(where.file, find.file)) at = { index: tree.size, file: where.file, line: where.line }
      tree.append(recordLeaf(hash))
    },
    onMeta: (meta, where) => {
      if (firstHeader === null && isHeader(meta)) firstHeader = { index: meta.index, file: where.file }
      options.onMeta?.(meta, where)
    },
  })
  const first = firstHeader as { index: number; file: string } | null
  if (first && first.index !== 0) {
    throw new ChainlogError(ErrorCodes.CHAIN_INCOMPLETE, `${first.file} is file ${first.index} of its chain and the files before it are not in the input (deleted by retention?); the tree starts at the chain's first record, so it needs every file of the chain`, { path: first.file })
  }
  const hit = at as { index: number; file: string; line: number } | null
  return { tree, report, found: hit ? { ...hit, record: await physicalLine(hit.file, hit.line) } : null }
}

/** Line `n` (1-based) of a chain file, plain or gzipped, without its LF. */
async function physicalLine(file: string, n: number): Promise<string> {
  const opened = openChainFile(file, file.endsWith('.gz'))
  let line = 1
  const parts: Buffer[] = []
  try {
    for await (const chunk of opened) {
      let pos = 0
      while (pos <= chunk.length) {
        const nl = chunk.indexOf(0x0a, pos)
        if (line === n) {
          parts.push(chunk.subarray(pos, nl === -1 ? chunk.length : nl))
          if (nl !== -1) return Buffer.concat(parts).toString('utf8')
          break
        }
        if (nl === -1) break
        line++
        pos = nl + 1
      }
    }
  } catch (err) {
    throw readError(file, err)
  } finally {
    opened.close()
  }
  throw new ChainlogError(ErrorCodes.IO_ERROR, `${file} changed while it was read: line ${n} is no longer there`, { path: file })
}
