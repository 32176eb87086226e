import { EventEmitter } from 'node:events'
import * as crypto from 'node:crypto'
import * as fs from 'node:fs'
import * as path from 'node:path'
import SonicBoom from 'sonic-boom'
import { createHashFn, keyId, type Algorithm, type HashFn } from './algorithm'
import { gzipFile } from './compress'
import { ChainlogError, ErrorCodes, fromSystemError } from './errors'
import { loadKey } from './key'
import { FORMAT_VERSION, metaLine, type DeletedFile, type HeaderMeta, type Meta } from './meta'
import { FileNaming, type LogFileEntry } from './naming'
import { invalidOption, nextBoundary, parseAlgorithm, parseBoolean, parseCount, parseFrequency, parseMode, parseSize, type Frequency } from './options'
import { escapeLine, GENESIS, HASH_HEX, isHash, RECORD_OVERHEAD } from './record'
import { scanFile, type FileTail } from './scan'

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
  /** Retention: keep `count` rotated files besides the current one; older ones are deleted (and recorded in the chain). */
  limit?: { count?: number }
  /** Create the directory if it is missing. */
  mkdir?: boolean
  /** Keep a symlink to the current file: `true` for `current.log`, or a file name. */
  symlink?: boolean | string
  /** Gzip rotated files to `app.1.log.gz`. */
  compress?: boolean
  /** fsync after every write, and make flush() wait for the disk. */
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
  /** Bytes sonic-boom gathers before a write (0 writes as soon as possible; batches form while a write is in flight). */
  minLength?: number
  /** Bytes that may wait in memory while the disk fails (ENOSPC, EIO); past that, write() throws BUFFER_FULL. Default 64 MiB. */
  maxBuffered?: number | string
  /** Clock, for tests and fixtures. */
  now?: () => number
  /** Chain id for a new chain, for tests and fixtures. Random by default. */
  chainId?: string
}

