import { EventEmitter } from 'node:events'
import * as fs from 'node:fs'
import * as path from 'node:path'
import { createHashFn, keyId, MIN_KEY_BYTES, type Algorithm } from './algorithm'
import { countTo, Discovery, type Current, type Hashing, type Position } from './discovery'
import { ChainlogError, ErrorCodes, fromSystemError } from './errors'
import { loadKey } from './key'
import { Lease, type Turns } from './lease'
import { LogLock } from './lock'
import { metaLine, type Meta } from './meta'
import { FileNaming } from './naming'
import { invalidOption, parseAlgorithm, parseBoolean, parseCount, parseFrequency, parseMode, parseSize, type Frequency } from './options'
import { RecordQueue } from './queue'
import { escapeLine, GENESIS, isPlainText, RECORD_OVERHEAD } from './record'
import { Rotation } from './rotation'
import { Sealing, type SealEvent } from './sealing'
import { checkDirectory } from './sink'

/** Options of {@link createChainWriter}. Rotation names mirror pino-roll. */
export interface ChainWriterOptions {
  /** Base path of the log, e.g. `logs/app.log`; files are `logs/app.1.log`, `logs/app.2.log`, … */
  file: string
  /** Extension after the file number; by default the extension of `file`. */
  extension?: string
  /** Rotate when the next record would make the file larger than this (`'10m'`, `'512k'`, bytes). */
  size?: number | string
  /** Rotate at every period boundary: `'daily'`, `'hourly'` or milliseconds. */
  frequency?: Frequency | string
  /** date-fns format of a date part in file names, e.g. `'yyyy-MM-dd'` gives `app.2026-11-22.1.log`. */
  dateFormat?: string
  /**
   * Retention: keep `count` rotated files besides the current one, and/or only
   * rotated files whose last write is less than `days` days old; older ones are
   * deleted (and recorded in the chain). Checked at each rotation.
   */
  limit?: { count?: number; days?: number }
  /** Create the directory if it is missing. */
  mkdir?: boolean
  /** Keep a symlink to the current file: `true` for `current.log`, or a file name. */
  symlink?: boolean | string
  /** Gzip rotated files to `app.1.log.gz`. */
  compress?: boolean
  /** fsync after every batch, and make flush() wait for the disk. */
  fsync?: boolean
  /** File mode of new log files, e.g. `0o640`. */
  mode?: number | string
  /** `false` starts a fresh file (same chain) at start-up instead of appending to the last one. Nothing is ever truncated. */
  append?: boolean
  /** Chain hash: `sha256` (default), `blake3` or `hmac-sha256`. */
  algorithm?: Algorithm
  /** Key for `hmac-sha256`: the bytes, or use `keyFile`. */
  key?: Uint8Array
  /** Path of the key file for `hmac-sha256`. */
  keyFile?: string
  /** write() returns false (wait for 'drain') while more than this many bytes of lines wait in memory. Default 16 MiB. */
  highWaterMark?: number | string
  /** Bytes that may wait in memory while the disk fails (ENOSPC, EIO); past that, write() and writeLines() throw BUFFER_FULL (writeLines() takes or refuses its text whole). Default 64 MiB. */
  maxBuffered?: number | string
  /** How long a dead writer's lock blocks the others before it is taken over, in ms (>= 2000). Default 3000. */
  staleLockMs?: number
  /** Path of the sealing state made by `chainlog keygen` (`<dir>/seal.key`): appends signed, forward-secure seals. */
  sealKey?: string
  /** Seal after this many records (per writer). Default 1000. */
  sealEvery?: number
  /** Seal at least this often, in ms, also when idle (heartbeat). Default 60000. */
  sealInterval?: number
  /** Clock, for tests and fixtures. */
  now?: () => number
  /** Chain id for a new chain, for tests and fixtures. Random by default. */
  chainId?: string
}

/** The writer's current position: the value to keep elsewhere to detect truncation. */
export interface ChainHead {
  chain: string
  /** Hash of the last record in the chain. */
  hash: string
  /** Number of physical lines in the chain so far (the position after the head). */
  count: number
  /** Path of the current file. */
  file: string
  /** Index of the current file in the chain. */
  index: number
}

