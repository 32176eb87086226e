import * as fs from 'node:fs'
import * as path from 'node:path'
import type { format as Format } from 'date-fns/format'
import { invalidOption } from './errors'
import { isChainFile } from './scan'

/** date-fns' format, loaded with the first dated name: verifying never needs it (start-up, #17). */
const formatDate: typeof Format = (date, pattern) => (require('date-fns/format') as { format: typeof Format }).format(date, pattern)

/** One log file on disk that belongs to a rotation base. */
export interface LogFileEntry {
  path: string
  name: string
  number: number
  /** The date part of the name, when the base uses a dateFormat. */
  date?: string
  gz: boolean
}

const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')

/**
 * File names of one rotating log, in the spirit of pino-roll:
 * `app.log` becomes `app.1.log`, `app.2.log`, …; with a `dateFormat`,
 * `app.2026-11-22.3.log`. The number grows by one per new file and never
 * restarts, so the newest file is always the one with the highest number.
 * Rotated files may be gzipped to `app.1.log.gz`.
 *
 * pino-roll names its files the same way, so a log that migrates from it
 * finds pino-roll's files among its own names. Those, and any other file
 * that chainlog did not write, are foreign: {@link list} leaves them out, so
 * that no writer appends to, compresses or deletes them, and new files take
 * numbers no file has ({@link FileNaming.pathFor} is only asked for free ones).
 */
export class FileNaming {
  readonly dir: string
  /** File name without number and extension, e.g. `app`. */
  readonly stem: string
  /** Extension including its dot, e.g. `.log`, or ''. */
  readonly extension: string
  readonly dateFormat?: string
  private readonly re: RegExp
  /** Names already read: whether chainlog wrote them (a chain file stays one; a foreign file can only be replaced). */
  private readonly verdicts = new Map<string, boolean>()

  constructor(file: string, options: { extension?: string; dateFormat?: string } = {}) {
    if (typeof file !== 'string' || file.trim() === '') throw invalidOption(`file must be a non-empty path such as 'logs/app.log'; got ${JSON.stringify(file)}`)
    if (file.endsWith('/') || file.endsWith(path.sep)) throw invalidOption(`file must name a file, not a directory; got ${JSON.stringify(file)}`)
    const resolved = path.resolve(file)
    this.dir = path.dirname(resolved)
    let stem = path.basename(resolved)
    let extension = options.extension
    if (extension === undefined) {
      extension = path.extname(stem)
      stem = stem.slice(0, stem.length - extension.length)
    } else if (typeof extension !== 'string' || /[/\\]/.test(extension)) {
      throw invalidOption(`extension must be a string such as '.log'; got ${JSON.stringify(extension)}`)
    } else if (extension !== '' && !extension.startsWith('.')) extension = '.' + extension
    if (stem === '') throw invalidOption(`file must have a name before its extension; got ${JSON.stringify(file)}`)
    this.stem = stem
    this.extension = extension
    if (options.dateFormat !== undefined) {
      if (typeof options.dateFormat !== 'string' || options.dateFormat === '') throw invalidOption(`dateFormat must be a date-fns format such as 'yyyy-MM-dd'; got ${JSON.stringify(options.dateFormat)}`)
      let sample: string
      try {
        sample = formatDate(new Date(), options.dateFormat)
      } catch (err) {
        throw invalidOption(`dateFormat ${JSON.stringify(options.dateFormat)} is not a valid date-fns format: ${(err as Error).message}`)
      }
      if (/[/\\]/.test(sample)) throw invalidOption(`dateFormat must not produce a path separator; ${JSON.stringify(options.dateFormat)} gives ${JSON.stringify(sample)}`)
      this.dateFormat = options.dateFormat
    }
    this.re = new RegExp(`^${escapeRe(stem)}\\.(?:(.+)\\.)?(\\d+)${escapeRe(extension)}(\\.gz)?$`)
  }

  /** The path of file `number`, dated `time` when a dateFormat is set. */
  pathFor(number: number, time: number): string {
    const date = this.dateFormat ? '.' + formatDate(time, this.dateFormat) : ''
    return path.join(this.dir, `${this.stem}${date}.${number}${this.extension}`)
  }

