/**
 * What verify-log says about seals (with --verify-key; docs/FORMAT.md §13.4):
 * how far valid seals cover the chain, the last seal, the records after it,
 * and whether the log ends with a closing seal.
 */
import { SEAL_SLACK_MS, SealReasons, type Break, type SealSummary, type VerifyReport } from '@chainlog/core'
import { formatCount, plural } from './format'

/** Break reasons that come from the seals, not from the hashes (core's list). */
const SEAL_REASONS: ReadonlySet<string> = new Set(Object.values(SealReasons))

/** Reasons found only once the whole chain was read. */
const END_REASONS: ReadonlySet<string> = new Set(['SEALS_MISSING', 'SEAL_STALE'])

export function isSealBreak(b: Break): boolean {
  return SEAL_REASONS.has(b.reason)
}

/** The status line's words for a first break that comes from the seals, or null. */
export function sealHeadline(b: Break): string | null {
  if (b.reason === 'SEALS_MISSING') return 'BROKEN: no record is covered by a valid seal (SEALS_MISSING)'
  if (b.reason === 'SEAL_STALE') return `BROKEN: the seals stop at ${b.file}:${b.line}, long before the end of the log (SEAL_STALE)`
  if (b.reason === 'SEAL_LATE') return `BROKEN: the record at ${b.file}:${b.line} is not sealed in its time (SEAL_LATE)`
  if (b.reason === 'SEAL_GAP') return `BROKEN: seals are missing before the seal at ${b.file}:${b.line} (SEAL_GAP)`
  if (isSealBreak(b)) return `BROKEN: the seal at ${b.file}:${b.line} cannot be trusted (${b.reason})`
  return null
}

/**
 * The summary rows about seals. The records after the last seal and the end
 * of the log are only stated when the verifier read the whole chain (no
 * break stopped it on the way).
 */
export function sealRows(report: VerifyReport, all: boolean, row: (label: string, value: string) => string): string[] {
  const s: SealSummary | undefined = report.seals
  if (!s) return []
  const complete = all || report.breaks.every((b) => END_REASONS.has(b.reason))
  const out: string[] = []
  if (s.valid === 0) out.push(row('seals', `none valid for key ${s.key}: no record is covered by a valid seal${complete ? '' : ' before the break'}`))
  else out.push(row('seals', `${plural(s.valid, 'valid seal')} (key ${s.key})${complete ? '' : ' before the break'}: sealed through record ${formatCount(s.sealedThrough)} of the chain`))
  if (s.lastSealTime !== null) out.push(row('last seal', `${new Date(s.lastSealTime).toISOString()} (${s.lastKind})`))
  if (complete) {
    out.push(row('unsealed', `${plural(s.unsealed, 'final record')} not sealed`))
    out.push(row('end', s.closed
      ? 'closing seal: the writer shut down cleanly'
      : 'no closing seal: the writer is still running, crashed or was killed, or the end of the log was cut off'))
  }
  out.push(row('heartbeat', `${formatCount(s.heartbeat)} ms between seals at most (+ ${formatCount(SEAL_SLACK_MS)} ms slack)`))
  for (const n of s.notices) out.push(row('notice', `${n.file}:${n.line}: ${n.message} (${n.kind})`))
  return out
}
