import * as crypto from 'node:crypto'
import { createHashFn, isAlgorithm, keyId, type Algorithm, type HashFn } from './algorithm'
import { ChainlogError, ErrorCodes } from './errors'
import { FORMAT_VERSION, isHeader, isKnownMeta, parseMeta, type DeletedFile, type HeaderMeta, type Meta, type RecoveryMeta, type RetentionMeta, type UnknownMeta } from './meta'
import { GENESIS, hasRecordBounds, HASH_HEX, isHash, unescapeLine } from './record'
import { newRunScan, scanRun } from './run-scan'
import { lineTime, SealAuditor, type SealReason, type SealSummary } from './seal-audit'
import type { VerifyKey } from './seal'

/** Why a line breaks the chain. Stable codes; the CLI prints them and `--json` carries them. */
export const BreakReasons = {
  /** The line is not `prev|line|hash` with 64 lowercase hex characters at each end, or its stored line is not a valid format-1 form. */
  MALFORMED: 'MALFORMED',
  /** The hash field does not equal H(prev|line): the line or its prev was changed. */
  HASH_MISMATCH: 'HASH_MISMATCH',
  /** The prev field is not the hash of the record before it: a record was deleted, inserted or moved. */
  PREV_MISMATCH: 'PREV_MISMATCH',
  /** A file of the chain is missing and no retention record accounts for it. */
  MISSING_FILE: 'MISSING_FILE',
  /** A file other than the last ends in a partial line that no recovery record accounts for. */
  TORN_TAIL: 'TORN_TAIL',
  /** A file does not start with a valid header, or a header disagrees with the chain (id, index, position, version, key). */
  BAD_HEADER: 'BAD_HEADER',
  /** A compressed file is damaged or cut short: the rest of it cannot be read. */
  CORRUPT_FILE: 'CORRUPT_FILE',
} as const
export type BreakReason = (typeof BreakReasons)[keyof typeof BreakReasons] | SealReason

/** One place where the chain stops being trustworthy. */
export interface Break {
  file: string
  /** 1-based physical line number in `file`. */
  line: number
  /** Byte offset of the start of the line in `file` (in the decompressed data for .gz). */
  offset: number
  reason: BreakReason
  /** The reason in plain words. */
  message: string
  expected?: string
  found?: string
  /** The offending line, shortened for display. */
  text?: string
}

/** A line torn by a crash that a writer terminated and named in a recovery record. */
export interface TornTail {
  file: string
  line: number
  offset: number
  length: number
}

/**
 * The head of a chain: the hash of its last verified record and the chain's
 * length up to it (physical lines, counted from the first file of the chain).
 * The one shape of a head: the report, `verify-log --json`, `chainlog head`
 * and checkpoints all carry `hash` and `count`.
 */
export interface Head {
  hash: string
  count: number
}

/** What a verification concludes, decided here once; the CLI and `inspect` only format it. */
export const Verdicts = {
  /** No break; the chain reaches the expected head, if one was given. */
  VALID: 'VALID',
  /** As VALID, and torn lines were found that a writer's recovery record accounts for. */
  VALID_RECOVERED: 'VALID_RECOVERED',
  /** At least one break (see {@link VerifyReport.breaks}). */
  BROKEN: 'BROKEN',
  /** No break, but the chain no longer reaches the expected head (see {@link VerifyReport.expected}). */
  TRUNCATED: 'TRUNCATED',
} as const
export type Verdict = (typeof Verdicts)[keyof typeof Verdicts]

/** Why the chain does not reach an expected head. */
export type Shortfall =
  /** No record has the expected hash, and the chain ends before the expected count. */
  | 'ENDS_BEFORE_HEAD'
  /** No record has the expected hash: records were cut from the end, or the chain was rewritten. */
  | 'HEAD_NOT_FOUND'
  /** The expected hash is found, at another count. */
  | 'HEAD_ELSEWHERE'
  /** Only a count was expected, and the chain is shorter. */
  | 'TOO_FEW_RECORDS'

/** Whether the chain still reaches a head kept elsewhere ({@link VerifierOptions.checkpoint}). */
export interface HeadCheck {
  /** The expected hash and count, as given (either may be null). */
  hash: string | null
  count: number | null
  reached: boolean
  /** The chain length at the record with the expected hash, when there is one. */
  foundAt: number | null
  /** Why it is not reached; null when it is. */
  shortfall: Shortfall | null
}

