import * as crypto from 'node:crypto'
import { createHashFn, isAlgorithm, keyId, type Algorithm, type HashFn } from './algorithm'
import { ChainlogError, ErrorCodes } from './errors'
import { FORMAT_VERSION, isHeader, parseMeta, type DeletedFile, type HeaderMeta, type RecoveryMeta, type RetentionMeta } from './meta'
import { GENESIS, HASH_HEX, isHash, RECORD_OVERHEAD, unescapeLine } from './record'

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
} as const
export type BreakReason = (typeof BreakReasons)[keyof typeof BreakReasons]

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

export interface VerifyReport {
  ok: boolean
  /** Lines that verified as records (headers and metadata included). */
  records: number
  /** Files in chain order. */
  files: string[]
  algorithm: Algorithm | null
  chain: string | null
  /** The last verified record: its hash, and the chain length up to it (compare with a value kept elsewhere). */
  head: { hash: string; count: number } | null
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
}

export interface VerifierOptions {
  /** Key for hmac-sha256 chains. */
  key?: Uint8Array
  /** Report every break instead of stopping at the first. */
  all?: boolean
  /** Called for every verified user line (unescaped), in chain order. */
  onLine?: (line: string, where: { file: string; line: number }) => void
}

const LF = 0x0a
const PIPE = 0x7c
const BACKSLASH = 0x5c
/** Longest line the verifier holds in memory; longer ones are reported MALFORMED and skipped. */
export const MAX_LINE_BYTES = 256 * 1024 * 1024
const SHOW = 160

function shorten(buf: Buffer, start: number, end: number): string {
  const text = buf.toString('utf8', start, Math.min(end, start + SHOW * 4))
  return text.length > SHOW ? text.slice(0, SHOW) + '…' : text
}

interface Pending {
  brk: Break
  /** prev expected before the failing line (what a recovery record must link to). */
  prevBefore: string
  /** hash field of the failing line, when it had one. */
  foundHash: string | null
  length: number
  sha256: string
}

