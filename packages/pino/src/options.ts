import { ChainlogError, ErrorCodes, type ChainWriterOptions } from '@chainlog/core'

/**
 * Options of the pino transport. Rotation names mirror pino-roll, file
 * options mirror sonic-boom, and the rest are chainlog's own.
 */
export interface ChainlogPinoOptions {
  /** Base path of the log, e.g. `logs/app.log`: files are `logs/app.1.log`, `logs/app.2.log`, … */
  file: string
  /** Rotate when a file would grow past this size. As in pino-roll, a bare number is megabytes: `10`, `'10m'`, `'512k'`, `'1g'`, `'4096b'`. */
  size?: number | string
  /** Rotate at every period: `'daily'`, `'hourly'` or milliseconds. */
  frequency?: 'daily' | 'hourly' | number
  /** Keep `count` rotated files besides the current one. Each deletion is recorded in the chain first. */
  limit?: { count?: number }
  /** Create the directory if it is missing. */
  mkdir?: boolean
  /** Keep a `current.log` symlink to the file being written (or give the link's name). */
  symlink?: boolean | string
  /** Extension after the file number; by default the extension of `file`. */
  extension?: string
  /** date-fns format of a date part in file names: `'yyyy-MM-dd'` gives `app.2026-11-22.1.log`. */
  dateFormat?: string
  /** Gzip rotated files. */
  compress?: boolean
  /** sonic-boom: fsync after every write; flush() then waits for the disk. */
  fsync?: boolean
  /** sonic-boom: mode of new files, e.g. `0o640` or `'640'`. */
  mode?: number | string
  /** sonic-boom: `false` starts a new file of the same chain at start-up instead of appending. Nothing is truncated. */
  append?: boolean
  /** Chain hash: `'sha256'` (default), `'blake3'` or `'hmac-sha256'`. */
  algorithm?: 'sha256' | 'blake3' | 'hmac-sha256'
  /** Key file for `'hmac-sha256'` (at least 32 bytes: `openssl rand -hex 32 > chain.key`). */
  keyFile?: string
  /** Bytes that may wait in memory while the disk fails; past that the transport fails with BUFFER_FULL. Default 64 MiB. */
  maxBuffered?: number | string
  /** Path of `seal.key` made by `chainlog keygen`: append signed, forward-secure seals (docs/FORMAT.md §13). */
  sealKey?: string
  /** With sealKey: seal after this many records. Default 1000. */
  sealEvery?: number
  /** With sealKey: seal at least this often, in ms, also when idle. Default 60000. */
  sealInterval?: number
  /** Also emit `'chainlog:head'` every this many milliseconds while lines arrive (after a flush, so the head is on disk). */
  headInterval?: number
}

/** What the transport passes to the core writer, and what it keeps for itself. */
export interface ResolvedOptions {
  writer: ChainWriterOptions
  headInterval?: number
}

const invalid = (message: string) => new ChainlogError(ErrorCodes.INVALID_OPTION, message)

/** Options handed to the core writer unchanged; core validates them. */
const CORE_OPTIONS = ['file', 'frequency', 'mkdir', 'symlink', 'extension', 'dateFormat', 'compress', 'fsync', 'mode', 'append', 'algorithm', 'keyFile', 'maxBuffered', 'sealKey', 'sealEvery', 'sealInterval'] as const

/** Options this transport reads itself. */
const OWN_OPTIONS = ['size', 'limit', 'headInterval'] as const

/** Added by pino and thread-stream to every transport's options; not the user's. */
const INJECTED = new Set(['$context', 'pinoWillSendConfig'])

/** Options of pino-roll or sonic-boom that chainlog does not take, with the reason. */
const REFUSED: { [name: string]: string } = {
  dest: 'use file',
  destination: 'use file',
  sync: "chainlog writes in the transport's own pace; use logger.flush() or fsync: true for durability",
  minLength: 'chainlog batches records itself',
  maxLength: 'chainlog bounds memory with maxBuffered',
  periodicFlush: 'chainlog hands records to the OS within one event-loop turn',
  contentMode: 'records are always UTF-8 text',
  retryEAGAIN: 'chainlog retries failed writes itself',
}

const KNOWN: readonly string[] = [...CORE_OPTIONS, ...OWN_OPTIONS]

/**
 * pino-roll reads a bare number, or a string without unit, as megabytes;
 * core reads bytes. Translate so that `size: 10` means what it means in pino-roll.
 */
function translateSize(size: unknown): number | string {
  if (typeof size === 'number') {
    if (Number.isFinite(size) && size > 0) return Math.floor(size * 1024 * 1024)
    throw invalid(`size must be a positive number of megabytes or a string like '10m', '512k'; got ${size}`)
  }
  if (typeof size === 'string' && /^\s*\d+(?:\.\d+)?\s*$/.test(size)) return size.trim() + 'm'
  if (typeof size === 'string') return size
  throw invalid(`size must be a number of megabytes or a string like '10m', '512k', '1g'; got ${JSON.stringify(size)}`)
}

/**
 * Checks every option and translates pino-roll's conventions to core's.
 * Core checks the values of the options it takes when the writer opens.
 * @throws ChainlogError INVALID_OPTION
 */
export function resolveOptions(options: unknown): ResolvedOptions {
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw invalid(`options must be an object such as { file: 'logs/app.log' }; got ${JSON.stringify(options)}`)
  }
  const given = options as { [name: string]: unknown }
  const writer: { [name: string]: unknown } = {}
  for (const name of Object.keys(given)) {
    const value = given[name]
    if (INJECTED.has(name) || value === undefined) continue
    if (name in REFUSED) throw invalid(`option ${name} is not supported by @chainlog/pino: ${REFUSED[name]}`)
    if ((CORE_OPTIONS as readonly string[]).includes(name)) writer[name] = value
    else if (!(OWN_OPTIONS as readonly string[]).includes(name)) throw invalid(`unknown option ${JSON.stringify(name)}; @chainlog/pino takes ${KNOWN.join(', ')}`)
  }
  if (given.file === undefined) throw invalid("file is required: the base path of the log, such as 'logs/app.log'")
  if (given.size !== undefined) writer.size = translateSize(given.size)
  if (given.limit !== undefined) {
    const limit = given.limit
    if (limit === null || typeof limit !== 'object' || Array.isArray(limit)) throw invalid(`limit must be an object such as { count: 14 }; got ${JSON.stringify(limit)}`)
    const { count, ...rest } = limit as { count?: unknown; [name: string]: unknown }
    const extra = Object.keys(rest)
    if (extra.includes('removeOtherLogFiles')) throw invalid('limit.removeOtherLogFiles is not supported: chainlog deletes only files of its own chain, and records each deletion in the chain')
    if (extra.length) throw invalid(`unknown option limit.${extra[0]}; limit takes count`)
    if (count !== undefined && !(typeof count === 'number' && Number.isInteger(count) && count >= 1)) {
      throw invalid(`limit.count must be a whole number >= 1 (files kept besides the current one); got ${JSON.stringify(count)}`)
    }
    if (count !== undefined) writer.limit = { count }
  }
  const resolved: ResolvedOptions = { writer: writer as unknown as ChainWriterOptions }
  if (given.headInterval !== undefined) {
    const ms = given.headInterval
    if (!(typeof ms === 'number' && Number.isInteger(ms) && ms >= 10)) throw invalid(`headInterval must be a whole number of milliseconds >= 10; got ${JSON.stringify(ms)}`)
    resolved.headInterval = ms
  }
  return resolved
}
