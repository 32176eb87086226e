import * as fs from 'node:fs'
import * as path from 'node:path'
import { format as formatDate } from 'date-fns/format'
import { invalidOption } from './errors'

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
 */
export class FileNaming {
  readonly dir: string
  /** File name without number and extension, e.g. `app`. */
  readonly stem: string
  /** Extension including its dot, e.g. `.log`, or ''. */
  readonly extension: string
  readonly dateFormat?: string
  private readonly re: RegExp

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

  /** The files of this base in the directory, oldest (lowest number) first. Symlinks are skipped. */
  list(): LogFileEntry[] {
    let names: fs.Dirent[]
    try {
      names = fs.readdirSync(this.dir, { withFileTypes: true })
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return []
      throw err
    }
    const out: LogFileEntry[] = []
    for (const d of names) {
      if (!d.isFile()) continue
      const e = this.parse(d.name)
      if (e) out.push({ ...e, path: path.join(this.dir, d.name) })
    }
    return out.sort((a, b) => a.number - b.number || Number(a.gz) - Number(b.gz))
  }
}
