import { checkOptionNames, checkWriterOptions, invalidOption, parseHeadInterval, PINO_ROLL_LIMIT_REFUSALS, SONIC_BOOM_REFUSALS, type ChainWriterOptions, type ChunkFeedOptions, type OptionNames } from '@chainlog/core'

/** Options handed to the core writer unchanged (core's doc comments describe them). */
const PASSED = ['destination', 'frequency', 'mkdir', 'symlink', 'extension', 'dateFormat', 'compress', 'fsync', 'mode', 'append', 'algorithm', 'keyFile', 'maxBuffered', 'sealKey', 'sealEvery', 'sealInterval', 'checkpointKey', 'checkpointInterval'] as const

/**
 * Options of the pino transport: core's options under pino-roll's names,
 * sonic-boom's file options, and three of the transport's own. A bare
 * `size` is megabytes, as in pino-roll.
 */
export interface ChainlogPinoOptions extends Pick<ChainWriterOptions, (typeof PASSED)[number]>, Pick<ChunkFeedOptions, 'headInterval'> {
  /**
   * Base path of the log, e.g. `logs/app.log`: files are `logs/app.1.log`,
   * `logs/app.2.log`, … As in pino-roll, a function returning the path is
   * called once, at start-up (in the main thread only: a function cannot
   * cross to pino's worker thread).
   */
  file?: string | (() => string)
  /** Rotate when a file would grow past this size. As in pino-roll, a bare number (or a string without unit) is megabytes: `10`, `'10m'`, `'512k'`, `'1g'`, `'4096b'`. */
  size?: number | string
  /**
   * Keep `count` rotated files besides the current one, as in pino-roll
   * (`0` keeps the current file only). Each deletion is recorded in the chain
   * first. pino-roll's `removeOtherLogFiles` is taken as `false` only, what
   * chainlog does: it deletes files of its own chain, never others.
   */
  limit?: { count?: number; removeOtherLogFiles?: false }
}

/** What the transport passes to the core writer, and what it keeps for itself. */
export interface ResolvedOptions extends Pick<ChunkFeedOptions, 'headInterval'> {
  writer: ChainWriterOptions
}

const NAMES: OptionNames = {
  package: '@chainlog/pino',
  example: "{ file: 'logs/app.log' }",
  takes: ['file', 'size', 'limit', 'headInterval', ...PASSED],
  refused: SONIC_BOOM_REFUSALS,
  // Added by pino and thread-stream to every transport's options; not the user's.
  injected: ['$context', 'pinoWillSendConfig'],
}

const LIMIT_NAMES: OptionNames = {
  package: '@chainlog/pino',
  example: '{ count: 14 }',
  prefix: 'limit.',
  takes: ['count'],
  refused: PINO_ROLL_LIMIT_REFUSALS,
}

/**
 * pino-roll reads a bare number, or a string without unit, as megabytes;
 * core reads bytes. Translate so that `size: 10` means what it means in pino-roll.
 */
function translateSize(size: unknown): number | string {
  if (typeof size === 'number') {
    if (Number.isFinite(size) && size > 0) return Math.floor(size * 1024 * 1024)
    throw invalidOption(`size must be a positive number of megabytes or a string like '10m', '512k'; got ${size}`)
  }
  if (typeof size === 'string' && /^\s*\d+(?:\.\d+)?\s*$/.test(size)) return size.trim() + 'm'
  if (typeof size === 'string') return size
  throw invalidOption(`size must be a number of megabytes or a string like '10m', '512k', '1g'; got ${JSON.stringify(size)}`)
}

/** pino-roll calls a function `file` once, at start-up, for the base path. */
function translateFile(file: unknown): unknown {
  if (typeof file !== 'function') return file
  const value: unknown = file()
  if (typeof value !== 'string' || value === '') throw invalidOption(`file() must return a non-empty path such as 'logs/app.log'; got ${JSON.stringify(value)}`)
  return value
}

/**
 * Checks every option, names and values, and translates pino-roll's
 * conventions to core's. Synchronous and without I/O, so that `chainlog()`
 * fails before anything is opened; the key file and the directory are
 * checked when the writer opens.
 * @throws ChainlogError INVALID_OPTION, KEY_REQUIRED
 */
export function resolveOptions(options: unknown): ResolvedOptions {
  const given = checkOptionNames(options, NAMES)
  if (given.file === undefined && given.destination === undefined) throw invalidOption("file is required: the base path of the log, such as 'logs/app.log' (or destination: 1 for stdout)")
  const writer: { [name: string]: unknown } = {}
  for (const name of PASSED) if (given[name] !== undefined) writer[name] = given[name]
  if (given.file !== undefined) writer.file = translateFile(given.file)
  if (given.size !== undefined) writer.size = translateSize(given.size)
  if (given.limit !== undefined) {
    const limit = checkOptionNames(given.limit, LIMIT_NAMES)
    if (limit.count !== undefined) writer.limit = { count: limit.count }
  }
  const resolved: ResolvedOptions = { writer: writer as unknown as ChainWriterOptions }
  checkWriterOptions(resolved.writer)
  const headInterval = parseHeadInterval(given.headInterval)
  if (headInterval !== undefined) resolved.headInterval = headInterval
  return resolved
}
