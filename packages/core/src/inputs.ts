import * as fs from 'node:fs'
import * as path from 'node:path'
import { ChainlogError, ErrorCodes, pathError, type SystemErrorContext } from './errors'
import { isHeader, parseMeta, type HeaderMeta } from './meta'
import { withoutDatePlaceholder } from './naming'
import { isZlibError, openChainFile } from './read'
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

const FIRST_LINE_MAX = 64 * 1024

/** Reads up to the first 64 KiB of a file (decompressed for .gz); null when it cannot be read or decompressed. */
async function readHead(file: string, gz: boolean): Promise<Buffer | null> {
  const opened = openChainFile(file, gz, { end: FIRST_LINE_MAX - 1 })
  const parts: Buffer[] = []
  let total = 0
  try {
    for await (const chunk of opened) {
      parts.push(chunk)
      total += chunk.length
      if (total >= FIRST_LINE_MAX) break
    }
  } catch (err) {
    // Only data that is not gzip makes a .gz file "not a chain file"; a read error
    // (permission denied, say) is the file's, and must not pass for a missing file.
    if (!gz || !isZlibError(err)) throw err
    if (total === 0) return null // not gzip at all
  } finally {
    opened.close()
  }
  const head = Buffer.concat(parts, total)
  return head.length > FIRST_LINE_MAX ? head.subarray(0, FIRST_LINE_MAX) : head
}

/** One input file, with what resolveChainFiles needs to decide about it. */
interface Described extends ChainFile {
  /** Line 1 is a header, or one of the first lines has the shape of a record: a chain file, perhaps damaged. */
  chainLike: boolean
}

async function describe(file: string): Promise<Described> {
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
  return { path: file, gz, size, header, headerHash, chainLike }
}

/** The rotation number in a file name (`app.3.log`, `app.2026-11-22.3.log.gz` → 3), or null. */
function nameNumber(file: string): number | null {
  const m = /\.(\d+)(?:\.[^./\\]*)?(?:\.gz)?$/.exec(path.basename(file))
  return m ? Number(m[1]) : null
}

const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')

/**
 * Files of a rotation base path: `logs/app.log` → `logs/app.1.log`, `logs/app.2026-11-22.3.log.gz`, …
 * A winston filename (`logs/app-%DATE%.log`) names the same base.
 */
function baseFiles(given: string): string[] {
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
  return names.filter((n) => re.test(n)).map((n) => path.join(dir, n))
}

/** ENOENT for an input path: nothing by that name, not even a log base path. */
const RESOLVING: SystemErrorContext = { ENOENT: { code: ErrorCodes.NO_INPUT, words: 'no such file, directory or log base path' } }

function unreadable(p: string, err: unknown): ChainlogError {
  return pathError(err, p, p, RESOLVING)
}

/**
 * Expands inputs (files, directories, rotation base paths) into the files of
 * one chain, ordered by their links: by the chain index in each header, with
 * the links themselves checked by the verifier. A file whose first line is not
 * a header but that holds records (a chain file whose header was damaged) is
 * kept, placed by the number in its name, so that the verifier reports it. A
 * file given by name that is not a chainlog file at all is an error; a
 * directory's unrelated files are skipped.
 * @throws ChainlogError NO_INPUT, NOT_CHAINLOG, ACCESS_DENIED, MULTIPLE_CHAINS
 * @internal
 */
export async function resolveChainFiles(inputs: string[]): Promise<ChainFile[]> {
  const explicit: string[] = []
  const fromDirs: string[] = []
  for (const input of inputs) {
    let st: fs.Stats
    try {
      st = await fs.promises.stat(input)
    } catch (err) {
      const files = (err as NodeJS.ErrnoException).code === 'ENOENT' ? baseFiles(input) : []
      if (files.length === 0) throw unreadable(input, err)
      fromDirs.push(...files)
      continue
    }
    if (st.isDirectory()) {
      let names: fs.Dirent[]
      try {
        names = await fs.promises.readdir(input, { withFileTypes: true })
      } catch (err) {
        throw unreadable(input, err)
      }
      fromDirs.push(...names.filter((d) => d.isFile()).map((d) => path.join(input, d.name)))
    } else explicit.push(input)
  }
  const described: Described[] = []
  for (const f of explicit) {
    let d: Described
    try {
      await fs.promises.access(f, fs.constants.R_OK)
      d = await describe(f)
    } catch (err) {
      throw unreadable(f, err)
    }
    if (!d.chainLike) {
      const why = d.size === 0 ? 'empty file' : 'not a chainlog file (line 1 is not a chainlog header record)'
      throw new ChainlogError(ErrorCodes.NOT_CHAINLOG, `${f}: ${why}`, { path: f })
    }
    described.push(d)
  }
  for (const f of fromDirs) {
    let d: Described
    try {
      d = await describe(f)
    } catch (err) {
      // Skipping a file that cannot be read could hide part of the chain (its last file, say): name it.
      const code = (err as NodeJS.ErrnoException).code
      if (code === 'ENOENT') continue // gone since the listing (rotation, compression)
      throw unreadable(f, err)
    }
    if (d.chainLike) described.push(d)
  }
  if (described.length === 0) {
    throw new ChainlogError(ErrorCodes.NO_INPUT, `${inputs.join(', ')}: no chainlog files found`, { path: inputs[0] ?? '' })
  }
  if (described.every((d) => d.header === null)) {
    const which = described.map((d) => d.path).join(', ')
    throw new ChainlogError(ErrorCodes.NOT_CHAINLOG, `${which}: not a chainlog file (line 1 is not a chainlog header record)`, { path: described[0]!.path })
  }
  const chains = new Set(described.filter((d) => d.header).map((d) => d.header!.chain))
  if (chains.size > 1 && twoChains(described)) {
    throw new ChainlogError(ErrorCodes.MULTIPLE_CHAINS, `the input holds ${chains.size} different chains; verify one log at a time (give its base path, e.g. logs/app.log)`, { path: inputs[0] ?? '' })
  }
  // The same file may be present plain and gzipped (compression in progress, or copied twice),
  // or given twice (a directory and a file in it).
  const seen = new Map<string, Described>()
  const seenPaths = new Set<string>()
  const unique: Described[] = []
  for (const d of described) {
    const real = path.resolve(d.path)
    if (seenPaths.has(real)) continue
    seenPaths.add(real)
    if (d.headerHash) {
      const other = seen.get(d.headerHash)
      if (other) {
        if (other.gz && !d.gz) unique[unique.indexOf(other)] = d
        seen.set(d.headerHash, d.gz ? other : d)
        continue
      }
      seen.set(d.headerHash, d)
    }
    unique.push(d)
  }
  return order(unique).map(({ chainLike: _, ...file }) => file)
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

/**
 * Whether files of different chain ids are two logs (they claim the same
 * position) rather than one chain with a damaged header, which stays in the
 * input so that the verifier reports it at its line.
 */
function twoChains(files: { header: HeaderMeta | null }[]): boolean {
  const at = new Map<number, string>()
  for (const { header } of files) {
    if (!header) continue
    const other = at.get(header.index)
    if (other !== undefined && other !== header.chain) return true
    at.set(header.index, header.chain)
  }
  return false
}
