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

/** Ends a command with a status and, unless empty, a one-line message on stderr. */
export class ExitError extends Error {
  constructor(
    readonly status: number,
    message: string,
    /** A stable code for --json output. */
    readonly code = 'USAGE',
  ) {
    super(message)
    this.name = 'ExitError'
  }
}

/** A mistake in the command line: exit 2. */
export function usage(message: string): ExitError {
  return new ExitError(EXIT_UNUSABLE, message, 'USAGE')
}

/**
 * Every error core can raise means the input could not be checked, so all map
 * to 2; the table is explicit so that a new code is a decision, not an accident.
 */
const STATUS: { [code in ErrorCode]?: number } = {
  INVALID_OPTION: EXIT_UNUSABLE,
  NO_INPUT: EXIT_UNUSABLE,
  NOT_CHAINLOG: EXIT_UNUSABLE,
  ACCESS_DENIED: EXIT_UNUSABLE,
  IS_DIRECTORY: EXIT_UNUSABLE,
  IO_ERROR: EXIT_UNUSABLE,
  MULTIPLE_CHAINS: EXIT_UNUSABLE,
  KEY_REQUIRED: EXIT_UNUSABLE,
  KEY_MISMATCH: EXIT_UNUSABLE,
  BAD_KEY: EXIT_UNUSABLE,
  UNKNOWN_ALGORITHM: EXIT_UNUSABLE,
  UNSUPPORTED_VERSION: EXIT_UNUSABLE,
}

export function statusFor(err: ChainlogError): number {
  return STATUS[err.code] ?? EXIT_UNUSABLE
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
export function errorJson(err: unknown): { code: string; message: string; path?: string } {
  if (err instanceof ChainlogError) return { code: err.code, message: plainMessage(err), ...(err.path !== undefined && { path: err.path }) }
  if (err instanceof ExitError) return { code: err.code, message: err.message }
  return { code: 'INTERNAL', message: err instanceof Error ? oneLine(err.message) : String(err) }
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
  let status: number
  let line: string
  if (err instanceof ExitError) {
    status = err.status
    line = err.message
  } else if (err instanceof ChainlogError) {
    status = statusFor(err)
    line = plainMessage(err)
  } else {
    status = EXIT_UNUSABLE
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