export interface VerifyReport {
  /** No break was found (a TRUNCATED chain is `ok`; see {@link VerifyReport.verdict}). */
  ok: boolean
  /** The conclusion: VALID, VALID_RECOVERED, BROKEN or TRUNCATED. */
  verdict: Verdict
  /** Lines that verified as records (headers and metadata included). */
  records: number
  /** Files in chain order. */
  files: string[]
  algorithm: Algorithm | null
  chain: string | null
  /** The last verified record: its hash, and the chain length up to it (compare with a value kept elsewhere). */
  head: Head | null
  /** Every break found (only the first unless `all`), first first. */
  breaks: Break[]
  /** Torn tails terminated by a writer and accounted for by a recovery record. */
  recovered: TornTail[]
  /** An unterminated last line at the very end of the input: a write in progress, or a crash not yet recovered. */
  partial: TornTail | null
  /** Files deleted by retention, as recorded in the chain. */
  retention: DeletedFile[]
  /** First and last user lines verified (for time ranges); stored form unescaped. */
  firstLine: string | null
  lastLine: string | null
  /**
   * Present when {@link VerifierOptions.checkpoint} has a hash: where the chain
   * holds a verified record with that hash. `count` is the chain length up to
   * and including it (as in `head.count`), or null when no verified record has
   * that hash (the chain was cut before it, or rewritten).
   */
  checkpoint?: { hash: string; count: number | null }
  /** Present when {@link VerifierOptions.checkpoint} was given: whether the chain still reaches it. */
  expected?: HeadCheck
  /** Present when {@link VerifierOptions.verifyKey} was given: what the seals cover (docs/FORMAT.md §13.4). */
  seals?: SealSummary
}

/** Where a line is, for the callbacks of {@link VerifierOptions}. */
export interface LineLocation {
  file: string
  /** 1-based physical line number in `file`. */
  line: number
  /** Byte offset of the line in `file` (decompressed for .gz). */
  offset?: number
}

/** What the verifier saw in one file, passed to {@link VerifierOptions.onFile}. */
export interface FileSummary {
  file: string
  /** Physical lines in the file, a partial last line included. */
  lines: number
  /** Bytes read (decompressed for .gz). */
  bytes: number
  /** Lines of this file that verified as records. */
  records: number
  /** First and last user lines of this file that verified (unescaped), for time ranges. */
  firstLine: string | null
  lastLine: string | null
}

export interface VerifierOptions {
  /** Key for hmac-sha256 chains. */
  key?: Uint8Array
  /** Report every break instead of stopping at the first. */
  all?: boolean
  /** Called for every verified user line (unescaped), in chain order. */
  onLine?: (line: string, where: { file: string; line: number }) => void
  /** Called for every verified metadata record (headers included), in chain order. */
  onMeta?: (meta: Meta | UnknownMeta, where: LineLocation) => void
  /**
   * Called for every break when it becomes final, in chain order, with the
   * offending physical line (without its LF) when there is one. Breaks found
   * only at the end (a missing start of the chain) come last, with `null`.
   */
  onBreak?: (brk: Break, line: Buffer | null) => void
  /** Called when a file ends (after its last line), with what was seen in it. */
  onFile?: (summary: FileSummary) => void
  /**
   * A head kept elsewhere (`chainlog head`): the chain must still hold a
   * verified record with this hash, at this count; either may be absent (a
   * count alone: at least that many records). See {@link VerifyReport.checkpoint}
   * and {@link VerifyReport.expected}; a chain that does not reach it is TRUNCATED.
   */
  checkpoint?: { hash?: string; count?: number }
  /** Check seals against this verification key (loadVerifyKey()); see {@link VerifyReport.seals}. */
  verifyKey?: VerifyKey
  /** With verifyKey: the time (ms) the log is judged at; seals that stop long before it are SEAL_STALE. */
  asOf?: number
}

const LF = 0x0a
const BACKSLASH = 0x5c
/** Longest line the verifier holds in memory; longer ones are reported MALFORMED and skipped. */
export const MAX_LINE_BYTES = 256 * 1024 * 1024
const SHOW = 160
/** Hex characters of prev and hash shown around a shortened record. */
const SHOW_HASH = 8

function shortenText(buf: Buffer, start: number, end: number, show = SHOW): string {
  const text = buf.toString('utf8', start, Math.min(end, start + show * 4))
  return text.length > show ? text.slice(0, show) + '…' : text
}

/**
 * The offending line for display. A line with the shape of a record shows
 * the start of its prev and hash around its stored line, so that the part a
 * reader cares about is not pushed out by 64 hex characters.
 */
function shorten(buf: Buffer, start: number, end: number): string {
  if (hasRecordBounds(buf, start, end)) {
    const prev = buf.toString('latin1', start, start + SHOW_HASH)
    const hash = buf.toString('latin1', end - HASH_HEX, end - HASH_HEX + SHOW_HASH)
    return `${prev}…|${shortenText(buf, start + HASH_HEX + 1, end - HASH_HEX - 1, SHOW - 2 * SHOW_HASH - 6)}|${hash}…`
  }
  return shortenText(buf, start, end)
}

interface Pending {
  brk: Break
  /** prev expected before the failing line (what a recovery record must link to). */
  prevBefore: string
  /** hash field of the failing line, when it had one. */
  foundHash: string | null
  length: number
  sha256: string
  /** The failing line, kept only for `onBreak`. */
  bytes: Buffer | null
}

/**
 * Verifies a chain fed as a sequence of files, each as a sequence of byte
 * chunks: the chain's rules with no I/O, for a tool (a fuzzer, another
 * transport) that has the bytes itself. Memory stays constant: only the
 * current chunk, a partial line and a few hashes are held. Use {@link verify}
 * for paths and streams.
 */