export interface RotateEvent {
  from: string
  to: string
}

/** Payload of `'resume'`: how many lines were refused (BUFFER_FULL) while the disk failed. */
export interface ResumeEvent {
  refused: number
}

export interface RecoveryEvent {
  file: string
  reason: 'torn-tail' | 'broken-tail'
  length?: number
}

interface Settings {
  naming: FileNaming
  size: number
  frequency?: Frequency
  keep?: number
  keepDays?: number
  mkdir: boolean
  symlink?: string
  compress: boolean
  fsync: boolean
  mode?: number
  append: boolean
  algorithm: Algorithm
  key?: Uint8Array
  maxBuffered: number
  highWaterMark: number
  staleLockMs: number
  sealKey?: string
  sealEvery: number
  sealInterval: number
  now: () => number
  chainId?: string
}

/** Lines handed to the OS per lock hold, at most (bounds how long one writer holds the lock). */
const BATCH_BYTES = 256 * 1024
/** Default highWaterMark: write() returns false while more than this many bytes wait in the queue. */
const HIGH_WATER_MARK = 16 * 1024 * 1024
const DEFAULT_MAX_BUFFERED = 64 * 1024 * 1024
const RETRY_MS = 500

const utf8 = new TextDecoder('utf-8', { fatal: true })

/** Lines given as bytes must be UTF-8: the chain hashes the stored text, and the file is UTF-8. */
function decodeLine(line: unknown): string {
  if (!(line instanceof Uint8Array)) throw new TypeError(`write() expects a string or Uint8Array, got ${typeof line}`)
  try {
    return utf8.decode(line)
  } catch {
    throw new ChainlogError(ErrorCodes.INVALID_LINE, 'the line is not valid UTF-8; pass a string, or bytes that are UTF-8')
  }
}

