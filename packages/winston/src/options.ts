import * as path from 'node:path'
import { checkOptionNames, withoutDatePlaceholder, checkWriterOptions, invalidOption, parseBoolean, type ChainWriterOptions, type OptionNames, type Refusal } from '@chainlog/core'

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

/**
 * winston-daily-rotate-file's options whose meaning chainlog does not have,
 * each with the reason and what to do instead. Values listed in `accepts`
 * mean what chainlog does anyway, so a configuration copied from
 * winston-daily-rotate-file keeps working where it can.
 */
const REFUSED: { [name: string]: string | Refusal } = {
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

const NAMES: OptionNames = {
  package: '@chainlog/winston',
  example: "{ filename: 'logs/app.log' }",
  takes: [...WINSTON_OPTIONS, ...ROTATION_OPTIONS, ...PASSED],
  refused: REFUSED,
}

/**
 * moment.js format tokens and their date-fns equivalents, longest first
 * (moment: https://momentjs.com/docs/#/displaying/format/, date-fns: format()).
 * The value tells the rotation period a token implies.
 */
const TOKENS: [moment: string, dateFns: string, unit: Unit][] = [
  ['YYYY', 'yyyy', 'year'], ['YY', 'yy', 'year'],
  ['MMMM', 'MMMM', 'month'], ['MMM', 'MMM', 'month'], ['MM', 'MM', 'month'], ['M', 'M', 'month'],
  ['Q', 'q', 'month'],
  ['DDDD', 'DDD', 'day'], ['DDD', 'D', 'day'], ['DD', 'dd', 'day'], ['Do', 'do', 'day'], ['D', 'd', 'day'],
  ['dddd', 'EEEE', 'day'], ['ddd', 'EEE', 'day'], ['d', 'e', 'day'], ['E', 'i', 'day'],
  ['WW', 'II', 'week'], ['W', 'I', 'week'], ['ww', 'ww', 'week'], ['w', 'w', 'week'],
  ['HH', 'HH', 'hour'], ['H', 'H', 'hour'], ['hh', 'hh', 'hour'], ['h', 'h', 'hour'], ['kk', 'kk', 'hour'], ['k', 'k', 'hour'],
  ['A', 'a', 'hour'], ['a', 'aaa', 'hour'],
  ['mm', 'mm', 'minute'], ['m', 'm', 'minute'],
  ['ss', 'ss', 'second'], ['s', 's', 'second'],
]
type Unit = 'year' | 'month' | 'week' | 'day' | 'hour' | 'minute' | 'second'
const ORDER: Unit[] = ['second', 'minute', 'hour', 'day', 'week', 'month', 'year']

/**
 * Translates a moment.js date pattern to date-fns, and finds its smallest unit.
 * Text in `[brackets]` is literal in moment; it becomes `'quoted'` in date-fns.
 * @throws ChainlogError INVALID_OPTION for a letter that is not a token chainlog knows
 */
export function translateDatePattern(pattern: string): { dateFormat: string; unit: Unit } {
  let out = ''
  let smallest: Unit | null = null
  for (let i = 0; i < pattern.length;) {
    const c = pattern[i]!
    if (c === '[') {
      const end = pattern.indexOf(']', i)
      if (end === -1) throw invalidOption(`datePattern ${JSON.stringify(pattern)} has an unclosed [`)
      const literal = pattern.slice(i + 1, end)
      if (literal) out += `'${literal.replace(/'/g, "''")}'`
      i = end + 1
      continue
    }
    const token = TOKENS.find(([m]) => pattern.startsWith(m, i))
    if (token) {
      out += token[1]
      if (!smallest || ORDER.indexOf(token[2]) < ORDER.indexOf(smallest)) smallest = token[2]
      i += token[0].length
      continue
    }
    if (/[a-zA-Z]/.test(c)) throw invalidOption(`datePattern ${JSON.stringify(pattern)}: ${JSON.stringify(c)} is not a moment.js token chainlog supports; put literal text in [brackets]`)
    out += c === "'" ? "''" : c
    i++
  }
  if (!smallest) throw invalidOption(`datePattern ${JSON.stringify(pattern)} has no date or time token`)
  return { dateFormat: out, unit: smallest }
}

/** The rotation period of a date pattern's smallest unit, as core's frequency. */
function periodOf(unit: Unit, pattern: string): ChainWriterOptions['frequency'] {
  switch (unit) {
    case 'second':
      return 1000
    case 'minute':
      return 60_000
    case 'hour':
      return 'hourly'
    case 'day':
      return 'daily'
    default:
      throw invalidOption(`datePattern ${JSON.stringify(pattern)} rotates by ${unit}, which chainlog cannot do; use a pattern with a day token such as 'YYYY-MM-DD', or set frequency (such as '24h') to keep this pattern in the names, with numbered files in each ${unit}`)
  }
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
  } else writer.frequency = periodOf(unit, pattern)

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