/** The writer's current position: the value to keep elsewhere to detect truncation. */
export interface ChainHead {
  chain: string
  /** Hash of the last record written. */
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

export interface RecoveryEvent {
  file: string
  reason: 'torn-tail' | 'broken-tail'
  length?: number
}

interface FileState {
  path: string
  name: string
  index: number
  sonic: SonicBoom
  fd: number
  /** end() or destroy() was called on the sonic-boom. */
  ended: boolean
  ino: number
  /** Bytes in the file, counting what is still buffered. */
  bytes: number
  /** Physical lines in the file, counting the header. */
  lines: number
  closed: Promise<void>
}

interface Settings {
  naming: FileNaming
  size: number
  frequency?: Frequency
  keep?: number
  mkdir: boolean
  symlink?: string
  compress: boolean
  fsync: boolean
  mode?: number
  append: boolean
  algorithm: Algorithm
  key?: Uint8Array
  minLength: number
  maxBuffered: number
  now: () => number
  chainId?: string
}

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

/** Records gathered before one hand-off to sonic-boom (UTF-16 units, about bytes for log text). */
const BATCH_BYTES = 64 * 1024
/** write() returns false while more than this many bytes wait for the OS. */
const HIGH_WATER_MARK = 1024 * 1024
const DEFAULT_MAX_BUFFERED = 64 * 1024 * 1024
const RETRY_MS = 1000
const WATCH_MS = 1000

function normalize(options: ChainWriterOptions): Settings {
  if (options === null || typeof options !== 'object') throw invalidOption('options must be an object with at least { file }')
  const naming = new FileNaming(options.file, { ...(options.extension !== undefined && { extension: options.extension }), ...(options.dateFormat !== undefined && { dateFormat: options.dateFormat }) })
  const algorithm = parseAlgorithm(options.algorithm)
  let key: Uint8Array | undefined
  if (options.key !== undefined) {
    if (!(options.key instanceof Uint8Array)) throw invalidOption('key must be a Buffer or Uint8Array; use keyFile for a path')
    key = options.key
  } else if (options.keyFile !== undefined) {
    if (typeof options.keyFile !== 'string') throw invalidOption(`keyFile must be a path; got ${JSON.stringify(options.keyFile)}`)
    key = loadKey(options.keyFile)
  }
  if (algorithm === 'hmac-sha256' && !key) throw new ChainlogError(ErrorCodes.KEY_REQUIRED, "algorithm 'hmac-sha256' needs keyFile (a file of at least 32 secret bytes)")
  if (algorithm !== 'hmac-sha256' && key) throw invalidOption(`a key was given but algorithm is ${algorithm}; set algorithm: 'hmac-sha256' to use it`)
  let keep: number | undefined
  if (options.limit !== undefined) {
    if (options.limit === null || typeof options.limit !== 'object') throw invalidOption(`limit must be an object such as { count: 14 }; got ${JSON.stringify(options.limit)}`)
    if (options.limit.count !== undefined) keep = parseCount(options.limit.count, 'limit.count')
  }
  let symlink: string | undefined
  if (options.symlink === true) symlink = 'current' + naming.extension
  else if (typeof options.symlink === 'string' && options.symlink !== '' && !/[/\\]/.test(options.symlink)) symlink = options.symlink
  else if (options.symlink !== undefined && options.symlink !== false) throw invalidOption(`symlink must be true, false or a file name; got ${JSON.stringify(options.symlink)}`)
  const minLength = options.minLength === undefined ? 0 : parseCount(options.minLength, 'minLength')
  if (minLength >= 16 * 1024) throw invalidOption(`minLength must be below 16384 bytes; got ${minLength}`)
  if (options.now !== undefined && typeof options.now !== 'function') throw invalidOption('now must be a function returning milliseconds')
  if (options.chainId !== undefined && (typeof options.chainId !== 'string' || !/^[0-9a-f]{32}$/.test(options.chainId))) throw invalidOption('chainId must be 32 lowercase hex characters')
  const settings: Settings = {
    naming,
    size: options.size === undefined ? Infinity : parseSize(options.size),
    mkdir: parseBoolean(options.mkdir, 'mkdir', false),
    compress: parseBoolean(options.compress, 'compress', false),
    fsync: parseBoolean(options.fsync, 'fsync', false),
    append: parseBoolean(options.append, 'append', true),
    algorithm,
    minLength,
    maxBuffered: options.maxBuffered === undefined ? DEFAULT_MAX_BUFFERED : parseSize(options.maxBuffered, 'maxBuffered'),
    now: options.now ?? Date.now,
  }
  if (settings.size < RECORD_OVERHEAD + 256) throw invalidOption(`size must be at least ${RECORD_OVERHEAD + 256} bytes; got ${settings.size}`)
  if (options.frequency !== undefined) settings.frequency = parseFrequency(options.frequency)
  if (keep !== undefined) settings.keep = keep
  if (symlink !== undefined) settings.symlink = symlink
  const mode = parseMode(options.mode)
  if (mode !== undefined) settings.mode = mode
  if (key) settings.key = key
  if (options.chainId !== undefined) settings.chainId = options.chainId
  return settings
}

/**
 * Appends records to a chain through one serialized queue per file.
 *
 * `write()` is synchronous: it hashes the record against the current head and
 * hands the bytes to sonic-boom, which batches everything queued while a write
 * is in flight into one syscall. Rotation happens between records, so a record
 * is never split across files, and each file starts with a header record that
 * links to the previous file's last hash.
 *
 * Events: `'new'` (path) for each file started, `'rotate'` ({ from, to }),
 * `'remove'` (path) for each file deleted by retention, `'recovery'`
 * ({ file, reason }) when a torn or broken tail was found at start-up,
 * `'drain'` after write() returned false, `'error'` (ChainlogError), `'close'`.
 *
 * @example
 * const w = await createChainWriter({ file: 'logs/app.log', size: '10m', mkdir: true })
 * w.write('{"level":30,"msg":"hello"}')
 * await w.close()
 */
export class ChainWriter extends EventEmitter {
  readonly algorithm: Algorithm
  readonly chain: string
  private readonly settings: Settings
  private readonly hashFn: HashFn
  private readonly keyId?: string
  private current!: FileState
  private prev = GENESIS
  private count = 0
  private number = 0
  /** Bytes handed to sonic-boom, over all files. */
  private appended = 0
  /** Bytes the OS accepted, over all files. */
  private written = 0
  private waiters: { target: number; resolve: () => void; reject: (err: Error) => void }[] = []
  private failure: ChainlogError | null = null
  private closing: Promise<void> | null = null
  private closed = false
  private needDrain = false
  private readonly highWaterMark = HIGH_WATER_MARK
  private batch = ''
  private batchBytes = 0
  private batchFile: FileState | null = null
  private batchScheduled = false
  private rotateTimer: NodeJS.Timeout | undefined
  private retryTimer: NodeJS.Timeout | undefined
  private watchTimer: NodeJS.Timeout | undefined
  /** Retention and compression run one after another, off the write path. */
  private background: Promise<void> = Promise.resolve()
  /** What this writer knows about finished files, by path, for retention records. */
  private finished = new Map<string, DeletedFile>()
  /** Plain paths named in a retention record whose deletion has not finished. */
  private deleting = new Set<string>()

