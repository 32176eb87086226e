import type { Refusal } from './option-names'

// The peers' options chainlog does not honour, as data for checkOptionNames:
// every refusal message is written here, once, and reads the same in both
// transports (#14). Each transport names the table of the peer it stands in for.

/** Refused option names, each with its reason (a string) or a {@link Refusal}. */
export type Refusals = { readonly [name: string]: string | Refusal }

/** sonic-boom's options (pino's file destination) that @chainlog/pino does not take, with the reason. */
export const SONIC_BOOM_REFUSALS: Refusals = {
  dest: 'use file, or destination for a stream (1 for stdout)',
  fd: 'use file, or destination for a stream: 1 for stdout, 2 for stderr',
  sync: "chainlog writes in the transport's own pace; use logger.flush() or fsync: true for durability",
  minLength: 'chainlog batches records itself',
  maxLength: 'chainlog bounds memory with maxBuffered',
  periodicFlush: 'chainlog hands records to the OS within one event-loop turn',
  contentMode: 'records are always UTF-8 text',
  retryEAGAIN: 'chainlog retries failed writes itself',
}

/** pino-roll's `limit` fields that @chainlog/pino refuses; `removeOtherLogFiles: false` is what chainlog does. */
export const PINO_ROLL_LIMIT_REFUSALS: Refusals = {
  removeOtherLogFiles: { why: 'chainlog deletes only files of its own chain, and records each deletion in the chain; remove other files yourself', accepts: [false] },
}

/**
 * winston-daily-rotate-file's options whose meaning @chainlog/winston does not have,
 * each with the reason and what to do instead. Values listed in `accepts`
 * mean what chainlog does anyway, so a configuration copied from
 * winston-daily-rotate-file keeps working where it can.
 */
export const DAILY_ROTATE_FILE_REFUSALS: Refusals = {
  stream: 'for a chain on a stream use destination (1 for stdout, or the stream); winston.transports.Stream writes lines without a chain',
  auditFile: 'there is no audit file: chainlog finds its files by name, and records each deleted file in the chain itself, where verify-log checks it; remove auditFile',
  auditHashType: 'there is no audit file: chainlog records each deleted file, with its last hash, in the chain itself; remove auditHashType',
  utc: { why: 'dates in file names and daily or hourly rotation follow local time; for UTC, run the process with TZ=UTC', accepts: [false] },
  options: 'the file is always opened for appending; remove options',
  // chainlog checks the path before each write: a removed or replaced file is
  // reported (FILE_REMOVED) and writing goes on in a new file of the chain.
  watchLog: { why: 'chainlog always notices a removed or replaced file before its next write and goes on in a new file; remove watchLog', accepts: [true] },
  eol: { why: 'each record ends with LF, as the format requires (docs/FORMAT.md)', accepts: ['\n'] },
}
