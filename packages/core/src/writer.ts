import { EventEmitter } from 'node:events'
import * as crypto from 'node:crypto'
import * as fs from 'node:fs'
import * as path from 'node:path'
import { createHashFn, keyId, type Algorithm, type HashFn } from './algorithm'
import { gzipFile } from './compress'
import { ChainlogError, ErrorCodes, fromSystemError } from './errors'
import { LogLock } from './lock'
import { FORMAT_VERSION, metaLine, type DeletedFile, type HeaderMeta, type Meta } from './meta'
import { type LogFileEntry } from './naming'
import { RecordQueue } from './queue'
import { escapeLine, GENESIS, HASH_HEX, isHash, isPlainText, RECORD_OVERHEAD } from './record'
import { countLines, readTail, type FileTail } from './scan'
import { Sealer, type SealKind } from './seal'
import { nextBoundary, normalize, periodStart, type ChainWriterOptions, type Settings } from './settings'
import { FileSink } from './sink'

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

/** The file being appended to, as last seen under the lock. */
interface Current {
  sink: FileSink
  path: string
  name: string
  number: number
  header: HeaderMeta
  /** Byte size of the file after our last append or re-read. */
  end: number
  /** Byte offset just after the header line. */
  headerEnd: number
  /** Lines known up to `countedTo` bytes (from the header's seq); the rest is counted when asked. */
  counted: number
  countedTo: number
}

/** Thrown inside a lock hold when the lock was taken over or the file moved: nothing was written. */
class HeadMoved extends Error {}

/** The longest a busy writer keeps the lock before letting others in, ms. */
const LEASE_MS = 50
/** How long the lock is kept after the last batch, for the next one, ms. */
const GRACE_MS = 2
/** After a full lease, how long a writer waits before asking for the lock again, ms. */
const COOLDOWN_MS = 2

/** Lines handed to the OS per lock hold, at most (bounds how long one writer holds the lock). */
const BATCH_BYTES = 256 * 1024
const RETRY_MS = 500

const NEWLINE = Buffer.from('\n')
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

/**
 * Appends records to one chain, safely shared by any number of writers
 * (threads or processes) pointed at the same log path.
 *
 * `write()` queues the line. The queue is appended in batches: the writer
 * takes the log's lock, re-reads the head from disk if anyone else appended
 * or rotated since its last batch, hashes the batch against that head,
 * appends it with one write through sonic-boom, and releases the lock. So
 * the chain never forks, bytes never interleave, and each writer's lines keep
 * their order. Rotation and retention happen under the same lock, by whichever
 * writer finds them due; the others follow when they next take the lock.
 *
 * Events: `'new'` (path) for each file this writer started, `'rotate'`
 * ({ from, to }), `'remove'` (path) for each file deleted by retention,
 * `'recovery'` ({ file, reason, length }) when a torn or broken tail was
 * found, `'drain'` after write() returned false, `'error'` (ChainlogError),
 * `'resume'` ({ refused }) when a failing disk accepts writes again, `'close'`.
 * Past `maxBuffered`, lines are refused with BUFFER_FULL: the first refusal of
 * a failing spell is also emitted as `'error'`, and `'resume'` counts them all.
 *
 * @example
 * const w = await createChainWriter({ file: 'logs/app.log', size: '10m', mkdir: true })
 * w.write('{"level":30,"msg":"hello"}')
 * await w.close()
 */