  /** Use {@link createChainWriter}. */
  constructor(settings: Settings, state: { chain: string; prev: string; count: number; number: number; index: number }) {
    super()
    this.settings = settings
    this.algorithm = settings.algorithm
    this.chain = state.chain
    this.hashFn = createHashFn(settings.algorithm, settings.key ? { key: settings.key } : {})
    if (settings.key) this.keyId = keyId(settings.key)
    this.prev = state.prev
    this.count = state.count
    this.number = state.number
  }

  /** The current head: keep `hash` and `count` elsewhere to detect truncation later. */
  head(): ChainHead {
    return { chain: this.chain, hash: this.prev, count: this.count, file: this.current.path, index: this.current.index }
  }

  /** The path of the file being written. */
  get file(): string {
    return this.current.path
  }

  /**
   * Appends one log line (without its newline) as one record.
   * @returns false when the caller should wait for `'drain'` before writing more.
   * @throws ChainlogError WRITER_CLOSED after close(); BUFFER_FULL when the disk has been failing and `maxBuffered` bytes are waiting.
   */
  write(line: string | Uint8Array): boolean {
    if (this.closing) throw new ChainlogError(ErrorCodes.WRITER_CLOSED, 'write() after close()')
    if (this.failure && this.appended - this.written > this.settings.maxBuffered) {
      throw new ChainlogError(ErrorCodes.BUFFER_FULL, `the line was not logged: ${this.appended - this.written} bytes are waiting for a failing disk (${this.failure.message})`, { cause: this.failure })
    }
    if (typeof line !== 'string') line = decodeLine(line)
    return this.append(escapeLine(line))
  }

  /** Appends a metadata record. Used by rotation, retention, recovery and seals. */
  writeMeta(meta: Meta): boolean {
    return this.append(metaLine(meta))
  }

  private append(stored: string): boolean {
    const body = this.prev + '|' + stored
    const hash = this.hashFn(body)
    const text = body + '|' + hash + '\n'
    const bytes = Buffer.byteLength(text)
    const cur = this.current
    if (cur.bytes + bytes > this.settings.size && cur.lines > 1) {
      this.rotate()
      return this.append(stored)
    }
    this.prev = hash
    this.count++
    cur.lines++
    cur.bytes += bytes
    this.appended += bytes
    return this.push(cur, text)
  }

  /**
   * Queues record bytes. Records are gathered into one string per batch and
   * handed to sonic-boom per batch, not per line: sonic-boom re-measures its
   * pending buffer on every write, which costs more than hashing at 200 bytes
   * a line. A batch goes out when it reaches BATCH_BYTES, at the end of the
   * current tick, on flush(), and before a rotation.
   */
  private push(cur: FileState, text: string): boolean {
    if (this.batchFile !== cur) this.pushBatch()
    this.batchFile = cur
    this.batch += text
    this.batchBytes += text.length
    if (this.batchBytes >= BATCH_BYTES) this.pushBatch()
    else if (!this.batchScheduled) {
      this.batchScheduled = true
      process.nextTick(this.pushBatchBound)
    }
    if (this.appended - this.written < this.highWaterMark && !this.failure) return true
    this.needDrain = true
    return false
  }

