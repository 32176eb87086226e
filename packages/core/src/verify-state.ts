/**
 * Periodic verification that stays cheap (#15 part 4, `verify-log --state`):
 * what a run verified is remembered in a state file, and the next run
 * verifies only the records written since, re-checking each file it closed
 * by a plain SHA-256 of the file instead of verifying it again.
 */
import * as crypto from 'node:crypto'
import * as fs from 'node:fs'
import * as path from 'node:path'
import { replaceFile } from './checkpoint-file'
import { ChainlogError, ErrorCodes } from './errors'
import { resolveInputs, type ChainFile } from './inputs'
import type { DeletedFile } from './meta'
import { isZlibError, openChainFile, readError } from './read'
import { HASH_HEX } from './record'
import type { Break, VerifierOptions, VerifyReport } from './report'
import { ChainVerifier } from './verifier'

/** What the state file says (docs/OPERATIONS.md, "Periodic verification"). */
export interface VerifyState {
  chainlog: 'verify-state'
  v: 1
  chain: string
  /** The files verified and closed (a newer file follows each), by chain index. */
  closed: ClosedFile[]
  /** The last file, verified up to `offset`: the end of its last whole line. */
  open: OpenFile
  /** Files that retention (or archive) records verified so far deleted or moved: their absence is no break. */
  deleted: DeletedFile[]
  /** When the state was written (ISO 8601). */
  time: string
}

/** A verified file that no longer grows. */
export interface ClosedFile {
  /** The name the file was created with (its header's `file`). */
  name: string
  index: number
  gz: boolean
  /** Size and SHA-256 of the file as stored (compressed, for .gz). */
  size: number
  sha256: string
  /** SHA-256 of its content (decompressed): how a file compressed since is recognised. */
  content: string
  /** Physical lines, and the hash of its last record (what a retention record names). */
  lines: number
  lastHash: string
}

/** The file being written, verified up to a point. */
export interface OpenFile {
  name: string
  index: number
  /** Bytes and lines verified: everything up to the last LF. */
  offset: number
  lines: number
  /** SHA-256 of those `offset` bytes of content. */
  content: string
  /** The last verified record's hash, and the chain position after it. */
  head: string
  count: number
}

/** What a run with a state did, beside the report of what it verified. */
export interface StateOutcome {
  /** No state file was there: everything was verified, and the state started. */
  first: boolean
  /** Closed files found unchanged by their digest. */
  unchanged: number
  /** The state was written (only when nothing is broken: a break is reported again next time). */
  saved: boolean
}

/** Bytes read at a time. */
const CHUNK = 4 * 1024 * 1024
const sha256 = () => crypto.createHash('sha256')

/**
 * Verifies the chain in `input` (paths, as {@link verify}) from where the
 * state in `statePath` left it, then writes the new state atomically (a
 * temporary file renamed over it). Without a state file, the whole chain
 * is verified and the state starts. Closed files that changed, shrank or
 * vanished without a retention record are breaks (FILE_CHANGED,
 * MISSING_FILE), placed at the first line that differs where the file
 * itself shows it.
 * @throws ChainlogError BAD_STATE for a state file that cannot be read, is not a state, or belongs to another chain; the errors of {@link verify}
 */
export async function verifyWithState(input: string[], statePath: string, options: VerifierOptions = {}): Promise<{ report: VerifyReport; outcome: StateOutcome }> {
  const prior = readState(statePath)
  const { chains } = await resolveInputs(input)
  // A state is one chain's: several chains need a state file each.
  if (chains.length !== 1) throw new ChainlogError(ErrorCodes.MULTIPLE_CHAINS, `${input.join(' ')} holds ${chains.length} chains; --state follows one chain: give each log its own state file`, { path: input[0] })
  const files = chains[0]!.files
  const chain = files[0]!.header?.chain
  if (prior && chain !== prior.chain) throw new ChainlogError(ErrorCodes.BAD_STATE, `${statePath} is the state of chain ${prior.chain}, but ${input.join(' ')} holds chain ${chain}; give each chain its own state file`, { path: statePath })
  const run = new StateRun(files, prior, options)
  const report = await run.verify()
  const outcome: StateOutcome = { first: prior === null, unchanged: run.unchanged, saved: false }
  if (report.ok && run.next) {
    writeState(statePath, run.next)
    outcome.saved = true
  }
  return { report, outcome }
}

/** One verification from a state: which files to re-check, where to go on, and the state after it. */
class StateRun {
  unchanged = 0
  next: VerifyState | null = null
  private readonly breaks: Break[] = []
  private readonly deleted: DeletedFile[]
  private readonly verifier: ChainVerifier