  /** Parses a file name of this base; null for any other name. */
  parse(name: string): Omit<LogFileEntry, 'path'> | null {
    const m = this.re.exec(name)
    if (!m) return null
    if (m[1] !== undefined && !this.dateFormat) return null
    if (m[1] === undefined && this.dateFormat) return null
    const entry: Omit<LogFileEntry, 'path'> = { name, number: Number(m[2]), gz: m[3] !== undefined }
    if (m[1] !== undefined) entry.date = m[1]
    return entry
  }

  /**
   * The chain files of this base in the directory, oldest (lowest number)
   * first. Symlinks and foreign files (see {@link foreign}) are skipped.
   */
  list(): LogFileEntry[] {
    return this.numbered().filter((e) => this.isChain(e))
  }

  /**
   * Files in the directory that chainlog did not write but that look like
   * this log's: its numbered names holding something else (pino-roll's
   * files), the base path itself (a plain file destination's), and names
   * that start with the stem and a separator and carry the extension
   * (winston-daily-rotate-file's `app-2026-11-22.log`, `app-2026-11-22.log.1`).
   * The writer names them in its `'foreign'` event and leaves them as they are.
   */
  foreign(): string[] {
    const ours = new Set(this.list().map((e) => e.name))
    const stem = new RegExp(`^${escapeRe(this.stem)}(?:[-_.].*)?$`)
    return this.entries()
      .filter((d) => !ours.has(d.name) && stem.test(d.name) && d.name.includes(this.extension) && !/\.\d+\.tmp$/.test(d.name))
      .map((d) => path.join(this.dir, d.name))
      .sort()
  }

  /**
   * A plain file of this base's names, numbered after `number` (the chain's
   * newest file), that is empty. chainlog never leaves a file of its log
   * empty (each is published with its header), so such a file was emptied:
   * `copytruncate`, or by hand. Null when there is none.
   */
  emptiedAfter(number: number): LogFileEntry | null {
    for (const e of this.numbered()) {
      if (e.number <= number || e.gz) continue
      try {
        if (fs.statSync(e.path).size === 0) return e
      } catch {
        // gone since the listing
      }
    }
    return null
  }

  /** Whether `number` is free: no file, plain or gzipped, of any date has it. */
  isFree(number: number): boolean {
    return !this.numbered().some((e) => e.number === number)
  }

  /** The highest number any file of this base's names has (foreign ones included), or 0. */
  highest(): number {
    return this.numbered().reduce((n, e) => Math.max(n, e.number), 0)
  }

  /** Files in the directory whose names parse as this base's, chain files or not. */
  private numbered(): LogFileEntry[] {
    const out: LogFileEntry[] = []
    for (const d of this.entries()) {
      const e = this.parse(d.name)
      if (e) out.push({ ...e, path: path.join(this.dir, d.name) })
    }
    const present = new Set(out.map((e) => e.name))
    for (const name of this.verdicts.keys()) if (!present.has(name)) this.verdicts.delete(name)
    return out.sort((a, b) => a.number - b.number || Number(a.gz) - Number(b.gz))
  }

  private entries(): fs.Dirent[] {
    try {
      return fs.readdirSync(this.dir, { withFileTypes: true }).filter((d) => d.isFile())
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return []
      throw err
    }
  }

  /**
   * Whether chainlog wrote the file, read once per name: a writer creates
   * each file exclusively under a name no file has, writes its header at
   * once (lock held), and never writes into a file it did not create, so a
   * name's verdict cannot change while the file is there.
   */
  private isChain(e: LogFileEntry): boolean {
    const known = this.verdicts.get(e.name)
    if (known !== undefined) return known
    let chain: boolean
    try {
      chain = isChainFile(e.path)
    } catch {
      return false // gone since the listing, or unreadable: not a file to continue, compress or delete
    }
    this.verdicts.set(e.name, chain)
    return chain
  }
}

/**
 * The base path of a winston-daily-rotate-file filename: `%DATE%` and one
 * separator next to it are taken out (`logs/app-%DATE%.log` → `logs/app.log`),
 * since chainlog puts the date in a place of its own (`app.2026-11-22.1.log`).
 * A path without `%DATE%` is returned as it is.
 */
export function withoutDatePlaceholder(file: string): string {
  const dir = path.dirname(file)
  const base = path.basename(file)
  if (!base.includes('%DATE%')) return file
  const stripped = base.replace(/[-_.]?%DATE%/, '').replace(/%DATE%[-_.]?/, '')
  return dir === '.' && !file.startsWith('.') ? stripped : path.join(dir, stripped)
}
