import * as crypto from 'node:crypto'
import * as fs from 'node:fs'
import { createHashFn, type Algorithm, type HashFn } from './algorithm'
import { ChainlogError, ErrorCodes, fromSystemError } from './errors'
import { FORMAT_VERSION, metaLine, type HeaderMeta, type TruncationMeta } from './meta'
import { GENESIS, HASH_HEX, isHash, RECORD_OVERHEAD } from './record'
import { countLines, readTail, type FileTail } from './scan'
import { checkDirectory, openSink, type Sink } from './sink'
import type { Turns } from './lease'
import type { Lock } from './lock'
import type { Sealing } from './sealing'
import type { Checkpointing } from './checkpointing'
import type { Rotation } from './rotation'
import type { Emit, ForeignEvent, RecoveryEvent, TruncationEvent } from './events'
import type { LogFileEntry } from './naming'
import { cutRecord, emptiedRecord, isCut } from './truncation'
import type { Settings } from './settings'

/** The file being appended to, as last seen under the lock. */
export interface Current {
  sink: Sink
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
  /** The file's last bytes as this writer left them (up to a hash and its LF): what it checks is still there (#12). */
  last: Buffer
}

/**
 * Where the writer appends next. The writer owns it and advances it past
 * each append; discovery and rotation move it (lock held) when the head on
 * disk is elsewhere or a new file starts.
 */
export interface Position {
  cur: Current | null
  /** Hash of the last record: the next record's prev. */
  prev: string
  /** The chain's id, from the headers ('' until known). */
  chain: string
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

/** The chain hash of this writer, and what a file's header says about it. */
export interface Hashing {
  algorithm: Algorithm
  hashFn: HashFn
  keyId: string | undefined
}

/** Appends records at once (lock held), outside the writer's queue. */
export type AppendNow = (stored: string[]) => void

/**
 * Physical lines in the chain up to the end of the current file. Counting
 * reads what other writers appended since the last count.
 */
export function countTo(cur: Current): number {
  if (cur.countedTo < cur.end) {
    try {
      cur.counted += countLines(cur.path, cur.countedTo, cur.end)
      cur.countedTo = cur.end
    } catch {
      // The file is gone (removed under the writer): what it held is lost with it.
    }
  }
  return cur.counted
}

/** Advances the file end past the writer's own append of `bytes`, keeping the line count exact without reading it back. */
export function advance(cur: Current, lines: number, bytes: Buffer): void {
  if (cur.countedTo === cur.end) {
    cur.counted += lines
    cur.countedTo += bytes.length
  }
  cur.end += bytes.length
  cur.last = endOf(cur.last, bytes)
}

/** Bytes kept of a file's end: enough for a record's hash and its LF. */
const KEPT = HASH_HEX + 1

/** The last KEPT bytes of `before` followed by `added`. */
function endOf(before: Buffer, added: Buffer): Buffer {
  if (added.length >= KEPT) return Buffer.from(added.subarray(added.length - KEPT))
  return Buffer.concat([before, added]).subarray(-KEPT)
}

const NEWLINE = Buffer.from('\n')

/** What discovery needs from the writer and the rooms beside it. */
export interface DiscoveryContext {
  settings: Settings
  hashing: Hashing
  at: Position
  rotation: Rotation
  appendNow: AppendNow
  emit: Emit<'recovery' | 'truncation' | 'foreign' | 'error'>
}

/**
 * Finding the head under the lock: the newest file of the log and its last
 * valid record, a torn tail (a writer died mid-append) or a broken one, and
 * the recovery records that explain them to the verifier.
 */
export class Discovery {
  private readonly ctx: DiscoveryContext
  private warned = false

  constructor(ctx: DiscoveryContext) {
    this.ctx = ctx
  }

  /**
   * With the lock held: makes sure the writer appends after the true head.
   * If the file grew, shrank, vanished or was replaced, or another writer
   * rotated to a newer file, the head is read again from disk.
   */
  refresh(): void {
    const cur = this.ctx.at.cur
    if (!cur) return this.discover()
    // Nobody else writes this chain on a stream, and nothing can be read back from it.
    if (this.ctx.settings.stream) return
    let st: fs.Stats | null = null
    try {
      st = fs.statSync(cur.path)
    } catch {
      st = null
    }
    const newest = this.ctx.settings.naming.list().filter((f) => !f.gz).at(-1)
    if (st && st.ino === cur.sink.ino) {
      // Other writers only add to the file, or start a newer one: what this writer left stays as it was.
      if (isCut(cur, st.size)) return this.cut(cur, newest ?? null)
      if (st.size === cur.end && newest?.path === cur.path) return
    } else {
      if (!newest || newest.number <= cur.number) {
        // Our file is gone and nobody started a newer one: lines written to it are lost with it.
        this.ctx.emit('error', new ChainlogError(ErrorCodes.FILE_REMOVED, `${cur.path} was removed or replaced while being written; continuing in a new file`, { path: cur.path }))
        return this.ctx.rotation.rotate('file-removed')
      }
    }
    this.discover()
  }