export class ChainVerifier {
  private readonly options: VerifierOptions
  private hashFn: HashFn | null = null
  private alg: Algorithm | null = null
  private chain: string | null = null
  /** Hash the next record's prev must equal; null before the first header. */
  private expected: string | null = null
  /** Physical lines of the chain before the current one (absolute, from the first header's seq). */
  private position = 0
  private lastIndex = -1
  /** The `file` member of the last accepted header: the next header's prevFile. */
  private lastFile: string | null = null
  private startGap: { header: HeaderMeta; brk: Break } | null = null
  private file = ''
  private fileNo = -1
  private lineNo = 0
  private offset = 0
  /** A partial line: the parts of it received so far, and their total length. */
  private rest: Buffer[] | null = null
  private restLength = 0
  /** The current line is longer than MAX_LINE_BYTES: skip to its end. */
  private skipping = false
  /** The rest of the current file cannot be read (see abortFile). */
  private aborted = false
  private pending: Pending | null = null
  private stopped = false
  private readonly report: VerifyReport = {
    ok: true, verdict: 'VALID', records: 0, files: [], algorithm: null, chain: null, head: null, breaks: [], recovered: [], partial: null, retention: [], firstLine: null, lastLine: null,
  }
  /** The head, kept as two fields rather than an object per record. */
  private headHash: string | null = null
  private headCount = 0
  private lastUser: { buf: Buffer; start: number; end: number } | null = null
  private readonly seals: SealAuditor | null
  /** Where the chain starts and the newest metadata time, for the seal checks at the end. */
  private firstPlace: { file: string; line: number; offset: number } | null = null
  private metaTime: number | null = null
  private readonly watch: string | null
  private watchCount: number | null = null
  private fileRecords = 0
  private fileFirst: string | null = null
  private fileLast: { buf: Buffer; start: number; end: number } | null = null
  private readonly scan = newRunScan()
  /** scanRun may take lines: no per-line callback wants each of them. */
  private readonly fast: boolean

  constructor(options: VerifierOptions = {}) {
    this.options = options
    this.watch = options.checkpoint?.hash ?? null
    this.seals = options.verifyKey ? new SealAuditor(options.verifyKey, options.asOf === undefined ? {} : { asOf: options.asOf }) : null
    this.fast = !options.onLine
  }

  /** True once the first break was found and `all` is off: further input is ignored. */
  get done(): boolean {
    return this.stopped
  }

  /** The current file's byte offset: everything fed so far, a partial line included. */
  get bytesFed(): number {
    return this.offset + this.restLength
  }

  beginFile(name: string): void {
    this.file = name
    this.fileNo++
    this.lineNo = 0
    this.offset = 0
    this.rest = null
    this.restLength = 0
    this.skipping = false
    this.aborted = false
    this.fileRecords = 0
    this.fileFirst = null
    this.fileLast = null
    this.report.files.push(name)
  }

  /** Feeds the next bytes of the current file. */
  feed(chunk: Buffer): void {
    if (this.stopped || this.aborted) return
    let pos = 0
    if (this.rest) {
      const nl = chunk.indexOf(LF)
      if (nl === -1) {
        this.rest.push(chunk)
        this.restLength += chunk.length
        this.checkLong()
        return
      }
      this.rest.push(chunk.subarray(0, nl))
      const line = this.rest.length === 1 ? this.rest[0]! : Buffer.concat(this.rest, this.restLength + nl)
      this.rest = null
      this.restLength = 0
      this.line(line, 0, line.length)
      if (this.stopped) return
      pos = nl + 1
    }
    const scan = this.scan
    for (;;) {
      if (this.fast && this.pending === null && this.hashFn !== null && this.expected !== null && this.lineNo > 0) {
        scanRun(chunk, pos, chunk.length, this.expected, this.hashFn, this.watch, scan)
        if (scan.count > 0) {
          this.acceptRun(scan.count, scan.end - pos, scan.hash, scan.watchAt, chunk, scan.firstStart, scan.firstEnd, chunk, scan.lastStart, scan.lastEnd)
          pos = scan.end
        }
      }
      const nl = chunk.indexOf(LF, pos)
      if (nl === -1) break
      this.line(chunk, pos, nl)
      if (this.stopped) return
      pos = nl + 1
    }
    if (pos < chunk.length) {
      this.rest = [chunk.subarray(pos)]
      this.restLength = chunk.length - pos
      this.checkLong()
    }
  }

  /**
   * Accepts `count` lines that a worker (or {@link scanRun}) verified: each is
   * a user record linked to the one before and matching its hash, the first
   * linking to `firstPrev`. Returns false, changing nothing the lines would not
   * have changed, when the lines cannot be accepted as a block from the
   * current state (a different hash function, or a first link that does not
   * hold); the caller then feeds the lines themselves.
   * @internal
   */
  applyRun(run: { count: number; bytes: number; firstPrev: string; hash: string; alg: Algorithm; watchAt: number; firstLine: string; lastLine: string }): boolean {
    if (this.stopped) return true
    if (this.rest || this.skipping || this.lineNo === 0 || !this.fast || this.hashFn === null || this.alg !== run.alg) return false
    // The first line has a good hash, so the line-by-line logic would settle a held break here.
    if (this.pending) {
      this.flushPending()
      if (this.stopped) return true
    }
    if (this.expected !== run.firstPrev) return false
    const first = Buffer.from(run.firstLine)
    const last = run.count === 1 ? first : Buffer.from(run.lastLine)
    this.acceptRun(run.count, run.bytes, run.hash, run.watchAt, first, 0, first.length, last, 0, last.length)
    return true
  }

