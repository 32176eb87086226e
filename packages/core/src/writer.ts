import { EventEmitter } from 'node:events'
import * as fs from 'node:fs'
import * as path from 'node:path'
import { createHashFn, keyId, type Algorithm } from './algorithm'
import { advance, countTo, Discovery, Opening, type ChainHead, type Current, type Hashing, type Position } from './discovery'
import { ChainlogError, ErrorCodes, fromSystemError } from './errors'
import { FlushWaiters } from './flush-waiters'
import { HeadMoved, Lease } from './lease'
import { LogLock, StreamLock } from './lock'
import { Outage } from './outage'
import { metaLine, type Meta } from './meta'
import { normalize, type ChainWriterOptions, type Settings } from './settings'
import { RecordQueue, type Batch } from './queue'
import { decodeLine, escapeLine, GENESIS } from './record'
import { Rotation } from './rotation'
import type { ChainWriterEvents, Emit } from './events'
import { Sealing } from './sealing'
import { Checkpointing } from './checkpointing'
import { isCut } from './truncation'

/** Queued bytes that start a batch at once rather than on the next turn of the event loop. */
const BATCH_BYTES = 256 * 1024

/** How {@link openChainWriter}'s writer is opened, beside the options of the log. */
export interface OpenOptions {
  /**
   * Lines arriving while a failing disk holds `maxBuffered` bytes: `'throw'` (the default) throws BUFFER_FULL
   * out of write(), writeLines() and writeChunk(); `'count'` turns them away without throwing (the call returns
   * false). Either way the first refusal of a failing spell is emitted as `'error'` and `'resume'` counts them
   * all: a transport opens with `'count'` and forwards those two events.
   */
  refuse?: 'throw' | 'count'
}

/**
 * Appends records to one chain, safely shared by any number of writers
 * (threads or processes) pointed at the same log path.
 *
 * `write()` queues the line. The queue is appended in batches under the
 * log's lock, held as a short lease (lease.ts): the head is re-read from
 * disk if anyone else appended or rotated since (discovery.ts), the batch
 * is hashed against it (queue.ts), the fence checked, and the batch
 * appended with one write. So the chain never forks, bytes never
 * interleave, and each writer's lines keep their order. Rotation and
 * retention (rotation.ts) and seals (sealing.ts) happen under the same lock.
 * Events: {@link ChainWriterEvents}.
 *
 * @example
 * const w = await createChainWriter({ file: 'logs/app.log', size: '10m', mkdir: true })
 * w.write('{"level":30,"msg":"hello"}')
 * await w.close()
 */
export class ChainWriter extends EventEmitter<ChainWriterEvents> {
  readonly algorithm: Algorithm
  private readonly settings: Settings
  private readonly hashing: Hashing
  private readonly lease: Lease
  private readonly discovery: Discovery
  private readonly rotation: Rotation
  private readonly sealing: Sealing | null
  private readonly checkpointing: Checkpointing | null
  /** Where the next record goes; discovery and rotation move it under the lock. */
  private readonly at: Position = { cur: null, prev: GENESIS, chain: '' }
  /** Records waiting to be appended, in order; flush() waits for its appended count to pass its mark. */
  private readonly queue = new RecordQueue()
  /** Encodes the records appendNow() writes outside the queue (headers, retention, recovery, seals). */
  private readonly direct = new RecordQueue()
  /** Text after the last LF given to writeChunk(): the start of a line still coming. */
  private tail = ''
  private readonly throwRefusals: boolean
  private readonly waiters = new FlushWaiters()
  private readonly opening: Opening
  private readonly outage: Outage
  private needDrain = false
  private closing: Promise<void> | null = null
  private closed = false

