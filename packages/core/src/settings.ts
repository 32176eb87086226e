import { ALGORITHMS, isAlgorithm, MIN_KEY_BYTES, type Algorithm } from './algorithm'
import { ChainlogError, ErrorCodes, invalidOption } from './errors'
import { loadKey } from './key'
import { FileNaming } from './naming'
import { isOptionsObject } from './option-names'
import { RECORD_OVERHEAD } from './record'
import { isWritable, streamName, type StreamTarget } from './stream-sink'

// Every option of the writer, once: its parser, default, check and doc
// comment. The transports take their option types from ChainWriterOptions
// (Pick/Omit) and translate only their peers' names and units (#14).

/**
 * Options of {@link createChainWriter}. Rotation names mirror pino-roll; the
 * transports take most of them unchanged.
 */
export interface ChainWriterOptions {
  /** Base path of the log, e.g. `logs/app.log`: files are `logs/app.1.log`, `logs/app.2.log`, … Required unless `destination` is given. */
  file?: string
  /**
   * Write the chain to a stream instead of files: `1` stdout (pino's
   * convention), `2` stderr, another file descriptor, or a writable stream.
   * Each start is a new chain; options about files are refused. Batches stay
   * within PIPE_BUF, so writers sharing a pipe interleave whole records.
   */
  destination?: StreamTarget
  /** Extension after the file number; by default the extension of `file`. */
  extension?: string
  /** Rotate when the next record would make the file larger than this: bytes, or `'10m'`, `'512k'`, `'1g'` (binary units). */
  size?: number | string
  /** Rotate at every period boundary: `'daily'` (local midnight), `'hourly'`, or a period in milliseconds counted from the epoch. */
  frequency?: Frequency | string
  /** date-fns format of a date part in file names (local time): `'yyyy-MM-dd'` gives `app.2026-11-22.1.log`. */
  dateFormat?: string
  /**
   * Retention, checked at each rotation: keep `count` rotated files besides
   * the current one (`0` keeps the current file only), and/or only rotated
   * files whose last write is less than `days` days old. Each deletion is
   * recorded in the chain before the file goes, so the rest still verifies.
   */
  limit?: { count?: number; days?: number }
  /** Create the directory if it is missing. */
  mkdir?: boolean
  /** Keep a symlink to the file being written: `true` for `current.log` (with the log's extension), or the link's file name. */
  symlink?: boolean | string
  /** Gzip rotated files to `app.1.log.gz`; the verifier reads them. */
  compress?: boolean
  /** fsync after every batch, so that a flush means on disk. */
  fsync?: boolean
  /** File mode of new log files: `0o640` or `'640'`. */
  mode?: number | string
  /** `false` starts a new file of the same chain at start-up instead of appending to the last one. Nothing is ever truncated. */
  append?: boolean
  /** Chain hash: `'sha256'` (default), `'blake3'` or `'hmac-sha256'`. */
  algorithm?: Algorithm
  /** Key for `'hmac-sha256'`: the bytes (at least 32), or use `keyFile`. */
  key?: Uint8Array
  /** Path of the key file for `'hmac-sha256'`, at least 32 bytes (`openssl rand -hex 32 > chain.key`). */
  keyFile?: string
  /** write() returns false (wait for `'drain'`) while more than this many bytes of lines wait in memory. Default 16 MiB. */
  highWaterMark?: number | string
  /**
   * Bytes that may wait in memory while the disk fails (ENOSPC, EIO). Past
   * that, new lines are refused with BUFFER_FULL instead of memory growing:
   * the first refusal of a failing spell is reported as `'error'`, the writer
   * stays up, writes what it kept once the disk accepts writes again, and
   * `'resume'` tells how many lines were refused. Default 64 MiB.
   */
  maxBuffered?: number | string
  /** How long a dead writer's lock blocks the others before it is taken over, in ms (>= 2000). Default 3000. */
  staleLockMs?: number
  /** Path of the sealing state made by `chainlog keygen` (`<dir>/seal.key`): append signed, forward-secure seals (docs/FORMAT.md §13). */
  sealKey?: string
  /** With `sealKey`: seal after this many records (per writer). Default 1000. */
  sealEvery?: number
  /** With `sealKey`: seal at least this often, in ms, also when nothing is logged (heartbeat). Default: the heartbeat fixed in the keys at keygen (60000 for keys without one); never longer than it. */
  sealInterval?: number
  /**
   * Path of `checkpoint.key` made by `chainlog keygen --checkpoint`: keep
   * `<base>.checkpoint` up to date with the latest signed checkpoint (at
   * open, every `checkpointInterval`, at rotation and at close), each also
   * recorded in the chain (docs/FORMAT.md §14.6).
   */
  checkpointKey?: string
  /** With `checkpointKey`: checkpoint at least this often, in ms, when records were added. Default 60000. */
  checkpointInterval?: number
  /** Clock, for tests and fixtures. */
  now?: () => number
  /** Chain id for a new chain, for tests and fixtures. Random by default. */
  chainId?: string
}