export class ChainWriter extends EventEmitter {
  readonly algorithm: Algorithm
  private readonly settings: Settings
  private readonly hashFn: HashFn
  private readonly keyId?: string
  private readonly lock: LogLock
  private cur: Current | null = null
  private chainId = ''
  private prev = GENESIS
  /** Records waiting to be appended, in order; flush() waits for its appended count to pass its mark. */
  private readonly queue = new RecordQueue()
  /** Encodes the records appendNow() writes outside the queue (headers, retention, recovery, seals). */
  private readonly direct = new RecordQueue()
  private waiters: { target: number; resolve: () => void; reject: (err: Error) => void }[] = []
  private scheduled = false
  private waitingForLock = false
  private failure: ChainlogError | null = null
  /** Lines refused with BUFFER_FULL since the disk started failing. */
  private refused = 0
  private needDrain = false
  /** This writer holds the log lock across batches (see underLock). */
  private leaseHeld = false
  private leaseStart = 0
  private graceTimer: NodeJS.Timeout | undefined
  /** When the last batch under the current lease was appended. */
  private lastBatchAt = 0
  private cooldownUntil = 0
  private closing: Promise<void> | null = null
  private closed = false
  private rotateTimer: NodeJS.Timeout | undefined
  private retryTimer: NodeJS.Timeout | undefined
  /** Compression and deletion of rotated files run one after another, off the write path. */
  private background: Promise<void> = Promise.resolve()
  private readonly sealer: Sealer | null
  /** Chain position after this writer's last seal, and when it was made. */
  private lastSealCount = -1
  private lastSealTime = 0
  private sealTimer: NodeJS.Timeout | undefined
  private sealErrorReported = false

  /** Use {@link createChainWriter}. */
  constructor(settings: Settings) {
    super()
    this.settings = settings
    this.algorithm = settings.algorithm
    this.hashFn = createHashFn(settings.algorithm, settings.key ? { key: settings.key } : {})
    if (settings.key) this.keyId = keyId(settings.key)
    this.sealer = settings.sealKey ? new Sealer(settings.sealKey) : null
    const n = settings.naming
    this.lock = new LogLock(path.join(n.dir, n.stem + n.extension), {
      staleMs: settings.staleLockMs,
      onCompromised: (err) => this.emit('error', new ChainlogError(ErrorCodes.LOCK_LOST, `the log lock was taken over while held (${err.message}); another writer thought this one dead`, { cause: err })),
    })
  }

  /** The chain's id (from the headers). */
  get chain(): string {
    return this.chainId
  }

  /** The path of the file being written. */
  get file(): string {
    return this.cur!.path
  }

  /**
   * The head as this writer last saw it: keep `hash` and `count` elsewhere to
   * detect truncation later. Call after flush() for the head including every
   * line written so far. Counting reads what other writers appended since the
   * last count.
   */
  head(): ChainHead {
    const cur = this.cur!
    if (cur.countedTo < cur.end) {
      try {
        cur.counted += countLines(cur.path, cur.countedTo, cur.end)
        cur.countedTo = cur.end
      } catch {
        // The file is gone (removed under the writer): what it held is lost with it.
      }
    }
    return { chain: this.chainId, hash: this.prev, count: cur.counted, file: cur.path, index: cur.header.index }
  }

  /**
   * Queues one log line (without its newline) as one record.
   * @returns false when the caller should wait for `'drain'` before writing more.
   * @throws ChainlogError WRITER_CLOSED after close(); BUFFER_FULL when the disk has been failing and `maxBuffered` bytes are waiting; INVALID_LINE for bytes that are not UTF-8.
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
   * @returns false when the caller should wait for `'drain'` before writing more.
   * @throws ChainlogError INVALID_LINE when `text` does not end with LF; WRITER_CLOSED, BUFFER_FULL as write()
   */
  writeLines(text: string): boolean {
    if (text === '') return this.queue.bytes < this.settings.highWaterMark && !this.failure
    if (text.charCodeAt(text.length - 1) !== 0x0a) throw new ChainlogError(ErrorCodes.INVALID_LINE, 'writeLines() takes whole lines: the text must end with a newline')
    this.admit(text)
    if (isPlainText(text)) this.queue.pushBlock(text)
    else for (let start = 0, nl = text.indexOf('\n'); nl !== -1; start = nl + 1, nl = text.indexOf('\n', start)) this.queue.push(escapeLine(text.slice(start, nl)))
    return this.queued()
  }

  private enqueue(stored: string): boolean {
    this.admit(null)
    this.queue.push(stored)
    return this.queued()
  }

