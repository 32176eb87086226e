/**
 * The files of a chain as they follow each other (docs/FORMAT.md §5, §7):
 * the current file, read line by line with a partial line held between
 * chunks, and the rules where one file ends and the next begins. A file whose
 * header was deleted; a header that does not link to the file before it
 * (files missing between them, or lines added to that file after it was
 * closed); files that retention or an archive removed from the chain's start;
 * a file that ends in a partial line, holds nothing, or cannot be read to its
 * end; and stdin that begins mid-file, whose records no header anchors and
 * whose algorithm is taken from their hashes. The verifier applies the
 * chain's rules to each line and calls this room at the edges of files.
 */
import type { Algorithm, HashFn } from './algorithm'
import { headOf, shorten, shortenText, SHOWN_BYTES } from './break-text'
import { appendedBreak, missingBreak, prevBreak, unmatchedBreak, type BreakLog } from './breaks'
import { ChainlogError, ErrorCodes } from './errors'
import { matchAlgorithm } from './hash-proof'
import type { HeaderRules } from './header-rules'
import { isHeader, parseMeta, type ArchiveMeta, type HeaderMeta, type RetentionMeta } from './meta'
import { HASH_HEX, unescapeLine } from './record'
import type { Break, Problem, VerifierOptions, VerifyReport } from './report'

/** Longest line the verifier holds in memory; longer ones are reported MALFORMED and skipped. */
export const MAX_LINE_BYTES = 256 * 1024 * 1024

/** A header that does not link to the chain: the break at it, or lines added to the file before it, the first of them the break. */
export type Unlinked = { problem: Problem } | { appended: Break; extra: number }

/** A verified user line, kept as its place in a chunk until its text is wanted. */
export interface UserLine {
  buf: Buffer
  start: number
  end: number
}

/** The text of a user line as stored, unescaped (as stored when its escape is bad). */
export function userText(line: UserLine): string {
  const stored = line.buf.toString('utf8', line.start, line.end)
  try {
    return unescapeLine(stored)
  } catch {
    return stored
  }
}

/** The current file of a chain, and what its edges say about the chain. */
export class FileBoundary {
  private readonly headers: HeaderRules
  private readonly options: Pick<VerifierOptions, 'key' | 'onBreak' | 'onFile'>
  private readonly report: VerifyReport
  private readonly breaks: BreakLog
  /** The current file, and its lines and bytes read so far (a partial line not included); the verifier advances them per line. */
  file = ''
  lineNo = 0
  offset = 0
  /** A partial line: the parts of it received so far, and their total length. */
  rest: Buffer[] | null = null
  restLength = 0
  /** The current line is longer than MAX_LINE_BYTES: skip to its end. */
  skipping = false
  /** The rest of the current file cannot be read (see abort). */
  aborted = false
  /** The current file's verified records, and its first and last user lines. */
  records = 0
  first: string | null = null
  last: UserLine | null = null
  /** The file before the current one: its name, where it started, and whether it verified without a break. */
  private before: { file: string; start: number; clean: boolean } | null = null
  /** The chain position where the current file starts, and the breaks found before it. */
  private fileStart = 0
  private fileBreaks = 0
  /** Stdin from mid-file, no key: the first line that matched no algorithm, held until a later one matches one. */
  private unmatched: Break | null = null

  constructor(headers: HeaderRules, options: Pick<VerifierOptions, 'key' | 'onBreak' | 'onFile'>, report: VerifyReport, breaks: BreakLog) {
    this.headers = headers
    this.options = options
    this.report = report
    this.breaks = breaks
  }

  /** The current file's byte offset: everything fed so far, a partial line included. */
  get bytesFed(): number {
    return this.offset + this.restLength
  }

  /** The file `name` begins at chain position `position`; `holding` says whether a failed line of the file before is held. */
  begin(name: string, position: number, holding: boolean): void {
    const breaks = this.report.breaks.length
    if (this.file !== '') this.before = { file: this.file, start: this.fileStart, clean: breaks === this.fileBreaks && !holding }
    this.fileStart = position
    this.fileBreaks = breaks
    this.file = name
    this.lineNo = this.offset = this.restLength = this.records = 0
    this.rest = this.first = this.last = null
    this.skipping = this.aborted = false
    this.report.files.push(name)
  }