  /** Use {@link openChainWriter} or {@link createChainWriter}. `announce`: a log that cannot be opened is also an `'error'`. */
  constructor(settings: Settings, open: OpenOptions = {}, private readonly announce = false) {
    super()
    this.settings = settings
    this.algorithm = settings.algorithm
    this.throwRefusals = open.refuse !== 'count'
    this.hashing = { algorithm: settings.algorithm, hashFn: createHashFn(settings.algorithm, settings.key ? { key: settings.key } : {}), keyId: settings.key ? keyId(settings.key) : undefined }
    const n = settings.naming
    const lock = settings.stream ? new StreamLock(n.stem) : new LogLock(path.join(n.dir, n.stem + n.extension), {
      staleMs: settings.staleLockMs,
      onCompromised: (err) => this.emit('error', new ChainlogError(ErrorCodes.LOCK_LOST, `the log lock was taken over while held (${err.message}); another writer thought this one dead`, { cause: err })),
    })
    this.lease = new Lease(lock, {
      pending: () => this.queue.length > 0 && this.outage.failure === null && this.opening.isOpen,
      failure: () => this.outage.failure,
      finished: () => this.closing !== null && this.queue.length === 0,
      closing: () => this.closing !== null,
      refresh: () => this.discovery.refresh(),
      appendQueue: () => this.appendQueue(),
      appendAll: () => this.appendQueue(true),
      failed: (err) => this.outage.fail(err instanceof ChainlogError ? err : fromSystemError(err, 'write to', this.at.cur?.path ?? n.dir)),
      lost: () => this.emit('lockLost'),
    })
    // The rooms get the head, the one way to append outside the queue, and the events they may emit.
    const emit = ((event: keyof ChainWriterEvents, ...args: unknown[]) => void (this.emit as (e: string, ...a: unknown[]) => boolean)(event, ...args)) as Emit<keyof ChainWriterEvents>
    const room = { settings, hashing: this.hashing, at: this.at, appendNow: (stored: string[]) => this.appendNow(stored), emit }
    this.sealing = settings.sealKey ? new Sealing(settings.sealKey, room) : null
    this.checkpointing = settings.checkpointKey ? new Checkpointing(settings.checkpointKey, room) : null
    this.rotation = new Rotation({ ...room, sealing: this.sealing, checkpointing: this.checkpointing })
    this.discovery = new Discovery({ ...room, rotation: this.rotation })
    this.outage = new Outage({ lease: this.lease, emit, rejectWaiters: (err) => this.waiters.reject(err), settle: () => this.settle(), closing: () => this.closing !== null })
    this.opening = new Opening({ settings, lock, discovery: this.discovery, rotation: this.rotation, sealing: this.sealing, checkpointing: this.checkpointing, turns: this.lease.turns, leased: () => this.lease.held, closing: () => this.closing !== null, failed: (err) => this.openFailed(err), opened: () => {
      this.emit('ready')
      if (this.queue.length) this.lease.schedule()
    } })
  }

  /** The chain's id (from the headers). */
  get chain(): string {
    return this.at.chain
  }

  /** The path of the file being written (once `'ready'`). */
  get file(): string {
    return this.at.cur!.path
  }

  /**
   * The head as this writer last saw it (once `'ready'`): keep `hash` and
   * `count` elsewhere to detect truncation later. Call after flush() for the
   * head including every line written so far. Counting reads what other
   * writers appended since the last count.
   */
  head(): ChainHead {
    const cur = this.at.cur!
    return { chain: this.at.chain, hash: this.at.prev, count: countTo(cur), file: cur.path, index: cur.header.index }
  }

  /**
   * Queues one log line (without its newline) as one record.
   * @returns false when the caller should wait for `'drain'` before writing more (or, with `refuse: 'count'`, the line was refused).
   * @throws ChainlogError WRITER_CLOSED after close(); BUFFER_FULL when the disk has been failing and `maxBuffered` bytes are waiting (unless `refuse: 'count'`); INVALID_LINE for bytes that are not UTF-8.
   */
  write(line: string | Uint8Array): boolean {
    if (typeof line !== 'string') line = decodeLine(line)
    return this.enqueue(escapeLine(line))
  }

  /** Queues a metadata record (FORMAT.md §4), in order with the lines around it. */
  writeMeta(meta: Meta): boolean {
    return this.enqueue(metaLine(meta))
  }

  /**
   * Queues a run of lines, each ending with LF, one record per line: the same records as one write() per
   * line. For transports that receive output in chunks; a run needing no escapes is queued as one block. The
   * text is taken or refused whole.
   * @returns false when the caller should wait for `'drain'` before writing more (or the text was refused, as write()).
   * @throws ChainlogError INVALID_LINE when `text` does not end with LF; WRITER_CLOSED, BUFFER_FULL as write()
   */
  writeLines(text: string): boolean {
    if (text === '') return this.queue.bytes < this.settings.highWaterMark && !this.outage.failure
    if (text.charCodeAt(text.length - 1) !== 0x0a) throw new ChainlogError(ErrorCodes.INVALID_LINE, 'writeLines() takes whole lines: the text must end with a newline')
    return this.queueRun('', text)
  }

