/**
 * What a verification is asked and what it reports: the options, the breaks
 * and their reasons, the head, the check of a head kept elsewhere and the
 * verdict. The two rules that conclude a report (the head check and the
 * verdict) are decided here once, for every way of verifying; the CLI and
 * `inspect` only format the report.
 */
import type { Algorithm } from './algorithm'
import type { SkippedFile } from './inputs'
import type { DeletedFile, Meta, UnknownMeta } from './meta'
import type { VerifyKey } from './seal'
import type { SealReason, SealSummary } from './seal-audit'

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
  /** A compressed file is damaged or cut short: the rest of it cannot be read. */
  CORRUPT_FILE: 'CORRUPT_FILE',
  /** A writer found the file it appended to cut short, emptied, or ending in a record it did not write, and recorded it (FORMAT.md §7.1). */
  FILE_TRUNCATED: 'FILE_TRUNCATED',
  /** A file verified by an earlier run (`verify-log --state`) no longer has the SHA-256 it had then: changed or truncated. */
  FILE_CHANGED: 'FILE_CHANGED',
  /** A checkpoint record's size or root is not the tree of the records before it (FORMAT.md §14.6). */
  CHECKPOINT_MISMATCH: 'CHECKPOINT_MISMATCH',
} as const
export type BreakReason = (typeof BreakReasons)[keyof typeof BreakReasons] | SealReason

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

/** A break before the verifier places it (file, line, offset). */
export type Problem = Omit<Break, 'file' | 'line' | 'offset'>

/** A line torn by a crash that a writer terminated and named in a recovery record. */
export interface TornTail {
  file: string
  line: number
  offset: number
  length: number
}

/**
 * The head of a chain: the hash of its last verified record and the chain's
 * length up to it (physical lines, counted from the first file of the chain).
 * The one shape of a head: the report, `verify-log --json`, `chainlog head`
 * and checkpoints all carry `hash` and `count`.
 */
export interface Head {
  hash: string
  count: number
}

/** What a verification concludes, decided here once; the CLI and `inspect` only format it. */
export const Verdicts = {
  /** No break; the chain reaches the expected head, if one was given. */
  VALID: 'VALID',
  /** As VALID, and torn lines were found that a writer's recovery record accounts for. */
  VALID_RECOVERED: 'VALID_RECOVERED',
  /** At least one break (see {@link VerifyReport.breaks}). */
  BROKEN: 'BROKEN',
  /** No break, but the chain no longer reaches the expected head (see {@link VerifyReport.expected}). */
  TRUNCATED: 'TRUNCATED',
  /**
   * No break inside a segment (files given by name, or stdin) and at its
   * joins, but the segment does not start at the chain's start: where it
   * sits is in {@link VerifyReport.segment}. Trusted as far as it goes, like VALID.
   */
  VALID_SEGMENT: 'VALID_SEGMENT',
} as const
export type Verdict = (typeof Verdicts)[keyof typeof Verdicts]

/** Why the chain does not reach an expected head. */
export type Shortfall =
  /** No record has the expected hash, and the chain ends before the expected count. */
  | 'ENDS_BEFORE_HEAD'
  /** No record has the expected hash: records were cut from the end, or the chain was rewritten. */
  | 'HEAD_NOT_FOUND'
  /** The expected hash is found, at another count. */
  | 'HEAD_ELSEWHERE'
  /** Only a count was expected, and the chain is shorter. */
  | 'TOO_FEW_RECORDS'

/** Whether the chain still reaches a head kept elsewhere ({@link VerifierOptions.checkpoint}). */
export interface HeadCheck {
  /** The expected hash and count, as given (either may be null). */
  hash: string | null
  count: number | null
  reached: boolean
  /** The chain length at the record with the expected hash, when there is one. */
  foundAt: number | null
  /** Why it is not reached; null when it is. */
  shortfall: Shortfall | null
}

/**
 * Where a segment sits in its chain, when it does not start at the chain's
 * start (see {@link VerifierOptions.scope}).
 */
export interface SegmentPlace {
  /**
   * The chain position (1-based, as in `head.count`) of the segment's first
   * line; null when the segment starts mid-file (stdin), anchored to nothing.
   */
  first: number | null
  /** The chain position of its last verified record (null: none verified). */
  last: number | null
  /**
   * Whether the start is anchored: a header gives the segment's place and the
   * hash it continues from. False for stdin that begins mid-file: the lines
   * are checked against each other only, and their count is from the first line given.
   */
  anchored: boolean
}

