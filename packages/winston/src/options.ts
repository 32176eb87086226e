import * as path from 'node:path'
import { checkOptionNames, withoutDatePlaceholder, checkWriterOptions, invalidOption, parseBoolean, periodOfDateUnit, translateDatePattern, DAILY_ROTATE_FILE_REFUSALS, type ChainWriterOptions, type OptionNames } from '@chainlog/core'

/** winston-transport reads these itself. */
const WINSTON_OPTIONS = ['level', 'format', 'silent', 'handleExceptions', 'handleRejections', 'name', 'log', 'logv', 'close', 'highWaterMark'] as const
/** Handed to the core writer unchanged (core's doc comments describe them). */
const PASSED = ['destination', 'algorithm', 'keyFile', 'fsync', 'mode', 'maxBuffered', 'extension', 'sealKey', 'sealEvery', 'sealInterval', 'checkpointKey', 'checkpointInterval'] as const
/** winston-daily-rotate-file's names, translated below. */
const ROTATION_OPTIONS = ['filename', 'dirname', 'datePattern', 'frequency', 'maxSize', 'maxFiles', 'zippedArchive', 'createSymlink', 'symlinkName', 'mkdir'] as const

/**
 * Options of {@link ChainlogTransport}: winston's usual transport options,
 * core's options under winston-daily-rotate-file's names where they overlap,
 * and the rest of core's unchanged.
 */
export interface ChainlogTransportOptions extends Pick<ChainWriterOptions, (typeof PASSED)[number]> {
  /** winston: highest level this transport writes. */
  level?: string
  /** winston: a format applied by this transport only. */
  format?: unknown
  /** winston: write nothing. */
  silent?: boolean
  /** winston: also write uncaught exceptions (and wait for them before winston exits). */
  handleExceptions?: boolean
  /** winston: also write unhandled promise rejections. */
  handleRejections?: boolean
  /** winston: the transport's name. */
  name?: string
  /** Log file, e.g. `logs/app.log` or `app-%DATE%.log`. Default `winston.log`. */
  filename?: string
  /** Directory of the log; by default the directory of `filename`. */
  dirname?: string
  /** moment.js-style date in file names (`'YYYY-MM-DD'`); its smallest unit sets the rotation period unless `frequency` is given. */
  datePattern?: string
  /** Rotate every `'#m'` minutes or `'#h'` hours. */
  frequency?: string
  /** Rotate when a file would grow past this: bytes, or `'10k'`, `'10m'`, `'1g'`. */
  maxSize?: number | string
  /** Files to keep (a number, the current one included) or days to keep (`'14d'`). */
  maxFiles?: number | string
  /** Gzip rotated files. */
  zippedArchive?: boolean
  /** Keep a symlink to the current file. */
  createSymlink?: boolean
  /** Name of that symlink. Default `current.log`. */
  symlinkName?: string
  /** Create the directory if it is missing. Default true, as winston does. */
  mkdir?: boolean
  /** winston-daily-rotate-file: only `false` is taken, the local time chainlog uses; for UTC, run with `TZ=UTC`. */
  utc?: false
  /** winston-daily-rotate-file: only `'\n'` is taken; every record ends with LF. */
  eol?: '\n'
  /** winston-daily-rotate-file: only `true` is taken, what chainlog always does: a removed or replaced file is noticed before the next write. */
  watchLog?: true
}

const NAMES: OptionNames = {
  package: '@chainlog/winston',
  example: "{ filename: 'logs/app.log' }",
  takes: [...WINSTON_OPTIONS, ...ROTATION_OPTIONS, ...PASSED],
  refused: DAILY_ROTATE_FILE_REFUSALS,
}

/**
 * Checks every option and translates winston-daily-rotate-file's options to
 * core's. File names follow chainlog's scheme: `%DATE%` and its separator are
 * taken out of `filename`, and the date goes before the file number
 * (`app-%DATE%.log` → `app.2026-11-22.1.log`). Every value is checked
 * here, synchronously and without I/O, so that the transport's constructor
 * throws for a bad configuration; the key file and the directory are checked
 * when the file opens.
 * @throws ChainlogError INVALID_OPTION, KEY_REQUIRED
 */
