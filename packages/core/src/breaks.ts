/**
 * The breaks a verification finds: the list and its policy (the first only,
 * or all, each passed to `onBreak` when final), a failed line held until the
 * next line says whether a recovery record accounts for it as a torn tail
 * (docs/FORMAT.md §7), and the words of the two link breaks. Called per
 * break, never per verified record.
 */
import * as crypto from 'node:crypto'
import { shorten } from './break-text'
import type { HeaderMeta, RecoveryMeta } from './meta'
import { GENESIS, HASH_HEX, isHash } from './record'
import type { Break, Problem, VerifierOptions } from './report'
import type { SealProblem } from './seal-audit'

/** A failed line, not yet final: the next line may be the recovery record of a torn fragment. */
export interface HeldLine {
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

/** Holds `line` as it failed with `brk`; `whole` gives the length and hash of a line too long to keep. */
export function holdLine(brk: Break, prevBefore: string | null, foundHash: string | null, line: Buffer, keepBytes: boolean, whole?: { length: number; sha256: string }): HeldLine {
  return {
    brk,
    prevBefore: prevBefore ?? GENESIS,
    foundHash,
    length: whole?.length ?? line.length,
    sha256: whole?.sha256 ?? crypto.createHash('sha256').update(line).digest('hex'),
    bytes: keepBytes ? Buffer.from(line) : null,
  }
}

/** A line too long to keep, received in `parts`: its length and hash, for a recovery record to match. */
export function wholeLine(parts: Buffer[], length: number): { length: number; sha256: string } {
  const sha = crypto.createHash('sha256')
  for (const part of parts) sha.update(part)
  return { length, sha256: sha.digest('hex') }
}

/** Whether the recovery record `meta`, which links to `prev`, names `held` as a torn tail. */
export function recovers(meta: RecoveryMeta, prev: string, held: HeldLine): boolean {
  return meta.reason === 'torn-tail' && prev === held.prevBefore && meta.length === held.length && meta.sha256 === held.sha256
}

/** The breaks found, first first, and whether verification goes on after one. */
export class BreakLog {
  private readonly list: Break[]
  private readonly options: Pick<VerifierOptions, 'all' | 'onBreak'>

  constructor(list: Break[], options: Pick<VerifierOptions, 'all' | 'onBreak'>) {
    this.list = list
    this.options = options
  }

  /** A final break, with its offending line when there is one. Returns true when verification stops here. */
  add(brk: Break, line: Buffer | null): boolean {
    this.list.push(brk)
    if (this.options.onBreak) this.options.onBreak(brk, line)
    return !this.options.all
  }

  /** A break found only at the end that comes before all others (a missing start of the chain). */
  addFirst(brk: Break): void {
    this.list.unshift(brk)
    if (!this.options.all) this.list.length = 1
    if (this.options.onBreak) this.options.onBreak(brk, null)
  }
}

/** A problem the seal audit found, as a break; `text` is the seal's line when the problem is found at it. */
export function sealBreak(p: SealProblem, text?: string): Problem {
  return { reason: p.reason, message: p.message, ...(p.expected !== undefined && { expected: p.expected }), ...(p.found !== undefined && { found: p.found }), ...(text !== undefined && { text }) }
}

/** A line whose hash field does not match it. */
export function hashBreak(found: string, computed: string, buf: Buffer, start: number, end: number): Problem {
  if (!isHash(found)) return { reason: 'MALFORMED', message: 'the hash field is not 64 lowercase hex characters', found, text: shorten(buf, start, end) }
  const prev = buf.toString('latin1', start, start + HASH_HEX)
  if (!isHash(prev)) return { reason: 'MALFORMED', message: 'the prev field is not 64 lowercase hex characters', found: prev, text: shorten(buf, start, end) }
  return { reason: 'HASH_MISMATCH', message: 'the line does not match its hash: the line or its prev field was changed', expected: computed, found, text: shorten(buf, start, end) }
}

/** A line that matches its hash but does not link to `expected`, the hash of the record before. */
export function prevBreak(prev: string, expected: string | null, buf: Buffer, start: number, end: number): Problem {
  // FORMAT.md §2: anything but 64 lowercase hex characters makes the line MALFORMED, even under a matching hash.
  if (!isHash(prev)) return { reason: 'MALFORMED', message: 'the prev field is not 64 lowercase hex characters', found: prev, text: shorten(buf, start, end) }
  return { reason: 'PREV_MISMATCH', message: 'prev is not the hash of the record before: a record was deleted, inserted or moved here', expected: expected ?? GENESIS, found: prev, text: shorten(buf, start, end) }
}

/** A header that does not link because `missing` files before it are absent (`before`: the last file read). */
export function missingBreak(missing: number, before: string | null, h: HeaderMeta, expected: string | null, prev: string, text: string): Problem {
  // Files, not indexes: a reviewer looks for a file name (#12).
  const which = missing === 1 ? 'a file is' : `${missing} files are`
  return { reason: 'MISSING_FILE', message: `${which} missing${before ? ` after ${before}` : ''}: this header names ${JSON.stringify(h.prevFile)} as the file before it`, expected: expected ?? GENESIS, found: prev, text }
}

/** Line `line` of a file and the `extra - 1` lines after it, added after the file was closed: `h` is the header of `next`, which says where the file ended. */
export function appendedBreak(extra: number, line: number, next: string, h: HeaderMeta): Problem {
  const what = extra === 1 ? 'this line was' : `this line and the ${extra - 1} after it were`
  return { reason: 'PREV_MISMATCH', message: `${what} added after the file was closed: the next file's header (${next}) says ${h.seq} lines precede it, and links to the record before this line`, expected: `the file's end at line ${line - 1}`, found: h.prevHash }
}

/** A file named as the log's newest, after `after`, that is no chain file. */
export function foreignEndBreak(after: string | null): Problem {
  return { reason: 'BAD_HEADER', message: `named as the log's newest file${after ? ` (after ${after})` : ''}, but line 1 is not a chainlog header: the chain's end is unaccounted for` }
}

/** A record no header declares an algorithm for, whose hash matches none; `keyed`: a key was given. */
export function unmatchedBreak(keyed: boolean, text: string): Problem {
  return { reason: 'HASH_MISMATCH', message: `the line matches its hash under no algorithm of format 1 (${keyed ? 'sha256, blake3, or hmac-sha256 with the key given' : 'sha256 or blake3; an hmac-sha256 chain needs its key'})`, text }
}