  private acceptRun(count: number, bytes: number, hash: string, watchAt: number, firstBuf: Buffer, firstStart: number, firstEnd: number, lastBuf: Buffer, lastStart: number, lastEnd: number): void {
    if (watchAt !== -1 && this.watchCount === null) this.watchCount = this.position + watchAt + 1
    this.lineNo += count
    this.offset += bytes
    this.position += count
    this.report.records += count
    this.fileRecords += count
    this.expected = hash
    this.headHash = hash
    this.headCount = this.position
    if (this.report.firstLine === null) this.report.firstLine = decodeUser(firstBuf, firstStart, firstEnd)
    if (this.fileFirst === null) this.fileFirst = decodeUser(firstBuf, firstStart, firstEnd)
    this.lastUser = { buf: lastBuf, start: lastStart, end: lastEnd }
    this.fileLast = this.lastUser
  }

  private checkLong(): void {
    if (!this.rest) return
    if (!this.skipping) {
      if (this.restLength <= MAX_LINE_BYTES) return
      // Report it without joining its parts: the line may be hundreds of megabytes.
      const head = headOf(this.rest, SHOW * 4)
      const sha = crypto.createHash('sha256')
      for (const part of this.rest) sha.update(part)
      this.lineNo++
      this.fail({ reason: 'MALFORMED', message: `line is longer than ${MAX_LINE_BYTES} bytes`, text: shorten(head, 0, head.length) }, null, head, 0, head.length, this.offset, { length: this.restLength, sha256: sha.digest('hex') })
      this.skipping = true
    }
    // While skipping to the end of a too long line, nothing of it is kept.
    this.offset += this.restLength
    this.rest = []
    this.restLength = 0
  }

  /**
   * The rest of the current file cannot be read (a .gz that is damaged or cut
   * short): what was fed is verified, a partial line is dropped, and a
   * CORRUPT_FILE break marks the line where the readable data ends.
   */
  abortFile(detail: string): void {
    if (this.stopped || this.aborted) return
    this.flushPending()
    if (this.stopped) return
    const dropped = this.skipping ? 0 : this.restLength
    this.rest = null
    this.restLength = 0
    this.skipping = false
    this.aborted = true
    this.lineNo++
    this.addBreak({ reason: 'CORRUPT_FILE', message: `the compressed data is damaged or cut short after ${this.offset + dropped} bytes (${detail}); the rest of the file cannot be read` }, null)
  }

  /** Ends the current file; `last` says whether more files follow. */
  endFile(last: boolean): void {
    if (this.stopped) return
    if (this.aborted) return this.fileEnded()
    const rest = this.rest
    const restLength = this.restLength
    this.rest = null
    this.restLength = 0
    this.flushPending()
    if (this.stopped) return
    if (this.skipping) {
      this.skipping = false
      this.fileEnded()
      return
    }
    if (rest && restLength) {
      const where: TornTail = { file: this.file, line: this.lineNo + 1, offset: this.offset, length: restLength }
      if (last) this.report.partial = where
      else {
        const head = headOf(rest, SHOW * 4)
        this.lineNo++
        this.addBreak({ reason: 'TORN_TAIL', message: `the file ends in a partial line of ${restLength} bytes that no recovery record accounts for`, text: shortenText(head, 0, head.length) }, this.options.onBreak ? Buffer.concat(rest, restLength) : null)
      }
    } else if (this.lineNo === 0) {
      this.lineNo = 1
      this.addBreak({ reason: 'BAD_HEADER', message: 'the file is empty' }, null)
    }
    if (!this.stopped) this.fileEnded(rest ? restLength : 0)
  }

  private fileEnded(partial = 0): void {
    const onFile = this.options.onFile
    if (!onFile) return
    const last = this.fileLast
    onFile({
      file: this.file,
      lines: this.lineNo + (partial ? 1 : 0),
      bytes: this.offset + partial,
      records: this.fileRecords,
      firstLine: this.fileFirst,
      lastLine: last ? decodeUser(last.buf, last.start, last.end) : null,
    })
  }

