/**
 * Every error chainlog raises is a {@link ChainlogError} with a stable `code`.
 * Messages start with the code so that a log line alone says what happened;
 * callers (the CLI, the transports, tests) branch on `code`, never on text.
 */
export const ErrorCodes = {
  /** An option has the wrong type or value. */
  INVALID_OPTION: 'INVALID_OPTION',
  /** The log directory does not exist and `mkdir` was not set. */
  NO_DIRECTORY: 'NO_DIRECTORY',
  /** The OS refused access (EACCES / EPERM). */
  ACCESS_DENIED: 'ACCESS_DENIED',
  /** The disk or quota is full (ENOSPC / EDQUOT). */
  DISK_FULL: 'DISK_FULL',
  /** A path that must be a file is a directory (EISDIR). */
  IS_DIRECTORY: 'IS_DIRECTORY',
  /** Any other I/O failure; `cause` holds the system error. */
  IO_ERROR: 'IO_ERROR',
  /** The file being written was deleted or replaced under the writer. */
  FILE_REMOVED: 'FILE_REMOVED',
  /** The file being written was cut short, emptied, or given a last record this writer did not write (the writer went on in a new file and recorded it). */
  FILE_TRUNCATED: 'FILE_TRUNCATED',
  /** A line given as bytes is not valid UTF-8. */
  INVALID_LINE: 'INVALID_LINE',
  /** The log lock was taken over while this writer held it (it was thought dead). */
  LOCK_LOST: 'LOCK_LOST',
  /** The log lock could not be taken in time. */
  LOCK_TIMEOUT: 'LOCK_TIMEOUT',
  /** The writer was used after `close()`. */
  WRITER_CLOSED: 'WRITER_CLOSED',
  /** More data is waiting for a failing disk than the writer may hold. */
  BUFFER_FULL: 'BUFFER_FULL',
  /** A file at the log path holds records but no chainlog header, so it cannot be continued; or a verifier input is not a chainlog file. (Another program's file is foreign, and left alone: see the writer's 'foreign' event.) */
  NOT_CHAINLOG: 'NOT_CHAINLOG',
  /** `chainlog archive` refused: not the oldest rotated files, the file being written, a name taken at the destination, a tail a writer must recover first. */
  CANNOT_ARCHIVE: 'CANNOT_ARCHIVE',
  /** The input given to the verifier holds no chainlog file at all. */
  NO_INPUT: 'NO_INPUT',
  /** The input holds files of more than one chain. */
  MULTIPLE_CHAINS: 'MULTIPLE_CHAINS',
  /** A keyed chain was opened without its key. */
  KEY_REQUIRED: 'KEY_REQUIRED',
  /** The key given does not belong to this chain. */
  KEY_MISMATCH: 'KEY_MISMATCH',
  /** A key file is missing, unreadable or too short. */
  BAD_KEY: 'BAD_KEY',
  /** The sealing key has no epoch left for the current time. */
  SEAL_KEY_EXPIRED: 'SEAL_KEY_EXPIRED',
  /** The file uses an algorithm this version does not know. */
  UNKNOWN_ALGORITHM: 'UNKNOWN_ALGORITHM',
  /** The existing log was written by another format version. */
  UNSUPPORTED_VERSION: 'UNSUPPORTED_VERSION',
  /** A verification state file (`verify-log --state`) cannot be read, is not one, or belongs to another chain. */
  BAD_STATE: 'BAD_STATE',
  /** A checkpoint or signed note is malformed (#16). */
  BAD_CHECKPOINT: 'BAD_CHECKPOINT',
  /** A checkpoint's signature or a required cosignature is missing or does not verify (#16). */
  CHECKPOINT_UNVERIFIED: 'CHECKPOINT_UNVERIFIED',
  /** A proof bundle is malformed (#16). */
  BAD_PROOF: 'BAD_PROOF',
  /** The input lacks the start of the chain (files deleted by retention), which the tree needs (#16). */
  CHAIN_INCOMPLETE: 'CHAIN_INCOMPLETE',
  /** A proof does not verify: the record is not in the tree, or the log does not extend the checkpoint (#16). */
  PROOF_FAILED: 'PROOF_FAILED',
} as const