  private readonly pushBatchBound = () => this.pushBatch()

  private pushBatch(): void {
    this.batchScheduled = false
    const file = this.batchFile
    if (!file || this.batch === '') return
    const text = this.batch
    this.batch = ''
    this.batchBytes = 0
    if (!file.ended) file.sonic.write(text)
  }

  /** Starts the next file now. Rotation by size and time calls this; so can the application. */
  rotate(reason?: string): void {
    if (this.closing) return
    const old = this.current
    this.finished.set(old.path, { file: old.name, index: old.index, lastHash: this.prev, records: old.lines })
    this.number++
    this.current = this.openFile(this.settings.naming.pathFor(this.number, this.settings.now()), old.index + 1, old.name, reason)
    this.endFile(old)
    this.emit('rotate', { from: old.path, to: this.current.path } satisfies RotateEvent)
    this.applyRetention(old)
  }

  /**
   * Resolves once every record appended before the call has been handed to the
   * OS (and, with `fsync`, is on disk). Rejects if the disk is failing.
   */
  flush(): Promise<void> {
    if (this.failure) return Promise.reject(this.failure)
    this.pushBatch()
    const target = this.appended
    const done = this.written >= target ? Promise.resolve() : new Promise<void>((resolve, reject) => {
      this.waiters.push({ target, resolve, reject })
      if (this.settings.minLength > 0) this.current.sonic.flush()
    })
    if (!this.settings.fsync) return done
    return done.then(() => new Promise<void>((resolve, reject) => fs.fsync(this.current.fd, (err) => (err ? reject(fromSystemError(err, 'fsync', this.current.path)) : resolve()))))
  }

  /** Flushes, closes the current file and waits for retention and compression to finish. */
  close(): Promise<void> {
    if (this.closing) return this.closing
    this.closing = (async () => {
      clearTimeout(this.rotateTimer)
      clearInterval(this.watchTimer)
      try {
        await this.flush()
      } catch (err) {
        clearTimeout(this.retryTimer)
        this.current.ended = true
        this.current.sonic.destroy()
        this.closed = true
        throw err
      }
      this.endFile(this.current)
      await this.current.closed
      await this.background
      this.closed = true
      this.emit('close')
    })()
    return this.closing
  }

  /** True once close() has finished. */
  get isClosed(): boolean {
    return this.closed
  }

  // ---- files -------------------------------------------------------------

  /** Opens (creating) a file synchronously and writes its header record. */
  openFile(filePath: string, index: number, prevFile: string | null, reason?: string): FileState {
    const s = this.settings
    let fd: number
    try {
      if (s.mkdir) fs.mkdirSync(path.dirname(filePath), { recursive: true })
      fd = fs.openSync(filePath, 'a', s.mode)
    } catch (err) {
      throw fromSystemError(err, 'open log file', filePath)
    }
    const stat = fs.fstatSync(fd)
    const sonic = new SonicBoom({ fd, minLength: s.minLength, fsync: s.fsync, sync: false })
    const state: FileState = { path: filePath, name: path.basename(filePath), index, sonic, fd, ended: false, ino: stat.ino, bytes: stat.size, lines: 0, closed: new Promise((resolve) => sonic.once('close', () => resolve())) }
    this.attach(state)
    if (stat.size === 0) {
      const header: HeaderMeta = {
        t: 'header', v: FORMAT_VERSION, alg: this.algorithm, chain: this.chain, index, file: state.name, prevFile, prevHash: this.prev, seq: this.count, time: new Date(s.now()).toISOString(),
      }
      if (this.keyId) header.keyId = this.keyId
      if (reason) header.reason = reason
      this.current = state
      this.writeMeta(header)
    }
    this.linkCurrent(state)
    if (stat.size === 0) this.emit('new', filePath)
    return state
  }

