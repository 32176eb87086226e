import { checkSealSignature, epochOf, type SealKind, type SealMeta, type VerifyKey } from './seal'

/** Why seals fail (break reasons; see docs/FORMAT.md §13.4). */
export const SealReasons = {
  /** The signature does not verify, was made with another key, or its public key is not its epoch's: forged, or a chain regenerated without the sealing key. */
  SEAL_INVALID: 'SEAL_INVALID',
  /** A valid seal sits at a position or on a chain it was not made for: replayed, or the records before it were rewritten. */
  SEAL_MISPLACED: 'SEAL_MISPLACED',
  /** The seal's time is outside its epoch's window, or epochs or times go backwards. */
  SEAL_TIME: 'SEAL_TIME',
  /** A verification key was given, but no record is covered by a valid seal. */
  SEALS_MISSING: 'SEALS_MISSING',
  /** Heartbeat seals stop long before the last record, or before `asOf`: the tail may have been cut. */
  SEAL_STALE: 'SEAL_STALE',
} as const
export type SealReason = (typeof SealReasons)[keyof typeof SealReasons]

/** Where a record is, as the verifier sees it. */
export interface SealPlace {
  file: string
  line: number
  offset: number
  /** Physical lines of the chain before this record. */
  position: number
  /** The record's prev field (the head it follows). */
  prev: string
  chain: string
}

export interface SealProblem {
  place: { file: string; line: number; offset: number }
  reason: SealReason
  message: string
  expected?: string
  found?: string
}

/** What the seals say about the chain. */
export interface SealSummary {
  /** Key id of the verification key used. */
  key: string
  /** Valid seals seen. */
  valid: number
  /** Chain position covered by the last valid seal (lines before it, plus the seal itself). */
  sealedThrough: number
  /** Lines after the last valid seal ("N final records not sealed"). */
  unsealed: number
  /** Time of the last valid seal (ms), or null. */
  lastSealTime: number | null
  /** The last record of the chain is a valid closing seal (a clean shutdown). */
  closed: boolean
  /** Kind of the last valid seal. */
  lastKind: SealKind | null
}

/** Slack for clocks and scheduling when judging heartbeat silence, ms. */
const STALE_SLACK_MS = 5000

/**
 * Checks every seal record of a chain against a verification key: the
 * signature and the epoch key (CloudTrail-style public verification), the
 * place (count, head, chain: no replay, no rewrite before it), and time
 * (inside its epoch, never backwards: journald CVE-2023-31438/31439). At the
 * end it reports coverage and whether heartbeats stop too early.
 */
export class SealAuditor {
  private readonly key: VerifyKey
  private readonly asOf: number | null
  private valid = 0
  private last: { meta: SealMeta; position: number; place: SealPlace } | null = null
  private lastTime = -Infinity
  private lastEpoch = -1
  private lastPosition = -1
  private lastRecordTime: number | null = null
  private firstUnsealed: { file: string; line: number; offset: number } | null = null
  private firstPlace: { file: string; line: number; offset: number } | null = null
  readonly problems: SealProblem[] = []

  constructor(key: VerifyKey, options: { asOf?: number } = {}) {
    this.key = key
    this.asOf = options.asOf ?? null
  }

  /** A record that is not a valid seal, at `position`, with an optional time it carries. */
  record(place: { file: string; line: number; offset: number }, position: number, time: number | null): void {
    if (!this.firstPlace) this.firstPlace = place
    if (time !== null && Number.isFinite(time)) this.lastRecordTime = Math.max(this.lastRecordTime ?? -Infinity, time)
    this.lastPosition = position
    if (!this.firstUnsealed) this.firstUnsealed = place
  }

  /** A seal record. Returns the problem found (also kept in `problems`), or null if it is valid. */
  seal(meta: SealMeta, place: SealPlace): SealProblem | null {
    if (!this.firstPlace) this.firstPlace = place
    this.lastPosition = place.position
    const at = { file: place.file, line: place.line, offset: place.offset }
    const problem = this.check(meta, place)
    if (problem) {
      const p = { place: at, ...problem }
      this.problems.push(p)
      if (!this.firstUnsealed) this.firstUnsealed = at
      return p
    }
    this.valid++
    this.last = { meta, position: place.position, place }
    this.lastTime = meta.time
    this.lastEpoch = meta.epoch
    this.lastRecordTime = Math.max(this.lastRecordTime ?? -Infinity, meta.time)
    this.firstUnsealed = null
    return null
  }