/** The writer's options, checked, with every default filled in. */
export interface Settings {
  /** The log's files; for a chain on a stream, a name only (nothing is listed or created). */
  naming: FileNaming
  /** Where a chain on a stream goes, instead of files. */
  stream?: StreamTarget
  /** Bytes; Infinity when the log does not rotate by size. */
  size: number
  frequency?: Frequency
  /** Rotated files kept besides the current one. */
  keep?: number
  keepDays?: number
  mkdir: boolean
  /** The symlink's file name. */
  symlink?: string
  compress: boolean
  fsync: boolean
  mode?: number
  append: boolean
  algorithm: Algorithm
  key?: Uint8Array
  maxBuffered: number
  highWaterMark: number
  staleLockMs: number
  sealKey?: string
  sealEvery: number
  /** Undefined when not given: the sealing keys' heartbeat applies (sealing.ts). */
  sealInterval: number | undefined
  checkpointKey?: string
  checkpointInterval: number
  now: () => number
  chainId?: string
}

/** Default checkpointInterval, ms. */
const DEFAULT_CHECKPOINT_INTERVAL = 60_000

/** Default highWaterMark: write() returns false while more than this many bytes wait in the queue. */
const HIGH_WATER_MARK = 16 * 1024 * 1024
/** Default maxBuffered. */
const DEFAULT_MAX_BUFFERED = 64 * 1024 * 1024
const DEFAULT_STALE_LOCK_MS = 3000
const DEFAULT_SEAL_EVERY = 1000

/**
 * Checks every option and fills in the defaults. Synchronous; the only I/O is
 * reading `keyFile`.
 * @throws ChainlogError INVALID_OPTION, KEY_REQUIRED, BAD_KEY
 */
export function normalize(options: ChainWriterOptions): Settings {
  return settle(options, true)
}

/**
 * Every check {@link normalize} makes, without reading the key file: what a
 * transport runs synchronously before it opens anything, so that a bad
 * configuration fails where it is given (#13). Key files and directories are
 * I/O and are checked when the writer opens.
 * @throws ChainlogError INVALID_OPTION, KEY_REQUIRED
 */
export function checkWriterOptions(options: ChainWriterOptions): void {
  settle(options, false)
}

