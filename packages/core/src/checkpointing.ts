import * as fs from 'node:fs'
import * as path from 'node:path'
import { signCheckpoint } from './checkpoint'
import { checkpointFile, loadCheckpointKey, replaceFile } from './checkpoint-file'
import type { AppendNow, Position } from './discovery'
import { ChainlogError, ErrorCodes } from './errors'
import type { Emit } from './events'
import type { Turns } from './lease'
import { metaLine, type CheckpointMeta } from './meta'
import type { NoteSigner } from './note'
import { HASH_HEX } from './record'
import type { Settings } from './settings'
import { CompactTree, recordLeaf } from './tree'

/** What checkpointing needs from the writer. */
export interface CheckpointingContext {
  settings: Pick<Settings, 'now' | 'checkpointInterval' | 'naming'>
  at: Position
  appendNow: AppendNow
  emit: Emit<'error'>
}

/** Bytes read back at a time: about a thousand records of a pino line's size, well within a core's cache. */
const READ_CHUNK = 256 * 1024

/** The stored line of a checkpoint record starts so (metaLine writes `t` first). */
const MARK = Buffer.from('\\m{"t":"checkpoint"')

/**
 * Checkpoints as the log is written (#16, docs/FORMAT.md §14.6): at open,
 * every `checkpointInterval` when records were added, at each rotation and
 * at close, with the lock held, the tree is brought up to the head and a
 * checkpoint record (size, root and compact range) is appended; the signed
 * checkpoint of that size replaces `<base>.checkpoint`.
 *
 * The tree is extended here, from the records on disk, not from this
 * writer's memory of what it wrote: other writers append to the same chain
 * between this writer's turns, and the chain as it is under the lock is the
 * only truth they share. Reading back what was appended since the last
 * checkpoint costs one read of bytes still in the page cache and about two
 * hashes per record (one call into @chainlog/native for the whole run, where
 * it is built: hash-path.ts), once per interval, and nothing on the path of a
 * write.
 * A writer that opens (a restart, after kill -9) or finds the file changed
 * under it resumes from the last checkpoint record of the current file
 * (each new file gets one right after its header), or from the chain's
 * start in file 0.
 */
export class Checkpointing {
  private readonly ctx: CheckpointingContext
  private readonly signer: NoteSigner
  private readonly file: string
  private tree: CompactTree | null = null
  /** Where the tree's leaves end: a file (its path and inode) and a byte offset in it. */
  private cursor: { path: string; ino: number; offset: number } | null = null
  private lastSize = -1
  private triedMono = 0
  private timer: NodeJS.Timeout | undefined
  private errorReported = false
  /** The tree reaches the end of the file rotation just left: its next leaf is the new file's header. */
  private carry = false
  private fresh: { path: string; end: number } | null = null
  /** Where records are read back to be taken into the tree (grown for a record longer than it). */
  private chunk = Buffer.allocUnsafe(READ_CHUNK)

  /** @throws ChainlogError BAD_KEY when the key cannot be read */
  constructor(checkpointKey: string, ctx: CheckpointingContext) {
    this.ctx = ctx
    this.signer = loadCheckpointKey(checkpointKey)
    const n = ctx.settings.naming
    this.file = checkpointFile(path.join(n.dir, n.stem + n.extension))
  }

  /**
   * Appends a checkpoint record over the head and replaces `<base>.checkpoint`
   * (lock held). Skipped when nothing was added since this writer's last one,
   * unless `force`. A failure (an unreadable file, a chain this writer cannot
   * resume) is reported once and logging goes on.
   */
  checkpoint(force = false): void {
    const fresh = this.carry
    this.triedMono = performance.now()
    let meta: CheckpointMeta
    let note: string
    try {
      const tree = this.catchUp()
      if (!force && tree.size === this.lastSize) return
      const root = tree.root()
      const state = tree.state()
      meta = { t: 'checkpoint', time: new Date(this.ctx.settings.now()).toISOString(), size: tree.size, root: b64(root), range: state.hashes.map(b64) }
      note = signCheckpoint({ origin: this.signer.name, size: tree.size, root }, this.signer)
    } catch (err) {
      this.report(err)
      return
    }
    this.ctx.appendNow([metaLine(meta)])
    // The record just appended is the next leaf: taken in now, so that the next checkpoint reads only what follows it.
    this.tree!.append(recordLeaf(this.ctx.at.prev))
    this.cursor!.offset = this.ctx.at.cur!.end
    this.lastSize = this.tree!.size
    this.fresh = fresh ? { path: this.ctx.at.cur!.path, end: this.ctx.at.cur!.end } : null
    try {
      replaceFile(this.file, note)
    } catch (err) {
      this.report(err)
    }
  }

  /**
   * Whether `cur` holds nothing after its header but this writer's rotation
   * checkpoint: it still takes at least one record, however small `size` is
   * (or rotation by size would start file after file).
   */
  isFresh(cur: { path: string; end: number }): boolean {
    return this.fresh !== null && this.fresh.path === cur.path && this.fresh.end === cur.end
  }

  /**
   * Rotation is about to start a new file (lock held): the tree is brought to
   * the end of this one, and carried into the next from its first byte.
   */
  beforeRotation(): void {
    try {
      this.catchUp()
      this.carry = true
    } catch (err) {
      this.report(err)
    }
  }