  /** A chunk ends in the start of a line: kept until a later chunk ends it. */
  keep(part: Buffer): void {
    if (this.rest) this.rest.push(part)
    else this.rest = [part]
    this.restLength += part.length
  }

  /** The partial line ends at `chunk[nl]`: the whole line. */
  join(chunk: Buffer, nl: number): Buffer {
    const rest = this.rest!
    rest.push(chunk.subarray(0, nl))
    const line = rest.length === 1 ? rest[0]! : Buffer.concat(rest, this.restLength + nl)
    this.rest = null
    this.restLength = 0
    return line
  }

  /**
   * The partial line has just grown longer than MAX_LINE_BYTES: its first
   * bytes, to show, and the parts received so far, to hash. From here on, the
   * line is skipped to its end (see skip).
   */
  overLong(): Buffer[] | null {
    if (!this.rest || this.skipping || this.restLength <= MAX_LINE_BYTES) return null
    this.skipping = true
    return this.rest
  }

  /** While skipping to the end of a too long line, nothing of it is kept. */
  skip(): void {
    if (!this.rest || !this.skipping) return
    this.offset += this.restLength
    this.rest = []
    this.restLength = 0
  }

  /** The partial line the file ends in, taken: its parts and length (0 when there is none or it was skipped). */
  takeRest(): { parts: Buffer[] | null; length: number } {
    const taken = { parts: this.rest, length: this.restLength }
    this.rest = null
    this.restLength = 0
    return taken
  }

  /**
   * The rest of the current file cannot be read (a .gz that is damaged or cut
   * short): a partial line is dropped, and a CORRUPT_FILE break marks the line
   * where the readable data ends. Returns true when verification stops here.
   */
  abort(detail: string): boolean {
    const dropped = this.skipping ? 0 : this.restLength
    this.rest = null
    this.restLength = 0
    this.skipping = false
    this.aborted = true
    this.lineNo++
    return this.add({ reason: 'CORRUPT_FILE', message: `the compressed data is damaged or cut short after ${this.offset + dropped} bytes (${detail}); the rest of the file cannot be read` }, null)
  }

  /**
   * The current file ended with `tail`, the partial line taken from it; `last`
   * says whether it is the last file. A partial line of the last file is the
   * report's partial tail, one of another file a break, like an empty file.
   * Returns true when verification stops here.
   */
  end(last: boolean, tail: { parts: Buffer[] | null; length: number }): boolean {
    if (this.aborted) return this.ended(0)
    if (this.skipping) {
      this.skipping = false
      return this.ended(0)
    }
    const { parts, length } = tail
    if (parts && length) {
      if (last) this.report.partial = { file: this.file, line: this.lineNo + 1, offset: this.offset, length }
      else {
        const head = headOf(parts, SHOWN_BYTES)
        this.lineNo++
        const torn: Problem = { reason: 'TORN_TAIL', message: `the file ends in a partial line of ${length} bytes that no recovery record accounts for`, text: shortenText(head, 0, head.length) }
        if (this.add(torn, this.options.onBreak ? Buffer.concat(parts, length) : null)) return true
      }
    } else if (this.lineNo === 0) {
      this.lineNo = 1
      if (this.add({ reason: 'BAD_HEADER', message: 'the file is empty' }, null)) return true
    }
    return this.ended(parts ? length : 0)
  }

  private ended(partial: number): false {
    const onFile = this.options.onFile
    if (onFile) onFile({ file: this.file, lines: this.lineNo + (partial ? 1 : 0), bytes: this.offset + partial, records: this.records, firstLine: this.first, lastLine: this.last ? userText(this.last) : null })
    return false
  }

  private add(brk: Problem, line: Buffer | null): boolean {
    return this.breaks.add({ file: this.file, line: this.lineNo, offset: this.offset, ...brk }, line)
  }

  /**
   * Whether line 1 of the first file of stdin that may begin mid-file (the
   * record at `buf[start, bodyEnd)` holding its stored line) is no header:
   * then nothing anchors its start, and its lines are checked against each other.
   */
  startsMidFile(buf: Buffer, start: number, bodyEnd: number): boolean {
    if (isHeader(parseMeta(buf.toString('utf8', start + HASH_HEX + 1, bodyEnd)))) return false
    this.report.segment = { first: null, last: null, anchored: false }
    return true
  }

