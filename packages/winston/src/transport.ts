import TransportStream from 'winston-transport'
import { flushOnExit, forwardEvents, openChainWriter, type ChainHead, type ChainWriter, type ForwardedEvents, type TypedEmitter, type WritableStreamEvents } from '@chainlog/core'
import { resolveOptions, type ChainlogTransportOptions } from './options'

/** winston's finished line (triple-beam's MESSAGE): what its File transport writes. */
const MESSAGE = Symbol.for('message')

type Callback = (err?: Error | null) => void
interface Info { [MESSAGE]?: unknown; [key: string]: unknown }

const noop = () => {}

/** The writer's events under winston-daily-rotate-file's names ('rotate' takes two arguments there: see listen). */
export const EVENT_NAMES = { new: 'new', remove: 'logRemoved', archive: 'archive', foreign: 'foreign', recovery: 'recovery', truncation: 'truncation', resume: 'resume', error: 'error' } as const

/**
 * Every event the transport emits, with its arguments: winston-daily-rotate-file's
 * names, the core writer's `foreign`, `recovery`, `truncation` and `resume`, and the stream's own.
 * The transport's `on`, `once` and `off` follow it.
 */
export interface ChainlogTransportEvents extends WritableStreamEvents, ForwardedEvents<typeof EVENT_NAMES> {
  /** The entry was taken (queued in order); not a durability signal. */
  logged: [info: object]
  rotate: [oldPath: string, newPath: string]
}

/** The class behind {@link ChainlogTransport}, whose type adds the event map. */
class Transport extends TransportStream {
  /** winston's transport name. */
  name: string
  /**
   * Settles when the log file is open: resolves, or rejects with the error
   * that was also emitted as `'error'`. Entries logged before are kept in
   * order (by the core writer) and written then.
   */
  readonly ready: Promise<void>
  private readonly writer: ChainWriter
  private failure: Error | null = null
  private open = false
  /** Set by winston's exception and rejection handlers before they log the last entry. */
  _ending?: boolean

  constructor(options: ChainlogTransportOptions = {}) {
    super(options as TransportStream.TransportStreamOptions)
    this.name = options?.name ?? 'chainlog'
    // A bad option throws here, before anything is opened: an application
    // must not run on without its log (#13). Lines past maxBuffered on a
    // failing disk are counted, not thrown: core reports the first refusal as
    // 'error' and the count with 'resume'.
    const writer = openChainWriter(resolveOptions(options), { refuse: 'count' })
    this.writer = writer
    this.listen(writer)
    // Entries taken before the file is open are written at exit too.
    flushOnExit(writer, '@chainlog/winston')
    // The writer opens the log on the next tick and emits 'ready' or 'error'
    // (forwarded by listen); an open that fails emits 'error' before start() rejects.
    this.ready = new Promise<void>((resolve, reject) => process.nextTick(() => writer.start().then(resolve, reject)))
    this.ready.then(() => (this.open = true), (err: Error) => (this.failure = err))
  }

  /** Forwards the core writer's events under winston-daily-rotate-file's names. */
  private listen(w: ChainWriter): void {
    forwardEvents(w, EVENT_NAMES, (name, ...args) => this.emit(name, ...args))
    w.on('rotate', (e) => this.emit('rotate', e.from, e.to))
  }

  /** Called by winston-transport for each entry that passes the level filter. */
  override log(info: Info, callback: Callback = noop): void {
    // The log could not be opened: it was reported once, as 'error'.
    if (this.failure) {
      callback()
      return
    }
    const message = info[MESSAGE]
    try {
      this.writer.write(typeof message === 'string' ? message : String(message))
    } catch (err) {
      // WRITER_CLOSED: logged after the transport ended.
      this.emit('error', err as Error)
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
    this.writer.flush().then(() => this.emit('finish'), (err: Error) => this.emit('error', err))
  }

  /** Everything logged is handed to the OS before 'finish'. */
  override _final(callback: Callback): void {
    // A writer whose log could not be opened closes at once.
    this.writer.close().then(() => callback(), callback)
  }

  /** Called by winston when the transport is removed from its logger. */
  override close(): void {
    const state = (this as unknown as { _writableState: { ending: boolean } })._writableState
    if (!state.ending) this.end()
  }

  /** Resolves once every entry logged so far has been handed to the OS (with `fsync`, is on disk). */
  async flush(): Promise<void> {
    await this.ready
    await this.writer.flush()
  }

  /** The chain's current head: keep `hash` and `count` elsewhere to detect truncation. Null until the file is open. */
  head(): ChainHead | null {
    return this.open ? this.writer.head() : null
  }
}

/** The transport: winston-transport's stream, with its events typed by {@link ChainlogTransportEvents}. */
export type ChainlogTransport = Omit<Transport, keyof TypedEmitter<ChainlogTransportEvents>> & TypedEmitter<ChainlogTransportEvents>

/**
 * A winston transport that appends each log entry to a hash-chained,
 * rotating log (docs/FORMAT.md). The record's line is exactly
 * `info[Symbol.for('message')]`, the string winston's File transport would
 * write; a multi-line entry (a stack trace) is one record, escaped.
 *
 * Events, as in winston-daily-rotate-file: `'logged'` (info), `'new'`
 * (path), `'rotate'` (oldPath, newPath), `'logRemoved'` (path), `'error'`
 * (err, message starting with a chainlog code), plus `'foreign'`, `'recovery'`,
 * `'truncation'` and `'resume'` ({ refused }) from the core writer.
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
export const ChainlogTransport = Transport as unknown as { new (options?: ChainlogTransportOptions): ChainlogTransport; readonly prototype: ChainlogTransport }
// The class keeps the name users see in `.name`, stack traces and logs, as before its type was split out.
Object.defineProperty(Transport, 'name', { value: 'ChainlogTransport' })
