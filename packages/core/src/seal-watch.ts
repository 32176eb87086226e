/**
 * The seal audit (seal-audit.ts holds its rules) as the verifier runs it:
 * each verified metadata record at its place, seals checked there, where the
 * chain starts and the newest time its records carry, and at the end the
 * coverage and the end-of-chain problems. Called per metadata record, never
 * per user record.
 */
import type { Meta, UnknownMeta } from './meta'
import type { VerifyKey } from './seal'
import { lineTime, SealAuditor, type SealPlace, type SealProblem, type SealSummary } from './seal-audit'

/** Follows a chain's seals for `ChainVerifier` when it has a verification key. */
export class SealWatch {
  private readonly auditor: SealAuditor
  /** Where the chain starts: the place of its first verified metadata record. */
  private first: { file: string; line: number; offset: number } | null = null
  /** The newest time a verified metadata record carries. */
  private metaTime: number | null = null

  constructor(key: VerifyKey, asOf: number | undefined) {
    this.auditor = new SealAuditor(key, asOf === undefined ? {} : { asOf })
  }

  /** A verified metadata record at `place` (`known` when format 1 defines its type). Returns the problem of a seal, or null. */
  record(meta: Meta | UnknownMeta, known: Meta | null, place: SealPlace): SealProblem | null {
    if (!this.first) this.first = { file: place.file, line: place.line, offset: place.offset }
    const problem = known?.t === 'seal' ? this.auditor.seal(known, place) : null
    const time: unknown = meta.time
    const t = typeof time === 'number' ? time : Date.parse(String(time))
    if (Number.isFinite(t)) this.metaTime = Math.max(this.metaTime ?? -Infinity, t)
    return problem
  }

  /**
   * The end of a chain of `lines` physical lines whose last verified user
   * line is `lastLine`: what the seals cover, and the problems found only at
   * the end (no valid seal, heartbeats that stop too early).
   */
  finish(lines: number, lastLine: string | null): { summary: SealSummary; problems: SealProblem[] } {
    const before = this.auditor.problems.length
    const lastLineTime = lastLine !== null ? lineTime(lastLine) : null
    const newest = Math.max(lastLineTime ?? -Infinity, this.metaTime ?? -Infinity)
    const summary = this.auditor.finish(lines, this.first, Number.isFinite(newest) ? newest : null)
    return { summary, problems: this.auditor.problems.slice(before) }
  }
}