  /** Wires sonic-boom's events into the writer's byte accounting and error state. */
  private attach(state: FileState): void {
    state.sonic.on('write', (n: number) => {
      this.written += n
      if (this.failure) this.recover()
      if (this.waiters.length) this.settle()
      if (this.needDrain && this.appended - this.written < this.highWaterMark / 2) {
        this.needDrain = false
        this.emit('drain')
      }
    })
    state.sonic.on('error', (err: Error) => this.fail(fromSystemError(err, 'write to', state.path)))
  }

  private settle(): void {
    const still: typeof this.waiters = []
    for (const w of this.waiters) (this.written >= w.target ? w.resolve() : still.push(w))
    this.waiters = still
    // With minLength > 0 sonic-boom holds a short tail back; a pending flush() needs it out.
    if (still.length && this.settings.minLength > 0) this.current.sonic.flush()
  }

  /** A write failed: tell the caller once, keep the unwritten bytes, and retry until the disk accepts them. */
  private fail(err: ChainlogError): void {
    const first = this.failure === null
    this.failure = err
    const waiters = this.waiters
    this.waiters = []
    for (const w of waiters) w.reject(err)
    if (!this.retryTimer && !this.closed) {
      this.retryTimer = setInterval(() => {
        // sonic-boom keeps the unwritten tail of the batch; an empty write makes it try again.
        const { sonic, ended } = this.current
        if (ended) return
        sonic.write('')
        if (this.settings.minLength > 0) sonic.flush()
      }, RETRY_MS)
      this.retryTimer.unref()
    }
    if (first) this.emit('error', err)
  }

  private recover(): void {
    this.failure = null
    clearInterval(this.retryTimer)
    this.retryTimer = undefined
    this.emit('resume')
  }

  private endFile(state: FileState): void {
    if (state.ended) return
    if (this.batchFile === state) this.pushBatch()
    state.ended = true
    state.sonic.end()
  }

  private linkCurrent(state: FileState): void {
    const name = this.settings.symlink
    if (!name) return
    const link = path.join(path.dirname(state.path), name)
    const tmp = `${link}.${process.pid}.${crypto.randomBytes(4).toString('hex')}.tmp`
    try {
      fs.symlinkSync(state.name, tmp)
      fs.renameSync(tmp, link)
    } catch (err) {
      fs.rmSync(tmp, { force: true })
      this.emit('error', fromSystemError(err, 'update the symlink', link))
    }
  }

  /**
   * Deletes the oldest files past `limit.count`. The retention record naming
   * each deleted file and its last hash goes into the chain first, and the
   * files are deleted only once that record has reached the OS.
   */
  private applyRetention(justRotated: FileState): void {
    const s = this.settings
    const compressJob = s.compress ? justRotated.closed.then(() => gzipFile(justRotated.path, s.mode)).then(() => undefined) : Promise.resolve()
    let doomed: (LogFileEntry & { info: DeletedFile })[] = []
    if (s.keep !== undefined) {
      // A file being compressed may show up twice (plain and .gz); count it once.
      const seen = new Set<string>()
      const files = s.naming.list().filter((f) => {
        const plain = f.gz ? f.path.slice(0, -3) : f.path
        if (plain === this.current.path || seen.has(plain) || this.deleting.has(plain)) return false
        seen.add(plain)
        return true
      })
      const excess = files.length - s.keep
      if (excess > 0) {
        doomed = files.slice(0, excess).map((f) => ({ ...f, info: this.describe(f) }))
        for (const d of doomed) this.deleting.add(d.gz ? d.path.slice(0, -3) : d.path)
        this.writeMeta({ t: 'retention', time: new Date(s.now()).toISOString(), deleted: doomed.map((d) => d.info) })
      }
    }
    const flushed = doomed.length ? this.flush() : Promise.resolve()
    this.background = this.background
      .then(() => compressJob)
      .then(() => flushed)
      .then(async () => {
        for (const d of doomed) {
          const plain = d.gz ? d.path.slice(0, -3) : d.path
          // Compression may have replaced the plain file since the list was taken.
          for (const target of [plain, plain + '.gz']) {
            if (!fs.existsSync(target)) continue
            await fs.promises.rm(target, { force: true })
            this.emit('remove', target)
          }
          this.finished.delete(plain)
          this.deleting.delete(plain)
        }
      })
      .catch((err: unknown) => {
        this.emit('error', fromSystemError(err, 'compress or delete rotated file', justRotated.path))
      })
  }

