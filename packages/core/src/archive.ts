/**
 * Archiving rotated files, recorded in the chain (#12 C). Moving old files to
 * cold storage by hand leaves a log whose start nothing accounts for, and the
 * verifier rightly calls that a missing file. `archiveFiles` does it the way
 * retention deletes: under the log's lock it appends an archive record
 * (FORMAT.md §6.1) naming each file and its last hash, and only then moves the
 * files. What stays on the host then verifies, and so does the whole log with
 * the archived files given back.
 */
import * as fs from 'node:fs'
import * as path from 'node:path'
import { createHashFn, keyId, type HashFn } from './algorithm'
import { ChainlogError, ErrorCodes, fromSystemError } from './errors'
import { LogLock } from './lock'
import { metaLine, type ArchiveMeta, type DeletedFile } from './meta'
import { FileNaming, type LogFileEntry } from './naming'
import { encodeRecord, HASH_HEX, isHash } from './record'
import { countLines, readTail } from './scan'

/** What to archive, and where to. */
export interface ArchiveOptions {
  /** The files to archive (paths or names of the log's rotated files): together, the oldest files of the log. */
  files?: string[]
  /** Or: every rotated file older than this file of the log (a path or name), or last written before this time (ms since the epoch). */
  before?: string | number
  /** The directory the files are moved to (created if missing). */
  to: string
  /** The key of an hmac-sha256 chain: the record is hashed like every other. */
  key?: Uint8Array
  /** How long to wait for the log's lock, ms (default 10 s). */
  lockTimeout?: number
}

/** What was archived: the record appended, where, and each file's move. */
export interface ArchiveResult {
  record: ArchiveMeta
  /** The file the record was appended to, and its line there. */
  recordedIn: { file: string; line: number }
  moved: { from: string; to: string }[]
}

const refuse = (message: string, file?: string) => new ChainlogError(ErrorCodes.CANNOT_ARCHIVE, message, file === undefined ? {} : { path: file })

/**
 * Archives the oldest rotated files of the log at base path `base`
 * (`logs/app.log`): records them in the chain, then moves them to `to`.
 * Nothing is recorded or moved unless every check passes first.
 * @throws ChainlogError CANNOT_ARCHIVE (not the oldest files, the current file, a name taken at `to`, a last file a writer must recover first), KEY_REQUIRED, KEY_MISMATCH, LOCK_TIMEOUT, and the system errors
 */
export async function archiveFiles(base: string, options: ArchiveOptions): Promise<ArchiveResult> {
  const naming = new FileNaming(base)
  const lock = new LogLock(path.join(naming.dir, naming.stem + naming.extension), { staleMs: 3000, onCompromised: () => {} })
  // Waits without blocking the thread: a writer of this process may hold the lease, and must run to release it.
  await lock.acquire(Date.now() + (options.lockTimeout ?? 10_000), 'archive files')
  try {
    return archiveLocked(naming, options)
  } finally {
    lock.releaseLock()
  }
}

function archiveLocked(naming: FileNaming, options: ArchiveOptions): ArchiveResult {
  const all = byFile(naming.list())
  if (all.length === 0) throw refuse(`${path.join(naming.dir, naming.stem + naming.extension)}: the log has no files here`)
  const current = all.at(-1)!
  const rotated = all.slice(0, -1)
  const chosen = choose(rotated, current, options, path.join(naming.dir, naming.stem + naming.extension))
  if (chosen.length === 0) throw refuse('no rotated file matches: nothing to archive')
  const to = path.resolve(options.to)
  for (const c of chosen) {
    for (const f of c.paths) if (fs.existsSync(path.join(to, path.basename(f)))) throw refuse(`${path.join(to, path.basename(f))} already exists; nothing was archived`, f)
  }
  const files = chosen.map(describe)
  const { hashFn, prev, line } = headOf(current.paths[0]!, options.key)
  const record: ArchiveMeta = { t: 'archive', time: new Date().toISOString(), to, files }
  const { text } = encodeRecord(prev, metaLine(record), hashFn)
  try {
    const fd = fs.openSync(current.paths[0]!, 'a')
    try {
      fs.writeSync(fd, text)
      fs.fsyncSync(fd)
    } finally {
      fs.closeSync(fd)
    }
  } catch (err) {
    throw fromSystemError(err, 'append the archive record', current.paths[0]!)
  }
  // Recorded first; moved after, as retention deletes only what it has recorded.
  fs.mkdirSync(to, { recursive: true })
  const moved: ArchiveResult['moved'] = []
  for (const c of chosen) {
    for (const from of c.paths) {
      const dest = path.join(to, path.basename(from))
      try {
        move(from, dest)
      } catch (err) {
        const done = moved.length ? `; moved before it: ${moved.map((m) => path.basename(m.from)).join(', ')}` : ''
        throw fromSystemError(err, `move ${from} to ${to} (the archive record naming it is written${done})`, from)
      }
      moved.push({ from, to: dest })
    }
  }
  return { record, recordedIn: { file: current.paths[0]!, line }, moved }
}

