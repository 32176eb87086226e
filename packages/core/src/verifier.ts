import type { Algorithm, HashFn } from './algorithm'
import { headOf, shorten, SHOWN_BYTES } from './break-text'
import type { SkippedFile } from './inputs'
import { BreakLog, foreignEndBreak, hashBreak, holdLine, prevBreak, recovers, sealBreak, wholeLine, type HeldLine } from './breaks'
import { FileBoundary, MAX_LINE_BYTES, userText, type UserLine } from './file-boundary'
import { HeaderRules } from './header-rules'
import { isHeader, isKnownMeta, parseMeta, type HeaderMeta, type Meta, type RecoveryMeta, type TruncationMeta, type UnknownMeta } from './meta'
import { hasRecordBounds, HASH_HEX, isHash, unescapeLine } from './record'
import { conclude, type Problem, type VerifierOptions, type VerifyReport } from './report'
import { newRunScan, scanRun } from './run-scan'
import { SealWatch } from './seal-watch'
import { explainsHeld, truncationBreak } from './truncation-break'
import { CheckpointWatch } from './checkpoint-watch'

const LF = 0x0a
const BACKSLASH = 0x5c

/**
 * Verifies a chain fed as a sequence of files, each as a sequence of byte
 * chunks: the chain's rules with no I/O, for a tool (a fuzzer, another
 * transport) that has the bytes itself. Memory stays constant: only the
 * current chunk, a partial line and a few hashes are held. Use {@link verify}
 * for paths and streams.
 */
export class ChainVerifier {
  private readonly options: VerifierOptions
  private readonly headers: HeaderRules
  /** The headers' hash function, held here too: the line loop calls it per record. */
  private hashFn: HashFn | null = null
  /** Hash the next record's prev must equal; null before the first header. */
  private expected: string | null = null
  /** Physical lines of the chain before the current one (absolute, from the first header's seq). */
  private position = 0
  /** The current file, its line and byte offset, and the rules where files meet. */
  private readonly at: FileBoundary
  private pending: HeldLine | null = null
  private stopped = false
  private readonly report: VerifyReport = {
    ok: true, verdict: 'VALID', records: 0, files: [], algorithm: null, chain: null, head: null, breaks: [], recovered: [], partial: null, retention: [], archived: [], firstLine: null, lastLine: null, scope: 'log', segment: null, skipped: [],
  }
  /** Some line had the shape of a record: the input is chainlog, and a verdict is due. */
  private sawRecord = false
  private readonly breaks: BreakLog
  /** The head, kept as two fields rather than an object per record. */
  private headHash: string | null = null
  private headCount = 0
  private lastUser: UserLine | null = null
  private readonly seals: SealWatch | null
  private readonly watch: string | null
  private watchCount: number | null = null
  private readonly scan = newRunScan()
  /** scanRun may take lines: no per-line callback wants each of them. */
  private fast: boolean
  private readonly checkpoints = new CheckpointWatch()

  constructor(options: VerifierOptions = {}) {
    this.options = options
    this.headers = new HeaderRules(options.key, options.keyVerified)
    this.report.scope = options.scope ?? 'log'
    this.breaks = new BreakLog(this.report.breaks, options)
    this.at = new FileBoundary(this.headers, options, this.report, this.breaks)
    this.watch = options.checkpoint?.hash ?? null
    this.seals = options.verifyKey ? new SealWatch(options.verifyKey, { asOf: options.asOf, heartbeat: options.heartbeat }) : null
    this.fast = !options.onLine && !options.onRecord
  }

  /** Whether any line fed had the shape of a record (`prev|line|hash`): without one, the input is no chainlog input. */
  get sawRecords(): boolean {
    return this.sawRecord
  }

  /** True once the first break was found and `all` is off: further input is ignored. */
  get done(): boolean {
    return this.stopped
  }