function settle(options: ChainWriterOptions, readKey: boolean): Settings {
  const given: unknown = options
  if (!isOptionsObject(given)) throw invalidOption(`options must be an object with at least { file } or { destination }; got ${JSON.stringify(options)}`)
  const stream = parseDestination(given)
  const naming = new FileNaming(stream !== undefined ? streamName(stream) : (options.file as string), { ...(options.extension !== undefined && { extension: options.extension }), ...(options.dateFormat !== undefined && { dateFormat: options.dateFormat }) })
  const algorithm = parseAlgorithm(options.algorithm)
  let key: Uint8Array | undefined
  if (options.key !== undefined) {
    if (!(options.key instanceof Uint8Array)) throw invalidOption('key must be a Buffer or Uint8Array; use keyFile for a path')
    if (options.key.length < MIN_KEY_BYTES) throw invalidOption(`key must be at least ${MIN_KEY_BYTES} bytes (as a key file must); got ${options.key.length}`)
    key = options.key
  } else if (options.keyFile !== undefined) {
    if (typeof options.keyFile !== 'string') throw invalidOption(`keyFile must be a path; got ${JSON.stringify(options.keyFile)}`)
    if (readKey) key = loadKey(options.keyFile)
  }
  const keyed = key !== undefined || options.keyFile !== undefined
  if (algorithm === 'hmac-sha256' && !keyed) throw new ChainlogError(ErrorCodes.KEY_REQUIRED, "algorithm 'hmac-sha256' needs keyFile (a file of at least 32 secret bytes)")
  if (algorithm !== 'hmac-sha256' && keyed) throw invalidOption(`a key was given but algorithm is ${algorithm}; set algorithm: 'hmac-sha256' to use it`)
  const { keep, keepDays } = parseLimit(options.limit)
  const symlink = parseSymlink(options.symlink, naming.extension)
  if (options.now !== undefined && typeof options.now !== 'function') throw invalidOption('now must be a function returning milliseconds')
  if (options.chainId !== undefined && (typeof options.chainId !== 'string' || !/^[0-9a-f]{32}$/.test(options.chainId))) throw invalidOption('chainId must be 32 lowercase hex characters')
  const staleLockMs = options.staleLockMs === undefined ? DEFAULT_STALE_LOCK_MS : parseCount(options.staleLockMs, 'staleLockMs')
  if (staleLockMs < 2000) throw invalidOption(`staleLockMs must be at least 2000; got ${staleLockMs}`)
  const settings: Settings = {
    naming,
    size: options.size === undefined ? Infinity : parseSize(options.size),
    mkdir: parseBoolean(options.mkdir, 'mkdir', false),
    compress: parseBoolean(options.compress, 'compress', false),
    fsync: parseBoolean(options.fsync, 'fsync', false),
    append: parseBoolean(options.append, 'append', true),
    algorithm,
    maxBuffered: options.maxBuffered === undefined ? DEFAULT_MAX_BUFFERED : parseSize(options.maxBuffered, 'maxBuffered'),
    highWaterMark: options.highWaterMark === undefined ? HIGH_WATER_MARK : parseSize(options.highWaterMark, 'highWaterMark'),
    staleLockMs,
    sealEvery: options.sealEvery === undefined ? DEFAULT_SEAL_EVERY : parseCount(options.sealEvery, 'sealEvery'),
    sealInterval: options.sealInterval === undefined ? undefined : parseCount(options.sealInterval, 'sealInterval'),
    checkpointInterval: options.checkpointInterval === undefined ? DEFAULT_CHECKPOINT_INTERVAL : parseCount(options.checkpointInterval, 'checkpointInterval'),
    now: options.now ?? Date.now,
  }
  if (settings.checkpointInterval < 100) throw invalidOption(`checkpointInterval must be at least 100 ms; got ${settings.checkpointInterval}`)
  if (options.checkpointKey !== undefined) {
    if (typeof options.checkpointKey !== 'string' || options.checkpointKey === '') throw invalidOption(`checkpointKey must be the path of checkpoint.key made by chainlog keygen --checkpoint; got ${JSON.stringify(options.checkpointKey)}`)
    settings.checkpointKey = options.checkpointKey
  }
  if (settings.sealEvery < 1) throw invalidOption('sealEvery must be at least 1 record')
  if (settings.sealInterval !== undefined && settings.sealInterval < 100) throw invalidOption(`sealInterval must be at least 100 ms; got ${settings.sealInterval}`)
  if (options.sealKey !== undefined) {
    if (typeof options.sealKey !== 'string' || options.sealKey === '') throw invalidOption(`sealKey must be the path of seal.key made by chainlog keygen; got ${JSON.stringify(options.sealKey)}`)
    settings.sealKey = options.sealKey
  }
  // A file must hold its header and at least one record of a useful length.
  if (settings.size < RECORD_OVERHEAD + 256) throw invalidOption(`size must be at least ${RECORD_OVERHEAD + 256} bytes; got ${settings.size}`)
  if (options.frequency !== undefined) settings.frequency = parseFrequency(options.frequency)
  if (keep !== undefined) settings.keep = keep
  if (keepDays !== undefined) settings.keepDays = keepDays
  if (symlink !== undefined) settings.symlink = symlink
  const mode = parseMode(options.mode)
  if (mode !== undefined) settings.mode = mode
  if (key) settings.key = key
  if (options.chainId !== undefined) settings.chainId = options.chainId
  if (stream !== undefined) settings.stream = stream
  return settings
}