  constructor(private readonly files: ChainFile[], private readonly prior: VerifyState | null, options: VerifierOptions) {
    this.deleted = [...(prior?.deleted ?? [])]
    this.verifier = new ChainVerifier({
      ...options,
      onMeta: (meta, where) => {
        // Retention deleted them, or `chainlog archive` moved them away: either way, recorded in the chain.
        if (meta.t === 'retention' && Array.isArray((meta as { deleted?: unknown }).deleted)) this.deleted.push(...(meta as { deleted: DeletedFile[] }).deleted)
        if (meta.t === 'archive' && Array.isArray((meta as { files?: unknown }).files)) this.deleted.push(...(meta as { files: DeletedFile[] }).files)
        options.onMeta?.(meta, where)
      },
    })
  }

  async verify(): Promise<VerifyReport> {
    const prior = this.prior
    const files = this.files
    let from = 0
    let resume: OpenFile | null = null
    if (prior) {
      // The files the state knows closed come first; the open one is where verification goes on.
      const at = files.findIndex((f) => f.header?.index === prior.open.index)
      if (at === -1 || files[at]!.header?.file !== prior.open.name) {
        // Gone: retention may have deleted it (the records after it say so), or it is missing.
        from = files.findIndex((f) => (f.header?.index ?? -1) > prior.open.index)
        if (from === -1) from = files.length
      } else {
        from = at
        resume = prior.open
      }
    }
    const closedNow: ClosedFile[] = []
    let open: OpenFile | null = null
    for (let i = from; i < files.length && !this.verifier.done; i++) {
      const last = i === files.length - 1
      const seen = await this.feed(files[i]!, i === from ? resume : null, last)
      if (seen === 'changed') break
      if (last) open = seen.open
      else closedNow.push(seen.closed)
    }
    if (from === files.length && prior) {
      // Nothing left to go on from: the chain as the state knew it ends here.
      this.breaks.push({ file: prior.open.name, line: 1, offset: 0, reason: 'MISSING_FILE', message: `${prior.open.name} (index ${prior.open.index}) was verified before, up to line ${prior.open.lines}, and is gone, with no newer file of the chain` })
    }
    const report = this.verifier.finish()
    if (prior) await this.recheckClosed(prior.closed)
    if (this.breaks.length) {
      report.breaks.unshift(...this.breaks)
      report.ok = false
      report.verdict = 'BROKEN'
    }
    if (report.ok && open && report.head) {
      open.head = report.head.hash
      open.count = report.head.count
      const kept = (prior?.closed ?? []).filter((c) => !this.deletedByRetention(c))
      const closed = [...kept, ...closedNow]
      // Deletions of files older than all those still known say nothing more: the state stays small.
      const oldest = Math.min(open.index, ...closed.map((c) => c.index))
      this.next = { chainlog: 'verify-state', v: 1, chain: report.chain!, closed, open, deleted: this.deleted.filter((d) => d.index >= oldest), time: new Date().toISOString() }
    }
    return report
  }