function normalize(options: ChainWriterOptions): Settings {
  if (options === null || typeof options !== 'object') throw invalidOption('options must be an object with at least { file }')
  const naming = new FileNaming(options.file, { ...(options.extension !== undefined && { extension: options.extension }), ...(options.dateFormat !== undefined && { dateFormat: options.dateFormat }) })
  const algorithm = parseAlgorithm(options.algorithm)
  let key: Uint8Array | undefined
  if (options.key !== undefined) {
    if (!(options.key instanceof Uint8Array)) throw invalidOption('key must be a Buffer or Uint8Array; use keyFile for a path')
    if (options.key.length < MIN_KEY_BYTES) throw invalidOption(`key must be at least ${MIN_KEY_BYTES} bytes (as a key file must); got ${options.key.length}`)
    key = options.key
  } else if (options.keyFile !== undefined) {
    if (typeof options.keyFile !== 'string') throw invalidOption(`keyFile must be a path; got ${JSON.stringify(options.keyFile)}`)
    key = loadKey(options.keyFile)
  }
  if (algorithm === 'hmac-sha256' && !key) throw new ChainlogError(ErrorCodes.KEY_REQUIRED, "algorithm 'hmac-sha256' needs keyFile (a file of at least 32 secret bytes)")
  if (algorithm !== 'hmac-sha256' && key) throw invalidOption(`a key was given but algorithm is ${algorithm}; set algorithm: 'hmac-sha256' to use it`)
  let keep: number | undefined
  let keepDays: number | undefined
  if (options.limit !== undefined) {
    if (options.limit === null || typeof options.limit !== 'object') throw invalidOption(`limit must be an object such as { count: 14 }; got ${JSON.stringify(options.limit)}`)
    if (options.limit.count !== undefined) keep = parseCount(options.limit.count, 'limit.count')
    if (options.limit.days !== undefined) {
      keepDays = parseCount(options.limit.days, 'limit.days')
      if (keepDays < 1) throw invalidOption('limit.days must be at least 1')
    }
  }
  let symlink: string | undefined
  if (options.symlink === true) symlink = 'current' + naming.extension
  else if (typeof options.symlink === 'string' && options.symlink !== '' && !/[/\\]/.test(options.symlink)) symlink = options.symlink
  else if (options.symlink !== undefined && options.symlink !== false) throw invalidOption(`symlink must be true, false or a file name; got ${JSON.stringify(options.symlink)}`)
  if (options.now !== undefined && typeof options.now !== 'function') throw invalidOption('now must be a function returning milliseconds')
  if (options.chainId !== undefined && (typeof options.chainId !== 'string' || !/^[0-9a-f]{32}$/.test(options.chainId))) throw invalidOption('chainId must be 32 lowercase hex characters')
  const staleLockMs = options.staleLockMs === undefined ? 3000 : parseCount(options.staleLockMs, 'staleLockMs')
  if (staleLockMs < 2000) throw invalidOption(`staleLockMs must be at least 2000; got ${staleLockMs}`)
  const settings: Settings = {
    naming,
    size: options.size === undefined ? Infinity : parseSize(options.size),
    mkdir: parseBoolean(options.mkdir, 'mkdir', false),
    compress: parseBoolean(options.compress, 'compress', false),
    fsync: parseBoolean(options.fsync, 'fsync', false),
    append: parseBoolean(options.append, 'append', true),
    algorithm,
    maxBuffered: options.maxBuffered === undefined ? DEFAULT_MAX_BUFFERED : parseSize(options.maxBuffered, 'maxBuffered'),
    highWaterMark: options.highWaterMark === undefined ? HIGH_WATER_MARK : parseSize(options.highWaterMark, 'highWaterMark'),
    staleLockMs,
    sealEvery: options.sealEvery === undefined ? 1000 : parseCount(options.sealEvery, 'sealEvery'),
    sealInterval: options.sealInterval === undefined ? 60_000 : parseCount(options.sealInterval, 'sealInterval'),
    now: options.now ?? Date.now,
  }
  if (settings.sealEvery < 1) throw invalidOption('sealEvery must be at least 1 record')
  if (settings.sealInterval < 100) throw invalidOption(`sealInterval must be at least 100 ms; got ${settings.sealInterval}`)
  if (options.sealKey !== undefined) {
    if (typeof options.sealKey !== 'string' || options.sealKey === '') throw invalidOption(`sealKey must be the path of seal.key made by chainlog keygen; got ${JSON.stringify(options.sealKey)}`)
    settings.sealKey = options.sealKey
  }
  if (settings.size < RECORD_OVERHEAD + 256) throw invalidOption(`size must be at least ${RECORD_OVERHEAD + 256} bytes; got ${settings.size}`)
  if (options.frequency !== undefined) settings.frequency = parseFrequency(options.frequency)
  if (keep !== undefined) settings.keep = keep
  if (keepDays !== undefined) settings.keepDays = keepDays
  if (symlink !== undefined) settings.symlink = symlink
  const mode = parseMode(options.mode)
  if (mode !== undefined) settings.mode = mode
  if (key) settings.key = key
  if (options.chainId !== undefined) settings.chainId = options.chainId
  return settings
}

export type { Settings }

/** Thrown inside a lock hold when the lock was taken over or the file moved: nothing was written. */
class HeadMoved extends Error {}

/**
 * Every event a {@link ChainWriter} emits, with its arguments. The writer's
 * `on`, `once`, `off` and `emit` are typed by it.
 */
export interface ChainWriterEvents {
  /** The log is open (its head found or its first file started): lines written before are appended from now on. */
  ready: []
  /** A file this writer started, the first one too. */
  new: [file: string]
  rotate: [event: RotateEvent]
  /** A file deleted by retention (after the retention record naming it was written). */
  remove: [file: string]
  /** A torn or broken tail was found and recorded. */
  recovery: [event: RecoveryEvent]
  /** A seal was appended (with `sealKey`). */
  seal: [event: SealEvent]
  /** The lock was lost before a write (another writer took it over as stale): nothing was written; the batch is redone under a fresh lock. */
  lockLost: []
  /** write() returned false, and the queue has gone down since. */
  drain: []
  /**
   * A failure: the first failed append of a failing spell (DISK_FULL, IO_ERROR,
   * …), the first refusal of one (BUFFER_FULL), LOCK_LOST, FILE_REMOVED, a
   * sealing failure, a symlink, compression or deletion that failed; and
   * for {@link openChainWriter}, the log that could not be opened.
   */
  error: [err: ChainlogError]
  /** A failing disk takes writes again; `refused` lines were turned away meanwhile (BUFFER_FULL). */
  resume: [event: ResumeEvent]
  /** close() has finished. */
  close: []
}