/** What a verification concludes, with what it saw: files, records, head, breaks, recovered torn tails, retention and seals. */
export interface VerifyReport {
  /** No break was found (a TRUNCATED chain is `ok`; see {@link VerifyReport.verdict}). */
  ok: boolean
  /** The conclusion: VALID, VALID_RECOVERED, BROKEN or TRUNCATED. */
  verdict: Verdict
  /** Lines that verified as records (headers and metadata included). */
  records: number
  /** Files in chain order. */
  files: string[]
  algorithm: Algorithm | null
  chain: string | null
  /** The last verified record: its hash, and the chain length up to it (compare with a value kept elsewhere). */
  head: Head | null
  /** Every break found (only the first unless `all`), first first. */
  breaks: Break[]
  /** Torn tails terminated by a writer and accounted for by a recovery record. */
  recovered: TornTail[]
  /** An unterminated last line at the very end of the input: a write in progress, or a crash not yet recovered. */
  partial: TornTail | null
  /** Files deleted by retention, as recorded in the chain. */
  retention: DeletedFile[]
  /** Files moved away by `chainlog archive`, as recorded in the chain, with where to. */
  archived: (DeletedFile & { to: string })[]
  /** First and last user lines verified (for time ranges); stored form unescaped. */
  firstLine: string | null
  lastLine: string | null
  /**
   * Present when {@link VerifierOptions.checkpoint} has a hash: where the chain
   * holds a verified record with that hash. `count` is the chain length up to
   * and including it (as in `head.count`), or null when no verified record has
   * that hash (the chain was cut before it, or rewritten).
   */
  checkpoint?: { hash: string; count: number | null }
  /** Present when {@link VerifierOptions.checkpoint} was given: whether the chain still reaches it. */
  expected?: HeadCheck
  /** Present when {@link VerifierOptions.verifyKey} was given: what the seals cover (docs/FORMAT.md §13.4). */
  seals?: SealSummary
  /** What the input stood for: the whole log (`log`), or a segment of a chain (`segment`). See {@link VerifierOptions.scope}. */
  scope: 'log' | 'segment'
  /** Where the segment sits in its chain, when it does not start at the chain's start; null otherwise. */
  segment: SegmentPlace | null
  /** Files named as part of a log that were not read as chain files (FIFOs, files that are not chainlog), with why. */
  skipped: SkippedFile[]
  /**
   * Present when the input holds more than one chain (two logs in one folder):
   * each chain's own report, in the order of their first files. The report
   * around them then sums up: `ok` only if every chain is, the worst verdict,
   * every file, break and record; `chain`, `head` and the lines are null.
   */
  chains?: VerifyReport[]
}

/** Where a line is, for the callbacks of {@link VerifierOptions}. */
export interface LineLocation {
  file: string
  /** 1-based physical line number in `file`. */
  line: number
  /** Byte offset of the line in `file` (decompressed for .gz). */
  offset?: number
}

/** What the verifier saw in one file, passed to {@link VerifierOptions.onFile}. */
export interface FileSummary {
  file: string
  /** Physical lines in the file, a partial last line included. */
  lines: number
  /** Bytes read (decompressed for .gz). */
  bytes: number
  /** Lines of this file that verified as records. */
  records: number
  /** First and last user lines of this file that verified (unescaped), for time ranges. */
  firstLine: string | null
  lastLine: string | null
}

/** What the verifier (`ChainVerifier`, `verify`) is asked: a key, callbacks along the chain, a head to reach, a seal key. */
export interface VerifierOptions {
  /** Key for hmac-sha256 chains. */
  key?: Uint8Array
  /** Report every break instead of stopping at the first. */
  all?: boolean
  /** Called for every verified user line (unescaped), in chain order. */
  onLine?: (line: string, where: { file: string; line: number }) => void
  /** Called for every verified record (user lines, metadata, headers), in chain order, with its hash: the leaves of the tree (tree.ts, #16). */
  onRecord?: (hash: string, where: { file: string; line: number }) => void
  /** Called for every verified metadata record (headers included), in chain order. */
  onMeta?: (meta: Meta | UnknownMeta, where: LineLocation) => void
  /**
   * Called for every break when it becomes final, in chain order, with the
   * offending physical line (without its LF) when there is one. Breaks found
   * only at the end (a missing start of the chain) come last, with `null`.
   */
  onBreak?: (brk: Break, line: Buffer | null) => void
  /** Called when a file ends (after its last line), with what was seen in it. */
  onFile?: (summary: FileSummary) => void
  /**
   * A head kept elsewhere (`chainlog head`): the chain must still hold a
   * verified record with this hash, at this count; either may be absent (a
   * count alone: at least that many records). See {@link VerifyReport.checkpoint}
   * and {@link VerifyReport.expected}; a chain that does not reach it is TRUNCATED.
   */
  checkpoint?: { hash?: string; count?: number }
  /** Check seals against this verification key (loadVerifyKey()); see {@link VerifyReport.seals}. */
  verifyKey?: VerifyKey
  /** With verifyKey: the time (ms) the log is judged at; seals that stop long before it are SEAL_STALE. */
  asOf?: number
  /**
   * What the input stands for. `log` (the default): the whole log, so a chain
   * that starts after its first file is broken there (MISSING_FILE) unless a
   * retention record accounts for the files before. `segment`: a piece of a
   * chain (files given by name, stdin), verified inside and at its joins; a
   * later start is reported in {@link VerifyReport.segment}, verdict
   * VALID_SEGMENT. Every file still starts with its header.
   */
  scope?: 'log' | 'segment'
  /**
   * With scope `segment`: the input may begin mid-file (a piece of a file on
   * stdin), so its line 1 need not be a header. Its lines are checked against
   * each other (hashes and links) under the algorithm their hashes match.
   */
  midFile?: boolean
  /**
   * The key was shown to verify records of this chain (by their hashes), so
   * a header whose keyId differs from the key's id was changed: a break, not KEY_MISMATCH.
   * @internal
   */
  keyVerified?: boolean
  /**
   * With a version 1 verifyKey, which fixes no heartbeat: the heartbeat the
   * writers kept (their sealInterval), ms. A version 2 key fixes its own; a
   * different one here is INVALID_OPTION.
   */
  heartbeat?: number
}