  /**
   * Feeds one file to the verifier (after `resume`'s offset, when given),
   * hashing its content as it goes. Returns the file as the next state
   * records it, or 'changed' when the part verified before is not the same.
   */
  private async feed(file: ChainFile, resume: OpenFile | null, last: boolean): Promise<{ closed: ClosedFile; open: OpenFile } | 'changed'> {
    const v = this.verifier
    const content = sha256()
    let done = 0
    let lines = 0
    let lastLine = Buffer.alloc(0)
    /** Bytes after the last LF so far: hashed once their line ends, so that the open file's digest stops at its last whole line. */
    let carry = Buffer.alloc(0)
    const take = (chunk: Buffer): void => {
      const nl = chunk.lastIndexOf(0x0a)
      if (nl === -1) {
        carry = Buffer.concat([carry, chunk])
        return
      }
      const whole = chunk.subarray(0, nl + 1)
      content.update(carry).update(whole)
      done += carry.length + whole.length
      for (let p = whole.indexOf(0x0a); p !== -1; p = whole.indexOf(0x0a, p + 1)) lines++
      // (lastIndexOf from -1 would search from the end: a chunk starting with LF ends the carried line.)
      const prevNl = nl === 0 ? -1 : whole.lastIndexOf(0x0a, nl - 1)
      lastLine = prevNl === -1 ? Buffer.concat([carry, whole.subarray(0, nl)]) : Buffer.from(whole.subarray(prevNl + 1, nl))
      carry = Buffer.from(chunk.subarray(nl + 1))
    }
    v.beginFile(file.path)
    const opened = openChainFile(file.path, file.gz, { highWaterMark: CHUNK })
    let skip = resume ? resume.offset : 0
    let headerFed = false
    try {
      for await (const chunk of opened) {
        if (skip === 0) {
          v.feed(chunk)
          take(chunk)
          if (v.done) break
          continue
        }
        // The part verified before: hashed, not verified again; only its header line is fed, to set up the chain's rules.
        const part = chunk.subarray(0, Math.min(skip, chunk.length))
        if (!headerFed) {
          const nl = part.indexOf(0x0a)
          if (nl !== -1) {
            v.feed(part.subarray(0, nl + 1))
            headerFed = true
          }
        }
        take(part)
        skip -= part.length
        if (skip > 0) continue
        if (!headerFed || content.copy().digest('hex') !== resume!.content) {
          opened.close()
          await this.changed(file, resume!.lines, resume!.offset)
          return 'changed'
        }
        v.resumeAfter({ line: resume!.lines, offset: resume!.offset, prev: resume!.head, position: resume!.count })
        const rest = chunk.subarray(part.length)
        if (rest.length) {
          v.feed(rest)
          take(rest)
        }
      }
    } catch (err) {
      if (file.gz && isZlibError(err)) v.abortFile((err as Error).message)
      else throw readError(file.path, err)
    } finally {
      opened.close()
    }
    if (skip > 0) {
      // Shorter than what was verified before: truncated.
      await this.changed(file, resume!.lines, resume!.offset, done + carry.length)
      return 'changed'
    }
    v.endFile(last)
    const name = file.header?.file ?? path.basename(file.path)
    const index = file.header?.index ?? -1
    const lastHash = lastLine.length >= HASH_HEX ? lastLine.toString('latin1', lastLine.length - HASH_HEX) : ''
    const digest = content.digest('hex')
    // The head is the report's, once the verifier is finished.
    const open: OpenFile = { name, index, offset: done, lines, content: digest, head: '', count: 0 }
    const closed: ClosedFile = { name, index, gz: file.gz, size: file.size, sha256: file.gz ? await fileDigest(file.path) : digest, content: digest, lines, lastHash }
    return { closed, open }
  }

  /** Re-checks each file closed by earlier runs by its digest; a change is placed where the file shows it. */
  private async recheckClosed(closed: ClosedFile[]): Promise<void> {
    for (const c of closed) {
      const file = this.files.find((f) => f.header?.index === c.index && f.header.file === c.name) ?? this.files.find((f) => [c.name, c.name + '.gz'].includes(path.basename(f.path)))
      if (!file) {
        if (this.deletedByRetention(c)) continue
        this.breaks.push({ file: c.name, line: 1, offset: 0, reason: 'MISSING_FILE', message: `${c.name} (index ${c.index}) was verified before (sha256 ${c.sha256.slice(0, 16)}…) and is gone, and no retention record accounts for it` })
        continue
      }
      const now = await fileDigest(file.path)
      if (file.gz === c.gz ? now === c.sha256 : (file.gz ? await contentDigest(file.path) : now) === c.content) {
        this.unchanged++
        // Compressed since: the next run compares the archive's own digest.
        if (file.gz !== c.gz) Object.assign(c, { gz: file.gz, size: file.size, sha256: now })
        continue
      }
      await this.changed(file, c.lines, null)
    }
  }

  /**
   * A file verified before is not what it was. Where its own records show
   * it (a line that no longer matches its hash or link), that line is named;
   * a file shorter than before is named at its first missing line.
   */
  private async changed(file: ChainFile, lines: number, offset: number | null, size?: number): Promise<void> {
    const located = await firstBreak(file)
    if (located) {
      this.breaks.push({ ...located, reason: 'FILE_CHANGED', message: `changed since it was verified: ${located.message}` })
      return
    }
    const counted = await countLines(file)
    if (counted.lines < lines || (offset !== null && size !== undefined && size < offset)) {
      this.breaks.push({ file: file.path, line: counted.lines + 1, offset: counted.bytes, reason: 'FILE_CHANGED', message: `truncated since it was verified: ${counted.lines} of its ${lines} lines are left`, expected: `${lines} lines`, found: `${counted.lines} lines` })
      return
    }
    this.breaks.push({ file: file.path, line: 1, offset: 0, reason: 'FILE_CHANGED', message: 'changed since it was verified: its SHA-256 differs, though its records verify on their own (rewritten and re-hashed as a whole)' })
  }

  /**
   * Whether retention deleted `c`: a retention record names it (with the last
   * hash it was verified with), or a newer file, since retention deletes only
   * a run of the oldest files (FORMAT.md §6) and the record naming `c` may
   * have gone with a file deleted later.
   */
  private deletedByRetention(c: ClosedFile): boolean {
    const named = this.deleted.find((d) => d.index === c.index)
    if (named) return named.lastHash === c.lastHash
    return this.deleted.some((d) => d.index > c.index)
  }
}

