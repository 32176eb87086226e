/**
 * What the tree commands (checkpoint, prove, consistency, witness, and
 * verify-log's signed checkpoints) share: the tree of the chain in the input,
 * refused when the chain is broken, and whether it extends a checkpoint (#16).
 */
import * as fs from 'node:fs'
import { chainTree, checkpointFile, readCheckpointFile, type ChainTree, type RecordPlace } from '@chainlog/core'
import { parseCheckpoint, parseNote, type Checkpoint } from '@chainlog/core/format'
import { ExitError, usage } from './exit'
import { formatCount } from './format'
import { stdin } from './source'

/** The tree of the chain in `input`; a broken chain has no tree to trust (exit 1). */
export async function treeOf(input: string[] | '-', options: { key?: Uint8Array; find?: RecordPlace }): Promise<ChainTree> {
  const built = await chainTree(input === '-' ? stdin() : input, { ...(options.key && { key: options.key }), ...(options.find && { find: options.find }) })
  const { report } = built
  if (!report.ok) {
    const b = report.breaks[0]!
    throw new ExitError('CHAIN_BROKEN', `the chain is broken at ${b.file}:${b.line} (${b.reason}: ${b.message}); its tree cannot be trusted. Run verify-log for details`)
  }
  return built
}

const b64 = (h: Uint8Array) => Buffer.from(h).toString('base64')

/**
 * Why the tree does not extend a checkpoint, in words; null when it does:
 * the tree must have at least its size, and at that size, its root.
 */
export function extendsCheckpoint(tree: ChainTree['tree'], cp: Checkpoint): string | null {
  if (tree.size < cp.size) return `the log holds ${formatCount(tree.size)} records, fewer than the ${formatCount(cp.size)} of the checkpoint: records were cut from the end`
  const root = tree.root(cp.size)
  if (Buffer.compare(root, cp.root) !== 0) return `the tree of the log's first ${formatCount(cp.size)} records has root ${b64(root)}, not the checkpoint's ${b64(cp.root)}: records before record ${formatCount(cp.size)} were changed, removed or inserted, and the chain rewritten from there`
  return null
}

/** The base path of a log input: the one path given, when it is not a directory. */
export function baseOf(input: string[] | '-'): string | null {
  if (input === '-' || input.length !== 1) return null
  const p = input[0]!
  try {
    if (fs.statSync(p).isDirectory()) return null
  } catch {
    // a base path (logs/app.log) need not exist itself
  }
  return p.replace(/\.(\d+)(\.[^.]+)?(\.gz)?$/, '$2')
}

/** A signed checkpoint from `--checkpoint <file>`, or else `<base>.checkpoint` beside the log. */
export function signedCheckpoint(file: string | undefined, input: string[] | '-', option: string): { note: string; source: string; body: Checkpoint } {
  let source = file
  if (source === undefined) {
    const base = baseOf(input)
    if (base === null || !fs.existsSync(checkpointFile(base))) {
      throw usage(`no checkpoint given, and ${base === null ? 'no log base path to look beside' : `${checkpointFile(base)} does not exist`}; give ${option} <file> (chainlog checkpoint <log> --key checkpoint.key > <file> makes one)`)
    }
    source = checkpointFile(base)
  }
  const note = readCheckpointFile(source)
  return { note, source, body: parseCheckpoint(parseNote(note).text) }
}