/** What a finished verification saw, for {@link conclude}. */
export interface ChainEnd {
  algorithm: Algorithm | null
  chain: string | null
  /** The last verified record's hash (null: none) and the chain length up to it. */
  headHash: string | null
  headCount: number
  /** The last verified user line, unescaped. */
  lastLine: string | null
  /** The checkpoint's hash, and the chain length at the record with that hash (null: none has it). */
  watch: string | null
  watchCount: number | null
  checkpoint: VerifierOptions['checkpoint']
}

/** Completes the report of a finished verification, its breaks final: ok, the head, the head check and the verdict. */
export function conclude(report: VerifyReport, end: ChainEnd): VerifyReport {
  report.ok = report.breaks.length === 0
  if (report.segment) report.segment.last = end.headHash === null ? null : end.headCount
  report.algorithm = end.algorithm
  report.chain = end.chain
  report.head = end.headHash === null ? null : { hash: end.headHash, count: end.headCount }
  if (end.lastLine !== null) report.lastLine = end.lastLine
  if (end.watch !== null) report.checkpoint = { hash: end.watch, count: end.watchCount }
  if (end.checkpoint) report.expected = checkHead(end.checkpoint, report.head?.count ?? 0, end.watchCount)
  report.verdict = verdictOf(report)
  return report
}

/** Whether a chain of `length` records, with the expected hash at `foundAt` (null: nowhere), reaches `expected`. */
function checkHead(expected: { hash?: string; count?: number }, length: number, foundAt: number | null): HeadCheck {
  const hash = expected.hash ?? null
  const count = expected.count ?? null
  const at = hash !== null ? foundAt : null
  let shortfall: Shortfall | null = null
  if (hash !== null && at === null) shortfall = count !== null && length < count ? 'ENDS_BEFORE_HEAD' : 'HEAD_NOT_FOUND'
  else if (hash !== null && count !== null && at !== count) shortfall = 'HEAD_ELSEWHERE'
  else if (hash === null && count !== null && length < count) shortfall = 'TOO_FEW_RECORDS'
  return { hash, count, reached: shortfall === null, foundAt: at, shortfall }
}

/** The verdict of a finished report: its breaks first, then the expected head, then recovered torn tails. */
function verdictOf(report: Pick<VerifyReport, 'ok' | 'expected' | 'recovered' | 'segment'>): Verdict {
  return !report.ok ? 'BROKEN' : report.expected && !report.expected.reached ? 'TRUNCATED' : report.segment ? 'VALID_SEGMENT' : report.recovered.length ? 'VALID_RECOVERED' : 'VALID'
}

const RANK: { [v in Verdict]: number } = { VALID: 0, VALID_RECOVERED: 1, VALID_SEGMENT: 2, TRUNCATED: 3, BROKEN: 4 }

/**
 * The report of an input that holds several chains: each chain's report in
 * `chains`, and around them the sum (see {@link VerifyReport.chains}). One
 * report is returned as it is.
 */
export function combine(reports: VerifyReport[]): VerifyReport {
  if (reports.length === 1) return reports[0]!
  const worst = reports.reduce((w, r) => (RANK[r.verdict] > RANK[w.verdict] ? r : w))
  const algorithms = new Set(reports.map((r) => r.algorithm))
  return {
    ok: reports.every((r) => r.ok),
    verdict: worst.verdict,
    records: reports.reduce((n, r) => n + r.records, 0),
    files: reports.flatMap((r) => r.files),
    algorithm: algorithms.size === 1 ? reports[0]!.algorithm : null,
    chain: null,
    head: null,
    breaks: reports.flatMap((r) => r.breaks),
    recovered: reports.flatMap((r) => r.recovered),
    partial: reports.find((r) => r.partial)?.partial ?? null,
    retention: reports.flatMap((r) => r.retention),
    archived: reports.flatMap((r) => r.archived),
    firstLine: null,
    lastLine: null,
    scope: reports[0]!.scope,
    segment: null,
    skipped: reports[0]!.skipped,
    chains: reports,
  }
}