  private check(meta: SealMeta, place: SealPlace): Omit<SealProblem, 'place'> | null {
    const bad = checkSealSignature(meta, this.key)
    if (bad) return { reason: 'SEAL_INVALID', message: `seal does not verify: ${bad}` }
    if (meta.chain !== place.chain) return { reason: 'SEAL_MISPLACED', message: 'the seal was made for another chain', expected: place.chain, found: String(meta.chain) }
    if (meta.count !== place.position) return { reason: 'SEAL_MISPLACED', message: `the seal was made at chain position ${meta.count}, it sits at ${place.position}: records were added or removed before it, or it was copied here`, expected: String(place.position), found: String(meta.count) }
    if (meta.head !== place.prev) return { reason: 'SEAL_MISPLACED', message: 'the seal signs another head than the record before it: the records it covers were rewritten', expected: place.prev, found: String(meta.head) }
    const windowEpoch = epochOf(this.key, meta.time)
    if (windowEpoch !== meta.epoch) return { reason: 'SEAL_TIME', message: `the seal's time ${iso(meta.time)} is outside its epoch ${meta.epoch}`, expected: String(windowEpoch), found: String(meta.epoch) }
    if (meta.epoch < this.lastEpoch || meta.time < this.lastTime) return { reason: 'SEAL_TIME', message: `seal time goes backwards: ${iso(meta.time)} (epoch ${meta.epoch}) after ${iso(this.lastTime)} (epoch ${this.lastEpoch})`, expected: `>= ${iso(this.lastTime)}`, found: iso(meta.time) }
    return null
  }

  /**
   * Coverage, and the end-of-chain problems: no valid seal at all, or
   * heartbeats that stop too early. `lastLineTime` is the time the last user
   * line carries (see lineTime()), if any.
   */
  finish(lastLineTime: number | null = null): SealSummary {
    if (lastLineTime !== null) this.lastRecordTime = Math.max(this.lastRecordTime ?? -Infinity, lastLineTime)
    const last = this.last
    if (!last) {
      if (this.firstPlace) this.problems.push({ place: this.firstPlace, reason: 'SEALS_MISSING', message: 'no record is covered by a valid seal: the log was not sealed with this key, its seals were stripped, or it was rebuilt without the sealing key' })
    } else if (last.meta.kind !== 'close' || this.lastPosition > last.position) {
      // The log does not end with a closing seal: heartbeats must reach its end.
      const every = Math.max(1, Number(last.meta.every) || 0)
      const limit = 2 * every + STALE_SLACK_MS
      const to = this.firstUnsealed ?? { file: last.place.file, line: last.place.line, offset: last.place.offset }
      if (this.lastRecordTime !== null && this.lastRecordTime - last.meta.time > limit) {
        this.problems.push({ place: to, reason: 'SEAL_STALE', message: `seals stop at ${iso(last.meta.time)} but records go on to ${iso(this.lastRecordTime)}; the writer promised a seal every ${every} ms`, expected: `a seal after ${iso(this.lastRecordTime - limit)}`, found: iso(last.meta.time) })
      } else if (this.asOf !== null && this.asOf - last.meta.time > limit) {
        this.problems.push({ place: to, reason: 'SEAL_STALE', message: `the last seal is from ${iso(last.meta.time)}, long before ${iso(this.asOf)}, and the log has no closing seal: its tail may have been cut`, expected: `a seal after ${iso(this.asOf - limit)}`, found: iso(last.meta.time) })
      }
    }
    const sealedThrough = last ? last.position + 1 : 0
    return {
      key: this.key.id,
      valid: this.valid,
      sealedThrough,
      unsealed: last ? Math.max(0, this.lastPosition + 1 - sealedThrough) : this.lastPosition + 1,
      lastSealTime: last ? last.meta.time : null,
      closed: !!last && last.meta.kind === 'close' && this.lastPosition === last.position,
      lastKind: last ? last.meta.kind : null,
    }
  }
}

function iso(ms: number): string {
  return Number.isFinite(ms) ? new Date(ms).toISOString() : String(ms)
}

/** The time a log line carries: pino's `"time":<ms>` or winston's `"timestamp":"<ISO>"`; null if neither. */
export function lineTime(line: string): number | null {
  const pino = /"time":(\d{12,14})[,}]/.exec(line)
  if (pino) return Number(pino[1])
  const winston = /"timestamp":"([^"]{10,40})"/.exec(line)
  if (winston) {
    const t = Date.parse(winston[1]!)
    if (Number.isFinite(t)) return t
  }
  return null
}
