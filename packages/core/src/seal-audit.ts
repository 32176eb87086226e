import { ChainlogError, ErrorCodes } from './errors'
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
  /** A record is first covered by a seal made later than its own time + heartbeat + slack: the seals of its time were removed and it was sealed again with a later key. */
  SEAL_LATE: 'SEAL_LATE',
  /** Two seals of a running writer are further apart than the heartbeat + slack: the seals between were removed. */
  SEAL_GAP: 'SEAL_GAP',
} as const
export type SealReason = (typeof SealReasons)[keyof typeof SealReasons]

/** Things the seals show that are not tampering, but that a reviewer should know (docs/FORMAT.md §13.5). */
export const SealNoticeKinds = {
  /** Records dated before the seal that precedes them: the writer's clock went back (an NTP step), or the lines carry times of their own. */
  CLOCK_BACK: 'CLOCK_BACK',
  /** Records that a writer left unsealed when it stopped without a closing seal (a crash, kill -9), sealed only when the next writer started: only the later key vouches for them. */
  SEALED_AT_START: 'SEALED_AT_START',
} as const
export type SealNoticeKind = (typeof SealNoticeKinds)[keyof typeof SealNoticeKinds]

/** A notice about the seals, at the first record it concerns. */
export interface SealNotice {
  kind: SealNoticeKind
  file: string
  line: number
  message: string
}

/**
 * Slack for scheduling, queues and locks, ms, added to the heartbeat
 * wherever the verifier judges how soon a seal had to come
 * (docs/FORMAT.md §13.4): the lag between a line's time and its write, a
 * heartbeat timer held up by a busy event loop or another writer's lock.
 */
export const SEAL_SLACK_MS = 5000

/** Notices kept at most, so that an adversarial log cannot grow the report without bound. */
const MAX_NOTICES = 20
/** Candidate records kept at most between two seals (see Pending). */
const MAX_CANDIDATES = 1000

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
  /** The heartbeat the seals were judged by, ms: the verification key's, or the one given for a version 1 key. */
  heartbeat: number
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
  /** What is not tampering but worth knowing: a clock that went back, records sealed only when a writer restarted. */
  notices: SealNotice[]
}

type At = { file: string; line: number; offset: number }
type Candidate = { time: number; own: number; at: At }

/**
 * The records since the last valid seal, as much of them as the rules need:
 * the records whose time is older than every record before them (the first
 * record a late seal fails is always one of these), the first record dated
 * past what the last seal's writer promised, the newest time, and the first
 * record dated before the last seal.
 */
class Pending {
  count = 0
  /** `time` as judged (never before the last seal), `own` the record's own. */
  candidates: Candidate[] = []
  pastPromise: Candidate | null = null
  newest = -Infinity
  clockBack: { time: number; at: At } | null = null
}

/**
 * Checks every seal record of a chain against a verification key: the
 * signature and the epoch key (CloudTrail-style public verification), the
 * place (count, head, chain: no replay, no rewrite before it), time (inside
 * its epoch, never backwards: journald CVE-2023-31438), and what the writer
 * promises (CVE-2023-31439 in another form): every record is sealed within
 * heartbeat + slack of its own time, and seals of a running writer follow
 * each other within heartbeat + slack. The heartbeat is the key's, never a
 * seal's `every`: whoever holds a later key writes seals. At the end it
 * reports coverage and whether heartbeats stop too early.
 * @internal
 */
export class SealAuditor {
  private readonly key: VerifyKey
  private readonly asOf: number | null
  /** Heartbeat + slack: the longest a seal may be due, ms. */
  private readonly limit: number
  readonly heartbeat: number
  private valid = 0
  private last: { meta: SealMeta; position: number; place: SealPlace } | null = null
  private lastTime = -Infinity
  private lastEpoch = -1
  private pending = new Pending()
  /** A CLOCK_BACK notice was given and the records have not caught up with the seals since: one notice per step. */
  private behind = false
  readonly problems: SealProblem[] = []
  readonly notices: SealNotice[] = []

  /**
   * @param options.heartbeat the heartbeat for a version 1 key, which fixes none (the reviewer states it)
   * @throws ChainlogError INVALID_OPTION when a version 1 key comes without a heartbeat, or a version 2 key with another one
   */
  constructor(key: VerifyKey, options: { asOf?: number; heartbeat?: number } = {}) {
    this.key = key
    this.asOf = options.asOf ?? null
    this.heartbeat = resolveHeartbeat(key, options.heartbeat)
    this.limit = this.heartbeat + SEAL_SLACK_MS
  }