  /** Finishes verification and returns the report. */
  finish(): VerifyReport {
    if (!this.stopped) this.flushPending()
    if (this.startGap) {
      const gap = this.startGap
      this.startGap = null
      this.insertFirst(gap.brk)
    }
    const r = this.report
    if (this.seals) {
      const before = this.seals.problems.length
      const lastLineTime = this.lastUser ? lineTime(decodeUser(this.lastUser.buf, this.lastUser.start, this.lastUser.end)) : null
      const newest = Math.max(lastLineTime ?? -Infinity, this.metaTime ?? -Infinity)
      r.seals = this.seals.finish(this.headCount, this.firstPlace, Number.isFinite(newest) ? newest : null)
      if (this.options.all || r.breaks.length === 0) {
        for (const p of this.seals.problems.slice(before)) this.addBreakAt(p.place, { reason: p.reason, message: p.message, ...(p.expected !== undefined && { expected: p.expected }), ...(p.found !== undefined && { found: p.found }) })
      }
    }
    r.ok = r.breaks.length === 0
    r.algorithm = this.alg
    r.chain = this.chain
    r.head = this.headHash === null ? null : { hash: this.headHash, count: this.headCount }
    if (this.lastUser) r.lastLine = decodeUser(this.lastUser.buf, this.lastUser.start, this.lastUser.end)
    if (this.watch !== null) r.checkpoint = { hash: this.watch, count: this.watchCount }
    const expected = this.options.checkpoint
    if (expected) r.expected = checkHead(expected, r.head?.count ?? 0, this.watchCount)
    r.verdict = !r.ok ? 'BROKEN' : r.expected && !r.expected.reached ? 'TRUNCATED' : r.recovered.length ? 'VALID_RECOVERED' : 'VALID'
    return r
  }

  // ---- per line ----------------------------------------------------------

  private line(buf: Buffer, start: number, end: number): void {
    const lineOffset = this.offset
    this.offset += end - start + 1
    if (this.skipping) {
      // The end of a line already reported as too long (and counted) in checkLong().
      this.skipping = false
      return
    }
    this.lineNo++
    if (!hasRecordBounds(buf, start, end)) {
      return this.failAt(lineOffset, { reason: 'MALFORMED', message: 'not a record: expected prev|line|hash with 64 hex characters at each end', text: shorten(buf, start, end) }, null, buf, start, end)
    }
    const bodyEnd = end - HASH_HEX - 1
    const kindByte = buf[start + HASH_HEX + 1]
    const expectHeader = this.lineNo === 1
    if (expectHeader || kindByte === BACKSLASH) {
      return this.special(buf, start, end, lineOffset, expectHeader)
    }
    if (!this.hashFn) {
      return this.failAt(lineOffset, { reason: 'BAD_HEADER', message: 'record before any chainlog header' }, null, buf, start, end)
    }
    const computed = this.hashFn(buf.subarray(start, bodyEnd))
    const found = buf.toString('latin1', end - HASH_HEX, end)
    if (computed !== found) {
      return this.failAt(lineOffset, this.hashBreak(found, computed, buf, start, end), isHash(found) ? found : null, buf, start, end)
    }
    if (this.pending) {
      this.flushPending()
      if (this.stopped) return
    }
    const prev = buf.toString('latin1', start, start + HASH_HEX)
    if (prev !== this.expected) return this.failAt(lineOffset, this.prevBreak(prev, buf, start, end), found, buf, start, end)
    this.accept(found)
    this.userLine(buf, start + HASH_HEX + 1, bodyEnd, null)
  }

  /** A verified user line: first/last lines and the onLine callback. `text` is its unescaped form when already known. */
  private userLine(buf: Buffer, start: number, end: number, text: string | null): void {
    if (this.report.firstLine === null) this.report.firstLine = text ?? buf.toString('utf8', start, end)
    if (this.fileFirst === null) this.fileFirst = text ?? buf.toString('utf8', start, end)
    this.lastUser = { buf, start, end }
    this.fileLast = this.lastUser
    if (this.options.onLine) this.options.onLine(text ?? buf.toString('utf8', start, end), { file: this.file, line: this.lineNo })
  }

  private accept(hash: string): void {
    if (this.watch !== null && this.watchCount === null && hash === this.watch) this.watchCount = this.position + 1
    this.expected = hash
    this.position++
    this.report.records++
    this.fileRecords++
    this.headHash = hash
    this.headCount = this.position
  }

  private hashBreak(found: string, computed: string, buf: Buffer, start: number, end: number): Omit<Break, 'file' | 'line' | 'offset'> {
    if (!isHash(found)) return { reason: 'MALFORMED', message: 'the hash field is not 64 lowercase hex characters', found, text: shorten(buf, start, end) }
    const prev = buf.toString('latin1', start, start + HASH_HEX)
    if (!isHash(prev)) return { reason: 'MALFORMED', message: 'the prev field is not 64 lowercase hex characters', found: prev, text: shorten(buf, start, end) }
    return { reason: 'HASH_MISMATCH', message: 'the line does not match its hash: the line or its prev field was changed', expected: computed, found, text: shorten(buf, start, end) }
  }

  private prevBreak(prev: string, buf: Buffer, start: number, end: number): Omit<Break, 'file' | 'line' | 'offset'> {
    // FORMAT.md §2: anything but 64 lowercase hex characters makes the line MALFORMED, even under a matching hash.
    if (!isHash(prev)) return { reason: 'MALFORMED', message: 'the prev field is not 64 lowercase hex characters', found: prev, text: shorten(buf, start, end) }
    return { reason: 'PREV_MISMATCH', message: 'prev is not the hash of the record before: a record was deleted, inserted or moved here', expected: this.expected ?? GENESIS, found: prev, text: shorten(buf, start, end) }
  }