  /** Queues `head` (one line, or '') then `text` (whole lines, or ''), taken or refused together (joined only to count refusals). */
  private queueRun(head: string, text: string): boolean {
    if (!this.admit(this.outage.failure ? head + text : null, this.throwRefusals)) return false
    this.queue.pushLines(head)
    this.queue.pushLines(text)
    return this.queued()
  }

  /**
   * Takes a chunk of a logger's output, cut anywhere: the lines up to its
   * last LF are queued as by writeLines() (one record per line), and the text
   * after it is kept until a later chunk ends its line. close() and
   * flushSync() write a kept partial line as a record: a last line without
   * newline is still a line.
   * @returns as writeLines()
   * @throws ChainlogError WRITER_CLOSED after close(); BUFFER_FULL as write()
   * @example
   * w.writeChunk('{"msg":"a"}\n{"ms')
   * w.writeChunk('g":"b"}\n') // two records
   */
  writeChunk(text: string): boolean {
    const end = text.lastIndexOf('\n') + 1
    if (end === 0) {
      if (this.closing) throw closedError()
      this.tail += text
      return this.queue.bytes < this.settings.highWaterMark && !this.outage.failure
    }
    // The line the last chunk began is joined alone: joined to the whole run, the run would be copied once more.
    const first = this.tail === '' ? 0 : text.indexOf('\n') + 1
    const head = this.tail === '' ? '' : this.tail + text.slice(0, first)
    // Kept even if the lines are refused: it starts a line of its own.
    this.tail = end === text.length ? '' : text.slice(end)
    return this.queueRun(head, first === 0 && end === text.length ? text : text.slice(first, end))
  }

  private enqueue(stored: string): boolean {
    if (!this.admit(null, this.throwRefusals)) return false
    this.queue.push(stored)
    return this.queued()
  }

  /** Refuses lines after close(), or while a failing disk holds maxBuffered bytes (`lines` as Outage.refuse()). */
  private admit(lines: string | null, mayThrow: boolean): boolean {
    if (this.closing) throw closedError(this.opening.error)
    if (!this.outage.failure || this.queue.bytes <= this.settings.maxBuffered) return true
    this.needDrain = true
    return this.outage.refuse(lines, this.queue.bytes, mayThrow)
  }

  /** A partial last line kept by writeChunk() is still a line: queue it (refused, never thrown, on a failing disk). */
  private queueTail(): void {
    if (this.tail === '') return
    const line = this.tail
    this.tail = ''
    if (this.admit(null, false)) this.queue.push(escapeLine(line))
  }

  /** After queueing: start a batch if enough is waiting; tells whether the caller may go on. */
  private queued(): boolean {
    if (this.queue.bytes >= BATCH_BYTES && !this.outage.failure) this.lease.pump()
    else this.lease.schedule()
    if (this.queue.bytes < this.settings.highWaterMark && !this.outage.failure) return true
    this.needDrain = true
    return false
  }

  /** Appends queued lines (`all`, or about a megabyte) in batches of at most the sink's batchBytes, rotating by size between records. */
  private appendQueue(all = false): void {
    let budget = BATCH_BYTES * 4
    while (this.queue.length && (budget > 0 || all)) {
      const cur = this.at.cur!
      // A file always takes at least one record after its header, however large.
      const batch = this.queue.encode(this.at.prev, this.hashing.hashFn, cur.sink.batchBytes, this.settings.size - cur.end, cur.end <= cur.headerEnd || this.checkpointing?.isFresh(cur) === true)
      if (batch.records > 0) {
        this.put(cur, batch)
        this.queue.commit(batch)
        budget -= batch.bytes.length
        if (this.settings.fsync) cur.sink.fsync()
        this.settle()
        this.sealing?.afterBatch()
      }
      if (batch.full) this.rotation.rotate('size')
    }
  }