/** One file of the log: its entry, and its paths (a file present both plain and gzipped, mid-compression, is one file). */
interface LogFile {
  entry: LogFileEntry
  paths: string[]
}

function byFile(entries: LogFileEntry[]): LogFile[] {
  const out: LogFile[] = []
  for (const e of entries) {
    const prev = out.at(-1)
    if (prev && prev.entry.number === e.number) prev.paths.push(e.path)
    else out.push({ entry: e, paths: [e.path] })
  }
  return out
}

/** The files named by `files` or `before`: always a run of the oldest, never the current file. */
function choose(rotated: LogFile[], current: LogFile, options: ArchiveOptions, log: string): LogFile[] {
  const named = (p: string) => path.basename(p)
  const find = (p: string) => [...rotated, current].find((f) => f.paths.some((q) => named(q) === named(p)))
  let chosen: LogFile[]
  if (options.files && options.files.length) {
    chosen = []
    for (const p of options.files) {
      const f = find(p)
      if (!f) throw refuse(`${p} is not a file of the log ${log}`, p)
      if (f === current) throw refuse(`${f.entry.path} is the file being written; only rotated files can be archived`, f.entry.path)
      if (!chosen.includes(f)) chosen.push(f)
    }
    chosen.sort((a, b) => a.entry.number - b.entry.number)
  } else if (typeof options.before === 'string') {
    const f = find(options.before)
    if (!f) throw refuse(`${options.before} is not a file of the log ${log}`, options.before)
    chosen = rotated.filter((r) => r.entry.number < f.entry.number)
  } else if (typeof options.before === 'number') {
    const cutoff = options.before
    chosen = []
    for (const r of rotated) {
      if (fs.statSync(r.paths[0]!).mtimeMs >= cutoff) break
      chosen.push(r)
    }
  } else throw refuse('name the files to archive, or give before')
  // What stays must still be one chain from its start: only a run of the oldest files can go.
  const gap = rotated.findIndex((r, i) => chosen[i] !== r)
  const last = chosen.at(-1)
  if (last && gap !== -1 && gap < chosen.length) {
    throw refuse(`only the oldest files can be archived (what stays must be one chain from its start): ${rotated[gap]!.entry.name} is older than ${last.entry.name} and stays`, rotated[gap]!.entry.path)
  }
  return chosen
}

/** A file's header index, last hash and line count, read from the file (the plain copy when both are present). */
function describe(f: LogFile): DeletedFile {
  const p = f.paths[0]!
  const tail = readTail(p)
  if (!tail.header) throw refuse(`${p} is not a chainlog file (its first line is not a header); nothing was archived`, p)
  if (!tail.last || !isHash(tail.last.hash)) throw refuse(`${p} has no complete record to name; nothing was archived`, p)
  return { file: tail.header.file, index: tail.header.index, lastHash: tail.last.hash, records: countLines(p) }
}

/** The hash function and last hash of the current file, checked so that the record links to a sound head. */
function headOf(file: string, key: Uint8Array | undefined): { hashFn: HashFn; prev: string; line: number } {
  if (file.endsWith('.gz')) throw refuse(`${file} is compressed: the log has no file being written to append to; start the application once`, file)
  const tail = readTail(file)
  const h = tail.header
  if (!h) throw refuse(`${file} is not a chainlog file (its first line is not a header)`, file)
  let hashFn: HashFn
  if (h.alg === 'hmac-sha256') {
    if (!key) throw new ChainlogError(ErrorCodes.KEY_REQUIRED, `${file} is an hmac-sha256 chain; give its key (--key <file>)`, { path: file })
    if (h.keyId && keyId(key) !== h.keyId) throw new ChainlogError(ErrorCodes.KEY_MISMATCH, `the key given is not the key of ${file} (key id ${keyId(key)}, file wants ${h.keyId})`, { path: file })
    hashFn = createHashFn('hmac-sha256', { key })
  } else hashFn = createHashFn(h.alg)
  // A torn or broken tail is a writer's to recover (it records what it found): never append after one.
  const body = tail.lastBytes?.subarray(0, tail.lastBytes.length - HASH_HEX - 1)
  if (tail.fragment || !tail.last || !body || hashFn(body) !== tail.last.hash) {
    throw refuse(`${file} does not end in a whole, sound record (a writer died mid-write, or it was changed); start the application once so that it recovers the tail, then archive`, file)
  }
  return { hashFn, prev: tail.last.hash, line: countLines(file) + 1 }
}

/** Renames, or copies (fsynced) then removes across file systems. */
function move(from: string, to: string): void {
  try {
    fs.renameSync(from, to)
    return
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EXDEV') throw err
  }
  fs.copyFileSync(from, to, fs.constants.COPYFILE_EXCL)
  const fd = fs.openSync(to, 'r')
  try {
    fs.fsyncSync(fd)
  } finally {
    fs.closeSync(fd)
  }
  fs.unlinkSync(from)
}
