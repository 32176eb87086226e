/**
 * The seal audit (seal-audit.ts holds its rules) as the verifier runs it:
 * each verified metadata record at its place, seals checked there, the time
 * every verified record carries, where the chain starts, and at the end the
 * coverage and the end-of-chain problems.
 */
import type { Meta, UnknownMeta } from './meta'
import { HASH_HEX } from './record'
import type { VerifyKey } from './seal'
import { SealAuditor, type SealPlace, type SealProblem, type SealSummary } from './seal-audit'

const LF = 0x0a
const TIME = Buffer.from('"time":')
const STAMP = Buffer.from('"timestamp":"')
/** pino writes `time` right after `level`: within this many bytes of the line's start. */
const PINO_TIME_WITHIN = 40

/** Follows a chain's seals for `ChainVerifier` when it has a verification key. */
export class SealWatch {
  private readonly auditor: SealAuditor
  /** Where the chain starts: the place of its first verified metadata record. */
  private first: { file: string; line: number; offset: number } | null = null
  /** Where the next `"time":` and `"timestamp":"` are in the run being scanned (see userRun). */
  private nextTime = -1
  private nextStamp = -1

  /**
   * @throws ChainlogError INVALID_OPTION for a heartbeat the key does not allow (see SealAuditor)
   */
  constructor(key: VerifyKey, options: { asOf?: number | undefined; heartbeat?: number | undefined }) {
    this.auditor = new SealAuditor(key, { ...(options.asOf !== undefined && { asOf: options.asOf }), ...(options.heartbeat !== undefined && { heartbeat: options.heartbeat }) })
  }

  /** A verified metadata record at `place` (`known` when format 1 defines its type). Returns the problem of a seal, or null. */
  record(meta: Meta | UnknownMeta, known: Meta | null, place: SealPlace): SealProblem | null {
    const at = { file: place.file, line: place.line, offset: place.offset }
    if (!this.first) this.first = at
    if (known?.t === 'seal') return this.auditor.seal(known, place)
    const time: unknown = meta.time
    const t = typeof time === 'number' ? time : typeof time === 'string' ? Date.parse(time) : NaN
    if (Number.isFinite(t)) this.auditor.timed(t, at)
    return null
  }

  /**
   * Verified user records: the physical lines of `buf` from `start` to `end`
   * (each `prev|line|hash`, LF-separated), the first being line `line` of
   * `file` at byte `offset`. Each one's own time goes to the audit: pino's
   * `"time":<ms>` when it is among the line's first bytes, else winston's
   * `"timestamp":"<ISO 8601>"` (its last one in the line). A line with
   * neither carries no time of its own. Linear in the bytes: each pattern is
   * searched for once per occurrence, not once per line.
   */
  userRun(buf: Buffer, start: number, end: number, file: string, line: number, offset: number): void {
    const nl = buf.indexOf(LF, start)
    if (nl === -1 || nl >= end - 1) {
      // One line (the line-by-line path): searches must not run past it into the rest of the chunk.
      buf = buf.subarray(start, end)
      end -= start
      start = 0
    }
    this.nextTime = -1
    this.nextStamp = -1
    let ls = start
    while (ls < end) {
      let le = buf.indexOf(LF, ls)
      if (le === -1 || le > end) le = end
      const t = this.timeOf(buf, ls + HASH_HEX + 1, le - HASH_HEX - 1)
      if (t !== null) this.auditor.timed(t, { file, line, offset: offset + ls - start })
      line++
      ls = le + 1
    }
  }

  /** The time the stored line `buf[s..e)` carries, or null. */
  private timeOf(buf: Buffer, s: number, e: number): number | null {
    if (this.nextTime < s) this.nextTime = search(buf, TIME, s)
    if (this.nextTime !== -1 && this.nextTime < e && this.nextTime - s <= PINO_TIME_WITHIN) {
      const t = digits(buf, this.nextTime + TIME.length, e)
      if (t !== null) return t
    }
    if (this.nextStamp < s) this.nextStamp = search(buf, STAMP, s)
    let found: number | null = null
    while (this.nextStamp !== -1 && this.nextStamp < e) {
      const from = this.nextStamp + STAMP.length
      const close = buf.indexOf(0x22, from)
      if (close !== -1 && close < e && close - from <= 40) {
        const t = Date.parse(buf.toString('latin1', from, close))
        if (Number.isFinite(t)) found = t
      }
      this.nextStamp = search(buf, STAMP, from)
    }
    return found
  }

  /**
   * The end of a chain of `lines` physical lines: what the seals cover, and
   * the problems found only at the end (no valid seal, heartbeats that stop
   * too early).
   */
  finish(lines: number): { summary: SealSummary; problems: SealProblem[] } {
    const before = this.auditor.problems.length
    const summary = this.auditor.finish(lines, this.first)
    return { summary, problems: this.auditor.problems.slice(before) }
  }
}

/** indexOf, with "none" as a position past every line, so that nothing searches again before the run ends. */
function search(buf: Buffer, pattern: Buffer, from: number): number {
  const i = buf.indexOf(pattern, from)
  return i === -1 ? Number.MAX_SAFE_INTEGER : i
}

/** ms since the epoch as pino writes it: 12 to 14 digits ended by `,` or `}`. */
function digits(buf: Buffer, from: number, end: number): number | null {
  let v = 0
  let i = from
  while (i < end && i - from < 15 && buf[i]! >= 0x30 && buf[i]! <= 0x39) v = v * 10 + buf[i++]! - 0x30
  const n = i - from
  if (n < 12 || n > 14 || i >= end || (buf[i] !== 0x2c && buf[i] !== 0x7d)) return null
  return v
}
