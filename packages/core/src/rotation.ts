import * as crypto from 'node:crypto'
import * as fs from 'node:fs'
import * as path from 'node:path'
import { gzipFile, tempArchiveOf } from './compress'
import { fromSystemError } from './errors'
import { countTo, type AppendNow, type Current, type Hashing, type Position } from './discovery'
import type { Turns } from './lease'
import { FORMAT_VERSION, metaLine, type DeletedFile, type HeaderMeta } from './meta'
import type { LogFileEntry } from './naming'
import { nextBoundary, periodStart } from './settings'
import { countLines, readTail } from './scan'
import type { Sealing } from './sealing'
import type { Checkpointing } from './checkpointing'
import { openSink, type Sink } from './sink'
import { StreamSink, streamName } from './stream-sink'
import type { Emit, RotateEvent } from './events'
import type { Settings } from './settings'

/** What rotation needs from the writer and the rooms beside it. */
export interface RotationContext {
  settings: Settings
  hashing: Hashing
  at: Position
  sealing: Sealing | null
  checkpointing: Checkpointing | null
  appendNow: AppendNow
  emit: Emit<'new' | 'rotate' | 'remove' | 'archive' | 'error'>
}

/**
 * Starting files and moving on to the next: when to rotate (by size, which
 * the writer's batches find, or at a period boundary, which the timer here
 * finds), retention recorded in the chain before any file is deleted,
 * compression of rotated files off the write path, and the symlink to the
 * current file.
 */
export class Rotation {
  private readonly ctx: RotationContext
  private timer: NodeJS.Timeout | undefined
  private stopped = false
  /** Compression and deletion of rotated files run one after another, off the write path. */
  private background: Promise<void> = Promise.resolve()

  constructor(ctx: RotationContext) {
    this.ctx = ctx
  }

  /**
   * Creates file `number`, or the next number no file has (a foreign file may
   * hold it), with its header (lock held) and makes it the current one. The
   * file is created exclusively: a writer never writes into a file it did not create.
   */
  startFile(number: number, index: number, prevFile: string | null, prevHash: string, seq: number, reason: string | undefined): void {
    const { settings: s, hashing, at } = this.ctx
    // A stream is started once, with the chain: it has no number and no name on disk.
    // A file takes the first number no file has, chainlog's or not (foreign files stay as they are).
    if (!s.stream) while (!s.naming.isFree(number)) number++
    const filePath = s.stream ? streamName(s.stream) : s.naming.pathFor(number, s.now())
    if (!s.stream) {
      // A directory under a file's name is a mistake to report, as opening it would have been.
      if (isDirectory(filePath)) throw fromSystemError(Object.assign(new Error(`EISDIR: illegal operation on a directory, open '${filePath}'`), { code: 'EISDIR' }), 'open log file', filePath)
    }
    // Written under a temporary name until the header is in it (see FileSink.publish).
    const file = s.stream ? null : openSink(newFileName(filePath), s, filePath)
    const sink: Sink = file ?? new StreamSink(s.stream!)
    const header: HeaderMeta = { t: 'header', v: FORMAT_VERSION, alg: hashing.algorithm, chain: at.chain, index, file: path.basename(filePath), prevFile, prevHash, seq, time: new Date(s.now()).toISOString() }
    if (hashing.keyId) header.keyId = hashing.keyId
    if (reason) header.reason = reason
    const old = at.cur
    const oldPrev = at.prev
    const cur: Current = { sink, path: filePath, name: header.file, number, header, end: 0, headerEnd: 0, counted: seq, countedTo: 0, last: Buffer.alloc(0) }
    at.cur = cur
    at.prev = prevHash
    try {
      this.ctx.appendNow([metaLine(header)])
      file?.publish(filePath)
    } catch (err) {
      // The header did not reach the disk (ENOSPC, say: the sink cut the file back
      // to empty), or the name was taken. Stay on the old file and take the new one
      // away, so that no record ever goes into a file without its header; the retry
      // rotates again (#12).
      at.cur = old
      at.prev = oldPrev
      void sink.close()
      if (file) fs.rmSync(file.path, { force: true })
      // Created by someone else since the listing: take the next number.
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') return this.startFile(number + 1, index, prevFile, prevHash, seq, reason)
      throw err
    }
    cur.headerEnd = cur.end
    if (old) void old.sink.close()
    this.link(cur)
    this.ctx.emit('new', filePath)
  }