  /**
   * The file of `cur` was cut, emptied, or ends in a record this writer did
   * not write: its last head is not in the log any more. Nothing more goes
   * into that file (it is the evidence); the writer starts a new file, whose
   * first record after the header says what it had left and what it found,
   * and the verifier reports that as a break (#12).
   */
  private cut(cur: Current, newest: LogFileEntry | null): void {
    const { settings: s, at, rotation } = this.ctx
    const count = countTo(cur)
    const record = cutRecord(cur, at.prev, count, new Date(s.now()).toISOString())
    if (newest && newest.number > cur.number) {
      // Another writer went on in a newer file meanwhile: continue from its head, as from any other.
      this.discover()
      const head = at.cur!
      rotation.startFile(head.number + 1, head.header.index + 1, head.name, at.prev, countTo(head), 'truncated')
    } else {
      // The new file continues from this writer's own head: what the chain was before the cut.
      rotation.startFile(cur.number + 1, cur.header.index + 1, cur.name, at.prev, count, 'truncated')
    }
    this.recordCut(cur.path, record)
  }

  /** Appends the truncation record to the file just started, and tells the application. */
  private recordCut(file: string, record: TruncationMeta): void {
    const next = this.ctx.at.cur!.path
    this.ctx.appendNow([metaLine(record)])
    const what = record.expected
      ? `was cut while being written: this writer left ${record.expected.lines} lines (${record.expected.size} bytes) in it and found ${record.found.lines} (${record.found.size} bytes)${record.found.size >= record.expected.size ? ', its last record replaced' : ''}`
      : 'is empty, though no writer leaves a file of the log empty: it was emptied (copytruncate, or by hand)'
    this.ctx.emit('error', new ChainlogError(ErrorCodes.FILE_TRUNCATED, `${file} ${what}; continuing in ${next}, whose first record says so (verify-log reports it as a break)`, { path: file }))
    const expected = record.expected ? { size: record.expected.size, lines: record.expected.lines } : null
    this.ctx.emit('truncation', { file, expected, found: { size: record.found.size, lines: record.found.lines }, next } satisfies TruncationEvent)
  }

  /**
   * Finds the newest file of the log and continues from its last valid
   * record. The first time, files beside the log that chainlog did not
   * write are named in one `'foreign'` event.
   */
  discover(): void {
    this.continueChain()
    if (this.warned) return
    this.warned = true
    const files = this.ctx.settings.naming.foreign()
    if (files.length > 0) this.ctx.emit('foreign', { files, current: this.ctx.at.cur!.path } satisfies ForeignEvent)
  }

