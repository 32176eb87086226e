/**
 * Exit statuses and the one top-level catch of both commands.
 *
 * The contract (README, `verify-log --help`):
 * - 0: the chain is intact;
 * - 1: the chain is broken, tampered with, or truncated (no longer reaches an expected head);
 * - 2: the chain could not be checked: a usage error, an unreadable path, input that
 *   is not a chainlog file, a wrong or missing key.
 */
import { ChainlogError, type ErrorCode } from '@chainlog/core'

export const EXIT_OK = 0
export const EXIT_BROKEN = 1
export const EXIT_UNUSABLE = 2

/** An exit status of the CLI. */
export type ExitStatus = typeof EXIT_OK | typeof EXIT_BROKEN | typeof EXIT_UNUSABLE

/**
 * The CLI's own error codes, beside core's {@link ErrorCode}s (listed in the
 * README under --json):
 * - `USAGE`: a mistake in the command line;
 * - `CHAIN_BROKEN`: the command refuses a broken chain (`head`, `extract`);
 * - `KEYS_EXIST`: `keygen` would overwrite sealing keys;
 * - `WRITE_FAILED`: `keygen` cannot write the keys;
 * - `WITNESS_REFUSED`: `witness` could not have the checkpoint cosigned (unreachable, 404, 403, …);
 * - `WITNESS_INCONSISTENT`: the witness knows a history this log does not extend (422, or a larger size);
 * - `INTERNAL`: a bug in chainlog.
 */
export const CliCodes = {
  USAGE: 'USAGE',
  CHAIN_BROKEN: 'CHAIN_BROKEN',
  KEYS_EXIST: 'KEYS_EXIST',
  WRITE_FAILED: 'WRITE_FAILED',
  WITNESS_REFUSED: 'WITNESS_REFUSED',
  WITNESS_INCONSISTENT: 'WITNESS_INCONSISTENT',
  INTERNAL: 'INTERNAL',
} as const
export type CliCode = (typeof CliCodes)[keyof typeof CliCodes]

/** Ends a command with a status and, unless empty, a one-line message on stderr. */
export class ExitError extends Error {
  readonly status: ExitStatus

  constructor(
    readonly code: Exclude<CliCode, 'INTERNAL'>,
    message: string,
  ) {
    super(message)
    this.name = 'ExitError'
    this.status = STATUS[code]
  }
}

/** A mistake in the command line: exit 2. */
export function usage(message: string): ExitError {
  return new ExitError('USAGE', message)
}

/**
 * The exit status of every error code, core's and the CLI's own. The table is
 * total, so that a new code does not compile until someone decides its status.
 * Every error core can raise means the input could not be checked (2), except
 * a signature or proof that does not verify: the evidence was tampered with (1).
 */
const STATUS: { readonly [code in ErrorCode | CliCode]: ExitStatus } = {
  INVALID_OPTION: EXIT_UNUSABLE,
  NO_DIRECTORY: EXIT_UNUSABLE,
  ACCESS_DENIED: EXIT_UNUSABLE,
  DISK_FULL: EXIT_UNUSABLE,
  IS_DIRECTORY: EXIT_UNUSABLE,
  IO_ERROR: EXIT_UNUSABLE,
  FILE_REMOVED: EXIT_UNUSABLE,
  FILE_TRUNCATED: EXIT_UNUSABLE,
  CANNOT_ARCHIVE: EXIT_UNUSABLE,
  INVALID_LINE: EXIT_UNUSABLE,
  LOCK_LOST: EXIT_UNUSABLE,
  LOCK_TIMEOUT: EXIT_UNUSABLE,
  WRITER_CLOSED: EXIT_UNUSABLE,
  BUFFER_FULL: EXIT_UNUSABLE,
  NOT_CHAINLOG: EXIT_UNUSABLE,
  NO_INPUT: EXIT_UNUSABLE,
  MULTIPLE_CHAINS: EXIT_UNUSABLE,
  KEY_REQUIRED: EXIT_UNUSABLE,
  KEY_MISMATCH: EXIT_UNUSABLE,
  BAD_KEY: EXIT_UNUSABLE,
  SEAL_KEY_EXPIRED: EXIT_UNUSABLE,
  UNKNOWN_ALGORITHM: EXIT_UNUSABLE,
  UNSUPPORTED_VERSION: EXIT_UNUSABLE,
  BAD_STATE: EXIT_UNUSABLE,
  BAD_CHECKPOINT: EXIT_UNUSABLE,
  CHECKPOINT_UNVERIFIED: EXIT_BROKEN,
  BAD_PROOF: EXIT_UNUSABLE,
  CHAIN_INCOMPLETE: EXIT_UNUSABLE,
  PROOF_FAILED: EXIT_BROKEN,
  USAGE: EXIT_UNUSABLE,
  CHAIN_BROKEN: EXIT_BROKEN,
  KEYS_EXIST: EXIT_UNUSABLE,
  WRITE_FAILED: EXIT_UNUSABLE,
  WITNESS_REFUSED: EXIT_UNUSABLE,
  WITNESS_INCONSISTENT: EXIT_BROKEN,
  INTERNAL: EXIT_UNUSABLE,
}

