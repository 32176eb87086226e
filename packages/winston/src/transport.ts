import TransportStream from 'winston-transport'
import { ChainlogError, createChainWriter, ErrorCodes, flushOnExit, type ChainHead, type ChainWriter, type ResumeEvent, type RotateEvent } from '@chainlog/core'
import { resolveOptions, type ChainlogTransportOptions } from './options'

/** winston's finished line (triple-beam's MESSAGE): what its File transport writes. */
const MESSAGE = Symbol.for('message')

type Callback = (err?: Error | null) => void
interface Info {
  [MESSAGE]?: unknown
  [key: string]: unknown
}

const noop = () => {}

/**
 * A winston transport that appends each log entry to a hash-chained,
 * rotating log (docs/FORMAT.md). The record's line is exactly
 * `info[Symbol.for('message')]`, the string winston's File transport would
 * write; a multi-line entry (a stack trace) is one record, escaped.
 *
 * Events, as in winston-daily-rotate-file: `'logged'` (info), `'new'`
 * (path), `'rotate'` (oldPath, newPath), `'logRemoved'` (path), `'error'`
 * (err, message starting with a chainlog code), plus `'recovery'` and
 * `'resume'` from the core writer.
 *
 * `'finish'` (after `logger.end()`) means every entry logged has been handed
 * to the OS, and with `fsync: true` is on disk.
 *
 * @example
 * const logger = winston.createLogger({
 *   format: winston.format.json(),
 *   transports: [new ChainlogTransport({ filename: 'logs/app.log', maxSize: '10m', maxFiles: 14 })],
 * })
 */
export class ChainlogTransport extends TransportStream {
  /** winston's transport name. */
  name: string
  /**
   * Settles when the log file is open: resolves, or rejects with the error
   * that was also emitted as `'error'`. Entries logged before are kept in
   * order and written then.
   */
  readonly ready: Promise<void>
  private writer: ChainWriter | null = null
  private failure: Error | null = null
  private pending: [Info, Callback][] = []
  /** Set by winston's exception and rejection handlers before they log the last entry. */
  _ending?: boolean

  constructor(options: ChainlogTransportOptions = {}) {
    super(options as TransportStream.TransportStreamOptions)
    this.name = options?.name ?? 'chainlog'
    // A bad option throws here, before anything is opened: an application
    // must not run on without its log (#13).
    const writerOptions = resolveOptions(options)
    this.ready = createChainWriter(writerOptions, (w) => this.listen(w)).then((w) => {
      this.writer = w
      flushOnExit(w, '@chainlog/winston')
      const pending = this.pending
      this.pending = []
      for (const [info, callback] of pending) this.append(info, callback)
    }, (err: Error) => {
      this.fail(err)
      throw err
    })
    this.ready.catch(noop)
  }

  /** Forwards the core writer's events under winston-daily-rotate-file's names. */
  private listen(w: ChainWriter): void {
    w.on('new', (file: string) => this.emit('new', file))
    w.on('rotate', (e: RotateEvent) => this.emit('rotate', e.from, e.to))
    w.on('remove', (file: string) => this.emit('logRemoved', file))
    w.on('recovery', (e: object) => this.emit('recovery', e))
    w.on('resume', (e: ResumeEvent) => {
      if (e.refused) this.emit('error', new ChainlogError(ErrorCodes.BUFFER_FULL, `${e.refused} entries were not logged while the disk was failing`))
      this.emit('resume')
    })
    w.on('error', (err: Error) => this.emit('error', err))
  }

  /**
   * The log could not be opened: report it once. Emitted at once (not on a
   * later tick), so that it comes before 'finish' when the logger is ending.
   */
  private fail(err: Error): void {
    this.failure = err
    this.pending = []
    this.emit('error', err)
  }

  /** Called by winston-transport for each entry that passes the level filter. */
  override log(info: Info, callback: Callback = noop): void {
    if (this.writer) this.append(info, callback)
    else if (this.failure) callback()
    else {
      // Called back at once for the same reason as in append().
      this.pending.push([info, noop])
      callback()
    }
  }

  private append(info: Info, callback: Callback): void {
    const message = info[MESSAGE]
    try {
      this.writer!.write(typeof message === 'string' ? message : String(message))
    } catch (err) {
      // BUFFER_FULL: the disk has been failing for maxBuffered bytes. Core
      // reports the first refusal as 'error' and the count with 'resume'.
      if ((err as ChainlogError).code !== ErrorCodes.BUFFER_FULL) this.emit('error', err)
      callback()
      return
    }
    this.emit('logged', info)
    if (this._ending) this.finishForExit()
    // No backpressure: winston's logger ends its transports as soon as its own
    // writable side is done, even if entries still wait in its readable buffer
    // because a transport was slow to call back; those entries would be lost
    // ("write after end"). Core queues what the disk has not taken yet, and
    // bounds it with maxBuffered while the disk fails.
    callback()
  }

  /**
   * winston's exception handler sets `_ending`, logs the exception, and exits
   * when the transport emits 'finish' (as its File transport does): flush first.
   */
  private finishForExit(): void {
    this.writer!.flush().then(() => this.emit('finish'), (err: Error) => this.emit('error', err))
  }

  /** Everything logged is handed to the OS before 'finish'. */
  override _final(callback: Callback): void {
    this.ready.then(() => this.writer!.close(), noop).then(() => callback(), callback)
  }

  /** Called by winston when the transport is removed from its logger. */
  override close(): void {
    const state = (this as unknown as { _writableState: { ending: boolean } })._writableState
    if (!state.ending) this.end()
  }

  /** Resolves once every entry logged so far has been handed to the OS (with `fsync`, is on disk). */
  async flush(): Promise<void> {
    await this.ready
    await this.writer!.flush()
  }

  /** The chain's current head: keep `hash` and `count` elsewhere to detect truncation. Null until the file is open. */
  head(): ChainHead | null {
    return this.writer ? this.writer.head() : null
  }
}