  private continueChain(): void {
    const { settings: s, hashing, at, rotation } = this.ctx
    if (s.stream) {
      // A stream cannot be read back: each start is a new chain (docs/OPERATIONS.md).
      at.chain = s.chainId ?? crypto.randomBytes(16).toString('hex')
      return rotation.startFile(1, 0, null, GENESIS, 0, undefined)
    }
    // The chain's files only: files chainlog did not write are never continued (foreign).
    const files = s.naming.list()
    let entry = files.at(-1) ?? null
    let tail = entry ? readTail(entry.path) : null
    // No writer leaves a file of the log empty (FileSink.publish): an empty file this writer
    // knew as a chain file, or one numbered after the chain's newest file, was emptied
    // (copytruncate, by hand). It stays as the evidence; the chain goes on after it, recorded.
    // With no chain file at all, an empty file is another program's (pino-roll creates its
    // file before writing to it) and is left alone as foreign.
    let emptied = entry && tail && tail.size === 0 && !entry.gz ? entry : null
    if (emptied) {
      entry = files.at(-2) ?? null
      tail = entry ? readTail(entry.path) : null
    } else if (entry) emptied = s.naming.emptiedAfter(entry.number)
    if (!entry || !tail) {
      at.chain = at.chain || (s.chainId ?? crypto.randomBytes(16).toString('hex'))
      if (emptied) {
        rotation.startFile(emptied.number + 1, 0, null, GENESIS, 0, 'truncated')
        return this.recordCut(emptied.path, emptiedRecord(emptied.name, new Date(s.now()).toISOString()))
      }
      // Beside foreign files (pino-roll's app.1.log, …), after the highest number they use.
      return rotation.startFile(s.naming.highest() + 1, 0, null, GENESIS, 0, undefined)
    }
    const header = tail.header
    if (!header) throw new ChainlogError(ErrorCodes.NOT_CHAINLOG, `${entry.path} exists but is not a chainlog file (its first line is not a chainlog header); move it away or log to another path`, { path: entry.path })
    if (header.v !== FORMAT_VERSION) throw new ChainlogError(ErrorCodes.UNSUPPORTED_VERSION, `${entry.path} is chainlog format ${header.v}; this version writes format ${FORMAT_VERSION}`, { path: entry.path })
    // A keyed chain cannot continue unkeyed: the verifier reports that as a downgrade (FORMAT.md §8).
    if (header.alg === 'hmac-sha256' && hashing.algorithm !== 'hmac-sha256') {
      throw new ChainlogError(ErrorCodes.INVALID_OPTION, `${entry.path} belongs to an hmac-sha256 chain, which cannot continue as ${hashing.algorithm} (a verifier would take that for a downgrade); keep algorithm 'hmac-sha256' with its keyFile, or log to another path`, { path: entry.path })
    }
    at.chain = header.chain
    const foreign = header.alg !== hashing.algorithm || header.keyId !== hashing.keyId
    // A file of another algorithm is checked with its own hash (not ours, which would call any tail broken);
    // an hmac-sha256 file under another key cannot be checked here.
    const ownHash = !foreign ? hashing.hashFn : header.alg === 'sha256' || header.alg === 'blake3' ? createHashFn(header.alg) : null
    const broken = ownHash ? brokenTail(tail, ownHash) : null
    const fresh = !at.cur && !s.append
    if (emptied) {
      rotation.startFile(emptied.number + 1, header.index + 1, header.file, tail.last && isHash(tail.last.hash) ? tail.last.hash : GENESIS, header.seq + countLines(entry.path), 'truncated')
      this.recordCut(emptied.path, emptiedRecord(emptied.name, new Date(s.now()).toISOString()))
      return
    }
    if (entry.gz || broken || foreign || fresh) {
      // Never append to a finished, broken or differently-keyed file: start the next one.
      const lastHash = tail.last && isHash(tail.last.hash) ? tail.last.hash : GENESIS
      const lines = countLines(entry.path)
      const reason = broken ? 'broken-tail' : foreign ? 'algorithm-change' : fresh ? 'restart' : undefined
      rotation.startFile(entry.number + 1, header.index + 1, header.file, lastHash, header.seq + lines, reason)
      if (broken) {
        this.ctx.appendNow([metaLine({ t: 'recovery', time: new Date(s.now()).toISOString(), reason: 'broken-tail', file: entry.name, detail: broken })])
        this.ctx.emit('recovery', { file: entry.path, reason: 'broken-tail' } satisfies RecoveryEvent)
      }
      return
    }
    if (at.cur?.path !== entry.path) {
      if (at.cur) void at.cur.sink.close()
      at.cur = { sink: openSink(entry.path, s), path: entry.path, name: entry.name, number: entry.number, header, end: tail.end, headerEnd: tail.headerEnd, counted: header.seq, countedTo: 0, last: Buffer.alloc(0) }
      rotation.link(at.cur)
    }
    const cur = at.cur
    cur.end = tail.end
    cur.last = endOf(Buffer.alloc(0), Buffer.concat([tail.lastBytes!, NEWLINE]))
    if (cur.countedTo > cur.end) {
      cur.counted = header.seq
      cur.countedTo = 0
    }
    at.prev = tail.last!.hash
    if (tail.fragment) this.terminateFragment(cur, tail.fragment)
  }