const NO_NAMES = 'a stream has no file names'
const NO_ROTATION = 'a stream does not rotate; whatever collects it (the container runtime, the log shipper) cuts and keeps its files'
/** The options about files, and why a chain on a stream has no use for each. */
const FILE_ONLY: { [name: string]: string } = {
  file: 'give either file (a chain in files) or destination (a chain on a stream), not both',
  extension: NO_NAMES,
  dateFormat: NO_NAMES,
  size: NO_ROTATION,
  frequency: NO_ROTATION,
  limit: 'a stream keeps no files to delete; retention is for the store the lines are shipped to',
  symlink: 'a stream has no current file to link to',
  compress: 'a stream has no rotated files to gzip',
  mkdir: 'a stream needs no directory',
  fsync: 'a stream has no disk to sync: once written, the bytes are the reader’s',
  mode: 'a stream has no file to create',
  append: 'a stream cannot be read back, so every start is a new chain',
  staleLockMs: 'a chain on a stream has one writer and no lock',
}

/**
 * `destination`: an open file descriptor (1 stdout, 2 stderr) or a writable
 * stream; the options about files are refused beside it.
 * @throws ChainlogError INVALID_OPTION
 */
function parseDestination(options: { [name: string]: unknown }): StreamTarget | undefined {
  const target = options.destination
  if (target === undefined) {
    if (options.file === undefined) throw invalidOption("file must be a non-empty path such as 'logs/app.log' (the base path of the log), or give destination for a stream (1 for stdout); got neither")
    return undefined
  }
  if (!(typeof target === 'number' && Number.isInteger(target) && target >= 1) && !isWritable(target)) {
    throw invalidOption(`destination must be 1 (stdout), 2 (stderr), another open file descriptor, or a writable stream; got ${typeof target === 'object' ? 'an object that is not a writable stream' : JSON.stringify(target)}`)
  }
  const name = streamName(target as StreamTarget)
  for (const option of Object.keys(FILE_ONLY)) {
    if (options[option] !== undefined) throw invalidOption(`${option} cannot be used with destination (${name}): ${FILE_ONLY[option]}`)
  }
  return target as StreamTarget
}

/**
 * `limit`: `count` is the number of rotated files kept besides the current
 * one, so 0 is meaningful (keep the current file only; winston's `maxFiles: 1`
 * is `count: 0`). pino-roll refuses 0, but a configuration made for pino-roll
 * never holds it, so one rule serves every transport.
 */
function parseLimit(limit: unknown): { keep?: number; keepDays?: number } {
  if (limit === undefined) return {}
  if (!isOptionsObject(limit)) throw invalidOption(`limit must be an object such as { count: 14 }; got ${JSON.stringify(limit)}`)
  const out: { keep?: number; keepDays?: number } = {}
  if (limit.count !== undefined) out.keep = parseCount(limit.count, 'limit.count')
  if (limit.days !== undefined) {
    out.keepDays = parseCount(limit.days, 'limit.days')
    if (out.keepDays < 1) throw invalidOption('limit.days must be at least 1')
  }
  return out
}

function parseSymlink(value: unknown, extension: string): string | undefined {
  if (value === undefined || value === false) return undefined
  if (value === true) return 'current' + extension
  if (typeof value === 'string' && value !== '' && !/[/\\]/.test(value)) return value
  throw invalidOption(`symlink must be true, false or a file name; got ${JSON.stringify(value)}`)
}

const SIZE_UNITS: { [unit: string]: number } = { b: 1, k: 1024, kb: 1024, m: 1024 ** 2, mb: 1024 ** 2, g: 1024 ** 3, gb: 1024 ** 3 }

/**
 * Parses a size such as `10m`, `512k`, `1g`, `'2048'` or a number of bytes.
 * Units are binary (k = 1024), as in pino-roll and winston-daily-rotate-file.
 * @throws ChainlogError INVALID_OPTION
 */