  /**
   * Line 1 of a file, the record at `buf[start, end)` linking to `prev`, is
   * no header: the file's header was deleted, and the file is broken there.
   * `advance` says whether the deleted header was a line of the chain (the
   * record does not link to `expected`, the chain's link before it).
   */
  headless(prev: string, expected: string | null, buf: Buffer, start: number, end: number): { problem: Problem; advance: boolean } {
    this.headers.headless()
    return { problem: { reason: 'BAD_HEADER', message: 'line 1 of a file must be a chainlog header record', text: shorten(buf, start, end) }, advance: expected !== null && prev !== expected }
  }

  /**
   * The header `h` of the current file, its record at `buf[start, end)`,
   * links to `prev` rather than to `expected`, the chain's `position`-th line:
   * files are missing before it, or the file before it verified without a
   * break and its last lines, each linked to the one before, were added after
   * it was closed (appended by hand, or as a second gzip member). Their byte
   * offset is not known here (-1); {@link verify} reads it from the file.
   * Later files follow this header's index and position either way.
   */
  unlinked(h: HeaderMeta, prev: string, expected: string, position: number, buf: Buffer, start: number, end: number): Unlinked {
    const missing = this.headers.missingBefore(h)
    if (missing > 0) return { problem: missingBreak(missing, this.before?.file ?? null, h, expected, prev, shorten(buf, start, end)) }
    const b = this.before
    if (!b || !b.clean || h.seq >= position || h.seq <= b.start) return { problem: prevBreak(prev, expected, buf, start, end) }
    const line = h.seq - b.start + 1
    const extra = position - h.seq
    return { appended: { file: b.file, line, offset: -1, ...appendedBreak(extra, line, this.file, h) }, extra }
  }

  /** Files a retention record deleted or an archive record moved away: listed in the report, and they may be the files missing before the chain's start. */
  removed(meta: RetentionMeta | ArchiveMeta): void {
    if (meta.t === 'retention' && Array.isArray(meta.deleted)) {
      for (const d of meta.deleted) this.report.retention.push(d)
      this.headers.retention(meta.deleted)
    } else if (meta.t === 'archive' && Array.isArray(meta.files)) {
      for (const d of meta.files) this.report.archived.push({ ...d, to: meta.to })
      this.headers.retention(meta.files)
    }
  }

  /** No header declared the hash function: the one the record at `buf[start, end)` matches its hash under, if any. */
  guess(buf: Buffer, start: number, end: number): { fn: HashFn; alg: Algorithm } | null {
    return matchAlgorithm(buf.subarray(start, end - HASH_HEX - 1), buf.toString('latin1', end - HASH_HEX, end), this.options.key)
  }

  /**
   * The record at `buf[start, end)`, at line `offset` of the current file,
   * matches its hash under no algorithm. Returns its problem, or null when it
   * is held: without a key, the lines of stdin from mid-file that match
   * nothing may be hmac-sha256, and a verdict waits for a line that matches.
   */
  unmatchedLine(offset: number, buf: Buffer, start: number, end: number): Problem | null {
    const key = this.options.key
    const problem = unmatchedBreak(key !== undefined, shorten(buf, start, end))
    if (this.report.segment?.anchored !== false || key) return problem
    this.unmatched ??= { file: this.file, line: this.lineNo, offset, ...problem }
    return null
  }

  /** A record before any header matched an algorithm: the line held before it, if any, is a break now. */
  takeUnmatched(): Break | null {
    const held = this.unmatched
    this.unmatched = null
    return held
  }

  /**
   * At the end of the input: a start of the chain that no retention record
   * accounts for is reported (where a segment starts, or a MISSING_FILE break
   * before all others), and a held line that no later line matched asks for
   * the chain's key (KEY_REQUIRED), when no algorithm was `matched`.
   */
  finish(matched: boolean): void {
    const gap = this.headers.takeStartGap()
    // A segment may start anywhere: where it starts is reported. The whole log must start at its beginning.
    if (gap && this.report.scope === 'segment') this.report.segment = { first: gap.header.seq + 1, last: null, anchored: true }
    else if (gap) this.breaks.addFirst(gap.brk)
    const held = this.takeUnmatched()
    if (held && !matched) throw new ChainlogError(ErrorCodes.KEY_REQUIRED, `${held.file}: no line matches its hash under sha256 or blake3; if it is an hmac-sha256 chain, give its key (--key <file>)`, { path: held.file })
  }
}
