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

/**
 * Where a record is, as the verifier sees it.
 * @internal
 */
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

/** @internal */
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
 * @internal
 */
export class SealAuditor {
  private readonly key: VerifyKey
  private readonly asOf: number | null
  private valid = 0
  private last: { meta: SealMeta; position: number; place: SealPlace } | null = null
  private lastTime = -Infinity
  private lastEpoch = -1
  readonly problems: SealProblem[] = []

  constructor(key: VerifyKey, options: { asOf?: number } = {}) {
    this.key = key
    this.asOf = options.asOf ?? null
  }

  /** A seal record. Returns the problem found (also kept in `problems`), or null if it is valid. */
  seal(meta: SealMeta, place: SealPlace): SealProblem | null {
    const at = { file: place.file, line: place.line, offset: place.offset }
    const problem = this.check(meta, place)
    if (problem) {
      const p = { place: at, ...problem }
      this.problems.push(p)
      return p
    }
    this.valid++
    this.last = { meta, position: place.position, place }
    this.lastTime = meta.time
    this.lastEpoch = meta.epoch
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
   * heartbeats that stop too early.
   * @param lines physical lines of the chain up to its end (its length)
   * @param first where the chain starts (for SEALS_MISSING)
   * @param lastTime the newest time the records carry after the last seal (the last user line's time, metadata times), if any
   * @returns the summary; problems found are appended to `problems`
   */
  finish(lines: number, first: { file: string; line: number; offset: number } | null, lastTime: number | null): SealSummary {
    const last = this.last
    if (!last) {
      if (first) this.problems.push({ place: first, reason: 'SEALS_MISSING', message: 'no record is covered by a valid seal: the log was not sealed with this key, its seals were stripped, or it was rebuilt without the sealing key' })
    } else if (last.meta.kind !== 'close' || lines > last.position + 1) {
      // The log does not end with a closing seal: heartbeats must reach its end.
      const every = Math.max(1, Number(last.meta.every) || 0)
      const limit = 2 * every + STALE_SLACK_MS
      const at = { file: last.place.file, line: last.place.line, offset: last.place.offset }
      if (lastTime !== null && lastTime - last.meta.time > limit) {
        this.problems.push({ place: at, reason: 'SEAL_STALE', message: `seals stop here, at ${iso(last.meta.time)}, but records go on to ${iso(lastTime)}; the writer promised a seal every ${every} ms`, expected: `a seal after ${iso(lastTime - limit)}`, found: iso(last.meta.time) })
      } else if (this.asOf !== null && this.asOf - last.meta.time > limit) {
        this.problems.push({ place: at, reason: 'SEAL_STALE', message: `seals stop here, at ${iso(last.meta.time)}, long before ${iso(this.asOf)}, and the log has no closing seal: its tail may have been cut`, expected: `a seal after ${iso(this.asOf - limit)}`, found: iso(last.meta.time) })
      }
    }
    const sealedThrough = last ? last.position + 1 : 0
    return {
      key: this.key.id,
      valid: this.valid,
      sealedThrough,
      unsealed: Math.max(0, lines - sealedThrough),
      lastSealTime: last ? last.meta.time : null,
      closed: !!last && last.meta.kind === 'close' && lines === last.position + 1,
      lastKind: last ? last.meta.kind : null,
    }
  }
}

function iso(ms: number): string {
  return Number.isFinite(ms) ? new Date(ms).toISOString() : String(ms)
}

/**
 * The time a log line carries: pino's `"time":<ms>` or winston's `"timestamp":"<ISO>"`; null if neither.
 * @internal
 */
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