  private report(err: unknown): void {
    if (this.errorReported) return
    this.errorReported = true
    const error = err instanceof ChainlogError ? err : new ChainlogError(ErrorCodes.IO_ERROR, `checkpoint failed: ${(err as Error).message}`, { cause: err })
    setImmediate(() => this.ctx.emit('error', error))
  }

  /** The tree of every record up to the head (lock held): extended from the cursor, or resumed from the current file. */
  private catchUp(): CompactTree {
    const cur = this.ctx.at.cur!
    const ino = cur.sink.ino
    if (this.carry && this.tree) {
      this.carry = false
      this.cursor = { path: cur.path, ino, offset: 0 }
    }
    const c = this.cursor
    if (this.tree && c && c.path === cur.path && c.ino === ino && c.offset <= cur.end) {
      try {
        this.readRecords(cur.path, c.offset, cur.end, this.tree)
      } catch (err) {
        // The tree may hold some of the records read: the next turn starts over from the file rather than take them twice.
        this.cursor = null
        throw err
      }
      c.offset = cur.end
      return this.tree
    }
    // Rotated, cut or opened: start over from what the current file says.
    const text = readRange(cur.path, 0, cur.end)
    let tree: CompactTree | null = cur.header.index === 0 ? new CompactTree() : null
    let from = 0
    for (let start = 0; start < text.length; ) {
      const nl = text.indexOf(0x0a, start)
      if (nl === -1) break
      if (text.compare(MARK, 0, MARK.length, start + HASH_HEX + 1, start + HASH_HEX + 1 + MARK.length) === 0) {
        const resumed = resumeFrom(text.toString('utf8', start + HASH_HEX + 1, nl - HASH_HEX - 1))
        if (resumed) {
          tree = resumed
          from = start
        }
      }
      start = nl + 1
    }
    if (!tree) {
      throw new ChainlogError(ErrorCodes.CHAIN_INCOMPLETE, `${cur.path} (file ${cur.header.index} of its chain) holds no checkpoint record to resume the tree from, and the tree starts at the chain's first record: checkpoints begin with a new chain (or a file begun by a writer with checkpointKey)`, { path: cur.path })
    }
    this.readRecords(cur.path, from, cur.end, tree, text)
    this.tree = tree
    this.cursor = { path: cur.path, ino, offset: cur.end }
    return tree
  }

  /**
   * Appends the leaf of every record between byte `from` and `to` of `file`,
   * read a chunk at a time into one buffer that stays in the CPU's cache
   * while its records are hashed (a file's worth at once cost a fresh
   * allocation of up to `size` bytes at each rotation).
   */
  private readRecords(file: string, from: number, to: number, tree: CompactTree, whole?: Buffer): void {
    if (to <= from) return
    if (whole) {
      tree.appendRecords(whole, from, to)
      return
    }
    const fd = fs.openSync(file, 'r')
    try {
      for (let at = from; at < to; ) {
        const n = Math.min(this.chunk.length, to - at)
        readFully(fd, file, this.chunk, n, at, to)
        const used = tree.appendRecords(this.chunk, 0, n)
        if (used > 0) at += used
        // What is left is one line: a partial tail at the head (left for later), or a record longer than the chunk.
        else if (at + n === to) break
        else this.chunk = Buffer.allocUnsafe(this.chunk.length * 2)
      }
    } finally {
      fs.closeSync(fd)
    }
  }

  /** At least every `checkpointInterval`, when records were added (by any writer). */
  startTimer(turns: Turns): void {
    const period = this.ctx.settings.checkpointInterval
    this.timer = setInterval(() => {
      if (turns.busy() || performance.now() - this.triedMono < period * 0.75) return
      turns.afterQueue(() => this.checkpoint())
    }, Math.max(25, Math.floor(period / 8)))
    this.timer.unref()
  }

  stop(): void {
    clearInterval(this.timer)
  }
}

const b64 = (h: Uint8Array) => Buffer.from(h).toString('base64')

function readRange(file: string, from: number, to: number): Buffer {
  const buf = Buffer.allocUnsafe(to - from)
  const fd = fs.openSync(file, 'r')
  try {
    readFully(fd, file, buf, buf.length, from, to)
  } finally {
    fs.closeSync(fd)
  }
  return buf
}

/** Reads `length` bytes of `file` at `from` into buf[0, length); `to` is the writer's head, for the message. */
function readFully(fd: number, file: string, buf: Buffer, length: number, from: number, to: number): void {
  for (let got = 0; got < length; ) {
    const n = fs.readSync(fd, buf, got, length - got, from + got)
    if (n === 0) throw new ChainlogError(ErrorCodes.IO_ERROR, `${file} is shorter than the writer's head (${from + got} of ${to} bytes)`, { path: file })
    got += n
  }
}

/** The tree a checkpoint record's compact range stands for (null when the record does not hold one that folds to its root). */
function resumeFrom(stored: string): CompactTree | null {
  try {
    const meta = JSON.parse(stored.slice(2)) as Partial<CheckpointMeta>
    if (!Number.isSafeInteger(meta.size) || !Array.isArray(meta.range) || typeof meta.root !== 'string') return null
    const tree = new CompactTree({ size: meta.size!, hashes: meta.range.map((h) => new Uint8Array(Buffer.from(String(h), 'base64'))) })
    return b64(tree.root()) === meta.root ? tree : null
  } catch {
    return null
  }
}