  /**
   * A writer died mid-append and left bytes after the last newline. If they are
   * the whole last record (only its newline is missing) it is completed;
   * otherwise the fragment is terminated and a recovery record names its length
   * and SHA-256, so the verifier reports a recovered torn tail, not tampering.
   */
  private terminateFragment(cur: Current, fragment: Buffer): void {
    const at = this.ctx.at
    const text = fragment.toString('latin1')
    cur.end += fragment.length
    cur.last = endOf(cur.last, fragment)
    if (text.length >= RECORD_OVERHEAD - 1 && text.startsWith(at.prev) && text.charCodeAt(HASH_HEX) === 0x7c && text.charCodeAt(text.length - HASH_HEX - 1) === 0x7c) {
      const hash = text.slice(-HASH_HEX)
      if (isHash(hash) && this.ctx.hashing.hashFn(fragment.subarray(0, fragment.length - HASH_HEX - 1)) === hash) {
        cur.sink.write(NEWLINE, cur.end)
        cur.end += 1
        cur.last = endOf(cur.last, NEWLINE)
        at.prev = hash
        return
      }
    }
    cur.sink.write(NEWLINE, cur.end)
    cur.end += 1
    cur.last = endOf(cur.last, NEWLINE)
    const sha256 = crypto.createHash('sha256').update(fragment).digest('hex')
    this.ctx.appendNow([metaLine({ t: 'recovery', time: new Date(this.ctx.settings.now()).toISOString(), reason: 'torn-tail', length: fragment.length, sha256 })])
    this.ctx.emit('recovery', { file: cur.path, reason: 'torn-tail', length: fragment.length } satisfies RecoveryEvent)
  }
}

/** Why the last complete record of a file cannot be continued from, or null if it can. */
function brokenTail(tail: FileTail, hashFn: HashFn): string | null {
  if (!tail.last || !tail.lastBytes) return tail.lastBytes ? 'the last line is not a record' : 'the file has no complete record'
  const body = tail.lastBytes.subarray(0, tail.lastBytes.length - HASH_HEX - 1)
  if (hashFn(body) !== tail.last.hash) return 'the last record does not match its hash'
  return null
}

/** What opening needs from the writer. */
export interface OpeningContext {
  settings: Settings
  lock: Lock
  discovery: Discovery
  rotation: Rotation
  sealing: Sealing | null
  checkpointing: Checkpointing | null
  /** How the rooms' timers, started once the log is open, take their turns. */
  turns: Turns
  /** The writer holds the lock as its lease (then it is not let go here). */
  leased(): boolean
  /** The writer is closing (its rooms' timers are not started). */
  closing(): boolean
  /** The log is open (the lock let go again, the timers started). */
  opened(): void
  /** The log could not be opened. */
  failed(err: ChainlogError): void
}

/**
 * Opening the log, once: its directory checked, the lock taken, the head
 * found (or the first file started), the lock let go, the timers of
 * rotation and sealing started. Asynchronously (start) or, for exit paths,
 * at once (openSync).
 */
export class Opening {
  private readonly ctx: OpeningContext
  private promise: Promise<void> | null = null
  private done = false
  /** Why the log could not be opened, once it could not. */
  error: ChainlogError | null = null

  constructor(ctx: OpeningContext) {
    this.ctx = ctx
  }

  /** True once the log is open. */
  get isOpen(): boolean {
    return this.done
  }

  /** Opens the log, waiting for the lock if it is busy; later calls get the same promise. */
  start(): Promise<void> {
    this.promise ??= this.open()
    return this.promise
  }

  private async open(): Promise<void> {
    const { settings: s, lock } = this.ctx
    try {
      if (this.done) return
      if (this.error) throw this.error
      if (!s.stream) checkDirectory(s.naming.dir, s.mkdir)
      if (!lock.tryAcquire()) await lock.acquire()
      if (this.done || this.error) {
        // openSync() opened the log (or failed to) while this waited for the lock.
        if (!this.ctx.leased()) lock.releaseLock()
        if (this.error) throw this.error
        return
      }
      this.locked()
    } catch (err) {
      throw this.failed(err)
    }
  }

  /**
   * Opens the log now if it is not open yet, blocking for the lock until
   * `deadline` (ms since the epoch).
   * @throws ChainlogError why the log cannot be opened
   */
  openSync(deadline: number): void {
    if (this.done) return
    if (this.error) throw this.error
    const s = this.ctx.settings
    try {
      if (!s.stream) checkDirectory(s.naming.dir, s.mkdir)
      this.ctx.lock.acquireSync(deadline, 'open the log')
      this.locked()
    } catch (err) {
      throw this.failed(err)
    }
  }

  /** With the lock just taken: finds the head, and lets the lock go. */
  private locked(): void {
    try {
      this.ctx.discovery.discover()
      this.ctx.rotation.tidy()
      this.ctx.sealing?.begin()
      this.ctx.checkpointing?.checkpoint()
    } finally {
      this.ctx.lock.releaseLock()
    }
    this.done = true
    const { rotation, sealing, turns } = this.ctx
    if (!this.ctx.closing()) {
      rotation.startTimer(turns)
      sealing?.startHeartbeat(turns)
      this.ctx.checkpointing?.startTimer(turns)
    }
    this.ctx.opened()
  }

  private failed(err: unknown): ChainlogError {
    if (this.error) return this.error
    this.error = err instanceof ChainlogError ? err : fromSystemError(err, 'open the log', this.ctx.settings.naming.dir)
    this.ctx.rotation.stop()
    this.ctx.sealing?.stop()
    this.ctx.sealing?.close()
    this.ctx.checkpointing?.stop()
    this.ctx.failed(this.error)
    return this.error
  }
}
