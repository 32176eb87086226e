/**
 * From paths to the chains they hold: which files, of which chains, in which
 * order, what the paths mean (the whole log, or a segment of it), and the
 * files named as part of a log that are not read, with why.
 */
import * as fs from 'node:fs'
import * as path from 'node:path'
import { ChainlogError, ErrorCodes, pathError, type SystemErrorContext } from './errors'
import { isHeader, parseMeta, type HeaderMeta } from './meta'
import { readHead } from './read'
import { withoutDatePlaceholder } from './naming'
import { parseRecord } from './record'

/**
 * One file of a chain, as the verifier will read it.
 * @internal
 */
export interface ChainFile {
  path: string
  gz: boolean
  size: number
  /** Its header, or null when line 1 is not a chainlog header. */
  header: HeaderMeta | null
  /** Hash of the header record, to spot the same file twice (plain and .gz). */
  headerHash: string | null
}

/** A file named as part of a log that verification does not read as part of a chain, and why. */
export interface SkippedFile {
  file: string
  /**
   * `special`: a FIFO, socket or device, never opened (reading one can block forever);
   * `not-chainlog`: its line 1 is not a chainlog header and it holds no record;
   * `empty`: it has no bytes (a file created and not yet written).
   */
  kind: 'special' | 'not-chainlog' | 'empty'
  message: string
}

/**
 * The files of one chain, in chain order.
 * @internal
 */
export interface ChainInput {
  files: ChainFile[]
  /** A file named as the newest of this log that is no chain file: the chain's end is unaccounted for. */
  newest: SkippedFile | null
}

/**
 * What the input paths hold.
 * @internal
 */
export interface ResolvedInputs {
  /**
   * `log`: a base path or a directory was given, and stands for the whole log;
   * `segment`: only files were given, a piece of a chain that need not start at its beginning.
   */
  scope: 'log' | 'segment'
  chains: ChainInput[]
  skipped: SkippedFile[]
}

/** One input file, with what resolveInputs needs to decide about it. */
interface Described extends ChainFile {
  /** Line 1 is a header, or one of the first lines has the shape of a record: a chain file, perhaps damaged. */
  chainLike: boolean
  /** Found by a log's base path: its name says it is a file of that log. */
  named: boolean
}

async function describe(file: string, named: boolean): Promise<Described> {
  const gz = file.endsWith('.gz')
  const size = (await fs.promises.stat(file)).size
  const head = await readHead(file, gz)
  let header: HeaderMeta | null = null
  let headerHash: string | null = null
  let chainLike = false
  if (head) {
    let start = 0
    for (let nl = head.indexOf(0x0a); nl !== -1; nl = head.indexOf(0x0a, start)) {
      const rec = parseRecord(head.toString('utf8', start, nl))
      if (start === 0 && rec) {
        const meta = parseMeta(rec.line)
        if (isHeader(meta)) {
          header = meta
          headerHash = rec.hash
        }
      }
      if (rec) {
        chainLike = true
        break
      }
      start = nl + 1
    }
  }
  return { path: file, gz, size, header, headerHash, chainLike, named }
}

/** The rotation number in a file name (`app.3.log`, `app.2026-11-22.3.log.gz` → 3), or null. */
function nameNumber(file: string): number | null {
  const m = /\.(\d+)(?:\.[^./\\]*)?(?:\.gz)?$/.exec(path.basename(file))
  return m ? Number(m[1]) : null
}

/** A file name without its rotation number and .gz: the files of one log share it (`app.3.log.gz` → `app.log`). */
function nameKey(file: string): string {
  return path.join(path.dirname(file), path.basename(file).replace(/\.\d+((?:\.[^./\\\d][^./\\]*)?)(?:\.gz)?$/, '$1'))
}

const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')

/** What a file that is not a regular file is, in words; null for a regular file or a directory. */
function specialKind(st: fs.Stats): string | null {
  if (st.isFIFO()) return 'a FIFO'
  if (st.isSocket()) return 'a socket'
  if (st.isCharacterDevice()) return 'a character device'
  if (st.isBlockDevice()) return 'a block device'
  return null
}

function special(file: string, what: string): SkippedFile {
  return { file, kind: 'special', message: `${what}, not a regular file: skipped without reading it` }
}

/**
 * Files of a rotation base path: `logs/app.log` → `logs/app.1.log`, `logs/app.2026-11-22.3.log.gz`, …;
 * special files go to `skipped`. A winston filename (`logs/app-%DATE%.log`) names the same base.
 */
function baseFiles(given: string, skipped: SkippedFile[]): string[] {
  const base = withoutDatePlaceholder(given)
  const dir = path.dirname(base)
  const ext = path.extname(base)
  const stem = path.basename(base, ext)
  const re = new RegExp(`^${escapeRe(stem)}\\.(?:.+\\.)?\\d+${escapeRe(ext)}(?:\\.gz)?$`)
  let names: string[]
  try {
    names = fs.readdirSync(dir)
  } catch {
    return []
  }
  const out: string[] = []
  for (const name of names.filter((n) => re.test(n))) {
    const file = path.join(dir, name)
    let st: fs.Stats
    try {
      st = fs.statSync(file)
    } catch {
      continue // gone since the listing, or a dangling link: nothing to read
    }
    const what = specialKind(st)
    if (what) skipped.push(special(file, what))
    else if (st.isFile()) out.push(file)
  }
  return out
}