export function resolveOptions(options: unknown): ChainWriterOptions {
  const o = checkOptionNames(options === undefined ? {} : options, NAMES)
  const writer: { [name: string]: unknown } = {}
  for (const name of PASSED) if (o[name] !== undefined) writer[name] = o[name]
  if (o.mkdir !== undefined) writer.mkdir = o.mkdir
  for (const name of ['filename', 'dirname', 'datePattern', 'frequency', 'symlinkName'] as const) {
    if (o[name] !== undefined && (typeof o[name] !== 'string' || o[name] === '')) throw invalidOption(`${name} must be a non-empty string; got ${JSON.stringify(o[name])}`)
  }
  for (const name of ['zippedArchive', 'createSymlink', 'silent', 'handleExceptions', 'handleRejections'] as const) parseBoolean(o[name], name, false)
  if (o.level !== undefined && typeof o.level !== 'string') throw invalidOption(`level must be a level name such as 'info'; got ${JSON.stringify(o.level)}`)
  if (o.format !== undefined && (o.format === null || typeof (o.format as { transform?: unknown }).transform !== 'function')) throw invalidOption('format must be a winston format, such as winston.format.json()')

  if (o.destination !== undefined) {
    // A stream has no files: the options naming or rotating them are refused, by their winston names.
    const given = ROTATION_OPTIONS.find((name) => o[name] !== undefined)
    if (given) throw invalidOption(`${given} cannot be used with destination: a chain on a stream has no files to name, rotate or keep`)
    checkWriterOptions(writer as unknown as ChainWriterOptions)
    return writer as unknown as ChainWriterOptions
  }
  const filename = (o.filename as string | undefined) ?? 'winston.log'
  const dirname = (o.dirname as string | undefined) ?? path.dirname(filename)
  const dated = path.basename(filename).includes('%DATE%')
  // The date has its own place in chainlog's names (verify-log takes the same filename).
  const base = path.basename(withoutDatePlaceholder(filename))
  if (base === '' || base.startsWith('.')) throw invalidOption(`filename ${JSON.stringify(filename)} needs a name besides %DATE%, such as 'app-%DATE%.log'`)
  writer.file = path.join(dirname, base)

  const pattern = (o.datePattern as string | undefined) ?? 'YYYY-MM-DD'
  const { dateFormat, unit } = translateDatePattern(pattern)
  if (dated || o.datePattern !== undefined) writer.dateFormat = dateFormat
  if (o.frequency !== undefined) {
    const m = /^(\d+)([mh])$/.exec(o.frequency as string)
    if (!m || Number(m[1]) < 1) throw invalidOption(`frequency must be minutes or hours such as '5m' or '3h'; got ${JSON.stringify(o.frequency)}`)
    writer.frequency = Number(m[1]) * (m[2] === 'm' ? 60_000 : 3_600_000)
  } else writer.frequency = periodOfDateUnit(unit, pattern)

  if (o.maxSize !== undefined) writer.size = o.maxSize
  if (o.maxFiles !== undefined) {
    const v = o.maxFiles
    const days = typeof v === 'string' ? /^(\d+)d$/.exec(v) : null
    const count = typeof v === 'number' ? v : typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : NaN
    if (days && Number(days[1]) >= 1) writer.limit = { days: Number(days[1]) }
    // maxFiles counts the current file; core's limit.count counts the files kept besides it.
    else if (Number.isInteger(count) && count >= 1) writer.limit = { count: count - 1 }
    else throw invalidOption(`maxFiles must be a number of files (>= 1) or of days such as '14d'; got ${JSON.stringify(v)}`)
  }
  if (o.zippedArchive) writer.compress = true
  if (o.createSymlink) writer.symlink = (o.symlinkName as string | undefined) ?? 'current.log'
  else if (o.symlinkName !== undefined) throw invalidOption('symlinkName needs createSymlink: true')
  if (writer.mkdir === undefined) writer.mkdir = true
  checkWriterOptions(writer as unknown as ChainWriterOptions)
  return writer as unknown as ChainWriterOptions
}
