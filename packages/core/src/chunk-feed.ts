import { StringDecoder } from 'node:string_decoder'
import type { ChainHead } from './discovery'
import { invalidOption } from './errors'
import type { ChainWriter } from './writer'

/** Runs of lines per writeChunk() at most: a long synchronous burst (a logger in this thread) goes to core as it comes. */
const BATCH_LINES = 1024
/** Runs this long on average go to the writer one by one: joined, they would be copied once more for nothing, as each is a block of lines already. */
const JOIN_BELOW = 4096

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
 * What a transport whose logger writes to a stream hands the writer: the
 * stream's write() gives each chunk to {@link ChunkFeed.write} with its
 * callback. The chunks of one event-loop turn go to the writer in one
 * `writeChunk()`, one record per line (core hashes such a block in place; one
 * call per line costs far more CPU: bench/pino.bench.mjs, #18), or one
 * `writeChunk()` per chunk when the chunks are long: joining them copied every
 * byte once more (a third of the transport's own CPU time for 64 KiB chunks
 * written in one loop, bench/RESULTS.md). A chunk may end inside a line, or
 * (bytes) inside a character: the rest comes with the next.
 *
 * While the writer asks to wait, the logger is held back: the chunk that
 * comes is kept with its callback until the writer drains, and the stream
 * keeps those after it. Never while the disk fails: there is no `'drain'`
 * until it recovers, and `maxBuffered` bounds the memory, so logging goes on
 * with the disk. The head is reported after each flush, at close, and every
 * `headInterval` ms while lines arrive.
 */
export class ChunkFeed {
  private readonly writer: ChainWriter
  private readonly onHead: (head: ChainHead) => void
  private readonly onError: ((err: Error) => void) | undefined
  private readonly decoder = new StringDecoder('utf8')
  /** The disk is failing: keep writing (see above). */
  private stalled = false
  /** The writer asked to wait: the next chunk is held. */
  private paused = false
  /** The chunk that came while paused, and its callback. */
  private held: { text: string; callback: () => void } | null = null
  /** Lines went to the writer since the last head report. */
  private dirty = false
  /** Chunks taken since the last writeChunk(), and their length in all. */
  private batch: string[] = []
  private batchLength = 0
  private readonly timer: NodeJS.Timeout | undefined

  constructor(writer: ChainWriter, options: ChunkFeedOptions) {
    this.writer = writer
    this.onHead = options.onHead
    this.onError = options.onError
    const resume = (failing: boolean) => {
      this.stalled = failing
      this.paused = false
      this.release()
    }
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

  /**
   * A chunk of the logger's output, as the stream was given it: taken at
   * once and `callback` called, or, while the writer asks to wait, kept with
   * `callback` until it drains (a stream writes its next chunk only after the
   * callback, so the chunks after this one wait in the stream).
   */
  write(chunk: string | Buffer, callback: () => void): void {
    const text = typeof chunk === 'string' ? chunk : this.decoder.write(chunk)
    if (this.paused) this.held = { text, callback }
    else this.pass(text, callback)
  }

  private pass(text: string, callback: () => void): void {
    if (text !== '') this.take(text)
    // A stream writes the next chunk it holds, if any, before this returns.
    callback()
  }

  /** Takes the chunk held back, if any; tells whether there was one. */
  private release(): boolean {
    const held = this.held
    if (!held) return false
    this.held = null
    this.pass(held.text, held.callback)
    return true
  }

  /** A chunk handed to the writer with the other chunks of this turn of the event loop. */
  private take(run: string): void {
    const n = this.batch.push(run)
    this.batchLength += run.length
    if (n === 1) process.nextTick(() => this.hand())
    else if (n >= BATCH_LINES) this.hand()
  }

  /** Hands the batch to the writer: short chunks joined in one writeChunk(), long ones one by one; pauses while the writer asks to wait. */
  private hand(): void {
    if (this.batch.length === 0) return
    // A chunk may end inside a line: the writer keeps that part until the rest comes, and writes a last line without LF on close or flushSync.
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
    if (!ok && !this.stalled) this.paused = true
  }

  /** Hands the writer every chunk the stream holds, whatever the backpressure (flush, flushSync, the end). */
  private drain(): void {
    // Each release takes the held chunk, and its callback lets the stream write the next, which may be held in turn.
    while (this.release());
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

  /** The end of the output: what the decoder still holds and every chunk the stream holds go to the writer, and the writer closes. */
  end(callback: (err?: Error | null) => void): void {
    const rest = this.decoder.end()
    if (rest !== '') this.take(rest)
    this.drain()
    this.close(null, callback)
  }

  /** Closes the writer (on destroy, keeping what can still be kept) and reports the head; `err` is the one to report. */
  close(err: Error | null, callback: (err?: Error | null) => void): void {
    clearInterval(this.timer)
    if (this.writer.isClosed) return callback(err)
    this.writer.close().then(() => (this.reportHead(), callback(err)), (closeErr: Error) => callback(err ?? closeErr))
  }
}