  /** Rotation, with the lock held and the head fresh: seal the old file, start the next, apply retention. */
  rotate(reason?: string): void {
    const { at, sealing } = this.ctx
    const old = at.cur!
    if (sealing && reason !== 'file-removed') sealing.seal('rotation')
    if (reason !== 'file-removed') this.ctx.checkpointing?.beforeRotation()
    const seq = countTo(old)
    this.startFile(old.number + 1, old.header.index + 1, old.name, at.prev, seq, reason === 'size' || reason === 'time' ? undefined : reason)
    // Right after the header: each file holds the tree's state, where a writer opening it resumes (checkpointing.ts).
    if (reason !== 'file-removed') this.ctx.checkpointing?.checkpoint(true)
    this.ctx.emit('rotate', { from: old.path, to: at.cur!.path } satisfies RotateEvent)
    this.retain(old.path)
  }

  /** Points the symlink (if any) at `cur`, replacing it atomically. */
  link(cur: Current): void {
    const name = this.ctx.settings.symlink
    if (!name) return
    const link = path.join(path.dirname(cur.path), name)
    const tmp = `${link}.${process.pid}.${crypto.randomBytes(4).toString('hex')}.tmp`
    try {
      fs.symlinkSync(cur.name, tmp)
      fs.renameSync(tmp, link)
    } catch (err) {
      fs.rmSync(tmp, { force: true })
      this.ctx.emit('error', fromSystemError(err, 'update the symlink', link))
    }
  }

  /**
   * Rotates at each period boundary of `frequency`. Every writer has this
   * timer; the first to take the lock after the boundary rotates, the others
   * find a file that already belongs to the new period.
   */
  startTimer(turns: Turns): void {
    const s = this.ctx.settings
    if (s.frequency === undefined || this.stopped) return
    const frequency = s.frequency
    const now = s.now()
    this.timer = setTimeout(() => {
      if (this.stopped) return
      void turns
        .whenLocked(() => {
          if (Date.parse(this.ctx.at.cur!.header.time) < periodStart(frequency, s.now())) this.rotate('time')
        })
        .then(() => this.startTimer(turns))
    }, Math.max(1, nextBoundary(frequency, now) - now))
    this.timer.unref()
  }

  /** No more time rotation (closing). */
  stop(): void {
    this.stopped = true
    clearTimeout(this.timer)
  }

  /**
   * What a writer killed while compressing left (lock held, at open): its
   * temporary archives (`<file>.gz.<pid>.tmp`, whose process is gone) are
   * removed, and with `compress`, every rotated file still plain is
   * compressed, as its writer would have done (#12).
   */
  tidy(): void {
    const { settings: s, at } = this.ctx
    if (s.stream) return
    this.removeDeadNewFiles()
    const plain = s.naming.list().filter((f) => !f.gz && f.path !== at.cur?.path)
    if (plain.length === 0) return
    const busy = new Set<string>()
    let names: string[] = []
    try {
      names = fs.readdirSync(s.naming.dir)
    } catch {
      return // the directory was just read by discovery; nothing to tidy if it cannot be listed now
    }
    const mine = new Set(plain.map((f) => f.name))
    for (const name of names) {
      const temp = tempArchiveOf(name)
      if (!temp || !mine.has(temp.file)) continue
      if (alive(temp.pid)) {
        busy.add(temp.file) // a live writer (this process's threads too) is compressing it now
        continue
      }
      try {
        fs.rmSync(path.join(s.naming.dir, name), { force: true })
      } catch (err) {
        this.ctx.emit('error', fromSystemError(err, 'remove a temporary archive', path.join(s.naming.dir, name)))
      }
    }
    if (!s.compress) return
    for (const f of plain) if (!busy.has(f.name)) this.compress(f.path)
  }

