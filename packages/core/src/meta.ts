/**
 * Metadata records (docs/FORMAT.md §4). A metadata record is an ordinary
 * `prev|line|hash` record whose stored line is `\m` followed by one JSON
 * object with a `t` (type) member. User lines can never take this form:
 * a user line starting with `\` is always stored escaped as `\e…`.
 */
import type { Algorithm } from './algorithm'
import { META_PREFIX } from './record'
import type { SealMeta } from './seal'

/** The format version this code writes and reads. */
export const FORMAT_VERSION = 1

/** First record of every file (FORMAT.md §5). Its record `prev` is `prevHash`. */
export interface HeaderMeta {
  t: 'header'
  /** Format version. */
  v: number
  alg: Algorithm
  /** Random id shared by every file of one chain. */
  chain: string
  /** 0 for the first file of the chain, +1 per rotation. */
  index: number
  /** This file's name when it was created. */
  file: string
  /** Name of the previous file of the chain, or null for index 0. */
  prevFile: string | null
  /** Last hash of the previous file (the GENESIS value for index 0). */
  prevHash: string
  /** Number of physical lines in the chain before this header (its 0-based position). */
  seq: number
  /** ISO-8601 time the file was started. */
  time: string
  /** For hmac-sha256: public id of the key (see keyId()). */
  keyId?: string
  /** Why the writer started this file, when it was not a routine rotation. */
  reason?: string
}

/** One file deleted by retention, or moved away by `chainlog archive`. */
export interface DeletedFile {
  file: string
  index: number
  lastHash: string
  records: number
}

/** Written before the writer deletes old files (FORMAT.md §6). */
export interface RetentionMeta {
  t: 'retention'
  time: string
  deleted: DeletedFile[]
}

/**
 * Written by `chainlog archive` before it moves rotated files out of the
 * log's directory (FORMAT.md §6.1): like a retention record, it accounts for
 * the files before the chain's start on the host.
 */
export interface ArchiveMeta {
  t: 'archive'
  time: string
  /** The directory the files were moved to (absolute). */
  to: string
  files: DeletedFile[]
}

/** Written after a torn last record was found on restart (FORMAT.md §7). */
export interface RecoveryMeta {
  t: 'recovery'
  time: string
  /** What was found: a torn (partial) record, or a tail that failed its own hash check. */
  reason: 'torn-tail' | 'broken-tail'
  /** For torn-tail: byte length of the fragment (without the `\n` the writer added). */
  length?: number
  /** For torn-tail: SHA-256 hex of the fragment bytes. */
  sha256?: string
  /** For broken-tail: the file whose tail failed. */
  file?: string
  detail?: string
}

/** Where a writer left a file: its size, its complete lines, and the hash of its last record. */
export interface FileEnd {
  size: number
  lines: number
  /** Hash of the last complete record; null when none is left. */
  hash: string | null
}

/**
 * Written first in the file a writer starts after it found the file it was
 * appending to cut short, emptied, or ending in a record it did not write
 * (FORMAT.md §7.1). The verifier reports it as a break at `file`:`at.line`.
 */
export interface TruncationMeta {
  t: 'truncation'
  time: string
  /** The file found cut (its name when it was created). */
  file: string
  /** Its header's index; null when it has no header left. */
  index: number | null
  /**
   * What the writer had left in it, with the chain's head and position
   * (`count`) after its last record; null when no writer had the file open
   * (an empty file of the log found when a writer starts).
   */
  expected: (FileEnd & { hash: string; count: number }) | null
  /** What the writer found. */
  found: FileEnd
  /** The first line of `file` the writer cannot vouch for, and its byte offset. */
  at: { line: number; offset: number }
}

/**
 * Written by a writer with `checkpointKey` (FORMAT.md §14.6): the tree of
 * every record before this one, as the checkpoint signed into
 * `<base>.checkpoint` states it. The verifier checks it against the tree it rebuilds.
 */
export interface CheckpointMeta {
  t: 'checkpoint'
  time: string
  /** Leaves (records of the chain) before this record. */
  size: number
  /** The tree's root, base64. */
  root: string
  /** The compact range at `size` (subtree roots, largest first, base64): where a writer resumes the tree. */
  range: string[]
}

/** The metadata records format 1 defines (FORMAT.md §4–§7.1, §13, §14.6): a closed union on `t`. */
export type Meta = HeaderMeta | RetentionMeta | ArchiveMeta | RecoveryMeta | TruncationMeta | SealMeta | CheckpointMeta

/**
 * A metadata record of a type this version does not define (written by a
 * later version, say). It is a record like any other: it verifies and links,
 * and it is passed on as it is, but nothing in it is acted upon (FORMAT.md §4).
 */
export interface UnknownMeta {
  t: string
  [k: string]: unknown
}

/** The `t` of every {@link Meta}. */
const KNOWN: ReadonlySet<string> = new Set<Meta['t']>(['header', 'retention', 'archive', 'recovery', 'truncation', 'seal', 'checkpoint'])

/** Serializes metadata into a stored line (an unknown type too: a tool may copy records it does not read). */
export function metaLine(meta: Meta | UnknownMeta): string {
  return META_PREFIX + JSON.stringify(meta)
}

/**
 * Parses a stored line that starts with `\m`; null if the JSON is not an
 * object with a string `t`. The members other than `t` are not checked here:
 * the verifier judges a header's, and reads the others defensively.
 */
export function parseMeta(stored: string): Meta | UnknownMeta | null {
  if (!stored.startsWith(META_PREFIX)) return null
  try {
    const value: unknown = JSON.parse(stored.slice(META_PREFIX.length))
    if (value && typeof value === 'object' && !Array.isArray(value) && typeof (value as { t?: unknown }).t === 'string') return value as Meta | UnknownMeta
  } catch {
    // fall through
  }
  return null
}

/** Whether a parsed record is of a type format 1 defines; narrows to the closed {@link Meta} union. */
export function isKnownMeta(meta: Meta | UnknownMeta | null): meta is Meta {
  return meta !== null && KNOWN.has(meta.t)
}

export function isHeader(meta: Meta | UnknownMeta | null): meta is HeaderMeta {
  return meta?.t === 'header'
}