  /** Headers, metadata and escaped lines: all start with a backslash, or are line 1 of a file. */
  private special(buf: Buffer, start: number, end: number, lineOffset: number, expectHeader: boolean): void {
    const bodyEnd = end - HASH_HEX - 1
    const stored = buf.toString('utf8', start + HASH_HEX + 1, bodyEnd)
    const found = buf.toString('latin1', end - HASH_HEX, end)
    const prev = buf.toString('latin1', start, start + HASH_HEX)
    const meta = stored.startsWith('\\m') ? parseMeta(stored) : null
    // Only the types format 1 defines are acted upon; any other is a record passed on as it is (FORMAT.md §4).
    const known = isKnownMeta(meta) ? meta : null
    if (expectHeader) {
      if (!isHeader(meta)) {
        return this.failAt(lineOffset, { reason: 'BAD_HEADER', message: 'line 1 of a file must be a chainlog header record', text: shorten(buf, start, end) }, isHash(found) ? found : null, buf, start, end)
      }
      const problem = this.header(meta, prev, lineOffset)
      // Whatever the verdict on this header, the next one names this file.
      this.lastFile = meta.file
      if (problem) return this.failAt(lineOffset, problem, isHash(found) ? found : null, buf, start, end)
    }
    if (!this.hashFn) return this.failAt(lineOffset, { reason: 'BAD_HEADER', message: 'record before any chainlog header' }, null, buf, start, end)
    const computed = this.hashFn(buf.subarray(start, bodyEnd))
    if (computed !== found) return this.failAt(lineOffset, this.hashBreak(found, computed, buf, start, end), isHash(found) ? found : null, buf, start, end)
    if (this.pending) {
      if (known?.t === 'recovery' && this.recoveredBy(known, prev)) {
        this.accept(found)
        return this.metaSeen(known, lineOffset)
      }
      this.flushPending()
      if (this.stopped) return
    }
    if (this.expected !== null && prev !== this.expected) {
      const index = expectHeader && known?.t === 'header' ? known.index : -1
      if (index > this.lastIndex + 1 && this.lastIndex >= 0) {
        const missing = index - this.lastIndex - 1
        this.lastIndex = index
        return this.failAt(lineOffset, { reason: 'MISSING_FILE', message: `${missing} file(s) of the chain are missing before this one (its index is ${index}, the previous file's ${index - missing - 1})`, expected: this.expected, found: prev, text: shorten(buf, start, end) }, found, buf, start, end)
      }
      // The link broke, not the numbering: later files follow this file's index and position.
      if (expectHeader) {
        this.lastIndex = index
        this.position = (meta as HeaderMeta).seq
      }
      return this.failAt(lineOffset, this.prevBreak(prev, buf, start, end), found, buf, start, end)
    }
    // FORMAT.md §4: a header is line 1 of every file and only there (a concatenation of files would hide one).
    if (!expectHeader && isHeader(meta)) return this.failAt(lineOffset, { reason: 'BAD_HEADER', message: 'a header record may only be line 1 of a file', text: shorten(buf, start, end) }, found, buf, start, end)
    if (expectHeader && known?.t === 'header') this.lastIndex = known.index
    if (meta) {
      if (known?.t === 'retention') this.retention(known)
    } else if (stored.startsWith('\\e')) {
      let line: string
      try {
        line = unescapeLine(stored)
      } catch (err) {
        return this.failAt(lineOffset, { reason: 'MALFORMED', message: `bad escape: ${(err as Error).message}`, text: shorten(buf, start, end) }, found, buf, start, end)
      }
      this.accept(found)
      this.userLine(buf, start + HASH_HEX + 1, bodyEnd, line)
      return
    } else if (!expectHeader) {
      return this.failAt(lineOffset, { reason: 'MALFORMED', message: stored.startsWith('\\m') ? 'metadata record is not a JSON object with a "t" member' : 'a stored line may only start with \\ as \\e (escaped) or \\m (metadata)', text: shorten(buf, start, end) }, found, buf, start, end)
    }
    if (!this.firstPlace) this.firstPlace = { file: this.file, line: this.lineNo, offset: lineOffset }
    const sealProblem = known?.t === 'seal' && this.seals ? this.seals.seal(known, { file: this.file, line: this.lineNo, offset: lineOffset, position: this.position, prev, chain: this.chain ?? '' }) : null
    this.accept(found)
    if (meta) {
      const time: unknown = meta.time
      const t = typeof time === 'number' ? time : Date.parse(String(time))
      if (Number.isFinite(t)) this.metaTime = Math.max(this.metaTime ?? -Infinity, t)
      this.metaSeen(meta, lineOffset)
    }
    if (sealProblem) this.addBreakAt(sealProblem.place, { reason: sealProblem.reason, message: sealProblem.message, ...(sealProblem.expected !== undefined && { expected: sealProblem.expected }), ...(sealProblem.found !== undefined && { found: sealProblem.found }), text: shorten(buf, start, end) })
  }