/**
 * The base path a symlink stands for, when a transport made it (`symlink`
 * option): a link in the log's folder to a bare file name of the log
 * (`app.log` → `app.7.log`). Null for any other path.
 */
async function transportLink(input: string): Promise<string | null> {
  let target: string
  try {
    if (!(await fs.promises.lstat(input)).isSymbolicLink()) return null
    target = await fs.promises.readlink(input)
  } catch {
    return null
  }
  if (target.includes('/') || target.includes(path.sep)) return null
  const m = /^(.+?)\.(?:[^.]*\d[^.]*\.)?(\d+)(\.[^.\d][^.]*)?$/.exec(target)
  if (!m) return null
  return path.join(path.dirname(input), m[1]! + (m[3] ?? ''))
}

/** ENOENT for an input path: nothing by that name, not even a log base path. */
const RESOLVING: SystemErrorContext = { ENOENT: { code: ErrorCodes.NO_INPUT, words: 'no such file, directory or log base path' } }

function unreadable(p: string, err: unknown): ChainlogError {
  return pathError(err, p, p, RESOLVING)
}

/**
 * Expands inputs (files, directories, rotation base paths, a symlink a
 * transport made) into the chains they hold, each ordered by its links: by
 * the chain index in each header, with the links themselves checked by the
 * verifier. Every chain found is returned: a folder may hold several logs. A
 * file whose first line is not a header but that holds records (a chain file
 * whose header was deleted or damaged) is kept, placed by the number in its
 * name, so that the verifier reports it at its line 1. A file given by name
 * that is not a chainlog file is an error; in a directory or under a base
 * path, a file named as a file of a log that is not a chain file, and any
 * FIFO, socket or device, is returned in `skipped`.
 * @throws ChainlogError NO_INPUT, NOT_CHAINLOG, ACCESS_DENIED
 * @internal
 */
export async function resolveInputs(inputs: string[]): Promise<ResolvedInputs> {
  const explicit: string[] = []
  const listed: { file: string; named: boolean }[] = []
  const skipped: SkippedFile[] = []
  let scope: ResolvedInputs['scope'] = 'segment'
  for (const input of inputs) {
    const base = await transportLink(input)
    if (base !== null) {
      scope = 'log'
      listed.push(...baseFiles(base, skipped).map((file) => ({ file, named: true })))
      continue
    }
    let st: fs.Stats
    try {
      st = await fs.promises.stat(input)
    } catch (err) {
      const before = skipped.length
      const files = (err as NodeJS.ErrnoException).code === 'ENOENT' ? baseFiles(input, skipped) : []
      if (files.length === 0 && skipped.length === before) throw unreadable(input, err)
      scope = 'log'
      listed.push(...files.map((file) => ({ file, named: true })))
      continue
    }
    if (st.isDirectory()) {
      scope = 'log'
      let names: fs.Dirent[]
      try {
        names = await fs.promises.readdir(input, { withFileTypes: true })
      } catch (err) {
        throw unreadable(input, err)
      }
      for (const d of names) {
        const file = path.join(input, d.name)
        if (d.isFile()) listed.push({ file, named: false })
        else if (d.isFIFO()) skipped.push(special(file, 'a FIFO'))
        else if (d.isSocket()) skipped.push(special(file, 'a socket'))
        else if (d.isCharacterDevice() || d.isBlockDevice()) skipped.push(special(file, 'a device'))
      }
    } else if (st.isFile()) explicit.push(input)
    else {
      const what = specialKind(st) ?? 'not a regular file'
      throw new ChainlogError(ErrorCodes.NOT_CHAINLOG, `${input}: ${what}, not a regular file; to verify what it carries, give it on stdin: verify-log - < ${input}`, { path: input })
    }
  }
  const described: Described[] = []
  const foreign: Described[] = []
  for (const f of explicit) {
    let d: Described
    try {
      await fs.promises.access(f, fs.constants.R_OK)
      d = await describe(f, false)
    } catch (err) {
      throw unreadable(f, err)
    }
    if (!d.chainLike) {
      const why = d.size === 0 ? 'empty file' : 'not a chainlog file (line 1 is not a chainlog header record)'
      throw new ChainlogError(ErrorCodes.NOT_CHAINLOG, `${f}: ${why}`, { path: f })
    }
    described.push(d)
  }
  for (const { file, named } of listed) {
    let d: Described
    try {
      d = await describe(file, named)
    } catch (err) {
      // Skipping a file that cannot be read could hide part of the chain (its last file, say): name it.
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue // gone since the listing (rotation, compression)
      throw unreadable(file, err)
    }
    ;(d.chainLike ? described : foreign).push(d)
  }
  if (described.length === 0) {
    const why = skipped.length ? `no chainlog files found (skipped: ${skipped.map((s) => s.file).join(', ')})` : 'no chainlog files found'
    throw new ChainlogError(ErrorCodes.NO_INPUT, `${inputs.join(', ')}: ${why}`, { path: inputs[0] ?? '' })
  }
  const groups = group(unique(described))
  const chains: ChainInput[] = groups.map((g) => ({ files: order(g).map(({ chainLike: _, named: __, ...file }) => file), newest: null }))
  for (const f of foreign) {
    const key = nameKey(f.path)
    const mine = chains.filter((c) => c.files.some((cf) => nameKey(cf.path) === key))
    // A directory's unrelated files are no concern of any log; a file named as part of a log is.
    if (!f.named && mine.length === 0) continue
    const empty = f.size === 0
    const s: SkippedFile = {
      file: f.path,
      kind: empty ? 'empty' : 'not-chainlog',
      message: empty ? 'named as a file of the log, but empty (a file created and never written): not part of the chain' : 'named as a file of the log, but not a chainlog file (line 1 is not a chainlog header record): not part of the chain',
    }
    skipped.push(s)
    const n = nameNumber(f.path)
    if (empty || n === null) continue
    // Names are numbered up and never reused: a higher number than every chain file's is the log's newest file.
    const last = mine.reduce<ChainInput | undefined>((best, c) => (!best || maxNumber(c) > maxNumber(best) ? c : best), undefined)
    if (last && n > maxNumber(last) && (!last.newest || (nameNumber(last.newest.file) ?? -1) < n)) last.newest = s
  }
  skipped.sort((a, b) => a.file.localeCompare(b.file))
  return { scope, chains, skipped }
}

