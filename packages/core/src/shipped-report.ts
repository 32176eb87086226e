/**
 * What shipped verification reports (issue #15): per chain found, its records
 * in chain order (as runs between gaps), time range and head, and each
 * problem with its own reason, so that a reviewer can tell what a shipper
 * does (duplicates, cuts at a line limit, lost lines) from what an attacker
 * does (edited, inserted or forked records).
 */
import type { Algorithm } from './algorithm'
import type { Envelope } from './envelope'

/** Why a shipped chain is not complete. Stable codes; `--json` carries them. */
export const ShippedReasons = {
  /** Records are missing between two records of the chain: no record in the input has the `prev` of the one after. */
  GAP: 'GAP',
  /** The chain's first records are missing: its earliest record is not the chain's first, and no retention record accounts for the rest. */
  START_MISSING: 'START_MISSING',
  /** A record's start arrived without its end (or its end without its start): a shipper's line limit cut it. */
  CUT: 'CUT',
  /** Two different records have the same `prev`: the chain was forked. */
  FORK: 'FORK',
  /** A record's hash field is not H(prev|line), or it verifies only under another algorithm than its chain's. */
  HASH_MISMATCH: 'HASH_MISMATCH',
  /** A record-shaped line whose stored line is not a format-1 form. */
  MALFORMED: 'MALFORMED',
  /** Header `seq` values or seal counts show no record missing, yet the record does not link to the one before it: it was rewritten. */
  PREV_MISMATCH: 'PREV_MISMATCH',
  /** A header disagrees with its place in the chain (seq, index, chain id, prevHash, prevFile, algorithm). */
  BAD_HEADER: 'BAD_HEADER',
  /** A seal record's count or chain is not its place. */
  SEAL_MISPLACED: 'SEAL_MISPLACED',
  /** The head a checkpoint names is not in the input: the chain ends before it (records lost or cut from the end), or it falls in a gap. */
  HEAD_MISSING: 'HEAD_MISSING',
  /** The chain holds a record at the position a checkpoint gives its head, with another hash: the chain was rewritten. */
  HEAD_REWRITTEN: 'HEAD_REWRITTEN',
  /** The checkpoint's head hash is at another position of the chain than the checkpoint's count. */
  HEAD_ELSEWHERE: 'HEAD_ELSEWHERE',
} as const
export type ShippedReason = (typeof ShippedReasons)[keyof typeof ShippedReasons]

/** Reasons that only a shipper's losses explain; the others are tampering (or a writer's fault). */
export const LOSS_REASONS: ReadonlySet<ShippedReason> = new Set<ShippedReason>(['GAP', 'START_MISSING', 'CUT', 'HEAD_MISSING'])

/** One record of the input, where it was found. */
export interface ShippedRecord {
  /** The input it came from (`-` for stdin), and its 1-based line there (a joined record: its first piece). */
  file: string
  line: number
  /** Its position in the chain (physical lines before it), when header seq values or seals tell. */
  position: number | null
  /** Its hash field. */
  hash: string
}

/** A run of records of one chain in chain order, with nothing missing inside. */
export interface ShippedRun {
  first: ShippedRecord
  last: ShippedRecord
  records: number
}

/** One problem in a chain. */
export interface ShippedProblem {
  reason: ShippedReason
  message: string
  /** The line it is about (for a gap: the record after it). */
  file: string
  line: number
  /** For GAP, START_MISSING and CUT: the last record before it (null at the chain's start). */
  after?: ShippedRecord | null
  /** For GAP, START_MISSING and CUT: the first record after it (null at the chain's end). */
  before?: ShippedRecord | null
  /** For GAP, START_MISSING and HEAD_MISSING: how many records are missing (for HEAD_MISSING, at the chain's end), from header seq values, seals and the checkpoint's count; null when they cannot tell. */
  missing?: number | null
  /** For FORK: the records that share the `prev`. */
  records?: ShippedRecord[]
  /** The offending line, shortened. */
  text?: string
}

/** What a shipped chain concludes: complete, incomplete (only a shipper's losses), or broken (tampering). */
export type ShippedVerdict = 'VALID' | 'INCOMPLETE' | 'BROKEN'

/** One chain found in the input. */
export interface ShippedChain {
  /** The chain id of its headers; null for records no header or seal places in a chain. */
  chain: string | null
  algorithm: Algorithm | null
  verdict: ShippedVerdict
  /** Distinct records. */
  records: number
  /** Copies beyond the first, collapsed. */
  duplicates: number
  /** The records in chain order, as runs between gaps (the first {@link ShippedOptions.limit}). */
  runs: ShippedRun[]
  /** The stored line of the first and the last record in chain order (for their times). */
  firstLine: string | null
  lastLine: string | null
  /** The last record in chain order: its hash, and the chain's length up to it when positions are known. */
  head: { hash: string; count: number | null } | null
  /** Problems in chain order (the first {@link ShippedOptions.limit}); {@link problemCount} has them all. */
  problems: ShippedProblem[]
  problemCount: number
  /** Torn lines that a writer's recovery record accounts for (not problems). */
  recovered: number
  /** With a checkpoint, on the chain it was judged against: whether the chain holds its head (at its count, when both are known). */
  reachesHead?: boolean
}

/** What a checkpoint (an outside head: hash, and count when known) says of the shipped chains. */
export interface ShippedCheckpoint {
  hash: string
  count: number | null
  /**
   * The chain it was judged against: the one holding the head hash, else the
   * only chain of the input; null when the input holds several chains and
   * none holds the head (which one lost its end, nothing tells).
   */
  chain: string | null
  /** The head is in the input (and at the checkpoint's count, when positions tell). */
  reached: boolean
  /** The record number (1-based chain position) of the record with the head hash, when found and positions tell. */
  foundAt: number | null
  /** Records missing after the chain's last record in the input, up to the head: known from the count and the chain's positions. */
  missing: number | null
  reason: ShippedReason | null
  message: string | null
}

/** The report of {@link verifyShipped}. */
export interface ShippedReport {
  /** Every chain is complete from its first header to its last record. */
  ok: boolean
  verdict: ShippedVerdict
  inputs: string[]
  /** Input lines read. */
  lines: number
  /** Distinct records. */
  records: number
  duplicates: number
  /** Lines that held no record, counted and skipped. */
  skipped: number
  /** Lines (or joined pieces) of each envelope found. */
  envelopes: { [e in Envelope]?: number }
  chains: ShippedChain[]
  /** With {@link ShippedOptions.checkpoint}: whether the chains reach its head. */
  checkpoint?: ShippedCheckpoint
}

/** Options of {@link verifyShipped}. */
export interface ShippedOptions {
  /** The dotted path of the JSON member that holds the record, instead of detecting the envelope. */
  field?: string
  /** The key of hmac-sha256 chains. */
  key?: Uint8Array
  /** Problems and runs listed per chain (all are counted). Default 1,000. */
  limit?: number
  /** Called as input is read with the bytes read so far. */
  onProgress?: (bytes: number) => void
  /** Threads that check records as they are read: 1 keeps to this one; more hands half of each chunk to another. Default: the number of cores. */
  jobs?: number
  /**
   * A head kept elsewhere (what `chainlog head` prints): the chain holding
   * it must reach it; records missing at the chain's end are counted when
   * the count and the chain's positions tell.
   */
  checkpoint?: { hash: string; count?: number }
}
