import * as fs from 'node:fs'
import * as path from 'node:path'
import type SonicBoom from 'sonic-boom'
import { ChainlogError, ErrorCodes, fromSystemError } from './errors'

/** sonic-boom, loaded by the first file sink: verifying never needs it (start-up, #17). */
const sonicBoom = (): typeof SonicBoom => require('sonic-boom')

/**
 * Where the writer's batches go: a log file ({@link FileSink}) or a stream
 * (StreamSink, stream-sink.ts). The writer's queue, seals and exit flush are
 * the same for both; only a file is locked, rotated and read back.
 */
export interface Sink {
  /** The file's path, or the stream's name (`stdout`, `stderr`, `fd 3`, `stream`). */
  readonly path: string
  /** The file's inode (0 for a stream): the fence checks the path still names it. */
  readonly ino: number
  /** The most bytes one write holds (a record larger than this goes alone). */
  readonly batchBytes: number
  /** Bytes in the file, or written to the stream so far. */
  size(): number
  /** Up to `length` bytes from `position`: how a file's end is checked against what the writer left (#12). */
  readAt(length: number, position: number): Buffer
  /** Appends `bytes`, which start at byte `start`; throws the system error. */
  write(bytes: Buffer, start: number): void
  fsync(): void
  close(): Promise<void>
}

/** Bytes handed to the OS per write to a file, at most (bounds how long one writer holds the lock). */
const FILE_BATCH_BYTES = 256 * 1024

/**
 * One open log file. Writes go through sonic-boom in synchronous mode, the
 * same path as `pino.destination({ sync: true })`: one `write(2)` per batch,
 * with sonic-boom's handling of partial writes and EAGAIN. Each batch is
 * written whole while the writer holds the log's lock, so a batch that fails
 * half-way (ENOSPC, EIO) is cut back to where it started: the file never
 * keeps a torn record from a failure the writer survived.
 */
export class FileSink implements Sink {
  private where: string
  readonly ino: number
  readonly batchBytes = FILE_BATCH_BYTES
  private fd: number
  private sonic: SonicBoom
  private failure: Error | null = null
  private readonly fsyncEach: boolean
  private closed = false

  /**
   * Opens `path` for appending, creating it with `mode`. Throws the system
   * error. The file is opened for reading too: the writer reads back the end
   * of what it wrote to tell whether someone else cut it (#12).
   */
  constructor(path: string, options: { mode?: number; fsync?: boolean } = {}) {
    this.where = path
    this.fsyncEach = options.fsync ?? false
    this.fd = fs.openSync(path, 'a+', options.mode)
    try {
      this.ino = fs.fstatSync(this.fd).ino
    } catch (err) {
      fs.closeSync(this.fd)
      throw err
    }
    this.sonic = this.boom()
  }

  private boom(): SonicBoom {
    const sonic = new (sonicBoom())({ fd: this.fd, sync: true, fsync: this.fsyncEach, contentMode: 'buffer' })
    sonic.on('error', (err: Error) => {
      this.failure = err
    })
    return sonic
  }

  /** The file's path (it changes once, when a new file is published under its name). */
  get path(): string {
    return this.where
  }

  /**
   * Gives the file its name in the log: a new file is written under a
   * temporary name until its header is in it, then linked to `to`, so that a
   * file of the log is never empty by this writer's doing (an empty one was
   * emptied by someone else, #12). Throws EEXIST when `to` exists.
   */
  publish(to: string): void {
    try {
      fs.linkSync(this.where, to)
    } catch (err) {
      // A file system without hard links: rename, after making sure nothing is replaced (the lock is held).
      const code = (err as NodeJS.ErrnoException).code
      if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'ENOSYS' && code !== 'EOPNOTSUPP') throw err
      if (fs.existsSync(to)) throw Object.assign(new Error(`EEXIST: file already exists, rename '${this.where}' -> '${to}'`), { code: 'EEXIST' })
      fs.renameSync(this.where, to)
      this.where = to
      return
    }
    fs.unlinkSync(this.where)
    this.where = to
  }

  /** Up to `length` bytes of the file from `position` (fewer at its end). */
  readAt(length: number, position: number): Buffer {
    const buf = Buffer.alloc(length)
    const got = fs.readSync(this.fd, buf, 0, length, position)
    return buf.subarray(0, got)
  }

  /** Current size of the file on disk. */
  size(): number {
    return fs.fstatSync(this.fd).size
  }

  /**
   * Appends `bytes`, which start at byte `start` of the file. On failure the
   * file is truncated back to `start` and the system error is thrown.
   */
  write(bytes: Buffer, start: number): void {
    this.failure = null
    this.sonic.write(bytes as unknown as string)
    const err = this.failure as Error | null
    if (!err) return
    // sonic-boom keeps the unwritten rest of a failed batch; drop that instance
    // (the batch is retried by the writer, re-hashed against the head) and cut
    // the file back to the last whole record.
    try {
      fs.ftruncateSync(this.fd, start)
    } finally {
      this.sonic.removeAllListeners('error')
      this.sonic.on('error', () => {})
      // sonic-boom closes the fd it was given when destroyed: open a fresh one first.
      this.fd = fs.openSync(this.where, 'a+')
      this.sonic.destroy()
      this.sonic = this.boom()
    }
    throw err
  }

  fsync(): void {
    fs.fsyncSync(this.fd)
  }

  /**
   * Closes the file. Every batch was written synchronously, so nothing waits
   * in sonic-boom; the file is fsynced first only with the `fsync` option
   * (sonic-boom's own end() always fsyncs, which costs tens of milliseconds
   * per writer on a shared log and promises more than flush() does).
   */
  close(): Promise<void> {
    if (this.closed) return Promise.resolve()
    this.closed = true
    try {
      if (this.fsyncEach) fs.fsyncSync(this.fd)
    } finally {
      fs.closeSync(this.fd)
    }
    return Promise.resolve()
  }
}

/**
 * Opens a log file for appending (creating its directory first with
 * `mkdir`), as a FileSink. Errors name the file `named` (a new file's name
 * in the log, while it is written under a temporary one).
 * @throws ChainlogError the system error under its stable code (ACCESS_DENIED, NO_DIRECTORY, …)
 */
export function openSink(filePath: string, options: { mkdir: boolean; mode?: number; fsync: boolean }, named = filePath): FileSink {
  try {
    if (options.mkdir) fs.mkdirSync(path.dirname(filePath), { recursive: true })
    return new FileSink(filePath, { ...(options.mode !== undefined && { mode: options.mode }), fsync: options.fsync })
  } catch (err) {
    throw fromSystemError(err, 'open log file', named)
  }
}

/**
 * Makes sure the log's directory exists (creating it with `mkdir`).
 * @throws ChainlogError NO_DIRECTORY, ACCESS_DENIED, …
 */
export function checkDirectory(dir: string, mkdir: boolean): void {
  let st: fs.Stats
  try {
    st = fs.statSync(dir)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT' || !mkdir) throw fromSystemError(err, 'use directory', dir)
    try {
      fs.mkdirSync(dir, { recursive: true })
    } catch (e) {
      throw fromSystemError(e, 'create directory', dir)
    }
    return
  }
  if (!st.isDirectory()) throw new ChainlogError(ErrorCodes.NO_DIRECTORY, `${dir} is not a directory`, { path: dir })
}