export type ErrorCode = (typeof ErrorCodes)[keyof typeof ErrorCodes]

export class ChainlogError extends Error {
  readonly code: ErrorCode
  /** The path the error is about, when there is one. */
  readonly path?: string

  constructor(code: ErrorCode, message: string, options: { cause?: unknown; path?: string } = {}) {
    super(`${code}: ${message}`, options.cause === undefined ? undefined : { cause: options.cause })
    this.name = 'ChainlogError'
    this.code = code
    if (options.path !== undefined) this.path = options.path
  }
}

/** The error of every bad option: INVALID_OPTION, with a message that names the option. */
export function invalidOption(message: string): ChainlogError {
  return new ChainlogError(ErrorCodes.INVALID_OPTION, message)
}

/** Narrows an unknown thrown value to a Node system error with a `code`. */
export function isSystemError(err: unknown): err is NodeJS.ErrnoException {
  return err instanceof Error && typeof (err as NodeJS.ErrnoException).code === 'string'
}

/** What a system error means to chainlog: a stable code and the words for it. */
export interface SystemErrorMeaning {
  code: ErrorCode
  words: string
}

/**
 * The errno → meaning table, the only one: every place that turns a Node
 * system error into a message (writer, verifier, key files, the CLI) reads it.
 * ENOENT is left out because what is missing depends on the action (the log
 * directory, an input path, a key file): callers say what it means, in a
 * {@link SystemErrorContext}.
 */
const SYSTEM_ERRORS: { readonly [errno: string]: SystemErrorMeaning } = {
  EACCES: { code: ErrorCodes.ACCESS_DENIED, words: 'permission denied' },
  EPERM: { code: ErrorCodes.ACCESS_DENIED, words: 'permission denied' },
  ENOSPC: { code: ErrorCodes.DISK_FULL, words: 'no space left on device' },
  EDQUOT: { code: ErrorCodes.DISK_FULL, words: 'no space left on device' },
  EISDIR: { code: ErrorCodes.IS_DIRECTORY, words: 'it is a directory' },
  EROFS: { code: ErrorCodes.IO_ERROR, words: 'read-only file system' },
  ENOTDIR: { code: ErrorCodes.IO_ERROR, words: 'a part of the path is not a directory' },
}

/** What some errnos mean where a caller met them (ENOENT: which thing is missing). */
export type SystemErrorContext = { readonly [errno: string]: SystemErrorMeaning }

/**
 * Looks a system error up in the one errno table, `here` first (what an errno
 * means where the caller met it). Returns null for anything neither names
 * (the caller then says `err.message`).
 */
export function systemErrorMeaning(err: unknown, here: SystemErrorContext = {}): SystemErrorMeaning | null {
  const errno = isSystemError(err) ? err.code : undefined
  if (errno === undefined) return null
  if (Object.hasOwn(here, errno)) return here[errno]!
  return Object.hasOwn(SYSTEM_ERRORS, errno) ? SYSTEM_ERRORS[errno]! : null
}

/**
 * Turns a Node system error into a {@link ChainlogError} whose message names
 * the path, from the one errno table: `"<prefix>: <words>"`. Anything the
 * table does not name is IO_ERROR with the system's own message.
 * @internal
 */
export function pathError(err: unknown, prefix: string, path: string, here?: SystemErrorContext): ChainlogError {
  if (err instanceof ChainlogError) return err
  const m = systemErrorMeaning(err, here)
  const words = m?.words ?? (err instanceof Error ? err.message : String(err))
  return new ChainlogError(m?.code ?? ErrorCodes.IO_ERROR, `${prefix}: ${words}`, { cause: err, path })
}

/** What ENOENT means to the writer: the log directory is missing. */
const WRITING: SystemErrorContext = { ENOENT: { code: ErrorCodes.NO_DIRECTORY, words: 'the directory does not exist (set mkdir: true to create it)' } }

/**
 * Turns a Node system error into a {@link ChainlogError} with a stable code and
 * a message that names the path and says what to do about it.
 */
export function fromSystemError(err: unknown, action: string, path: string): ChainlogError {
  return pathError(err, `cannot ${action} ${path}`, path, WRITING)
}