  /** Last hash, index and line count of a finished file, from memory or from the file itself. */
  private describe(f: LogFileEntry): DeletedFile {
    const plain = f.gz ? f.path.slice(0, -3) : f.path
    const known = this.finished.get(plain)
    if (known) return known
    const tail = scanFile(f.path)
    return { file: tail.header?.file ?? f.name, index: tail.header?.index ?? -1, lastHash: tail.last?.hash ?? '', records: tail.lines }
  }

  // ---- start-up ----------------------------------------------------------

  /** Continues the chain from the last file, or starts a new chain. */
  start(tail: FileTail | null, entry: LogFileEntry | null): void {
    const s = this.settings
    if (!tail || !entry) {
      this.number = 1
      this.current = this.openFile(s.naming.pathFor(1, s.now()), 0, null)
      return this.startTimers()
    }
    const header = tail.header!
    const broken = brokenTail(tail, this.hashFn)
    if (entry.gz || broken || !s.append || header.alg !== this.algorithm || header.keyId !== this.keyId) {
      // Never append to a finished, broken or differently-keyed file: start the next one.
      this.number = entry.number + 1
      const reason = broken ? 'broken-tail' : entry.gz ? undefined : !s.append ? 'restart' : 'algorithm-change'
      this.current = this.openFile(s.naming.pathFor(this.number, s.now()), header.index + 1, tail.header?.file ?? entry.name, reason)
      if (broken) {
        this.writeMeta({ t: 'recovery', time: new Date(s.now()).toISOString(), reason: 'broken-tail', file: entry.name, detail: broken })
        this.emit('recovery', { file: entry.path, reason: 'broken-tail' } satisfies RecoveryEvent)
      }
      return this.startTimers()
    }
    this.number = entry.number
    this.current = this.openFile(entry.path, header.index, header.prevFile)
    this.current.lines = tail.lines
    if (tail.fragment) this.terminateFragment(entry.path, tail.fragment)
    this.startTimers()
  }

  /**
   * A crash left bytes after the last newline. If they are the whole last record
   * (only its newline is missing) they are completed; otherwise the fragment is
   * terminated and a recovery record names its length and SHA-256, so the
   * verifier can report a recovered torn tail rather than tampering.
   */
  private terminateFragment(file: string, fragment: Buffer): void {
    const cur = this.current
    const text = fragment.toString('latin1')
    if (text.length >= RECORD_OVERHEAD - 1 && text.startsWith(this.prev) && text.charCodeAt(HASH_HEX) === 0x7c && text.charCodeAt(text.length - HASH_HEX - 1) === 0x7c) {
      const hash = text.slice(-HASH_HEX)
      if (isHash(hash) && this.hashFn(fragment.subarray(0, fragment.length - HASH_HEX - 1)) === hash) {
        this.push(cur, '\n')
        cur.bytes += 1
        this.appended += 1
        cur.lines++
        this.count++
        this.prev = hash
        return
      }
    }
    this.push(cur, '\n')
    cur.bytes += 1
    this.appended += 1
    cur.lines++
    this.count++
    this.writeMeta({ t: 'recovery', time: new Date(this.settings.now()).toISOString(), reason: 'torn-tail', length: fragment.length, sha256: crypto.createHash('sha256').update(fragment).digest('hex') })
    this.emit('recovery', { file, reason: 'torn-tail', length: fragment.length } satisfies RecoveryEvent)
  }

