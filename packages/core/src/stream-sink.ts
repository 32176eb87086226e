import * as fs from 'node:fs'
import type { Writable } from 'node:stream'
import type { Sink } from './sink'

/**
 * The most bytes a write to a pipe may hold and still be atomic (POSIX
 * PIPE_BUF: 4096 on Linux, at least 512 elsewhere). A batch of records on a
 * stream never exceeds it (a record larger than it goes alone), so that when
 * several processes share one stdout, as in a container, their records
 * interleave whole.
 */
export const PIPE_BUF = 4096

/** First and longest wait when the reader of a non-blocking pipe is behind, ms. */
const EAGAIN_FIRST_MS = 1
const EAGAIN_LONGEST_MS = 100

const pause = new Int32Array(new SharedArrayBuffer(4))

/** Where a chain on a stream goes: a file descriptor (1 is stdout, 2 stderr) or a writable stream. */
export type StreamTarget = number | NodeJS.WritableStream

/** The name a stream's headers give it (`file` in FORMAT.md §5), and events and errors use. */
export function streamName(target: StreamTarget): string {
  if (target === 1) return 'stdout'
  if (target === 2) return 'stderr'
  return typeof target === 'number' ? `fd ${target}` : 'stream'
}

/**
 * A chain written to a stream instead of files: a file descriptor written
 * synchronously, or a Node writable stream (main thread). There is no
 * rotation, no lock and nothing to read back: this process is the stream's
 * only chainlog writer for this chain, and the bytes it wrote are gone.
 *
 * Each batch is one write of whole records. On a file descriptor, a write
 * the kernel takes only in part goes on with the rest, and EAGAIN (a
 * non-blocking pipe whose reader is behind) is waited out, from 1 ms up to
 * 100 ms between tries, blocking this thread the way
 * `pino.destination({ sync: true })` does (sonic-boom's sync mode sleeps
 * 100 ms each time, pinojs/pino#783). Never closes the descriptor or ends
 * the stream: they are the process's, not the chain's.
 */
export class StreamSink implements Sink {
  readonly path: string
  readonly ino = 0
  readonly batchBytes = PIPE_BUF
  private readonly target: StreamTarget
  private written = 0
  /** A writable stream's error, thrown at the next write (the writer's outage handling takes it from there). */
  private failure: Error | null = null
  private pending = 0
  private idle: (() => void)[] = []

  constructor(target: StreamTarget) {
    this.target = target
    this.path = streamName(target)
    if (typeof target !== 'number') target.on('error', (err: Error) => (this.failure = err))
  }

  /** Bytes written so far. */
  size(): number {
    return this.written
  }

  /** Writes `bytes` whole (`start` is where a file would put them; a stream has no place to go back to). */
  write(bytes: Buffer, _start: number): void {
    if (this.failure) throw this.failure
    if (typeof this.target === 'number') writeAll(this.target, bytes)
    else {
      this.pending++
      // The queue reuses its buffer for the next batch: the stream gets its own copy.
      this.target.write(Buffer.from(bytes), () => this.settled())
    }
    this.written += bytes.length
  }

  private settled(): void {
    if (--this.pending === 0) for (const resolve of this.idle.splice(0)) resolve()
  }

  /** Never called: what went to a stream cannot be read back, and the writer checks no cut on a stream. */
  readAt(): Buffer {
    throw new Error('internal: a stream cannot be read back')
  }

  /** A stream has nothing to fsync: refused by the settings, so never called. */
  fsync(): void {}

  /** Resolves once a writable stream has taken every batch (a descriptor's writes are done already). */
  close(): Promise<void> {
    if (this.pending === 0) return Promise.resolve()
    return new Promise((resolve) => this.idle.push(resolve))
  }
}

/** Writes all of `bytes` to `fd`, going on after partial writes and waiting out EAGAIN. */
function writeAll(fd: number, bytes: Buffer): void {
  let off = 0
  let wait = EAGAIN_FIRST_MS
  while (off < bytes.length) {
    try {
      off += fs.writeSync(fd, bytes, off, bytes.length - off)
      wait = EAGAIN_FIRST_MS
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code
      if (code !== 'EAGAIN' && code !== 'EBUSY') throw err
      Atomics.wait(pause, 0, 0, wait)
      wait = Math.min(wait * 2, EAGAIN_LONGEST_MS)
    }
  }
}

/** Whether `value` can be written to as a Node writable stream. */
export function isWritable(value: unknown): value is Writable {
  return value !== null && typeof value === 'object' && typeof (value as { write?: unknown }).write === 'function' && typeof (value as { on?: unknown }).on === 'function'
}