/** A typed emit, narrowed to the events `K` (what a room beside the writer may emit). */
export type Emit<K extends keyof ChainWriterEvents> = <E extends K>(event: E, ...args: ChainWriterEvents[E]) => void

/** How {@link openChainWriter}'s writer is opened, beside the options of the log. */
export interface OpenOptions {
  /**
   * Lines arriving while a failing disk holds `maxBuffered` bytes:
   * `'throw'` (the default) throws BUFFER_FULL out of write(), writeLines()
   * and writeChunk(); `'count'` turns them away without throwing (the call
   * returns false). Either way the first refusal of a failing spell is
   * emitted as `'error'` and `'resume'` counts them all: a transport opens
   * with `'count'` and forwards those two events.
   */
  refuse?: 'throw' | 'count'
}

/**
 * Appends records to one chain, safely shared by any number of writers
 * (threads or processes) pointed at the same log path.
 *
 * `write()` queues the line. The queue is appended in batches: the writer
 * takes the log's lock (held as a short lease across batches, lease.ts),
 * re-reads the head from disk if anyone else appended or rotated since
 * (discovery.ts), hashes the batch against that head (queue.ts), checks the
 * fence, and appends it with one write. So the chain never forks, bytes
 * never interleave, and each writer's lines keep their order. Rotation and
 * retention (rotation.ts) happen under the same lock, by whichever writer
 * finds them due; the others follow when they next take the lock. Seals
 * (sealing.ts) are appended when due.
 *
 * Events: see {@link ChainWriterEvents}. Past `maxBuffered`, lines are
 * refused with BUFFER_FULL: the first refusal of a failing spell is also
 * emitted as `'error'`, and `'resume'` counts them all.
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
  /** Where the next record goes; discovery and rotation move it under the lock. */
  private readonly at: Position = { cur: null, prev: GENESIS, chain: '' }
  /** Records waiting to be appended, in order; flush() waits for its appended count to pass its mark. */
  private readonly queue = new RecordQueue()
  /** Encodes the records appendNow() writes outside the queue (headers, retention, recovery, seals). */
  private readonly direct = new RecordQueue()
  /** Text after the last LF given to writeChunk(): the start of a line still coming. */
  private tail = ''
  private readonly throwRefusals: boolean
  private waiters: { target: number; resolve: () => void; reject: (err: Error) => void }[] = []
  private scheduled = false
  private waitingForLock = false
  private opening: Promise<void> | null = null
  private opened = false
  private openError: ChainlogError | null = null
  private failure: ChainlogError | null = null
  /** Lines refused with BUFFER_FULL since the disk started failing. */
  private refused = 0
  private needDrain = false
  private closing: Promise<void> | null = null
  private closed = false
  private retryTimer: NodeJS.Timeout | undefined

  /** Use {@link openChainWriter} or {@link createChainWriter}. */
  constructor(settings: Settings, open: OpenOptions = {}) {
    super()
    this.settings = settings
    this.algorithm = settings.algorithm
    this.throwRefusals = open.refuse !== 'count'
    this.hashing = { algorithm: settings.algorithm, hashFn: createHashFn(settings.algorithm, settings.key ? { key: settings.key } : {}), keyId: settings.key ? keyId(settings.key) : undefined }
    const n = settings.naming
    this.lease = new Lease(new LogLock(path.join(n.dir, n.stem + n.extension), {
      staleMs: settings.staleLockMs,
      onCompromised: (err) => this.emit('error', new ChainlogError(ErrorCodes.LOCK_LOST, `the log lock was taken over while held (${err.message}); another writer thought this one dead`, { cause: err })),
    }))
    // The rooms get the head, the one way to append outside the queue, and the events they may emit.
    const emit = ((event: keyof ChainWriterEvents, ...args: unknown[]) => void (this.emit as (e: string, ...a: unknown[]) => boolean)(event, ...args)) as Emit<keyof ChainWriterEvents>
    const room = { settings, hashing: this.hashing, at: this.at, appendNow: (stored: string[]) => this.appendNow(stored), emit }
    this.sealing = settings.sealKey ? new Sealing(settings.sealKey, room) : null
    this.rotation = new Rotation({ ...room, sealing: this.sealing })
    this.discovery = new Discovery({ ...room, rotation: this.rotation })
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
    const count = countTo(cur)
    return { chain: this.at.chain, hash: this.at.prev, count, file: cur.path, index: cur.header.index }
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
   * Queues a run of lines, each ending with LF, one record per line: the same
   * records as one write() per line. For transports that receive output in
   * chunks; a run needing no escapes is queued as one block. The text is
   * taken or refused whole.
   * @returns false when the caller should wait for `'drain'` before writing more (or the text was refused, as write()).
   * @throws ChainlogError INVALID_LINE when `text` does not end with LF; WRITER_CLOSED, BUFFER_FULL as write()
   */
  writeLines(text: string): boolean {
    if (text === '') return this.queue.bytes < this.settings.highWaterMark && !this.failure
    if (text.charCodeAt(text.length - 1) !== 0x0a) throw new ChainlogError(ErrorCodes.INVALID_LINE, 'writeLines() takes whole lines: the text must end with a newline')
    if (!this.admit(text, this.throwRefusals)) return false
    if (isPlainText(text)) this.queue.pushBlock(text)
    else for (let start = 0, nl = text.indexOf('\n'); nl !== -1; start = nl + 1, nl = text.indexOf('\n', start)) this.queue.push(escapeLine(text.slice(start, nl)))
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
      return this.queue.bytes < this.settings.highWaterMark && !this.failure
    }
    let lines = end === text.length ? text : text.slice(0, end)
    if (this.tail !== '') lines = this.tail + lines
    // Kept even if the lines are refused: it starts a line of its own.
    this.tail = end === text.length ? '' : text.slice(end)
    return this.writeLines(lines)
  }

  private enqueue(stored: string): boolean {
    if (!this.admit(null, this.throwRefusals)) return false
    this.queue.push(stored)
    return this.queued()
  }

  /**
   * Refuses lines after close(), or while a failing disk holds maxBuffered
   * bytes (`lines`: the text of writeLines(), or null for one line). Returns
   * false for refused lines, or throws BUFFER_FULL for them if `mayThrow`.
   */
  private admit(lines: string | null, mayThrow: boolean): boolean {
    if (this.closing) throw closedError(this.openError)
    if (!this.failure || this.queue.bytes <= this.settings.maxBuffered) return true
    let n = 1
    if (lines !== null) for (let nl = lines.indexOf('\n'); nl !== -1 && nl < lines.length - 1; nl = lines.indexOf('\n', nl + 1)) n++
    const first = this.refused === 0
    if (first || mayThrow) {
      const err = new ChainlogError(ErrorCodes.BUFFER_FULL, `${n === 1 ? 'the line was' : `${n} lines were`} not logged: ${this.queue.bytes} bytes are waiting for a failing disk (${this.failure.message})`, { cause: this.failure })
      if (first) this.emit('error', err)
      this.refused += n
      if (mayThrow) throw err
    } else this.refused += n
    this.needDrain = true
    return false
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
    if (this.queue.bytes >= BATCH_BYTES && !this.failure) this.pump()
    else this.schedule()
    if (this.queue.bytes < this.settings.highWaterMark && !this.failure) return true
    this.needDrain = true
    return false
  }

  private schedule(): void {
    if (this.scheduled) return
    this.scheduled = true
    setImmediate(this.pumpBound)
  }

  private readonly pumpBound = () => {
    this.scheduled = false
    this.pump()
  }

  /**
   * Appends the queue now if the lock is free; otherwise waits for it in the
   * background. Lines queued meanwhile join the next batch. Lines written
   * before the log is open wait for it.
   */
  private pump(): void {
    // While the disk fails, the retry timer alone tries again.
    if (this.waitingForLock || this.queue.length === 0 || this.failure || !this.opened) return
    const wait = this.lease.cooldown()
    if (wait > 0) {
      if (!this.scheduled) {
        this.scheduled = true
        setTimeout(this.pumpBound, wait)
      }
      return
    }
    if (this.tryLock()) {
      this.underLock(() => this.appendQueue())
      return
    }
    if (this.failure) return
    this.waitingForLock = true
    void this.lease.lock.acquire().then(() => {
      this.waitingForLock = false
      this.underLock(() => this.appendQueue())
    }, (err: unknown) => this.lockFailed(err))
  }

  /**
   * Takes the lock if it is free. A lock that cannot be taken at all (its
   * directory was removed, permissions changed) fails the writer like a failed
   * write, rather than throwing out of a timer and taking the process down.
   */
  private tryLock(): boolean {
    try {
      return this.lease.lock.tryAcquire()
    } catch (err) {
      this.lockFailed(err)
      return false
    }
  }

  private lockFailed(err: unknown): void {
    this.waitingForLock = false
    this.fail(err instanceof ChainlogError ? err : fromSystemError(err, 'take the lock', `${this.lease.lock.path}.lock`))
  }

  /**
   * Runs `fn` with the lock held (it must be held on entry), under the lease:
   * the head is made fresh when the lease is taken afresh. Returns false if
   * it failed.
   */
  private underLock(fn: () => void): boolean {
    let ok = true
    try {
      if (!this.lease.held) {
        this.discovery.refresh()
        this.lease.begin()
      }
      fn()
    } catch (err) {
      ok = false
      this.lease.drop()
      if (err instanceof HeadMoved) {
        // Nothing was written; the queue is intact. Try again with the lock taken afresh.
        this.emit('lockLost')
        this.schedule()
        return false
      }
      this.fail(err instanceof ChainlogError ? err : fromSystemError(err, 'write to', this.at.cur?.path ?? this.settings.naming.dir))
    }
    if (ok) this.lease.afterBatch(this.closing !== null && this.queue.length === 0)
    if (this.queue.length && !this.failure) this.schedule()
    return ok
  }

  /** How the rooms' timers take their turn under the lock. */
  private readonly turns: Turns = {
    busy: () => this.closing !== null || this.waitingForLock || this.failure !== null,
    afterQueue: (fn) => {
      this.waitingForLock = true
      void this.lease.lock.acquire().then(() => {
        this.waitingForLock = false
        this.underLock(() => {
          this.appendQueue()
          fn()
        })
      }, (err: unknown) => this.lockFailed(err))
    },
    whenLocked: (fn) => this.lease.lock.acquire().then(() => void this.underLock(fn), (err: unknown) => this.lockFailed(err)),
  }

  /** Appends queued lines in batches of at most BATCH_BYTES, rotating by size between records. */
  private appendQueue(): void {
    const at = this.at
    let budget = BATCH_BYTES * 4
    while (this.queue.length && budget > 0) {
      const cur = at.cur!
      // A file always takes at least one record after its header, however large.
      const batch = this.queue.encode(at.prev, this.hashing.hashFn, BATCH_BYTES, this.settings.size - cur.end, cur.end <= cur.headerEnd)
      if (batch.records > 0) {
        const bytes = batch.bytes.length
        this.fence(cur)
        cur.sink.write(batch.bytes, cur.end)
        this.counted(cur, batch.records, bytes)
        at.prev = batch.prev
        this.queue.commit(batch)
        budget -= bytes
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
    this.fence(cur)
    cur.sink.write(batch.bytes, cur.end)
    this.counted(cur, batch.records, batch.bytes.length)
    this.at.prev = batch.prev
    if (this.settings.fsync) cur.sink.fsync()
  }

  /**
   * Last check before a write: the lock is still ours and the file still ends
   * where we think. If not (we were starved long enough for another writer to
   * take the lock over), nothing is written and the batch is redone from a
   * fresh head under a fresh lock.
   */
  private fence(cur: Current): void {
    if (!this.lease.lock.confirm()) throw new HeadMoved()
    // One stat of the path: removed or replaced under us (writes to an
    // unlinked file would vanish), or grown or cut by someone else. Either way,
    // re-take the lock and look again.
    const st = fs.statSync(cur.path, { throwIfNoEntry: false })
    if (!st || st.ino !== cur.sink.ino || st.size !== cur.end) throw new HeadMoved()
  }

  /** Advances the file end past our own append, keeping the line count exact without reading it back. */
  private counted(cur: Current, lines: number, bytes: number): void {
    if (cur.countedTo === cur.end) {
      cur.counted += lines
      cur.countedTo += bytes
    }
    cur.end += bytes
  }

  private settle(): void {
    if (this.waiters.length) {
      const still: typeof this.waiters = []
      for (const w of this.waiters) (this.queue.appended >= w.target ? w.resolve() : still.push(w))
      this.waiters = still
    }
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
    if (this.failure) return Promise.reject(this.failure)
    if (this.openError) return Promise.reject(this.openError)
    const target = this.queue.queued
    if (this.queue.appended >= target) return Promise.resolve()
    return new Promise<void>((resolve, reject) => {
      this.waiters.push({ target, resolve, reject })
      this.pump()
    })
  }

  /**
   * Appends everything queued before returning, a partial line kept by
   * writeChunk() too, blocking if another writer holds the lock (for at most
   * about `staleLockMs`). For exit paths where the event loop will not run
   * again: the transports call it on `process.exit()`. A log not open yet is
   * opened here, synchronously, so that lines written before `'ready'` are
   * not lost.
   * @throws ChainlogError when the queue cannot be written, or the log cannot be opened
   */
  flushSync(): void {
    this.queueTail()
    if (this.queue.length === 0) {
      if (this.failure) throw this.failure
      return
    }
    if (this.openError) throw this.openError
    const deadline = Date.now() + this.settings.staleLockMs + 2000
    const nap = new Int32Array(new SharedArrayBuffer(4))
    const takeLock = () => {
      while (!this.lease.lock.tryAcquire()) {
        if (Date.now() > deadline) throw new ChainlogError(ErrorCodes.LOCK_TIMEOUT, `could not take the lock ${this.lease.lock.path}.lock to flush ${this.queue.bytes} bytes of lines`)
        Atomics.wait(nap, 0, 0, 2)
      }
    }
    if (!this.opened) {
      try {
        checkDirectory(this.settings.naming.dir, this.settings.mkdir)
        takeLock()
        this.openLocked()
      } catch (err) {
        throw this.openFailed(err)
      }
    }
    for (;;) {
      takeLock()
      const wasFailing = this.failure
      this.failure = null
      if (this.underLock(() => {
        while (this.queue.length) this.appendQueue()
      })) return
      // Lost the lock before writing (HeadMoved): take it again. A real failure ends here.
      if (this.failure) throw this.failure
      this.failure = wasFailing
    }
  }

  /** Runs `fn` under the lock, taking it afresh if it was lost before anything was written. */
  private async locked(fn: () => void): Promise<void> {
    for (;;) {
      await this.lease.lock.acquire()
      if (this.underLock(fn)) return
      if (this.failure) throw this.failure
    }
  }

  /** Starts the next file now (under the lock). */
  async rotate(reason?: string): Promise<void> {
    await this.start()
    await this.flush()
    await this.locked(() => this.rotation.rotate(reason))
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
      try {
        if (await this.start().then(() => true, () => false)) {
          await flushed
          if (this.sealing) await this.locked(() => this.sealing!.seal('close'))
        }
      } finally {
        this.sealing?.close()
        clearInterval(this.retryTimer)
        this.retryTimer = undefined
        if (this.lease.held) this.lease.drop()
        await this.at.cur?.sink.close()
        await this.rotation.settled()
        this.closed = true
        this.emit('close')
      }
    })()
    return this.closing
  }

  /** True once close() has finished. */
  get isClosed(): boolean {
    return this.closed
  }

  // ---- failures -----------------------------------------------------------

  /** An append failed: tell the caller once, keep the queue, and retry until the disk takes it. */
  private fail(err: ChainlogError): void {
    const first = this.failure === null
    this.failure = err
    this.rejectWaiters(err)
    if (!this.retryTimer && !this.closing) {
      this.retryTimer = setInterval(() => this.retry(), RETRY_MS)
      this.retryTimer.unref()
    }
    if (first) this.emit('error', err)
  }

  private rejectWaiters(err: ChainlogError): void {
    const waiters = this.waiters
    this.waiters = []
    for (const w of waiters) w.reject(err)
  }

  /** Tries the queue again while the disk fails; the failure stays set (and unreported again) until a batch goes through. */
  private retry(): void {
    if (!this.tryLock()) return
    const ok = this.underLock(() => {
      while (this.queue.length) this.appendQueue()
    })
    if (!ok) return
    this.failure = null
    clearInterval(this.retryTimer)
    this.retryTimer = undefined
    this.settle()
    const resumed: ResumeEvent = { refused: this.refused }
    this.refused = 0
    this.emit('resume', resumed)
  }

  // ---- opening ------------------------------------------------------------

  /**
   * Opens the log: checks its directory, takes the lock and finds (or
   * starts) the current file, then emits `'ready'`. Runs once; later calls
   * get the same promise. Lines written meanwhile wait in the queue.
   * {@link openChainWriter} and {@link createChainWriter} call it.
   */
  start(): Promise<void> {
    this.opening ??= this.open()
    return this.opening
  }

  private async open(): Promise<void> {
    try {
      if (this.opened) return
      if (this.openError) throw this.openError
      checkDirectory(this.settings.naming.dir, this.settings.mkdir)
      if (!this.lease.lock.tryAcquire()) await this.lease.lock.acquire()
      if (this.opened || this.openError) {
        // flushSync() opened it (or failed to) while this waited for the lock.
        if (!this.lease.held) this.lease.lock.releaseLock()
        if (this.openError) throw this.openError
        return
      }
      this.openLocked()
    } catch (err) {
      throw this.openFailed(err)
    }
  }

  /** With the lock just taken: finds the head, lets it go, and starts the timers and the queue. */
  private openLocked(): void {
    try {
      this.discovery.discover()
      this.sealing?.begin()
    } finally {
      this.lease.lock.releaseLock()
    }
    this.opened = true
    if (!this.closing) {
      this.rotation.startTimer(this.turns)
      this.sealing?.startHeartbeat(this.turns)
    }
    this.emit('ready')
    if (this.queue.length) this.schedule()
  }

  /** The log could not be opened: the writer takes nothing more, and what waits for it fails. */
  private openFailed(err: unknown): ChainlogError {
    if (this.openError) return this.openError
    const e = err instanceof ChainlogError ? err : fromSystemError(err, 'open the log', this.settings.naming.dir)
    this.openError = e
    this.closing ??= Promise.resolve()
    this.closed = true
    this.rotation.stop()
    this.sealing?.stop()
    this.sealing?.close()
    this.rejectWaiters(e)
    return e
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
  const writer = new ChainWriter(normalize(options), open)
  process.nextTick(() => {
    writer.start().then(() => undefined, (err: ChainlogError) => writer.emit('error', err))
  })
  return writer
}

/**
 * Opens a chain writer on `options.file`, continuing the existing chain from
 * its last valid record or starting a new one, and resolves once it is open
 * (rejects if it cannot be opened; nothing is emitted then). Any number of
 * writers, in any threads or processes, may open the same log: they append
 * to one chain. `setup` runs before start-up, so listeners it adds also hear
 * the events start-up emits (the first `'new'`, a `'recovery'`).
 * @throws ChainlogError INVALID_OPTION, NO_DIRECTORY, ACCESS_DENIED, IS_DIRECTORY, NOT_CHAINLOG, UNSUPPORTED_VERSION, KEY_REQUIRED, BAD_KEY
 */
export async function createChainWriter(options: ChainWriterOptions, setup?: (writer: ChainWriter) => void): Promise<ChainWriter> {
  const writer = new ChainWriter(normalize(options))
  setup?.(writer)
  await writer.start()
  return writer
}