  /** New files a dead writer left under their temporary name (it died before their header was written). */
  private removeDeadNewFiles(): void {
    const s = this.ctx.settings
    let names: string[]
    try {
      names = fs.readdirSync(s.naming.dir)
    } catch {
      return
    }
    for (const name of names) {
      const m = NEW_FILE.exec(name)
      if (!m || !s.naming.parse(m[1]!) || alive(Number(m[2]))) continue
      try {
        fs.rmSync(path.join(s.naming.dir, name), { force: true })
      } catch (err) {
        this.ctx.emit('error', fromSystemError(err, 'remove a new file a dead writer left', path.join(s.naming.dir, name)))
      }
    }
  }

  /** Gzips a rotated file off the write path, after what is already queued. */
  private compress(rotated: string): void {
    const s = this.ctx.settings
    this.background = this.background
      .then(() => gzipFile(rotated, s.mode))
      .then((archive) => this.ctx.emit('archive', archive), (err: unknown) => {
        // Retention may delete a file before its compression ran: nothing was lost.
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') this.ctx.emit('error', fromSystemError(err, 'compress rotated file', rotated))
      })
  }

  /** Settles once compression and deletion of rotated files have run. */
  settled(): Promise<void> {
    return this.background
  }

  /**
   * Compresses the rotated file, and deletes the oldest files past the limit
   * (lock held). The retention record naming each deleted file and its last
   * hash is appended first; the files are deleted only after it is written.
   */
  private retain(rotated: string): void {
    const { settings: s, at } = this.ctx
    if (s.compress) this.compress(rotated)
    if (s.keep === undefined && s.keepDays === undefined) return
    const seen = new Set<string>()
    const files = s.naming.list().filter((f) => {
      const plain = f.gz ? f.path.slice(0, -3) : f.path
      if (plain === at.cur!.path || seen.has(plain)) return false
      seen.add(plain)
      return true
    })
    let excess = s.keep === undefined ? 0 : files.length - s.keep
    if (s.keepDays !== undefined) {
      // Only a run of the oldest files: deleting one from the middle would break the chain.
      const cutoff = s.now() - s.keepDays * 86_400_000
      let old = 0
      while (old < files.length && fileTime(files[old]!.path) < cutoff) old++
      excess = Math.max(excess, old)
    }
    if (excess <= 0) return
    const doomed = files.slice(0, excess).map((f) => ({ entry: f, info: describeFile(f) }))
    this.ctx.appendNow([metaLine({ t: 'retention', time: new Date(s.now()).toISOString(), deleted: doomed.map((d) => d.info) })])
    // Only chain files are listed; the .gz of one is its archive (a new file's number is free of any .gz).
    for (const { entry } of doomed) {
      const plain = entry.gz ? entry.path.slice(0, -3) : entry.path
      const remove = () => {
        for (const target of [plain, plain + '.gz']) {
          if (!fs.existsSync(target)) continue
          fs.rmSync(target, { force: true })
          this.ctx.emit('remove', target)
        }
      }
      // A file still being compressed goes too: the compression job finds its source gone and stops.
      try {
        remove()
      } catch (err) {
        this.ctx.emit('error', fromSystemError(err, 'delete rotated file', plain))
      }
    }
  }
}

/** A new file's temporary name: `<name>.<pid>.<8 hex>.new`. */
const NEW_FILE = /^(.+)\.(\d+)\.[0-9a-f]{8}\.new$/

function newFileName(filePath: string): string {
  return `${filePath}.${process.pid}.${crypto.randomBytes(4).toString('hex')}.new`
}

/** Whether process `pid` runs on this host (this process counts: its other writers may be compressing). */
function alive(pid: number): boolean {
  if (pid === process.pid) return true
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}

function isDirectory(p: string): boolean {
  try {
    return fs.statSync(p).isDirectory()
  } catch {
    return false
  }
}

/** Last modification time of a file in ms, or Infinity when it cannot be read (it is then kept). */
function fileTime(file: string): number {
  try {
    return fs.statSync(file).mtimeMs
  } catch {
    return Infinity
  }
}

/** Last hash, index and line count of a finished file, read from the file. */
function describeFile(f: LogFileEntry): DeletedFile {
  const tail = readTail(f.path)
  return { file: tail.header?.file ?? f.name, index: tail.header?.index ?? -1, lastHash: tail.last?.hash ?? '', records: countLines(f.path) }
}