/** The first break a file shows on its own (the missing start of its chain aside). */
async function firstBreak(file: ChainFile): Promise<Break | null> {
  const v = new ChainVerifier({})
  v.beginFile(file.path)
  const opened = openChainFile(file.path, file.gz, { highWaterMark: CHUNK })
  try {
    for await (const chunk of opened) {
      v.feed(chunk)
      if (v.done) break
    }
  } catch (err) {
    if (!(file.gz && isZlibError(err))) throw readError(file.path, err)
    v.abortFile((err as Error).message)
  } finally {
    opened.close()
  }
  v.endFile(true)
  const report = v.finish()
  return report.breaks.find((b) => !(b.reason === 'MISSING_FILE' && b.line === 1)) ?? null
}

/** Whole lines and their bytes in a file (decompressed). */
async function countLines(file: ChainFile): Promise<{ lines: number; bytes: number }> {
  let lines = 0
  let bytes = 0
  let read = 0
  const opened = openChainFile(file.path, file.gz, { highWaterMark: CHUNK })
  try {
    for await (const chunk of opened) {
      for (let p = chunk.indexOf(0x0a); p !== -1; p = chunk.indexOf(0x0a, p + 1)) {
        lines++
        bytes = read + p + 1
      }
      read += chunk.length
    }
  } catch (err) {
    if (!(file.gz && isZlibError(err))) throw readError(file.path, err)
  } finally {
    opened.close()
  }
  return { lines, bytes }
}

/** SHA-256 of a file's bytes as stored. */
async function fileDigest(file: string): Promise<string> {
  const h = sha256()
  try {
    for await (const chunk of fs.createReadStream(file, { highWaterMark: CHUNK })) h.update(chunk as Buffer)
  } catch (err) {
    throw readError(file, err)
  }
  return h.digest('hex')
}

/** SHA-256 of a .gz file's content; a damaged archive gives a digest of what could be read, which then differs. */
async function contentDigest(file: string): Promise<string> {
  const h = sha256()
  const opened = openChainFile(file, true, { highWaterMark: CHUNK })
  try {
    for await (const chunk of opened) h.update(chunk)
  } catch (err) {
    if (!isZlibError(err)) throw readError(file, err)
  } finally {
    opened.close()
  }
  return h.digest('hex')
}

const HEX64 = /^[0-9a-f]{64}$/

/**
 * Reads the state file; null when there is none yet.
 * @throws ChainlogError BAD_STATE
 */
export function readState(statePath: string): VerifyState | null {
  let text: string
  try {
    text = fs.readFileSync(statePath, 'utf8')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null
    throw new ChainlogError(ErrorCodes.BAD_STATE, `cannot read the state file ${statePath}: ${(err as Error).message}`, { path: statePath, cause: err })
  }
  const bad = (why: string) => new ChainlogError(ErrorCodes.BAD_STATE, `${statePath} is not a verify-log state file (${why}); give the file an earlier verify-log --state wrote, or a new path to start one`, { path: statePath })
  let s: unknown
  try {
    s = JSON.parse(text)
  } catch {
    throw bad('not JSON')
  }
  const o = s as Partial<VerifyState> | null
  if (!o || typeof o !== 'object' || o.chainlog !== 'verify-state') throw bad('no "chainlog": "verify-state"')
  if (o.v !== 1) throw bad(`version ${JSON.stringify(o.v)}; this verify-log reads version 1`)
  if (typeof o.chain !== 'string' || !Array.isArray(o.closed) || !Array.isArray(o.deleted) || !o.open || typeof o.open !== 'object') throw bad('chain, closed, open or deleted missing')
  const open = o.open
  if (typeof open.name !== 'string' || !Number.isInteger(open.index) || !Number.isInteger(open.offset) || !Number.isInteger(open.lines) || !Number.isInteger(open.count) || !HEX64.test(String(open.content)) || !HEX64.test(String(open.head))) throw bad('the open file is not described')
  for (const c of o.closed) {
    if (!c || typeof c.name !== 'string' || !Number.isInteger(c.index) || typeof c.gz !== 'boolean' || !HEX64.test(String(c.sha256)) || !HEX64.test(String(c.content)) || !Number.isInteger(c.lines)) throw bad('a closed file is not described')
  }
  return o as VerifyState
}

/** Writes the state atomically (replaceFile), readable by its owner only. */
export function writeState(statePath: string, state: VerifyState): void {
  replaceFile(statePath, JSON.stringify(state, null, 1) + '\n', 0o600, (err) => new ChainlogError(ErrorCodes.BAD_STATE, `cannot write the state file ${statePath}: ${(err as Error).message}`, { path: statePath, cause: err }))
}