  /**
   * A record other than a seal, carrying its own time (a user line's pino
   * `time` or winston `timestamp`, a metadata record's `time`). Records
   * dated before the last valid seal are judged as if dated at it (their
   * place shows they were written after it), with a notice.
   */
  timed(time: number, at: At): void {
    const p = this.pending
    p.count++
    const floor = this.last ? this.last.meta.time : -Infinity
    if (time >= floor - SEAL_SLACK_MS) this.behind = false
    else if (!p.clockBack && !this.behind) p.clockBack = { time, at }
    const t = Math.max(time, floor)
    if (t > p.newest) p.newest = t
    if (this.last && !p.pastPromise && t > floor + this.limit) p.pastPromise = { time: t, own: time, at }
    const c = p.candidates
    if (c.length === 0 || t < c[c.length - 1]!.time) {
      if (c.length === MAX_CANDIDATES) c.pop()
      c.push({ time: t, own: time, at })
    }
  }

  /** A seal record. Returns the problem found (also kept in `problems`), or null if it is valid and in time. */
  seal(meta: SealMeta, place: SealPlace): SealProblem | null {
    const at = { file: place.file, line: place.line, offset: place.offset }
    const problem = this.check(meta, place)
    if (problem) {
      const p = { place: at, ...problem }
      this.problems.push(p)
      return p
    }
    const late = this.inTime(meta, at)
    this.valid++
    this.last = { meta, position: place.position, place }
    this.lastTime = meta.time
    this.lastEpoch = meta.epoch
    this.pending = new Pending()
    if (late) this.problems.push(late)
    return late
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
   * What the writer promises, judged at a valid seal: the records since the
   * last seal sealed in time, and no silence since it. A `start` seal after
   * a writer that stopped without closing may cover what that writer left
   * unsealed, but no record dated past that writer's own heartbeat.
   */
  private inTime(meta: SealMeta, at: At): SealProblem | null {
    const prev = this.last
    const p = this.pending
    const kind = meta.kind
    if (p.clockBack) this.notice('CLOCK_BACK', p.clockBack.at, `records from here are dated up to ${seconds(prev!.meta.time - p.clockBack.time)} before the seal before them (${iso(prev!.meta.time)}): the writer's clock went back, or the lines carry times of their own; they are judged as written after that seal`)
    const restart = kind === 'start' && prev !== null && prev.meta.kind !== 'close'
    if (restart && p.count > 0) {
      if (p.pastPromise) return this.late(p.pastPromise, meta, at, `it is dated ${iso(p.pastPromise.own)}, more than the heartbeat of ${this.heartbeat} ms + ${SEAL_SLACK_MS} ms after the seal before it (${iso(prev!.meta.time)}), and is first sealed only by a writer that started at ${iso(meta.time)} (epoch ${meta.epoch}): the writer before would have sealed it, so those seals were removed`)
      const oldest = p.candidates[p.candidates.length - 1]!
      if (meta.time > oldest.time + this.limit) this.notice('SEALED_AT_START', p.candidates[0]!.at, `${p.count === 1 ? 'this record' : `these ${p.count} records`}, after a writer's last seal (${iso(prev!.meta.time)}) and before the start of the next one, ${p.count === 1 ? 'was' : 'were'} sealed only at ${iso(meta.time)} (epoch ${meta.epoch}), when a writer started: the writer before stopped without a closing seal, so only the later key vouches for ${p.count === 1 ? 'it' : 'them'}`)
      return null
    }
    const threshold = meta.time - this.limit
    const first = p.candidates.find((c) => c.time < threshold)
    if (first) return this.late(first, meta, at, `it is dated ${iso(first.own)}, and the first seal after it was made at ${iso(meta.time)} (epoch ${meta.epoch}), more than the heartbeat of ${this.heartbeat} ms + ${SEAL_SLACK_MS} ms later: the seals of its time were removed, and it was sealed again with a later key`)
    if (prev && prev.meta.kind !== 'close' && kind !== 'start' && meta.time - prev.meta.time > this.limit) {
      return { place: at, reason: 'SEAL_GAP', message: `this seal (${iso(meta.time)}, epoch ${meta.epoch}) comes ${seconds(meta.time - prev.meta.time)} after the seal before it (${iso(prev.meta.time)}, at ${prev.place.file}:${prev.place.line}), but the writer seals at least every ${this.heartbeat} ms: the seals between were removed`, expected: `a seal by ${iso(prev.meta.time + this.limit)}`, found: iso(meta.time) }
    }
    return null
  }

  private late(record: Candidate, meta: SealMeta, sealAt: At, why: string): SealProblem {
    return { place: record.at, reason: 'SEAL_LATE', message: `this record is not sealed in its time: ${why} (the seal is at ${sealAt.file}:${sealAt.line})`, expected: `a seal by ${iso(record.time + this.limit)}`, found: iso(meta.time) }
  }

  private notice(kind: SealNoticeKind, at: At, message: string): void {
    if (kind === 'CLOCK_BACK') this.behind = true
    if (this.notices.length < MAX_NOTICES) this.notices.push({ kind, file: at.file, line: at.line, message })
  }

  /**
   * Coverage, and the end-of-chain problems: no valid seal at all, or
   * heartbeats that stop too early.
   * @param lines physical lines of the chain up to its end (its length)
   * @param first where the chain starts (for SEALS_MISSING)
   * @returns the summary; problems found are appended to `problems`
   */
  finish(lines: number, first: At | null): SealSummary {
    const last = this.last
    const p = this.pending
    if (!last) {
      if (first) this.problems.push({ place: first, reason: 'SEALS_MISSING', message: 'no record is covered by a valid seal: the log was not sealed with this key, its seals were stripped, or it was rebuilt without the sealing key' })
    } else if (last.meta.kind !== 'close' || lines > last.position + 1) {
      // The log does not end with a closing seal: heartbeats must reach its end.
      if (p.clockBack) this.notice('CLOCK_BACK', p.clockBack.at, `records from here are dated up to ${seconds(last.meta.time - p.clockBack.time)} before the seal before them (${iso(last.meta.time)}): the writer's clock went back, or the lines carry times of their own`)
      const at = { file: last.place.file, line: last.place.line, offset: last.place.offset }
      if (p.pastPromise) {
        this.problems.push({ place: at, reason: 'SEAL_STALE', message: `seals stop here, at ${iso(last.meta.time)}, but records go on to ${iso(p.newest)}; the writer promised a seal every ${this.heartbeat} ms`, expected: `a seal after ${iso(p.newest - this.limit)}`, found: iso(last.meta.time) })
      } else if (this.asOf !== null && this.asOf - last.meta.time > this.heartbeat + this.limit) {
        // --as-of is the reviewer's clock, not the host's: one more heartbeat of margin between the two.
        this.problems.push({ place: at, reason: 'SEAL_STALE', message: `seals stop here, at ${iso(last.meta.time)}, long before ${iso(this.asOf)}, and the log has no closing seal: its tail may have been cut`, expected: `a seal after ${iso(this.asOf - this.heartbeat - this.limit)}`, found: iso(last.meta.time) })
      }
    }
    const sealedThrough = last ? last.position + 1 : 0
    return {
      key: this.key.id,
      heartbeat: this.heartbeat,
      valid: this.valid,
      sealedThrough,
      unsealed: Math.max(0, lines - sealedThrough),
      lastSealTime: last ? last.meta.time : null,
      closed: !!last && last.meta.kind === 'close' && lines === last.position + 1,
      lastKind: last ? last.meta.kind : null,
      notices: this.notices,
    }
  }
}

/**
 * The heartbeat the seals are judged by: a version 2 key's own (a reviewer
 * may not loosen it), or for a version 1 key, which fixes none, the one the
 * reviewer states. Never a seal's `every`, which a later key's holder writes.
 */
function resolveHeartbeat(key: VerifyKey, given: number | undefined): number {
  if (given !== undefined && (!Number.isInteger(given) || given < 100)) throw new ChainlogError(ErrorCodes.INVALID_OPTION, `the heartbeat must be a whole number of ms, at least 100; got ${given}`)
  if (key.heartbeat !== undefined) {
    if (given !== undefined && given !== key.heartbeat) throw new ChainlogError(ErrorCodes.INVALID_OPTION, `the verification key ${key.id} fixes the heartbeat at ${key.heartbeat} ms; a heartbeat of ${given} ms cannot be given with it`)
    return key.heartbeat
  }
  if (given === undefined) throw new ChainlogError(ErrorCodes.INVALID_OPTION, `the verification key ${key.id} is a version 1 key, which does not fix the heartbeat, and the seals' own "every" cannot be trusted (whoever holds a later key writes it): give the heartbeat the writers were set to (verify-log --heartbeat <time>: their sealInterval, 60s by default), or make new keys with chainlog keygen`)
  return given
}

function seconds(ms: number): string {
  return ms >= 10_000 ? `${Math.round(ms / 1000)} s` : `${ms} ms`
}

function iso(ms: number): string {
  return Number.isFinite(ms) ? new Date(ms).toISOString() : String(ms)
}

