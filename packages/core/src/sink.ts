import * as fs from 'node:fs'
import * as path from 'node:path'
import SonicBoom from 'sonic-boom'
import { ChainlogError, ErrorCodes, fromSystemError } from './errors'

/**
 * One open log file. Writes go through sonic-boom in synchronous mode, the
 * same path as `pino.destination({ sync: true })`: one `write(2)` per batch,
 * with sonic-boom's handling of partial writes and EAGAIN. Each batch is
 * written whole while the writer holds the log's lock, so a batch that fails
 * half-way (ENOSPC, EIO) is cut back to where it started: the file never
 * keeps a torn record from a failure the writer survived.
 */
export class FileSink {
  readonly path: string
  readonly ino: number
  private fd: number
  private sonic: SonicBoom
  private failure: Error | null = null
  private readonly fsyncEach: boolean
  private closed = false

  /**
   * Opens `path` for appending, creating it with `mode`; with `exclusive`,
   * only creating it (EEXIST if it exists). Throws the system error.
   */
  constructor(path: string, options: { mode?: number; fsync?: boolean; exclusive?: boolean } = {}) {
    this.path = path
    this.fsyncEach = options.fsync ?? false
    this.fd = fs.openSync(path, options.exclusive ? 'ax' : 'a', options.mode)
    try {
      this.ino = fs.fstatSync(this.fd).ino
    } catch (err) {
      fs.closeSync(this.fd)
      throw err
    }
    this.sonic = this.boom()
  }

  private boom(): SonicBoom {
    const sonic = new SonicBoom({ fd: this.fd, sync: true, fsync: this.fsyncEach, contentMode: 'buffer' })
    sonic.on('error', (err: Error) => {
      this.failure = err
    })
    return sonic
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
      this.fd = fs.openSync(this.path, 'a')
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
 * `mkdir`), as a FileSink; with `exclusive`, a file that must not exist yet.
 * @throws ChainlogError the system error under its stable code (ACCESS_DENIED, NO_DIRECTORY, …), with the system error as `cause` (EEXIST for an exclusive file that exists)
 */
export function openSink(filePath: string, options: { mkdir: boolean; mode?: number; fsync: boolean; exclusive?: boolean }): FileSink {
  try {
    if (options.mkdir) fs.mkdirSync(path.dirname(filePath), { recursive: true })
    return new FileSink(filePath, { ...(options.mode !== undefined && { mode: options.mode }), fsync: options.fsync, exclusive: options.exclusive ?? false })
  } catch (err) {
    throw fromSystemError(err, 'open log file', filePath)
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