  /** Appends records right now (lock held), outside the queue: headers, retention, recovery, seals. */
  private appendNow(stored: string[]): void {
    const cur = this.at.cur!
    // The same encoding as the queue's, through a queue of their own: taken
    // off at once, as the caller redoes the whole step if the fence fails.
    for (const line of stored) this.direct.push(line)
    const batch = this.direct.encode(this.at.prev, this.hashing.hashFn, Infinity, Infinity, true)
    this.direct.commit(batch)
    if (batch.records !== stored.length) throw new Error(`internal: ${stored.length - batch.records} metadata records did not fit their batch`)
    this.put(cur, batch)
    if (this.settings.fsync) cur.sink.fsync()
  }

  /** The fence, one write, and the head moved past it (lock held). The caller commits, then fsyncs. */
  private put(cur: Current, batch: Batch): void {
    this.fence(cur)
    cur.sink.write(batch.bytes, cur.end)
    advance(cur, batch.records, batch.bytes)
    this.at.prev = batch.prev
  }

  /**
   * Last check before a write: the lock is still ours and the file still ends
   * where we think. If not (we were starved long enough for another writer to
   * take the lock over), nothing is written and the batch is redone from a
   * fresh head under a fresh lock.
   */
  private fence(cur: Current): void {
    if (!this.lease.lock.confirm()) throw new HeadMoved()
    if (this.settings.stream) return
    // One stat of the path: removed or replaced under us (writes to an
    // unlinked file would vanish), or grown or cut by someone else. Either way,
    // re-take the lock and look again.
    const st = fs.statSync(cur.sink.path, { throwIfNoEntry: false })
    // And the file still ends in our last record: rewritten to the same size is a cut too (#12).
    if (!st || st.ino !== cur.sink.ino || st.size !== cur.end || isCut(cur, st.size)) throw new HeadMoved()
  }

  private settle(): void {
    this.waiters.settle(this.queue.appended)
    if (this.needDrain && this.queue.bytes < this.settings.highWaterMark / 2) {
      this.needDrain = false
      this.emit('drain')
    }
  }

  /**
   * Resolves once every line written before the call has been handed to the
   * OS (and, with `fsync`, is on disk). Rejects if the disk is failing, or
   * the log could not be opened.
   */
  flush(): Promise<void> {
    const failed = this.outage.failure ?? this.opening.error
    if (failed) return Promise.reject(failed)
    const target = this.queue.queued
    if (this.queue.appended >= target) return Promise.resolve()
    const flushed = this.waiters.wait(target)
    this.lease.pump()
    return flushed
  }

  /**
   * Appends everything queued (a partial line kept by writeChunk() too) before
   * returning, blocking if another writer holds the lock (for at most about
   * `staleLockMs`). For exit paths, where the event loop will not run again. A
   * log not open yet is opened here, synchronously: lines taken before `'ready'` are not lost.
   * @throws ChainlogError when the queue cannot be written, or the log cannot be opened
   */
  flushSync(): void {
    this.queueTail()
    if (this.queue.length === 0) {
      if (this.outage.failure) throw this.outage.failure
      return
    }
    const deadline = Date.now() + this.settings.staleLockMs + 2000
    this.opening.openSync(deadline)
    for (;;) {
      this.lease.lock.acquireSync(deadline, `flush ${this.queue.bytes} bytes of lines`)
      const wasFailing = this.outage.failure
      this.outage.failure = null
      if (this.lease.turn(() => this.appendQueue(true))) return
      // Lost the lock before writing (HeadMoved): take it again. A real failure ends here.
      if (this.outage.failure) throw this.outage.failure
      this.outage.failure = wasFailing
    }
  }

  /** Starts the next file now (under the lock). */
  async rotate(reason?: string): Promise<void> {
    await this.start()
    await this.flush()
    await this.lease.locked(() => this.rotation.rotate(reason))
  }