  /** The current file's byte offset: everything fed so far, a partial line included. */
  get bytesFed(): number {
    return this.at.bytesFed
  }

  beginFile(name: string): void {
    this.at.begin(name, this.position, this.pending !== null)
  }

  /**
   * Goes on after the `line` lines (`offset` bytes) an earlier run verified, ending with `prev` at
   * `position`; called after the file's header line (verify-state.ts). @internal
   */
  resumeAfter(from: { line: number; offset: number; prev: string; position: number }): void {
    this.flushPending()
    this.headers.takeStartGap()
    this.at.lineNo = from.line
    this.at.offset = from.offset
    this.expected = this.headHash = from.prev
    this.position = this.headCount = from.position
  }

  /** Feeds the next bytes of the current file. */
  feed(chunk: Buffer): void {
    const at = this.at
    if (this.stopped || at.aborted) return
    let pos = 0
    if (at.rest) {
      const nl = chunk.indexOf(LF)
      if (nl === -1) {
        at.keep(chunk)
        return this.checkLong()
      }
      const line = at.join(chunk, nl)
      this.line(line, 0, line.length)
      if (this.stopped) return
      pos = nl + 1
    }
    const scan = this.scan
    for (;;) {
      if (this.fast && this.pending === null && this.hashFn !== null && this.expected !== null && at.lineNo > 0) {
        scanRun(chunk, pos, chunk.length, this.expected, this.hashFn, this.watch, scan)
        if (scan.count > 0) {
          if (this.seals) this.seals.userRun(chunk, pos, scan.end, at.file, at.lineNo + 1, at.offset)
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
      at.keep(chunk.subarray(pos))
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
    // The seal audit reads every record's time, which a worker's run does not carry.
    if (this.at.rest || this.at.skipping || this.at.lineNo === 0 || !this.fast || this.seals || this.hashFn === null || this.headers.alg !== run.alg) return false
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
    const at = this.at
    if (watchAt !== -1 && this.watchCount === null) this.watchCount = this.position + watchAt + 1
    at.lineNo += count
    at.offset += bytes
    this.position += count
    this.report.records += count
    at.records += count
    this.expected = hash
    this.headHash = hash
    this.headCount = this.position
    const first = this.report.firstLine === null || at.first === null ? userText({ buf: firstBuf, start: firstStart, end: firstEnd }) : null
    if (this.report.firstLine === null) this.report.firstLine = first
    if (at.first === null) at.first = first
    this.lastUser = at.last = { buf: lastBuf, start: lastStart, end: lastEnd }
  }

  private checkLong(): void {
    const at = this.at
    const parts = at.overLong()
    if (parts) {
      // Report it without joining its parts: the line may be hundreds of megabytes.
      const head = headOf(parts, SHOWN_BYTES)
      at.lineNo++
      this.fail({ reason: 'MALFORMED', message: `line is longer than ${MAX_LINE_BYTES} bytes`, text: shorten(head, 0, head.length) }, null, head, 0, head.length, at.offset, wholeLine(parts, at.restLength))
    }
    at.skip()
  }

  /**
   * The rest of the current file cannot be read (a .gz that is damaged or cut
   * short): what was fed is verified, a partial line is dropped, and a
   * CORRUPT_FILE break marks the line where the readable data ends.
   */
  abortFile(detail: string): void {
    if (this.stopped || this.at.aborted) return
    this.flushPending()
    if (!this.stopped && this.at.abort(detail)) this.stopped = true
  }

  /** Ends the current file; `last` says whether more files follow. */
  endFile(last: boolean): void {
    if (this.stopped) return
    const tail = this.at.takeRest()
    if (!this.at.aborted) this.flushPending()
    if (!this.stopped && this.at.end(last, tail)) this.stopped = true
  }

  /**
   * After the last file: `newest`, named as the log's newest file, is no
   * chain file, so the chain's end is unaccounted for (a break at its line 1).
   */
  endsWithForeign(newest: SkippedFile): void {
    if (this.stopped) return
    this.flushPending()
    if (this.stopped) return
    this.addBreakAt({ file: newest.file, line: 1, offset: 0 }, foreignEndBreak(this.report.files.at(-1) ?? null))
  }

  /** Finishes verification and returns the report. */
  finish(): VerifyReport {
    if (!this.stopped) this.flushPending()
    this.at.finish(this.hashFn !== null)
    const r = this.report
    const lastLine = this.lastUser ? userText(this.lastUser) : null
    if (this.seals) {
      const end = this.seals.finish(this.headCount)
      r.seals = end.summary
      if (this.options.all || r.breaks.length === 0) for (const p of end.problems) this.addBreakAt(p.place, sealBreak(p))
    }
    return conclude(r, { algorithm: this.headers.alg ?? r.algorithm, chain: this.headers.chain, headHash: this.headHash, headCount: this.headCount, lastLine, watch: this.watch, watchCount: this.watchCount, checkpoint: this.options.checkpoint })
  }

  private line(buf: Buffer, start: number, end: number): void {
    const at = this.at
    const lineOffset = at.offset
    at.offset += end - start + 1
    if (at.skipping) {
      // The end of a line already reported as too long (and counted) in checkLong().
      at.skipping = false
      return
    }
    at.lineNo++
    if (!hasRecordBounds(buf, start, end)) {
      return this.fail({ reason: 'MALFORMED', message: 'not a record: expected prev|line|hash with 64 hex characters at each end', text: shorten(buf, start, end) }, null, buf, start, end, lineOffset)
    }
    this.sawRecord = true
    const bodyEnd = end - HASH_HEX - 1
    const kindByte = buf[start + HASH_HEX + 1]
    let expectHeader = at.lineNo === 1
    if (expectHeader && this.options.midFile && this.report.files.length === 1 && at.startsMidFile(buf, start, bodyEnd)) expectHeader = false
    if (expectHeader || kindByte === BACKSLASH) {
      return this.special(buf, start, end, lineOffset, expectHeader)
    }
    if (!this.hashFn && !this.unheaded(buf, start, end, lineOffset)) return
    const computed = this.hashFn!(buf.subarray(start, bodyEnd))
    const found = buf.toString('latin1', end - HASH_HEX, end)
    if (computed !== found) {
      return this.fail(hashBreak(found, computed, buf, start, end), isHash(found) ? found : null, buf, start, end, lineOffset)
    }
    if (this.pending) {
      this.flushPending()
      if (this.stopped) return
    }
    const prev = buf.toString('latin1', start, start + HASH_HEX)
    if (prev !== this.expected) return this.fail(prevBreak(prev, this.expected, buf, start, end), found, buf, start, end, lineOffset)
    this.accept(found)
    this.seals?.userRun(buf, start, end, at.file, at.lineNo, lineOffset)
    this.userLine(buf, start + HASH_HEX + 1, bodyEnd, null)
  }

  /** A verified user line: first/last lines and the onLine callback. `text` is its unescaped form when already known. */
  private userLine(buf: Buffer, start: number, end: number, text: string | null): void {
    const at = this.at
    if (this.report.firstLine === null) this.report.firstLine = text ?? buf.toString('utf8', start, end)
    if (at.first === null) at.first = text ?? buf.toString('utf8', start, end)
    this.lastUser = at.last = { buf, start, end }
    if (this.options.onLine) this.options.onLine(text ?? buf.toString('utf8', start, end), { file: at.file, line: at.lineNo })
  }

  private accept(hash: string): void {
    if (this.watch !== null && this.watchCount === null && hash === this.watch) this.watchCount = this.position + 1
    this.expected = hash
    this.position++
    this.report.records++
    this.at.records++
    this.headHash = hash
    this.headCount = this.position
    this.checkpoints.leaf(hash)
    this.options.onRecord?.(hash, { file: this.at.file, line: this.at.lineNo })
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
        // Broken here, and the file's lines still checked against each other.
        if (!this.hashFn) this.guess(buf, start, end)
        const { problem, advance } = this.at.headless(prev, this.expected, buf, start, end)
        if (advance) this.position++
        return this.fail(problem, isHash(found) ? found : null, buf, start, end, lineOffset)
      }
      const { problem, position, start: first } = this.headers.check(meta, prev, this.expected, this.position, this.at.file)
      this.hashFn = this.headers.hashFn
      if (position !== null) this.position = position
      if (first !== null) this.expected = first
      if (problem) return this.fail(problem, isHash(found) ? found : null, buf, start, end, lineOffset)
    }
    if (!this.hashFn && !this.unheaded(buf, start, end, lineOffset)) return
    const hashFn = this.hashFn!
    const computed = hashFn(buf.subarray(start, bodyEnd))
    if (computed !== found) return this.fail(hashBreak(found, computed, buf, start, end), isHash(found) ? found : null, buf, start, end, lineOffset)
    // A truncation record is a break at the cut file (FORMAT.md §7.1); it stands for the header break it explains.
    let cut = known?.t === 'truncation' ? truncationBreak(known, this.at.file, this.at.lineNo, this.report.files) : null
    if (this.pending) {
      if (known?.t === 'recovery' && this.recoveredBy(known, prev)) {
        this.accept(found)
        return this.metaSeen(known, lineOffset)
      }
      if (cut && explainsHeld(known as TruncationMeta, prev, this.pending)) [this.pending.brk, cut] = [cut, null]
      this.flushPending()
      if (this.stopped) return
    }
    if (this.expected !== null && prev !== this.expected) {
      if (!expectHeader) return this.fail(prevBreak(prev, this.expected, buf, start, end), found, buf, start, end, lineOffset)
      const h = meta as HeaderMeta
      const unlinked = this.at.unlinked(h, prev, this.expected, this.position, buf, start, end)
      this.position = h.seq
      if ('problem' in unlinked) return this.fail(unlinked.problem, found, buf, start, end, lineOffset)
      this.report.records -= unlinked.extra
      if (this.breaks.add(unlinked.appended, null)) return void (this.stopped = true)
      this.expected = prev
    }
    // FORMAT.md §4: a header is line 1 of every file and only there (a concatenation of files would hide one).
    if (!expectHeader && isHeader(meta)) return this.fail({ reason: 'BAD_HEADER', message: 'a header record may only be line 1 of a file', text: shorten(buf, start, end) }, found, buf, start, end, lineOffset)
    if (expectHeader && known?.t === 'header') this.headers.linked(known)
    if (meta) {
      if (known?.t === 'retention' || known?.t === 'archive') this.at.removed(known)
    } else if (stored.startsWith('\\e')) {
      let line: string
      try {
        line = unescapeLine(stored)
      } catch (err) {
        return this.fail({ reason: 'MALFORMED', message: `bad escape: ${(err as Error).message}`, text: shorten(buf, start, end) }, found, buf, start, end, lineOffset)
      }
      this.accept(found)
      this.seals?.userRun(buf, start, end, this.at.file, this.at.lineNo, lineOffset)
      this.userLine(buf, start + HASH_HEX + 1, bodyEnd, line)
      return
    } else if (!expectHeader) {
      return this.fail({ reason: 'MALFORMED', message: stored.startsWith('\\m') ? 'metadata record is not a JSON object with a "t" member' : 'a stored line may only start with \\ as \\e (escaped) or \\m (metadata)', text: shorten(buf, start, end) }, found, buf, start, end, lineOffset)
    }
    // Only metadata gets here: an escaped line returned above, and line 1 is a header.
    const sealProblem = this.seals && meta ? this.seals.record(meta, known, { file: this.at.file, line: this.at.lineNo, offset: lineOffset, position: this.position, prev, chain: this.headers.chain ?? '' }) : null
    const checkpointProblem = known?.t === 'checkpoint' ? this.checkpoints.record(known, this.position, prev) : null
    // From the first checkpoint record on, each record is a leaf: no more runs taken whole.
    if (this.checkpoints.active) this.fast = false
    this.accept(found)
    if (meta) this.metaSeen(meta, lineOffset)
    if (checkpointProblem) this.addBreakAt({ file: this.at.file, line: this.at.lineNo, offset: lineOffset }, checkpointProblem)
    if (cut) this.addBreakAt(cut, this.headers.truncated(known as TruncationMeta, cut))
    if (sealProblem) this.addBreakAt(sealProblem.place, sealBreak(sealProblem, shorten(buf, start, end)))
  }

  /** No header declared the hash function: take the one this record's hash matches, if any. */
  private guess(buf: Buffer, start: number, end: number): boolean {
    const match = this.at.guess(buf, start, end)
    if (match) {
      this.hashFn = match.fn
      this.report.algorithm = match.alg
    }
    return match !== null
  }

  /**
   * A record with no header before it to declare the algorithm. Returns true
   * when the algorithm is now known and the line is to be checked; false when
   * the line was dealt with here (its hash matches no algorithm).
   */
  private unheaded(buf: Buffer, start: number, end: number, lineOffset: number): boolean {
    if (this.guess(buf, start, end)) {
      // Mid-file stdin: the first line that matches is where the checked chain starts.
      if (this.expected === null) this.expected = buf.toString('latin1', start, start + HASH_HEX)
      const held = this.at.takeUnmatched()
      if (held && this.breaks.add(held, null)) this.stopped = true
      return !this.stopped
    }
    const problem = this.at.unmatchedLine(lineOffset, buf, start, end)
    if (problem) this.fail(problem, null, buf, start, end, lineOffset)
    else this.position++ // held: a verdict waits for a line that matches
    return false
  }

  private metaSeen(meta: Meta | UnknownMeta, offset: number): void {
    if (this.options.onMeta) this.options.onMeta(meta, { file: this.at.file, line: this.at.lineNo, offset })
  }

  /** Whether a recovery record accounts for the pending failed line as a torn tail. */
  private recoveredBy(meta: RecoveryMeta, prev: string): boolean {
    const p = this.pending
    if (!p || !recovers(meta, prev, p)) return false
    this.report.recovered.push({ file: p.brk.file, line: p.brk.line, offset: p.brk.offset, length: p.length })
    this.pending = null
    this.position++ // the terminated fragment is a physical line of the chain
    return true
  }

  /**
   * A line failed. It may be a torn fragment that the next line (a recovery
   * record) accounts for, so hold it until that line is seen.
   */
  private fail(brk: Problem, foundHash: string | null, buf: Buffer, start: number, end: number, offset = this.at.offset, whole?: { length: number; sha256: string }): void {
    if (this.pending) this.flushPending()
    if (this.stopped) return
    this.pending = holdLine({ file: this.at.file, line: this.at.lineNo, offset, ...brk }, this.expected, foundHash, buf.subarray(start, end), Boolean(this.options.onBreak), whole)
  }

  private flushPending(): void {
    const p = this.pending
    if (!p) return
    this.pending = null
    // Continue after the break from the line's own hash, so one edited line gives one break.
    if (p.foundHash) {
      this.expected = p.foundHash
      this.headHash = p.foundHash
      this.headCount = this.position + 1
    }
    this.position++
    if (this.breaks.add(p.brk, p.bytes)) this.stopped = true
  }

  /** A break at a given place (seal problems are found after their line was accepted). */
  private addBreakAt(place: { file: string; line: number; offset: number }, brk: Problem): void {
    if (this.breaks.add({ ...place, ...brk }, null)) this.stopped = true
  }

}