  private metaSeen(meta: Meta | UnknownMeta, offset: number): void {
    if (this.options.onMeta) this.options.onMeta(meta, { file: this.file, line: this.lineNo, offset })
  }

  /** Checks a header against the chain so far and sets the hash function. Returns a problem or null. */
  private header(h: HeaderMeta, prev: string, _offset: number): Omit<Break, 'file' | 'line' | 'offset'> | null {
    if (h.v !== FORMAT_VERSION) return { reason: 'BAD_HEADER', message: `format version ${h.v} is not supported (this verifier reads ${FORMAT_VERSION})` }
    if (!isAlgorithm(h.alg)) return { reason: 'BAD_HEADER', message: `unknown algorithm ${JSON.stringify(h.alg)}` }
    if (typeof h.chain !== 'string' || typeof h.index !== 'number' || typeof h.seq !== 'number') return { reason: 'BAD_HEADER', message: 'header lacks chain, index or seq' }
    // FORMAT.md §5: prevHash repeats the record's own prev (retention is matched against it).
    if (h.prevHash !== prev) return { reason: 'BAD_HEADER', message: "the header's prevHash is not its record's prev", expected: prev, found: String(h.prevHash) }
    if ((h.index === 0) !== (h.prevFile === null)) return { reason: 'BAD_HEADER', message: h.index === 0 ? 'the first file of a chain names no previous file' : 'only the first file of a chain (index 0) has no previous file', expected: h.index === 0 ? 'null' : 'a file name', found: JSON.stringify(h.prevFile) }
    // A keyed chain cannot be re-declared unkeyed: anyone could then recompute it (#12).
    // The reviewer's --key asserts a keyed chain; a keyed first header asserts it for every later file.
    if (h.alg !== 'hmac-sha256' && (this.options.key || this.alg === 'hmac-sha256')) {
      return { reason: 'BAD_HEADER', message: this.options.key ? `a key was given, but this header declares ${h.alg}: an unkeyed chain can be recomputed by anyone` : `the chain is hmac-sha256, but this header declares ${h.alg}: a keyed chain cannot continue unkeyed`, expected: 'hmac-sha256', found: h.alg }
    }
    if (this.alg !== h.alg || !this.hashFn) {
      if (h.alg === 'hmac-sha256') {
        if (!this.options.key) throw new ChainlogError(ErrorCodes.KEY_REQUIRED, `${this.file} is an hmac-sha256 chain; give its key (--key <file>)`, { path: this.file })
        if (h.keyId && keyId(this.options.key) !== h.keyId) throw new ChainlogError(ErrorCodes.KEY_MISMATCH, `the key given is not the key of ${this.file} (key id ${keyId(this.options.key)}, file wants ${h.keyId})`, { path: this.file })
        this.hashFn = createHashFn('hmac-sha256', { key: this.options.key })
      } else this.hashFn = createHashFn(h.alg)
      this.alg = h.alg
    }
    if (this.chain === null) {
      this.chain = h.chain
      this.position = h.seq
      if (h.index === 0) {
        if (prev !== GENESIS) return { reason: 'PREV_MISMATCH', message: 'the first file of a chain must start from the genesis value', expected: GENESIS, found: prev }
      } else {
        // Earlier files are absent: fine only if a retention record later in the chain deleted them.
        this.startGap = { header: h, brk: { file: this.file, line: 1, offset: 0, reason: 'MISSING_FILE', message: `files before this one (index ${h.index}) are missing and no retention record in the chain accounts for them`, expected: 'a retention record naming index ' + (h.index - 1), found: prev } }
      }
      this.expected = prev
      return null
    }
    if (h.chain !== this.chain) return { reason: 'BAD_HEADER', message: `this file belongs to chain ${h.chain}, not ${this.chain}`, expected: this.chain, found: h.chain }
    if (h.index <= this.lastIndex) return { reason: 'BAD_HEADER', message: `file index ${h.index} does not follow ${this.lastIndex}`, expected: String(this.lastIndex + 1), found: String(h.index) }
    // FORMAT.md §5.1: a file that links to the one before it has the next index. A larger one
    // with an intact link is a rewritten header, not missing files (those break the link).
    if (h.index !== this.lastIndex + 1 && prev === this.expected) {
      const problem = { reason: 'BAD_HEADER' as const, message: `file index ${h.index} does not follow ${this.lastIndex}, though the file links to it`, expected: String(this.lastIndex + 1), found: String(h.index) }
      // Reported once, like a wrong seq below: later files are numbered on from this one.
      this.lastIndex = h.index
      return problem
    }
    if (prev === this.expected && this.lastFile !== null && h.prevFile !== this.lastFile) {
      return { reason: 'BAD_HEADER', message: `the header names ${JSON.stringify(h.prevFile)} as the previous file, which was created as ${JSON.stringify(this.lastFile)}`, expected: this.lastFile, found: JSON.stringify(h.prevFile) }
    }
    if (h.seq !== this.position && h.index === this.lastIndex + 1 && prev === this.expected) {
      const problem = { reason: 'BAD_HEADER' as const, message: `header says ${h.seq} lines precede it, the chain has ${this.position}`, expected: String(this.position), found: String(h.seq) }
      // Reported once: count on from the header, so that (with `all`) every later header is not off by the same lines.
      this.position = h.seq
      this.lastIndex = h.index
      return problem
    }
    return null
  }