export function parseSize(value: unknown, name = 'size'): number {
  if (typeof value === 'number') {
    if (Number.isFinite(value) && value > 0) return Math.floor(value)
    throw invalidOption(`${name} must be a positive number of bytes or a string like '10m'; got ${value}`)
  }
  if (typeof value === 'string') {
    const m = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(value)
    const unit = m ? SIZE_UNITS[(m[2] || 'b').toLowerCase()] : undefined
    if (m && unit) {
      const bytes = Math.floor(Number(m[1]) * unit)
      if (bytes > 0) return bytes
    }
  }
  throw invalidOption(`${name} must be a positive number of bytes or a string like '10m', '512k', '1g'; got ${JSON.stringify(value)}`)
}

/** A rotation period: local days or hours, or milliseconds from the epoch. */
export type Frequency = 'daily' | 'hourly' | number

/**
 * Validates `frequency`: 'daily', 'hourly', or a period in milliseconds (>= 1 ms).
 * @throws ChainlogError INVALID_OPTION
 */
export function parseFrequency(value: unknown): Frequency {
  if (value === 'daily' || value === 'hourly') return value
  if (typeof value === 'number' && Number.isInteger(value) && value >= 1) return value
  if (typeof value === 'string' && /^\d+$/.test(value) && Number(value) >= 1) return Number(value)
  throw invalidOption(`frequency must be 'daily', 'hourly' or a period in milliseconds; got ${JSON.stringify(value)}`)
}

/**
 * Start of the period after the one `now` is in. Daily and hourly periods
 * follow local time, like pino-roll; a numeric period counts from the epoch.
 */
export function nextBoundary(frequency: Frequency, now: number): number {
  if (frequency === 'daily') {
    const d = new Date(now)
    return new Date(d.getFullYear(), d.getMonth(), d.getDate() + 1).getTime()
  }
  if (frequency === 'hourly') {
    const d = new Date(now)
    return new Date(d.getFullYear(), d.getMonth(), d.getDate(), d.getHours() + 1).getTime()
  }
  return (Math.floor(now / frequency) + 1) * frequency
}

/** Start of the period `now` is in. */
export function periodStart(frequency: Frequency, now: number): number {
  if (frequency === 'daily') {
    const d = new Date(now)
    return new Date(d.getFullYear(), d.getMonth(), d.getDate()).getTime()
  }
  if (frequency === 'hourly') {
    const d = new Date(now)
    return new Date(d.getFullYear(), d.getMonth(), d.getDate(), d.getHours()).getTime()
  }
  return Math.floor(now / frequency) * frequency
}

/**
 * `algorithm`; default `'sha256'`.
 * @throws ChainlogError INVALID_OPTION
 */
export function parseAlgorithm(value: unknown): Algorithm {
  if (value === undefined) return 'sha256'
  if (isAlgorithm(value)) return value
  throw invalidOption(`algorithm must be one of ${ALGORITHMS.join(', ')}; got ${JSON.stringify(value)}`)
}

/**
 * A boolean option; `fallback` when not given.
 * @throws ChainlogError INVALID_OPTION
 */
export function parseBoolean(value: unknown, name: string, fallback: boolean): boolean {
  if (value === undefined) return fallback
  if (typeof value === 'boolean') return value
  throw invalidOption(`${name} must be true or false; got ${JSON.stringify(value)}`)
}

/**
 * A whole number >= 0.
 * @throws ChainlogError INVALID_OPTION
 */
export function parseCount(value: unknown, name: string): number {
  if (typeof value === 'number' && Number.isInteger(value) && value >= 0) return value
  throw invalidOption(`${name} must be a whole number >= 0; got ${JSON.stringify(value)}`)
}

/**
 * A file mode: a number, or octal digits as a string (`'640'`, `'0640'`).
 * @throws ChainlogError INVALID_OPTION
 */
export function parseMode(value: unknown): number | undefined {
  if (value === undefined) return undefined
  if (typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= 0o7777) return value
  if (typeof value === 'string' && /^0?[0-7]{3,4}$/.test(value)) return parseInt(value, 8)
  throw invalidOption(`mode must be a file mode such as 0o640 or '640'; got ${JSON.stringify(value)}`)
}