  /**
   * Appends the rest of the queue (and a partial line kept by writeChunk()),
   * closes the file and waits for retention and compression. A writer whose
   * log could not be opened closes at once.
   */
  close(): Promise<void> {
    if (this.closing) return this.closing
    this.queueTail()
    const flushed = this.flush()
    // Awaited below once the log is open; if it never opens, the failure was reported already.
    flushed.catch(() => undefined)
    this.closing = (async () => {
      this.rotation.stop()
      this.sealing?.stop()
      this.checkpointing?.stop()
      try {
        if (await this.start().then(() => true, () => false)) {
          await flushed
          // A last look under the lock (the seal's turn takes one too): a cut while the writer sat idle is recorded before it goes (#12).
          if (this.sealing) await this.lease.locked(() => this.sealing!.seal('close'))
          else if (!this.outage.failure && !this.checkpointing) await this.lease.locked(() => this.discovery.refresh()).catch(() => undefined)
          // After the close seal, which it covers: the last checkpoint names the chain as this writer leaves it.
          if (this.checkpointing && !this.outage.failure) await this.lease.locked(() => this.checkpointing!.checkpoint())
        }
      } finally {
        this.sealing?.close()
        this.lease.stopRetry()
        if (this.lease.held) this.lease.drop()
        await this.at.cur?.sink.close()
        await this.rotation.settled()
        // An open that failed within this call said 'close' already.
        if (!this.closed) this.emit('close')
        this.closed = true
      }
    })()
    return this.closing
  }

  /** True once close() has finished. */
  get isClosed(): boolean {
    return this.closed
  }

  /**
   * Opens the log (checks its directory, takes the lock, finds or starts the
   * current file), then emits `'ready'`. Runs once; later calls get the same
   * promise. {@link openChainWriter} and {@link createChainWriter} call it.
   */
  start(): Promise<void> {
    return this.opening.start()
  }

  /** The log could not be opened: the writer takes nothing more, and what waits for it fails. */
  private openFailed(err: ChainlogError): void {
    const closing = this.closing !== null
    this.closing ??= Promise.resolve()
    this.waiters.reject(err)
    // Before start() rejects: whoever waits on it hears the error first. Unheard,
    // it is thrown, as EventEmitter throws an unheard 'error' (not into the opening).
    if (this.announce) this.listenerCount('error') ? this.emit('error', err) : process.nextTick(() => { throw err })
    if (closing) return // close() says 'close' once it is done
    this.closed = true
    this.emit('close')
  }
}

function closedError(openError: ChainlogError | null = null): ChainlogError {
  if (openError) return new ChainlogError(ErrorCodes.WRITER_CLOSED, `write() to a log that could not be opened (${openError.message})`, { cause: openError })
  return new ChainlogError(ErrorCodes.WRITER_CLOSED, 'write() after close()')
}

/**
 * Opens a chain writer on `options.file` the way sonic-boom opens a file:
 * the writer is returned at once and takes lines straight away; the log is
 * opened on the next tick (after the caller has added its listeners), and
 * the writer emits `'ready'` once it is open, or `'error'` if it cannot be
 * opened (then it takes nothing more). Lines written before `'ready'` are
 * appended once the log is open, and flushSync() before `'ready'` opens the
 * log synchronously, so lines accepted before an exit are not lost.
 * @throws ChainlogError INVALID_OPTION, KEY_REQUIRED, BAD_KEY (the options and key files are checked synchronously)
 * @example
 * const w = openChainWriter({ file: 'logs/app.log', mkdir: true }, { refuse: 'count' })
 * w.on('error', (err) => console.error(err.code, err.message))
 * w.writeChunk('{"msg":"hello"}\n')
 */
export function openChainWriter(options: ChainWriterOptions, open: OpenOptions = {}): ChainWriter {
  const writer = new ChainWriter(normalize(options), open, true)
  // The writer emits the failure as 'error' itself.
  process.nextTick(() => writer.start().catch(() => undefined))
  return writer
}

/**
 * Opens a chain writer on `options.file`, continuing the existing chain from
 * its last valid record or starting a new one, and resolves once it is open
 * (rejects if it cannot be opened; nothing is emitted then). Any number of
 * writers, in any threads or processes, may open the same log: they append
 * to one chain. `setup` runs before start-up, so listeners it adds also hear
 * the events start-up emits (the first `'new'`, a `'recovery'`). `open` as
 * {@link openChainWriter}'s (`refuse: 'count'` for a transport).
 * @throws ChainlogError INVALID_OPTION, NO_DIRECTORY, ACCESS_DENIED, IS_DIRECTORY, NOT_CHAINLOG, UNSUPPORTED_VERSION, KEY_REQUIRED, BAD_KEY
 */
export async function createChainWriter(options: ChainWriterOptions, setup?: (writer: ChainWriter) => void, open: OpenOptions = {}): Promise<ChainWriter> {
  const writer = new ChainWriter(normalize(options), open)
  setup?.(writer)
  await writer.start()
  return writer
}