  /**
   * Refuses a line after close(), or while a failing disk holds maxBuffered
   * bytes (`lines`: the text of writeLines(), or null for one line).
   */
  private admit(lines: string | null): void {
    if (this.closing) throw new ChainlogError(ErrorCodes.WRITER_CLOSED, 'write() after close()')
    if (this.failure && this.queue.bytes > this.settings.maxBuffered) {
      let n = 1
      if (lines !== null) for (let nl = lines.indexOf('\n'); nl !== -1 && nl < lines.length - 1; nl = lines.indexOf('\n', nl + 1)) n++
      const err = new ChainlogError(ErrorCodes.BUFFER_FULL, `${n === 1 ? 'the line was' : `${n} lines were`} not logged: ${this.queue.bytes} bytes are waiting for a failing disk (${this.failure.message})`, { cause: this.failure })
      if (this.refused === 0) this.emit('error', err)
      this.refused += n
      throw err
    }
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
   * background. Lines queued meanwhile join the next batch.
   */
  private pump(): void {
    // While the disk fails, the retry timer alone tries again.
    if (this.waitingForLock || this.queue.length === 0 || this.failure) return
    const wait = this.cooldownUntil - Date.now()
    if (wait > 0 && !this.leaseHeld) {
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
    void this.lock.acquire().then(() => {
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
      return this.lock.tryAcquire()
    } catch (err) {
      this.lockFailed(err)
      return false
    }
  }

  private lockFailed(err: unknown): void {
    this.waitingForLock = false
    this.fail(err instanceof ChainlogError ? err : fromSystemError(err, 'take the lock', `${this.lock.path}.lock`))
  }

  /**
   * Runs `fn` with the lock held (it must be held on entry). Returns false if
   * it failed.
   *
   * Taking the lock costs a few metadata syscalls (mkdir, utimes, stat, rmdir:
   * over a millisecond on a journaling file system), so a busy writer keeps it
   * as a lease across batches: up to LEASE_MS in all, and released GRACE_MS
   * after its last batch. Nobody else can append while we hold it, so the head
   * is re-read from disk only when the lease is taken afresh.
   */
  private underLock(fn: () => void): boolean {
    let ok = true
    try {
      if (!this.leaseHeld) {
        this.refresh()
        this.leaseHeld = true
        this.leaseStart = Date.now()
      }
      fn()
    } catch (err) {
      ok = false
      this.dropLease()
      if (err instanceof HeadMoved) {
        // Nothing was written; the queue is intact. Try again with the lock taken afresh.
        this.emit('lockLost')
        this.schedule()
        return false
      }
      this.fail(err instanceof ChainlogError ? err : fromSystemError(err, 'write to', this.cur?.path ?? this.settings.naming.dir))
    }
    if (ok) this.keepOrRelease()
    if (this.queue.length && !this.failure) this.schedule()
    return ok
  }

  /** After a batch: keep the lease for the next one, unless it is old enough that others deserve a turn. */
  private keepOrRelease(): void {
    // Closing with nothing left to write: let go now rather than after GRACE_MS.
    if (this.closing && this.queue.length === 0) {
      this.dropLease()
      return
    }
    if (Date.now() - this.leaseStart >= LEASE_MS) {
      this.dropLease()
      // Let writers polling for the lock in, before we ask for it again.
      this.cooldownUntil = Date.now() + COOLDOWN_MS
      return
    }
    // One timer per lease, not one per batch: when it fires it lets go if no
    // batch came for GRACE_MS, and otherwise waits out the rest.
    this.lastBatchAt = Date.now()
    if (!this.graceTimer) this.armGrace(GRACE_MS)
  }

  private armGrace(ms: number): void {
    this.graceTimer = setTimeout(this.graceBound, ms)
    this.graceTimer.unref()
  }

  private readonly graceBound = () => {
    this.graceTimer = undefined
    if (!this.leaseHeld) return
    const idle = Date.now() - this.lastBatchAt
    if (idle >= GRACE_MS) this.dropLease()
    else this.armGrace(GRACE_MS - idle)
  }

  private dropLease(): void {
    clearTimeout(this.graceTimer)
    this.graceTimer = undefined
    this.leaseHeld = false
    this.lock.releaseLock()
  }

  /** Appends queued lines in batches of at most BATCH_BYTES, rotating by size between records. */
  private appendQueue(): void {
    let budget = BATCH_BYTES * 4
    while (this.queue.length && budget > 0) {
      const cur = this.cur!
      // A file always takes at least one record after its header, however large.
      const batch = this.queue.encode(this.prev, this.hashFn, BATCH_BYTES, this.settings.size - cur.end, cur.end <= cur.headerEnd)
      if (batch.records > 0) {
        const bytes = batch.bytes.length
        this.fence(cur)
        cur.sink.write(batch.bytes, cur.end)
        this.counted(cur, batch.records, bytes)
        this.prev = batch.prev
        this.queue.commit(batch)
        budget -= bytes
        if (this.settings.fsync) cur.sink.fsync()
        this.settle()
        if (this.sealer && this.head().count - this.lastSealCount >= this.settings.sealEvery) this.appendSeal('interval')
      }
      if (batch.full) this.rotateLocked('size')
    }
  }

  /** Appends records right now (lock held), outside the queue: headers, retention, recovery, seals. */
  private appendNow(stored: string[]): void {
    const cur = this.cur!
    // The same encoding as the queue's, through a queue of their own: taken
    // off at once, as the caller redoes the whole step if the fence fails.
    for (const line of stored) this.direct.push(line)
    const batch = this.direct.encode(this.prev, this.hashFn, Infinity, Infinity, true)
    this.direct.commit(batch)
    if (batch.records !== stored.length) throw new Error(`internal: ${stored.length - batch.records} metadata records did not fit their batch`)
    this.fence(cur)
    cur.sink.write(batch.bytes, cur.end)
    this.counted(cur, batch.records, batch.bytes.length)
    this.prev = batch.prev
    if (this.settings.fsync) cur.sink.fsync()
  }

  /**
   * Last check before a write: the lock is still ours and the file still ends
   * where we think. If not (we were starved long enough for another writer to
   * take the lock over), nothing is written and the batch is redone from a
   * fresh head under a fresh lock.
   */
  private fence(cur: Current): void {
    if (!this.lock.confirm()) throw new HeadMoved()
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

  /**
   * Appends a signed seal over the current head (lock held). A sealing
   * failure (an expired key, a clock before the key) is reported once and
   * logging goes on unsealed: the verifier shows the unsealed records.
   */
  private appendSeal(kind: SealKind): void {
    const sealer = this.sealer!
    const count = this.head().count
    let meta
    try {
      meta = sealer.seal({ chain: this.chainId, count, head: this.prev, time: this.settings.now(), kind, every: this.settings.sealInterval })
    } catch (err) {
      if (!this.sealErrorReported) {
        this.sealErrorReported = true
        this.emit('error', err instanceof ChainlogError ? err : new ChainlogError(ErrorCodes.IO_ERROR, `sealing failed: ${(err as Error).message}`, { cause: err }))
      }
      this.lastSealCount = count
      this.lastSealTime = this.settings.now()
      return
    }
    this.appendNow([metaLine(meta)])
    this.lastSealCount = count + 1
    this.lastSealTime = meta.time
    this.emit('seal', { count: count + 1, head: this.prev, time: meta.time, epoch: meta.epoch, kind })
  }

  /** Heartbeat: seal at least every sealInterval, also when nothing is logged. */
  private startSealTimer(): void {
    if (!this.sealer) return
    const every = this.settings.sealInterval
    this.sealTimer = setInterval(() => {
      if (this.closing || this.waitingForLock || this.failure) return
      if (this.settings.now() - this.lastSealTime < every * 0.9) return
      this.waitingForLock = true
      void this.lock.acquire().then(() => {
        this.waitingForLock = false
        this.underLock(() => {
          this.appendQueue()
          if (this.settings.now() - this.lastSealTime >= every * 0.9) this.appendSeal(this.head().count > this.lastSealCount ? 'interval' : 'heartbeat')
        })
      }, (err: unknown) => this.lockFailed(err))
    }, Math.max(50, Math.floor(every / 4)))
    this.sealTimer.unref()
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
   * OS (and, with `fsync`, is on disk). Rejects if the disk is failing.
   */
  flush(): Promise<void> {
    if (this.failure) return Promise.reject(this.failure)
    const target = this.queue.queued
    if (this.queue.appended >= target) return Promise.resolve()
    return new Promise<void>((resolve, reject) => {
      this.waiters.push({ target, resolve, reject })
      this.pump()
    })
  }

  /**
   * Appends everything queued before returning, blocking if another writer
   * holds the lock (for at most about `staleLockMs`). For exit paths where the
   * event loop will not run again: pino calls it on `process.exit()`.
   * @throws ChainlogError when the queue cannot be written
   */
  flushSync(): void {
    if (this.queue.length === 0) {
      if (this.failure) throw this.failure
      return
    }
    const deadline = Date.now() + this.settings.staleLockMs + 2000
    const nap = new Int32Array(new SharedArrayBuffer(4))
    for (;;) {
      while (!this.lock.tryAcquire()) {
        if (Date.now() > deadline) throw new ChainlogError(ErrorCodes.LOCK_TIMEOUT, `could not take the lock ${this.lock.path}.lock to flush ${this.queue.bytes} bytes of lines`)
        Atomics.wait(nap, 0, 0, 2)
      }
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
      await this.lock.acquire()
      if (this.underLock(fn)) return
      if (this.failure) throw this.failure
    }
  }

  /** Starts the next file now (under the lock). */
  async rotate(reason?: string): Promise<void> {
    await this.flush()
    await this.locked(() => this.rotateLocked(reason))
  }

  /** Appends the rest of the queue, closes the file and waits for retention and compression. */
  close(): Promise<void> {
    if (this.closing) return this.closing
    const flushed = this.flush()
    this.closing = (async () => {
      clearTimeout(this.rotateTimer)
      clearInterval(this.sealTimer)
      try {
        await flushed
        if (this.sealer) await this.locked(() => this.appendSeal('close'))
      } finally {
        this.sealer?.close()
        clearInterval(this.retryTimer)
        this.retryTimer = undefined
        if (this.leaseHeld) this.dropLease()
        await this.cur?.sink.close()
        await this.background
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
    const waiters = this.waiters
    this.waiters = []
    for (const w of waiters) w.reject(err)
    if (!this.retryTimer && !this.closing) {
      this.retryTimer = setInterval(() => this.retry(), RETRY_MS)
      this.retryTimer.unref()
    }
    if (first) this.emit('error', err)
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

  // ---- the head on disk ---------------------------------------------------

  /**
   * With the lock held: makes sure this writer appends after the true head.
   * If the file grew, shrank, vanished or was replaced, or another writer
   * rotated to a newer file, the head is read again from disk.
   */
  private refresh(): void {
    const cur = this.cur
    if (!cur) return this.discover()
    let st: fs.Stats | null = null
    try {
      st = fs.statSync(cur.path)
    } catch {
      st = null
    }
    const newest = this.settings.naming.list().filter((f) => !f.gz).at(-1)
    if (st && st.ino === cur.sink.ino && st.size === cur.end && newest?.path === cur.path) return
    if (!st || st.ino !== cur.sink.ino) {
      if (!newest || newest.number <= cur.number) {
        // Our file is gone and nobody started a newer one: lines written to it are lost with it.
        this.emit('error', new ChainlogError(ErrorCodes.FILE_REMOVED, `${cur.path} was removed or replaced while being written; continuing in a new file`, { path: cur.path }))
        return this.rotateLocked('file-removed')
      }
    }
    this.discover()
  }

  /** Finds the newest file of the log and continues from its last valid record. */
  private discover(): void {
    const s = this.settings
    const files = s.naming.list()
    let entry = files.at(-1) ?? null
    let tail = entry ? readTail(entry.path) : null
    if (entry && tail && tail.size === 0 && !entry.gz) {
      // Created but never written (a writer died right after creating it). It
      // holds no evidence; remove it and continue from the file before it.
      fs.rmSync(entry.path, { force: true })
      entry = files.at(-2) ?? null
      tail = entry ? readTail(entry.path) : null
    }
    if (!entry || !tail) {
      this.chainId = this.chainId || (s.chainId ?? crypto.randomBytes(16).toString('hex'))
      return this.startFile(1, 0, null, GENESIS, 0, undefined)
    }
    const header = tail.header
    if (!header) throw new ChainlogError(ErrorCodes.NOT_CHAINLOG, `${entry.path} exists but is not a chainlog file (its first line is not a chainlog header); move it away or log to another path`, { path: entry.path })
    if (header.v !== FORMAT_VERSION) throw new ChainlogError(ErrorCodes.UNSUPPORTED_VERSION, `${entry.path} is chainlog format ${header.v}; this version writes format ${FORMAT_VERSION}`, { path: entry.path })
    this.chainId = header.chain
    const foreign = header.alg !== this.algorithm || header.keyId !== this.keyId
    // A file of another algorithm is checked with its own hash (not ours, which would call any tail broken);
    // an hmac-sha256 file under another key cannot be checked here.
    const ownHash = !foreign ? this.hashFn : header.alg === 'sha256' || header.alg === 'blake3' ? createHashFn(header.alg) : null
    const broken = ownHash ? brokenTail(tail, ownHash) : null
    const fresh = !this.cur && !s.append
    if (entry.gz || broken || foreign || fresh) {
      // Never append to a finished, broken or differently-keyed file: start the next one.
      const lastHash = tail.last && isHash(tail.last.hash) ? tail.last.hash : GENESIS
      const lines = countLines(entry.path)
      const reason = broken ? 'broken-tail' : foreign ? 'algorithm-change' : fresh ? 'restart' : undefined
      this.startFile(entry.number + 1, header.index + 1, header.file, lastHash, header.seq + lines, reason)
      if (broken) {
        this.appendNow([metaLine({ t: 'recovery', time: new Date(s.now()).toISOString(), reason: 'broken-tail', file: entry.name, detail: broken })])
        this.emit('recovery', { file: entry.path, reason: 'broken-tail' } satisfies RecoveryEvent)
      }
      return
    }
    if (this.cur?.path !== entry.path) {
      if (this.cur) void this.cur.sink.close()
      this.cur = { sink: this.openSink(entry.path), path: entry.path, name: entry.name, number: entry.number, header, end: tail.end, headerEnd: tail.headerEnd, counted: header.seq, countedTo: 0 }
      this.linkCurrent(this.cur)
    }
    const cur = this.cur
    cur.end = tail.end
    if (cur.countedTo > cur.end) {
      cur.counted = header.seq
      cur.countedTo = 0
    }
    this.prev = tail.last!.hash
    if (tail.fragment) this.terminateFragment(tail.fragment)
  }

  /**
   * A writer died mid-append and left bytes after the last newline. If they are
   * the whole last record (only its newline is missing) it is completed;
   * otherwise the fragment is terminated and a recovery record names its length
   * and SHA-256, so the verifier reports a recovered torn tail, not tampering.
   */
  private terminateFragment(fragment: Buffer): void {
    const cur = this.cur!
    const text = fragment.toString('latin1')
    cur.end += fragment.length
    if (text.length >= RECORD_OVERHEAD - 1 && text.startsWith(this.prev) && text.charCodeAt(HASH_HEX) === 0x7c && text.charCodeAt(text.length - HASH_HEX - 1) === 0x7c) {
      const hash = text.slice(-HASH_HEX)
      if (isHash(hash) && this.hashFn(fragment.subarray(0, fragment.length - HASH_HEX - 1)) === hash) {
        cur.sink.write(NEWLINE, cur.end)
        cur.end += 1
        this.prev = hash
        return
      }
    }
    cur.sink.write(NEWLINE, cur.end)
    cur.end += 1
    const sha256 = crypto.createHash('sha256').update(fragment).digest('hex')
    this.appendNow([metaLine({ t: 'recovery', time: new Date(this.settings.now()).toISOString(), reason: 'torn-tail', length: fragment.length, sha256 })])
    this.emit('recovery', { file: cur.path, reason: 'torn-tail', length: fragment.length } satisfies RecoveryEvent)
  }

  // ---- files --------------------------------------------------------------

  private openSink(filePath: string): FileSink {
    const s = this.settings
    try {
      if (s.mkdir) fs.mkdirSync(path.dirname(filePath), { recursive: true })
      return new FileSink(filePath, { ...(s.mode !== undefined && { mode: s.mode }), fsync: s.fsync })
    } catch (err) {
      throw fromSystemError(err, 'open log file', filePath)
    }
  }

  /** Creates file `number` with its header (lock held). */
  private startFile(number: number, index: number, prevFile: string | null, prevHash: string, seq: number, reason: string | undefined): void {
    const s = this.settings
    const filePath = s.naming.pathFor(number, s.now())
    const sink = this.openSink(filePath)
    const size = sink.size()
    if (size !== 0) {
      void sink.close()
      throw new ChainlogError(ErrorCodes.NOT_CHAINLOG, `${filePath} already exists; cannot start a new chain file there`, { path: filePath })
    }
    const header: HeaderMeta = { t: 'header', v: FORMAT_VERSION, alg: this.algorithm, chain: this.chainId, index, file: path.basename(filePath), prevFile, prevHash, seq, time: new Date(s.now()).toISOString() }
    if (this.keyId) header.keyId = this.keyId
    if (reason) header.reason = reason
    const old = this.cur
    this.cur = { sink, path: filePath, name: header.file, number, header, end: 0, headerEnd: 0, counted: seq, countedTo: 0 }
    this.prev = prevHash
    this.appendNow([metaLine(header)])
    this.cur.headerEnd = this.cur.end
    if (old) void old.sink.close()
    this.linkCurrent(this.cur)
    this.emit('new', filePath)
  }

  /** Rotation, with the lock held and the head fresh. */
  private rotateLocked(reason?: string): void {
    const old = this.cur!
    if (this.sealer && reason !== 'file-removed') this.appendSeal('rotation')
    const seq = this.head().count
    this.startFile(old.number + 1, old.header.index + 1, old.name, this.prev, seq, reason === 'size' || reason === 'time' ? undefined : reason)
    this.emit('rotate', { from: old.path, to: this.cur!.path } satisfies RotateEvent)
    this.applyRetention(old.path)
  }

  private linkCurrent(cur: Current): void {
    const name = this.settings.symlink
    if (!name) return
    const link = path.join(path.dirname(cur.path), name)
    const tmp = `${link}.${process.pid}.${crypto.randomBytes(4).toString('hex')}.tmp`
    try {
      fs.symlinkSync(cur.name, tmp)
      fs.renameSync(tmp, link)
    } catch (err) {
      fs.rmSync(tmp, { force: true })
      this.emit('error', fromSystemError(err, 'update the symlink', link))
    }
  }

  /**
   * Deletes the oldest files past `limit.count` (lock held). The retention
   * record naming each deleted file and its last hash is appended first; the
   * files are deleted only after it is written.
   */
  private applyRetention(rotated: string): void {
    const s = this.settings
    if (s.compress) {
      this.background = this.background
        .then(() => gzipFile(rotated, s.mode))
        .then(() => undefined, (err: unknown) => {
          // Retention may delete a file before its compression ran: nothing was lost.
          if ((err as NodeJS.ErrnoException).code !== 'ENOENT') this.emit('error', fromSystemError(err, 'compress rotated file', rotated))
        })
    }
    if (s.keep === undefined && s.keepDays === undefined) return
    const seen = new Set<string>()
    const files = s.naming.list().filter((f) => {
      const plain = f.gz ? f.path.slice(0, -3) : f.path
      if (plain === this.cur!.path || seen.has(plain)) return false
      seen.add(plain)
      return true
    })
    let excess = s.keep === undefined ? 0 : files.length - s.keep
    if (s.keepDays !== undefined) {
      // Only a run of the oldest files: deleting one from the middle would break the chain.
      const cutoff = s.now() - s.keepDays * 86_400_000
      let old = 0
      while (old < files.length && fileTime(files[old]!.path) < cutoff) old++
      excess = Math.max(excess, old)
    }
    if (excess <= 0) return
    const doomed = files.slice(0, excess).map((f) => ({ entry: f, info: describeFile(f) }))
    this.appendNow([metaLine({ t: 'retention', time: new Date(s.now()).toISOString(), deleted: doomed.map((d) => d.info) })])
    for (const { entry } of doomed) {
      const plain = entry.gz ? entry.path.slice(0, -3) : entry.path
      const remove = () => {
        for (const target of [plain, plain + '.gz']) {
          if (!fs.existsSync(target)) continue
          fs.rmSync(target, { force: true })
          this.emit('remove', target)
        }
      }
      // A file still being compressed goes too: the compression job finds its source gone and stops.
      try {
        remove()
      } catch (err) {
        this.emit('error', fromSystemError(err, 'delete rotated file', plain))
      }
    }
  }

  // ---- start-up -----------------------------------------------------------

  /** Takes the lock and finds (or starts) the current file. */
  async start(): Promise<void> {
    await this.lock.acquire()
    try {
      this.discover()
      if (this.sealer) {
        this.lastSealCount = this.head().count
        this.lastSealTime = this.settings.now()
      }
    } finally {
      this.lock.releaseLock()
    }
    this.startTimer()
    this.startSealTimer()
  }

  private startTimer(): void {
    const s = this.settings
    if (s.frequency === undefined) return
    const frequency = s.frequency
    const now = s.now()
    this.rotateTimer = setTimeout(() => {
      if (this.closing) return
      // Every writer has this timer; the first to take the lock after the boundary
      // rotates, the others find a file that already belongs to the new period.
      void this.lock.acquire().then(() => {
        this.underLock(() => {
          if (Date.parse(this.cur!.header.time) < periodStart(frequency, s.now())) this.rotateLocked('time')
        })
        this.startTimer()
      }, (err: unknown) => {
        this.lockFailed(err)
        this.startTimer()
      })
    }, Math.max(1, nextBoundary(frequency, now) - now))
    this.rotateTimer.unref()
  }
}

/** Last modification time of a file in ms, or Infinity when it cannot be read (it is then kept). */
function fileTime(file: string): number {
  try {
    return fs.statSync(file).mtimeMs
  } catch {
    return Infinity
  }
}

/** Last hash, index and line count of a finished file, read from the file. */
function describeFile(f: LogFileEntry): DeletedFile {
  const tail = readTail(f.path)
  return { file: tail.header?.file ?? f.name, index: tail.header?.index ?? -1, lastHash: tail.last?.hash ?? '', records: countLines(f.path) }
}

/** Why the last complete record of a file cannot be continued from, or null if it can. */
function brokenTail(tail: FileTail, hashFn: HashFn): string | null {
  if (!tail.last || !tail.lastBytes) return tail.lastBytes ? 'the last line is not a record' : 'the file has no complete record'
  const body = tail.lastBytes.subarray(0, tail.lastBytes.length - HASH_HEX - 1)
  if (hashFn(body) !== tail.last.hash) return 'the last record does not match its hash'
  return null
}

/**
 * Opens a chain writer on `options.file`, continuing the existing chain from
 * its last valid record or starting a new one. Any number of writers, in any
 * threads or processes, may open the same log: they append to one chain.
 * `setup` runs before start-up, so listeners it adds also hear the events
 * start-up emits (the first `'new'`, a `'recovery'`): the transports need them.
 * @throws ChainlogError INVALID_OPTION, NO_DIRECTORY, ACCESS_DENIED, IS_DIRECTORY, NOT_CHAINLOG, UNSUPPORTED_VERSION, KEY_REQUIRED, BAD_KEY
 */
export async function createChainWriter(options: ChainWriterOptions, setup?: (writer: ChainWriter) => void): Promise<ChainWriter> {
  const s = normalize(options)
  const dir = s.naming.dir
  try {
    const st = await fs.promises.stat(dir)
    if (!st.isDirectory()) throw new ChainlogError(ErrorCodes.NO_DIRECTORY, `${dir} is not a directory`, { path: dir })
  } catch (err) {
    if (err instanceof ChainlogError) throw err
    if ((err as NodeJS.ErrnoException).code === 'ENOENT' && s.mkdir) {
      try {
        await fs.promises.mkdir(dir, { recursive: true })
      } catch (e) {
        throw fromSystemError(e, 'create directory', dir)
      }
    } else throw fromSystemError(err, 'use directory', dir)
  }
  const writer = new ChainWriter(s)
  setup?.(writer)
  await writer.start()
  return writer
}
