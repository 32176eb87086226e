import type { ChainHead } from './discovery'
import { invalidOption } from './errors'
import type { ChainWriter } from './writer'

/** Runs of lines per writeChunk() at most: a long synchronous burst (a logger in this thread) goes to core as it comes. */
const BATCH_LINES = 1024
/** Runs this long on average go to the writer one by one: joined, they would be copied once more for nothing, as each is a block of lines already. */
const JOIN_BELOW = 4096

/** The stream a transport reads its logger's output from, as runs of lines. */
export interface ChunkSource {
  pause(): unknown
  resume(): unknown
  /** Hands on the next run the stream holds back (to the feed's take(), as a stream's 'data' listener would), or returns null when it holds none. */
  read(): unknown
}

export interface ChunkFeedOptions {
  /** Where the head goes: after each flush, at close, and every `headInterval` ms while lines arrive. */
  onHead: (head: ChainHead) => void
  /**
   * What the writer threw when handed lines: WRITER_CLOSED, for lines that come after it was closed under
   * the stream. The transport fails its stream with it. Without it, the error is thrown, out of a
   * `process.nextTick()` callback as often as not.
   */
  onError?: (err: Error) => void
  /** Report the head every this many milliseconds while lines arrive, after a flush, so that the head is on disk (pino: `'chainlog:head'`). */
  headInterval?: number
}

/**
 * `headInterval`: a whole number of milliseconds >= 10, or undefined.
 * @throws ChainlogError INVALID_OPTION
 */
export function parseHeadInterval(value: unknown): number | undefined {
  if (value === undefined) return undefined
  if (typeof value === 'number' && Number.isInteger(value) && value >= 10) return value
  throw invalidOption(`headInterval must be a whole number of milliseconds >= 10; got ${JSON.stringify(value)}`)
}

/**
 * What a transport that reads its logger's output as a stream hands the
 * writer. The runs of lines of one event-loop turn go to the writer in one
 * `writeChunk()`, one record per line (core hashes such a block in place; one
 * call per line costs far more CPU: bench/pino.bench.mjs, #18), or one
 * `writeChunk()` per run when the runs are long: joining them copied every
 * byte once more (a third of the transport's own CPU time for 64 KiB chunks
 * written in one loop, bench/RESULTS.md). The stream is
 * held back while the writer asks to wait, never while the disk fails: there
 * is no `'drain'` until it recovers, and `maxBuffered` bounds the memory, so
 * logging goes on with the disk. The head is reported after each flush, at
 * close, and every `headInterval` ms while lines arrive.
 */
export class ChunkFeed {
  private readonly writer: ChainWriter
  private readonly source: ChunkSource
  private readonly onHead: (head: ChainHead) => void
  private readonly onError: ((err: Error) => void) | undefined
  /** The disk is failing: keep writing (see above). */
  private stalled = false
  /** Lines went to the writer since the last head report. */
  private dirty = false
  /** Runs of whole lines (each ending with its LF) taken since the last writeChunk(), and their length in all. */
  private batch: string[] = []
  private batchLength = 0
  private readonly timer: NodeJS.Timeout | undefined

  constructor(writer: ChainWriter, source: ChunkSource, options: ChunkFeedOptions) {
    this.writer = writer
    this.source = source
    this.onHead = options.onHead
    this.onError = options.onError
    const resume = (failing: boolean) => void ((this.stalled = failing), source.resume())
    writer.on('drain', () => resume(false))
    writer.on('resume', () => resume(false))
    writer.on('error', () => resume(true))
    this.timer = options.headInterval
      ? setInterval(() => {
          if (!this.dirty) return
          this.dirty = false
          // A failure has been reported as 'error' already.
          writer.flush().then(() => this.reportHead(), () => {})
        }, options.headInterval).unref()
      : undefined
  }

  /** A run of the stream's output (whole lines, or a chunk cut anywhere): handed to the writer with the other runs of this turn of the event loop. */
  take(run: string): void {
    const n = this.batch.push(run)
    this.batchLength += run.length
    if (n === 1) process.nextTick(() => this.hand())
    else if (n >= BATCH_LINES) this.hand()
  }

  /** Hands the batch to the writer: short runs joined in one writeChunk(), long ones one by one; while the writer asks to wait, the paused stream holds back the logger. */
  private hand(): void {
    if (this.batch.length === 0) return
    // A run may end inside a line (a chunk as a worker was handed it): the writer keeps that part until the rest comes, and writes a last line without LF on close or flushSync.
    const runs = this.batch.length === 1 || this.batchLength >= JOIN_BELOW * this.batch.length ? this.batch : [this.batch.join('')]
    this.batch = []
    this.batchLength = 0
    this.dirty = true
    // On a failing disk past maxBuffered the writer refuses the lines without
    // throwing (a transport opens it with refuse: 'count'): it reports the
    // first refusal as 'error' and counts them for 'resume'. Failing the
    // stream would end a worker for good, and thread-stream can then lose the
    // error or throw in the application.
    let ok = true
    try {
      for (const run of runs) ok = this.writer.writeChunk(run) && ok
    } catch (err) {
      if (!this.onError) throw err
      this.onError(err as Error)
      return
    }
    if (!ok && !this.stalled) this.source.pause()
  }

  /** Hands the writer every line the stream holds, whatever its backpressure (flush, flushSync, the end). */
  private drain(): void {
    // Each read() passes a run to the 'data' listener, and runs writes the stream still holds.
    while (this.source.read() !== null);
    this.hand()
  }

  /** The head, when the writer has one (its file may be gone). */
  private reportHead(): void {
    let head: ChainHead
    try {
      head = this.writer.head()
    } catch {
      return
    }
    this.onHead({ ...head })
  }

  /**
   * Calls back once every line taken so far is handed to the OS, then
   * reports the head. While the log cannot be written (a full disk, a removed
   * directory) the writer has reported it as 'error', once, and keeps the
   * lines for when it recovers: the callback then runs without an error, as
   * thread-stream takes a flush error as fatal and ends the worker, losing
   * every later line (#12).
   */
  flush(callback?: (err?: Error | null) => void): void {
    this.drain()
    this.writer.flush().then(() => (this.reportHead(), callback?.()), () => callback?.())
  }

  /** Hands every whole line taken so far to the OS before returning. */
  flushSync(): void {
    if (this.writer.isClosed) return
    this.drain()
    this.writer.flushSync()
  }

  /** The end of the output: every line the stream holds goes to the writer, the stream is resumed so that it ends, and the writer closes. */
  end(callback: (err?: Error | null) => void): void {
    this.drain()
    this.source.resume()
    this.close(null, callback)
  }

  /** Closes the writer (on destroy, keeping what can still be kept) and reports the head; `err` is the one to report. */
  close(err: Error | null, callback: (err?: Error | null) => void): void {
    clearInterval(this.timer)
    if (this.writer.isClosed) return callback(err)
    this.writer.close().then(() => (this.reportHead(), callback(err)), (closeErr: Error) => callback(err ?? closeErr))
  }
}