  private startTimers(): void {
    const s = this.settings
    if (s.frequency !== undefined) {
      const frequency = s.frequency
      const schedule = () => {
        const now = s.now()
        this.rotateTimer = setTimeout(() => {
          if (this.closing) return
          try {
            this.rotate()
          } catch (err) {
            this.fail(fromSystemError(err, 'rotate', this.current.path))
          }
          schedule()
        }, Math.max(1, nextBoundary(frequency, now) - now))
        this.rotateTimer.unref()
      }
      schedule()
    }
    // A file deleted or replaced under the writer takes every later line with it
    // (writes to an unlinked inode succeed); check and move to a fresh file.
    this.watchTimer = setInterval(() => this.checkFile(), WATCH_MS)
    this.watchTimer.unref()
  }

  private checkFile(): void {
    const cur = this.current
    fs.stat(cur.path, (err, st) => {
      if (this.closing || cur !== this.current) return
      if (!err && st.ino === cur.ino) return
      this.emit('error', new ChainlogError(ErrorCodes.FILE_REMOVED, `${cur.path} was removed or replaced while being written; continuing in a new file`, { path: cur.path }))
      try {
        this.rotate('file-removed')
      } catch (e) {
        this.fail(fromSystemError(e, 'open a new log file after', cur.path))
      }
    })
  }
}

/** Why the last complete record of a file cannot be continued from, or null if it can. */
function brokenTail(tail: FileTail, hashFn: HashFn): string | null {
  if (tail.lines === 0) return 'the file has no complete record'
  if (!tail.last || !tail.lastBytes) return `line ${tail.lines} is not a record`
  const body = tail.lastBytes.subarray(0, tail.lastBytes.length - HASH_HEX - 1)
  if (hashFn(body) !== tail.last.hash) return `line ${tail.lines} does not match its hash`
  return null
}

/**
 * Opens a chain writer on `options.file`, continuing the existing chain from
 * its last valid record or starting a new one.
 * @throws ChainlogError INVALID_OPTION, NO_DIRECTORY, ACCESS_DENIED, IS_DIRECTORY, NOT_CHAINLOG, UNSUPPORTED_VERSION, KEY_REQUIRED, BAD_KEY
 */
export async function createChainWriter(options: ChainWriterOptions): Promise<ChainWriter> {
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
  const files = s.naming.list()
  let entry = files.at(-1) ?? null
  let tail: FileTail | null = null
  const read = (e: LogFileEntry) => {
    try {
      return scanFile(e.path)
    } catch (err) {
      throw fromSystemError(err, 'read existing log file', e.path)
    }
  }
  if (entry) {
    tail = read(entry)
    if (tail.size === 0 && !entry.gz) {
      // Created but never written (a crash right after rotation). It holds no
      // evidence; remove it and continue from the file before it.
      await fs.promises.rm(entry.path, { force: true })
      entry = files.at(-2) ?? null
      tail = entry ? read(entry) : null
    }
  }
  if (entry && tail) {
    if (!tail.header) {
      throw new ChainlogError(ErrorCodes.NOT_CHAINLOG, `${entry.path} exists but is not a chainlog file (its first line is not a chainlog header); move it away or log to another path`, { path: entry.path })
    } else if (tail.header.v !== FORMAT_VERSION) {
      throw new ChainlogError(ErrorCodes.UNSUPPORTED_VERSION, `${entry.path} is chainlog format ${tail.header.v}; this version writes format ${FORMAT_VERSION}`, { path: entry.path })
    }
  }
  const h = tail?.header
  const writer = new ChainWriter(s, {
    chain: h ? h.chain : s.chainId ?? crypto.randomBytes(16).toString('hex'),
    prev: h ? (tail!.last && isHash(tail!.last.hash) ? tail!.last.hash : GENESIS) : GENESIS,
    count: h ? h.seq + tail!.lines : 0,
    number: entry?.number ?? 0,
    index: h?.index ?? 0,
  })
  writer.start(tail, tail ? entry : null)
  return writer
}