  private retention(meta: RetentionMeta): void {
    if (!Array.isArray(meta.deleted)) return
    for (const d of meta.deleted) this.report.retention.push(d)
    const gap = this.startGap
    if (gap && meta.deleted.some((d) => d.index === gap.header.index - 1 && d.lastHash === gap.header.prevHash)) this.startGap = null
  }

  /** Whether a recovery record accounts for the pending failed line as a torn tail. */
  private recoveredBy(meta: RecoveryMeta, prev: string): boolean {
    const p = this.pending
    if (!p || meta.reason !== 'torn-tail') return false
    if (prev !== p.prevBefore || meta.length !== p.length || meta.sha256 !== p.sha256) return false
    this.report.recovered.push({ file: p.brk.file, line: p.brk.line, offset: p.brk.offset, length: p.length })
    this.pending = null
    this.position++ // the terminated fragment is a physical line of the chain
    return true
  }

  private failAt(offset: number, brk: Omit<Break, 'file' | 'line' | 'offset'>, foundHash: string | null, buf: Buffer, start: number, end: number): void {
    this.fail(brk, foundHash, buf, start, end, offset)
  }

  /**
   * A line failed. It may be a torn fragment that the next line (a recovery
   * record) accounts for, so hold it until that line is seen.
   */
  private fail(brk: Omit<Break, 'file' | 'line' | 'offset'>, foundHash: string | null, buf: Buffer, start: number, end: number, offset = this.offset, whole?: { length: number; sha256: string }): void {
    if (this.pending) this.flushPending()
    if (this.stopped) return
    const full: Break = { file: this.file, line: this.lineNo, offset, ...brk }
    const line = buf.subarray(start, end)
    this.pending = {
      brk: full,
      prevBefore: this.expected ?? GENESIS,
      foundHash,
      length: whole?.length ?? end - start,
      sha256: whole?.sha256 ?? crypto.createHash('sha256').update(line).digest('hex'),
      bytes: this.options.onBreak ? Buffer.from(line) : null,
    }
  }

  private flushPending(): void {
    const p = this.pending
    if (!p) return
    this.pending = null
    this.report.breaks.push(p.brk)
    // Continue after the break from the line's own hash, so one edited line gives one break.
    if (p.foundHash) {
      this.expected = p.foundHash
      this.headHash = p.foundHash
      this.headCount = this.position + 1
    }
    this.position++
    if (this.options.onBreak) this.options.onBreak(p.brk, p.bytes)
    if (!this.options.all) this.stopped = true
  }

  /** A break at a given place (seal problems are found after their line was accepted). */
  private addBreakAt(place: { file: string; line: number; offset: number }, brk: Omit<Break, 'file' | 'line' | 'offset'>): void {
    const full: Break = { ...place, ...brk }
    this.report.breaks.push(full)
    if (this.options.onBreak) this.options.onBreak(full, null)
    if (!this.options.all) this.stopped = true
  }

  private addBreak(brk: Omit<Break, 'file' | 'line' | 'offset'>, line: Buffer | null): void {
    const full: Break = { file: this.file, line: this.lineNo, offset: this.offset, ...brk }
    this.report.breaks.push(full)
    if (this.options.onBreak) this.options.onBreak(full, line)
    if (!this.options.all) this.stopped = true
  }

  private insertFirst(brk: Break): void {
    this.report.breaks.unshift(brk)
    if (!this.options.all) this.report.breaks.length = 1
    if (this.options.onBreak) this.options.onBreak(brk, null)
  }
}

/** Whether a chain of `length` records, with the expected hash at `foundAt` (null: nowhere), reaches `expected`. */
function checkHead(expected: { hash?: string; count?: number }, length: number, foundAt: number | null): HeadCheck {
  const hash = expected.hash ?? null
  const count = expected.count ?? null
  const at = hash !== null ? foundAt : null
  let shortfall: Shortfall | null = null
  if (hash !== null && at === null) shortfall = count !== null && length < count ? 'ENDS_BEFORE_HEAD' : 'HEAD_NOT_FOUND'
  else if (hash !== null && count !== null && at !== count) shortfall = 'HEAD_ELSEWHERE'
  else if (hash === null && count !== null && length < count) shortfall = 'TOO_FEW_RECORDS'
  return { hash, count, reached: shortfall === null, foundAt: at, shortfall }
}

/** The first `n` bytes of a line received in parts (at most n bytes are copied). */
function headOf(parts: Buffer[], n: number): Buffer {
  const out: Buffer[] = []
  let got = 0
  for (const p of parts) {
    if (got >= n) break
    out.push(p.subarray(0, n - got))
    got += Math.min(p.length, n - got)
  }
  return Buffer.concat(out, got)
}

function decodeUser(buf: Buffer, start: number, end: number): string {
  const stored = buf.toString('utf8', start, end)
  try {
    return unescapeLine(stored)
  } catch {
    return stored
  }
}