export function statusFor(err: ChainlogError): ExitStatus {
  return STATUS[err.code]
}

/** A ChainlogError's message without its `CODE: ` prefix, on one line. */
export function plainMessage(err: Error): string {
  const m = err instanceof ChainlogError && err.message.startsWith(err.code + ': ') ? err.message.slice(err.code.length + 2) : err.message
  return oneLine(m)
}

export function oneLine(text: string): string {
  return text.replace(/\s*[\r\n]+\s*/g, ' ').trim()
}

/** What an error looks like in --json output. */
export function errorJson(err: unknown): { code: ErrorCode | CliCode; message: string; path?: string } {
  if (err instanceof ChainlogError) return { code: err.code, message: plainMessage(err), ...(err.path !== undefined && { path: err.path }) }
  if (err instanceof ExitError) return { code: err.code, message: err.message }
  return { code: CliCodes.INTERNAL, message: err instanceof Error ? oneLine(err.message) : String(err) }
}

export interface RunContext {
  /** The command name, for messages (`verify-log`, `chainlog extract`). */
  name: string
  /** When set, errors are also printed as one JSON object on stdout. */
  json: boolean
}

/**
 * Runs a command and turns its outcome into the exit status. The only catch of
 * the program: known errors become one line naming the path; anything else is
 * a bug, reported as such on one line, never as a stack trace.
 */
export async function runMain(ctx: RunContext, main: (ctx: RunContext) => Promise<number>): Promise<void> {
  const fatal = (err: unknown) => {
    report(ctx, err)
    process.exit(process.exitCode)
  }
  process.on('uncaughtException', fatal)
  process.on('unhandledRejection', fatal)
  // The reader of stdout went away (`| head`): nobody is left to tell; end quietly.
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(process.exitCode ?? EXIT_OK)
    fatal(err)
  })
  let status: number
  try {
    status = await main(ctx)
  } catch (err) {
    report(ctx, err)
    status = process.exitCode as number
  }
  process.exitCode = status
}

function report(ctx: RunContext, err: unknown): void {
  let status: ExitStatus
  let line: string
  if (err instanceof ExitError) {
    status = err.status
    line = err.message
  } else if (err instanceof ChainlogError) {
    status = statusFor(err)
    line = plainMessage(err)
  } else {
    status = STATUS.INTERNAL
    const what = err instanceof Error ? `${err.name}: ${oneLine(err.message)}` : oneLine(String(err))
    line = `internal error (${what}); this is a bug in chainlog, please report it with the command you ran`
  }
  if (ctx.json) {
    try {
      process.stdout.write(JSON.stringify({ ok: false, status: 'ERROR', error: errorJson(err) }) + '\n')
    } catch {
      // stdout is gone; stderr still says what happened
    }
  }
  if (line) process.stderr.write(`${ctx.name}: ${line}\n`)
  process.exitCode = status
}