/** The highest number in the names of a chain's files (-1: none numbered). */
function maxNumber(c: ChainInput): number {
  return c.files.reduce((max, f) => Math.max(max, nameNumber(f.path) ?? -1), -1)
}

/**
 * The same file may be present plain and gzipped (compression in progress, or
 * copied twice), or given twice (a directory and a file in it): each is kept once.
 */
function unique(described: Described[]): Described[] {
  const seen = new Map<string, Described>()
  const seenPaths = new Set<string>()
  const out: Described[] = []
  for (const d of described) {
    const real = path.resolve(d.path)
    if (seenPaths.has(real)) continue
    seenPaths.add(real)
    if (d.headerHash) {
      const other = seen.get(d.headerHash)
      if (other) {
        if (other.gz && !d.gz) out[out.indexOf(other)] = d
        seen.set(d.headerHash, d.gz ? other : d)
        continue
      }
      seen.set(d.headerHash, d)
    }
    out.push(d)
  }
  return out
}

/**
 * Splits files into chains by the chain id of their headers. A file whose id
 * differs but that takes a free place in another chain, naming that chain's
 * previous file, is a file of that chain with a damaged header, and stays in
 * it so that the verifier reports it at its line. A file without a header goes
 * with the chain whose files carry its name, or alone.
 */
function group(files: Described[]): Described[][] {
  const byChain = new Map<string, Described[]>()
  for (const d of files) {
    if (!d.header) continue
    const g = byChain.get(d.header.chain)
    if (g) g.push(d)
    else byChain.set(d.header.chain, [d])
  }
  const groups = [...byChain.values()].sort((a, b) => b.length - a.length)
  for (const g of groups.slice(1)) {
    for (const f of [...g]) {
      const home = groups.find((o) => o !== g && o.length >= g.length && continues(f, o))
      if (home) {
        g.splice(g.indexOf(f), 1)
        home.push(f)
      }
    }
  }
  const out = groups.filter((g) => g.length)
  for (const d of files) {
    if (d.header) continue
    const key = nameKey(d.path)
    const home = out.find((g) => g.some((o) => nameKey(o.path) === key)) ?? (out.length === 1 ? out[0] : undefined)
    if (home) home.push(d)
    else out.push([d])
  }
  return out.sort((a, b) => a[0]!.path.localeCompare(b[0]!.path))
}

/** Whether `f`'s header takes a place that `chain` lacks, right after a file of it that its header names. */
function continues(f: Described, chain: Described[]): boolean {
  const h = f.header!
  if (h.index === 0 || chain.some((o) => o.header?.index === h.index)) return false
  return chain.some((o) => o.header?.index === h.index - 1 && o.header.file === h.prevFile)
}

/**
 * Orders files by the chain index in their headers. Files without a header
 * go by the number in their name next to the headed files' names, or last.
 */
function order(files: Described[]): Described[] {
  const headed = files.filter((d) => d.header).sort((a, b) => a.header!.index - b.header!.index)
  const headless = files.filter((d) => !d.header)
  if (headless.length === 0) return headed
  const num = (d: Described) => nameNumber(d.path) ?? Infinity
  const out = [...headed]
  for (const d of headless.sort((a, b) => num(a) - num(b))) {
    const n = num(d)
    let at = out.length
    if (n !== Infinity) {
      const after = out.findIndex((o) => (nameNumber(o.path) ?? -Infinity) > n)
      if (after !== -1) at = after
    }
    out.splice(at, 0, d)
  }
  return out
}