/**
 * Verifies a chain fed as a sequence of files, each as a sequence of byte
 * chunks. Memory stays constant: only the current chunk, a partial line
 * and a few hashes are held. Use {@link verify} for paths.
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
  private startGap: { header: HeaderMeta; brk: Break } | null = null
  private file = ''
  private fileNo = -1
  private lineNo = 0
  private offset = 0
  private rest: Buffer | null = null
  private skipping = false
  private pending: Pending | null = null
  private stopped = false
  private readonly report: VerifyReport = {
    ok: true, records: 0, files: [], algorithm: null, chain: null, head: null, breaks: [], recovered: [], partial: null, retention: [], firstLine: null, lastLine: null,
  }
  private lastUser: { buf: Buffer; start: number; end: number } | null = null
  private breakOrder: number[] = []

  constructor(options: VerifierOptions = {}) {
    this.options = options
  }

  /** True once the first break was found and `all` is off: further input is ignored. */
  get done(): boolean {
    return this.stopped
  }

  beginFile(name: string): void {
    this.file = name
    this.fileNo++
    this.lineNo = 0
    this.offset = 0
    this.rest = null
    this.skipping = false
    this.report.files.push(name)
  }

  /** Feeds the next bytes of the current file. */
  feed(chunk: Buffer): void {
    if (this.stopped) return
    let buf = chunk
    let pos = 0
    if (this.rest) {
      const nl = chunk.indexOf(LF)
      if (nl === -1) {
        this.rest = Buffer.concat([this.rest, chunk])
        this.checkLong()
        return
      }
      const line = Buffer.concat([this.rest, chunk.subarray(0, nl)])
      this.rest = null
      this.line(line, 0, line.length)
      if (this.stopped) return
      pos = nl + 1
    }
    let nl = buf.indexOf(LF, pos)
    while (nl !== -1) {
      this.line(buf, pos, nl)
      if (this.stopped) return
      pos = nl + 1
      nl = buf.indexOf(LF, pos)
    }
    if (pos < buf.length) {
      this.rest = buf.subarray(pos)
      this.checkLong()
    }
  }

  private checkLong(): void {
    if (!this.rest || this.rest.length <= MAX_LINE_BYTES) return
    if (!this.skipping) {
      this.lineNo++
      this.fail({ reason: 'MALFORMED', message: `line is longer than ${MAX_LINE_BYTES} bytes`, text: shorten(this.rest, 0, this.rest.length) }, null, this.rest, 0, this.rest.length)
      this.skipping = true
    }
    this.offset += this.rest.length
    this.rest = Buffer.alloc(0)
  }

  /** Ends the current file; `last` says whether more files follow. */
  endFile(last: boolean): void {
    if (this.stopped) return
    const rest = this.rest
    this.rest = null
    this.flushPending()
    if (this.stopped) return
    if (this.skipping) {
      this.skipping = false
      return
    }
    if (rest && rest.length) {
      const where: TornTail = { file: this.file, line: this.lineNo + 1, offset: this.offset, length: rest.length }
      if (last) this.report.partial = where
      else {
        this.lineNo++
        this.addBreak({ reason: 'TORN_TAIL', message: `the file ends in a partial line of ${rest.length} bytes that no recovery record accounts for`, text: shorten(rest, 0, rest.length) })
      }
    } else if (this.lineNo === 0) {
      this.lineNo = 1
      this.addBreak({ reason: 'BAD_HEADER', message: 'the file is empty' })
    }
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
    r.ok = r.breaks.length === 0
    r.algorithm = this.alg
    r.chain = this.chain
    if (this.lastUser) r.lastLine = decodeUser(this.lastUser.buf, this.lastUser.start, this.lastUser.end)
    return r
  }

  // ---- per line ----------------------------------------------------------

  private line(buf: Buffer, start: number, end: number): void {
    this.lineNo++
    const lineOffset = this.offset
    this.offset += end - start + 1
    if (this.skipping) {
      this.skipping = false
      return
    }
    const len = end - start
    if (len < RECORD_OVERHEAD - 1 || buf[start + HASH_HEX] !== PIPE || buf[end - HASH_HEX - 1] !== PIPE) {
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
    if (this.report.firstLine === null) this.report.firstLine = buf.toString('utf8', start + HASH_HEX + 1, bodyEnd)
    this.lastUser = { buf, start: start + HASH_HEX + 1, end: bodyEnd }
    if (this.options.onLine) this.options.onLine(buf.toString('utf8', start + HASH_HEX + 1, bodyEnd), { file: this.file, line: this.lineNo })
  }

  private accept(hash: string): void {
    this.expected = hash
    this.position++
    this.report.records++
    this.report.head = { hash, count: this.position }
  }

  private hashBreak(found: string, computed: string, buf: Buffer, start: number, end: number): Omit<Break, 'file' | 'line' | 'offset'> {
    if (!isHash(found)) return { reason: 'MALFORMED', message: 'the hash field is not 64 lowercase hex characters', found, text: shorten(buf, start, end) }
    const prev = buf.toString('latin1', start, start + HASH_HEX)
    if (!isHash(prev)) return { reason: 'MALFORMED', message: 'the prev field is not 64 lowercase hex characters', found: prev, text: shorten(buf, start, end) }
    return { reason: 'HASH_MISMATCH', message: 'the line does not match its hash: the line or its prev field was changed', expected: computed, found, text: shorten(buf, start, end) }
  }

  private prevBreak(prev: string, buf: Buffer, start: number, end: number): Omit<Break, 'file' | 'line' | 'offset'> {
    return { reason: 'PREV_MISMATCH', message: 'prev is not the hash of the record before: a record was deleted, inserted or moved here', expected: this.expected ?? GENESIS, found: prev, text: shorten(buf, start, end) }
  }

  /** Headers, metadata and escaped lines: all start with a backslash, or are line 1 of a file. */
  private special(buf: Buffer, start: number, end: number, lineOffset: number, expectHeader: boolean): void {
    const bodyEnd = end - HASH_HEX - 1
    const stored = buf.toString('utf8', start + HASH_HEX + 1, bodyEnd)
    const found = buf.toString('latin1', end - HASH_HEX, end)
    const prev = buf.toString('latin1', start, start + HASH_HEX)
    const meta = stored.startsWith('\\m') ? parseMeta(stored) : null
    if (expectHeader) {
      if (!isHeader(meta)) {
        return this.failAt(lineOffset, { reason: 'BAD_HEADER', message: 'line 1 of a file must be a chainlog header record', text: shorten(buf, start, end) }, isHash(found) ? found : null, buf, start, end)
      }
      const problem = this.header(meta, prev, lineOffset)
      if (problem) return this.failAt(lineOffset, problem, isHash(found) ? found : null, buf, start, end)
    }
    if (!this.hashFn) return this.failAt(lineOffset, { reason: 'BAD_HEADER', message: 'record before any chainlog header' }, null, buf, start, end)
    const computed = this.hashFn(buf.subarray(start, bodyEnd))
    if (computed !== found) return this.failAt(lineOffset, this.hashBreak(found, computed, buf, start, end), isHash(found) ? found : null, buf, start, end)
    if (this.pending) {
      if (meta?.t === 'recovery' && this.recoveredBy(meta as RecoveryMeta, prev)) return this.accept(found)
      this.flushPending()
      if (this.stopped) return
    }
    if (this.expected !== null && prev !== this.expected) {
      const index = expectHeader ? (meta as HeaderMeta).index : -1
      if (index > this.lastIndex + 1 && this.lastIndex >= 0) {
        const missing = index - this.lastIndex - 1
        this.lastIndex = index
        return this.failAt(lineOffset, { reason: 'MISSING_FILE', message: `${missing} file(s) of the chain are missing before this one (its index is ${index}, the previous file's ${index - missing - 1})`, expected: this.expected, found: prev, text: shorten(buf, start, end) }, found, buf, start, end)
      }
      return this.failAt(lineOffset, this.prevBreak(prev, buf, start, end), found, buf, start, end)
    }
    // FORMAT.md §4: a header is line 1 of every file and only there (a concatenation of files would hide one).
    if (!expectHeader && isHeader(meta)) return this.failAt(lineOffset, { reason: 'BAD_HEADER', message: 'a header record may only be line 1 of a file', text: shorten(buf, start, end) }, found, buf, start, end)
    if (expectHeader) this.lastIndex = (meta as HeaderMeta).index
    if (meta) {
      if (meta.t === 'retention') this.retention(meta as RetentionMeta)
    } else if (stored.startsWith('\\e')) {
      let line: string
      try {
        line = unescapeLine(stored)
      } catch (err) {
        return this.failAt(lineOffset, { reason: 'MALFORMED', message: `bad escape: ${(err as Error).message}`, text: shorten(buf, start, end) }, found, buf, start, end)
      }
      this.accept(found)
      if (this.report.firstLine === null) this.report.firstLine = line
      this.lastUser = { buf, start: start + HASH_HEX + 1, end: bodyEnd }
      if (this.options.onLine) this.options.onLine(line, { file: this.file, line: this.lineNo })
      return
    } else if (!expectHeader) {
      return this.failAt(lineOffset, { reason: 'MALFORMED', message: stored.startsWith('\\m') ? 'metadata record is not a JSON object with a "t" member' : 'a stored line may only start with \\ as \\e (escaped) or \\m (metadata)', text: shorten(buf, start, end) }, found, buf, start, end)
    }
    this.accept(found)
  }

  /** Checks a header against the chain so far and sets the hash function. Returns a problem or null. */
  private header(h: HeaderMeta, prev: string, _offset: number): Omit<Break, 'file' | 'line' | 'offset'> | null {
    if (h.v !== FORMAT_VERSION) return { reason: 'BAD_HEADER', message: `format version ${h.v} is not supported (this verifier reads ${FORMAT_VERSION})` }
    if (!isAlgorithm(h.alg)) return { reason: 'BAD_HEADER', message: `unknown algorithm ${JSON.stringify(h.alg)}` }
    if (typeof h.chain !== 'string' || typeof h.index !== 'number' || typeof h.seq !== 'number') return { reason: 'BAD_HEADER', message: 'header lacks chain, index or seq' }
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
    if (h.seq !== this.position && h.index === this.lastIndex + 1 && prev === this.expected) return { reason: 'BAD_HEADER', message: `header says ${h.seq} lines precede it, the chain has ${this.position}`, expected: String(this.position), found: String(h.seq) }
    return null
  }

  private retention(meta: RetentionMeta): void {
    if (!Array.isArray(meta.deleted)) return
    for (const d of meta.deleted) this.report.retention.push(d)
    const gap = this.startGap
    if (gap && meta.deleted.some((d) => d.index === gap.header.index - 1 && d.lastHash === gap.header.prevHash)) this.startGap = null
  }

  /** Whether a recovery record accounts for the pending failed line as a torn tail. */
  private recoveredBy(meta: RecoveryMeta | null, prev: string): boolean {
    const p = this.pending
    if (!meta || !p || meta.reason !== 'torn-tail') return false
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
  private fail(brk: Omit<Break, 'file' | 'line' | 'offset'>, foundHash: string | null, buf: Buffer, start: number, end: number, offset = this.offset): void {
    if (this.pending) this.flushPending()
    if (this.stopped) return
    const full: Break = { file: this.file, line: this.lineNo, offset, ...brk }
    this.pending = {
      brk: full,
      prevBefore: this.expected ?? GENESIS,
      foundHash,
      length: end - start,
      sha256: crypto.createHash('sha256').update(buf.subarray(start, end)).digest('hex'),
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
      this.report.head = { hash: p.foundHash, count: this.position + 1 }
    }
    this.position++
    if (!this.options.all) this.stopped = true
  }

  private addBreak(brk: Omit<Break, 'file' | 'line' | 'offset'>): void {
    this.report.breaks.push({ file: this.file, line: this.lineNo, offset: this.offset, ...brk })
    if (!this.options.all) this.stopped = true
  }

  private insertFirst(brk: Break): void {
    this.report.breaks.unshift(brk)
    if (!this.options.all) this.report.breaks.length = 1
  }
}

function decodeUser(buf: Buffer, start: number, end: number): string {
  const stored = buf.toString('utf8', start, end)
  try {
    return unescapeLine(stored)
  } catch {
    return stored
  }
}
