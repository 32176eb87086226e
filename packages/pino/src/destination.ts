import { Writable } from 'node:stream'
import { StringDecoder } from 'node:string_decoder'
import type { ChainHead, ChainWriter, ResumeEvent } from '@chainlog/core'
import type { Emit } from './bridge'

/**
 * Events of the transport. In a worker they are emitted on the stream that
 * `pino.transport()` returned; in the main thread, on the destination. The
 * names carry a prefix because one worker may host several targets.
 */
export const Events = {
  /** (path) a file was started. */
  NEW: 'chainlog:new',
  /** ({ from, to }) the log moved to the next file. */
  ROTATE: 'chainlog:rotate',
  /** (path) retention deleted a file (after recording it in the chain). */
  REMOVE: 'chainlog:remove',
  /** ({ file, reason, length }) a torn or broken tail was found and recorded. */
  RECOVERY: 'chainlog:recovery',
  /** (ChainHead) the head after a flush: keep `hash` and `count` elsewhere to detect truncation. */
  HEAD: 'chainlog:head',
  /** ({ refused }) a failing disk accepts writes again; `refused` lines were turned away meanwhile (BUFFER_FULL). */
  RESUME: 'chainlog:resume',
} as const

export interface DestinationOptions {
  /** Where events go; by default they are emitted on the destination itself. */
  emit?: Emit
  /** Emit the head every this many ms while lines arrive. */
  headInterval?: number
}

/**
 * A writable stream of pino's output that appends each line, without its
 * newline, as one record. The bytes are never parsed or re-serialized:
 * pino's line is the evidence, and pino-abstract-transport would drop any
 * line that is not JSON. Lines are cut at LF only, so a CR stays in the line
 * (core stores it escaped).
 */
export class ChainlogDestination extends Writable {
  /** The core writer; its head() is the chain's current position. */
  readonly writer: ChainWriter
  private readonly report: Emit
  private readonly decoder = new StringDecoder('utf8')
  /** Text after the last LF seen: the start of a line still being written. */
  private rest = ''
  /** The writer reported an error and may be stalled on a failing disk; see _write. */
  private stalled = false
  private dirty = false
  private headTimer: NodeJS.Timeout | undefined

  constructor(writer: ChainWriter, options: DestinationOptions = {}) {
    super({ decodeStrings: false })
    this.writer = writer
    this.report = options.emit ?? ((name, ...args) => void this.emit(name, ...args))
    writer.on('new', (file: string) => this.report(Events.NEW, file))
    writer.on('rotate', (e: { from: string; to: string }) => this.report(Events.ROTATE, { from: e.from, to: e.to }))
    writer.on('remove', (file: string) => this.report(Events.REMOVE, file))
    writer.on('recovery', (e: object) => this.report(Events.RECOVERY, { ...e }))
    writer.on('drain', () => (this.stalled = false))
    writer.on('resume', (e: ResumeEvent) => {
      this.stalled = false
      this.report(Events.RESUME, { refused: e.refused })
    })
    writer.on('error', (err: Error) => {
      this.stalled = true
      this.report('error', err)
    })
    if (options.headInterval) {
      this.headTimer = setInterval(() => {
        if (!this.dirty) return
        this.dirty = false
        this.writer.flush().then(() => this.reportHead(), () => {
          // The writer has reported the failure as an 'error' already.
        })
      }, options.headInterval)
      this.headTimer.unref()
    }
  }

  override _write(chunk: string | Buffer, _encoding: BufferEncoding, callback: (err?: Error | null) => void): void {
    let text = typeof chunk === 'string' ? chunk : this.decoder.write(chunk)
    if (this.rest !== '') {
      text = this.rest + text
      this.rest = ''
    }
    // Whole lines go to core in one piece (one record per line); the text
    // after the last LF waits for the rest of its line.
    const end = text.lastIndexOf('\n') + 1
    let ok = true
    try {
      if (end > 0) ok = this.writer.writeLines(end === text.length ? text : text.slice(0, end))
    } catch (err) {
      if ((err as { code?: string }).code !== 'BUFFER_FULL') {
        // WRITER_CLOSED: nothing more can be written.
        callback(err as Error)
        return
      }
      // BUFFER_FULL: the disk has been failing for maxBuffered bytes and core
      // refused these lines (it reports the first refusal as 'error' and counts
      // them for 'resume'). Go on: logging resumes with the disk. Failing the
      // stream instead would end the worker for good, and thread-stream, ending
      // while the application still logs, can lose the error or throw in the
      // application's thread.
    }
    if (end < text.length) this.rest = text.slice(end)
    if (end > 0) this.dirty = true
    // Backpressure: wait for the writer's 'drain'. While the disk fails there
    // is no drain until it recovers, and waiting would only move the growing
    // backlog into pino's thread-stream buffer, which has no bound; so after
    // an error, keep writing and let core's maxBuffered bound the memory.
    if (ok || this.stalled) {
      callback()
      return
    }
    const done = () => {
      this.writer.off('drain', done)
      this.writer.off('error', done)
      callback()
    }
    this.writer.on('drain', done)
    this.writer.on('error', done)
  }

  override _final(callback: (err?: Error | null) => void): void {
    clearInterval(this.headTimer)
    try {
      this.writeTail()
    } catch (err) {
      callback(err as Error)
      return
    }
    this.writer.close().then(() => {
      this.reportHead()
      callback()
    }, callback)
  }

  override _destroy(err: Error | null, callback: (err?: Error | null) => void): void {
    clearInterval(this.headTimer)
    if (this.writer.isClosed) {
      callback(err)
      return
    }
    // Keep what can still be kept; the original error is the one to report.
    this.writer.close().then(() => callback(err), (closeErr: Error) => callback(err ?? closeErr))
  }

  /**
   * Calls back once every line written so far has been handed to the OS
   * (with `fsync`, once it is on disk), then emits the head. pino's
   * `logger.flush(cb)` calls this, in the worker through thread-stream.
   */
  flush(callback?: (err?: Error | null) => void): void {
    const run = () => {
      this.writer.flush().then(() => {
        this.reportHead()
        callback?.()
      }, (err: Error) => {
        if (callback) callback(err)
      })
    }
    // Chunks the stream still holds (while waiting for drain) go first.
    if (this.writableEnded || this.destroyed) run()
    else this.write('', run)
  }

  /**
   * Hands everything written so far to the OS before returning. For
   * `process.exit()` and crashes in the main thread, where no callback runs
   * again; a partial last line is kept as a record.
   */
  flushSync(): void {
    if (this.writer.isClosed || this.destroyed) return
    this.writeTail()
    this.writer.flushSync()
  }

  /** At the end: output that did not end with a newline is still a line. */
  private writeTail(): void {
    const tail = this.rest + this.decoder.end()
    this.rest = ''
    if (tail !== '') this.writer.write(tail)
  }

  /** The current head (see core's ChainWriter.head()). */
  head(): ChainHead {
    return this.writer.head()
  }

  private reportHead(): void {
    let head: ChainHead
    try {
      head = this.writer.head()
    } catch {
      return
    }
    this.report(Events.HEAD, { ...head })
  }
}
